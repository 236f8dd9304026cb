"""deploy/compose.yaml stays consistent with the code it runs: the studio's command parses with the real
`digit-studio serve` parser and Ray's with `ray start`'s, every node finds the head and shares its token,
ports, environment and the state volume match the Dockerfile and the settings, and every image builds
from a stage of the repo's Dockerfile. (scripts/compose-check.sh runs the file for real, with podman:
too heavy for CI.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from app.cli.main import build_parser
from app.server.settings import Settings

REPO = Path(__file__).resolve().parents[1]
COMPOSE_FILE = REPO / "deploy" / "compose.yaml"
HEAD = "ray-head"


def _compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _services() -> dict[str, dict]:
    return _compose()["services"]


def _dockerfile(path: Path) -> list[tuple[str, str]]:
    """Return the (INSTRUCTION, rest) pairs of a Dockerfile, continuation lines joined."""
    pairs = []
    for line in path.read_text().replace("\\\n", " ").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def _env(instructions: list[tuple[str, str]]) -> dict[str, str]:
    return dict(word.split("=", 1) for k, rest in instructions if k == "ENV" for word in shlex.split(rest))


def _commands(service: dict) -> list[list[str]]:
    """Return the command lines a service runs: its command, or each `&&` part of an `sh -c` one."""
    command = service["command"]
    if command[:2] != ["sh", "-c"]:
        return [command]
    lines: list[list[str]] = [[]]
    for word in shlex.split(command[2]):
        if word == "&&":
            lines.append([])
        elif not (word == "exec" and not lines[-1]):
            lines[-1].append(word)
    return lines


def _lines_starting(*words: str) -> list[tuple[str, list[str]]]:
    return [(name, line) for name, service in _services().items() for line in _commands(service)
            if line[:len(words)] == list(words)]


def _option(line: list[str], name: str) -> str:
    """Return the value of `--name=value` or `--name value` in a command line."""
    for i, word in enumerate(line):
        if word == name:
            return line[i + 1]
        if word.startswith(name + "="):
            return word.split("=", 1)[1]
    raise AssertionError(f"{shlex.join(line)} has no {name}")


def test_every_image_is_built_from_a_stage_of_the_repos_dockerfile():
    services = _services()
    built = {name: s["build"] for name, s in services.items() if "build" in s}
    assert len(built) == 1, f"one service builds the image the others run, not {sorted(built)}"
    (builder, build), = built.items()
    assert (COMPOSE_FILE.parent / build["context"]).resolve() == REPO
    dockerfile = REPO / build.get("dockerfile", "Dockerfile")
    instructions = _dockerfile(dockerfile)
    stages = {m.group(1) for k, rest in instructions if k == "FROM"
              for m in [re.search(r"\s+AS\s+(\S+)$", rest, re.IGNORECASE)] if m}
    assert build["target"] in stages, f"{dockerfile.name} has no stage {build['target']!r} (has {stages})"
    declared = {rest.split("=")[0] for k, rest in instructions if k == "ARG"}
    args = build.get("args", [])
    names = {a.split("=")[0] for a in args} if isinstance(args, list) else set(args)
    assert names <= declared, f"build args {sorted(names - declared)} are not ARGs of {dockerfile.name}"
    image = services[builder]["image"]
    for name, service in services.items():
        assert service.get("image") == image, f"{name} runs {service.get('image')}, not the built {image}"
    # The stage adds the cluster extra, pinned like every other install.
    stage = instructions[next(i for i, (k, rest) in enumerate(instructions)
                              if k == "FROM" and rest.endswith(f" AS {build['target']}")):]
    installs = [rest for k, rest in stage if k == "RUN" and "pip install" in rest]
    assert installs and "-c constraints.txt" in installs[0] and ".[cluster]" in installs[0], installs


def test_the_studio_runs_digit_studio_serve_with_options_it_really_has(capsys):
    serve = _lines_starting("digit-studio", "serve")
    assert len(serve) == 1, f"one service serves the studio, not {serve}"
    service, line = serve[0]
    parser = build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--help"])
    known = set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", capsys.readouterr().out))
    assert {"--host", "--ray", "--max-runs"} <= known, known
    used = {word.split("=")[0] for word in line[2:] if word.startswith("-")}
    assert used <= known, f"digit-studio serve has no {sorted(used - known)} (see digit-studio serve --help)"
    args = parser.parse_args(line[1:])   # the real parser: a bad value would exit here
    assert args.host == "0.0.0.0", "in a container the studio must listen beyond loopback"
    assert args.ray_address == f"{HEAD}:{_option(_lines_starting('ray', 'start', '--head')[0][1], '--port')}"
    # Its port: published, exposed by the Dockerfile, the one it serves on.
    exposed = {rest for k, rest in _dockerfile(REPO / "Dockerfile") if k == "EXPOSE"}
    published = [p.rsplit(":", 1)[1] for p in _services()[service]["ports"]]
    assert published == [str(args.port)] and exposed == {str(args.port)}, (published, exposed, args.port)


def test_every_node_and_the_studio_find_the_head_and_share_the_ray_token():
    heads = _lines_starting("ray", "start", "--head")
    assert [name for name, _ in heads] == [HEAD]
    address = f"{HEAD}:{_option(heads[0][1], '--port')}"
    joins = _lines_starting("ray", "start", f"--address={address}")
    assert {name for name, _ in joins} == set(_services()) - {HEAD}, \
        "every other service joins the head's cluster (a Ray driver must run on a node of it)"
    for name, service in _services().items():
        env = service["environment"]
        assert env["RAY_AUTH_MODE"] == "token", name
        # The token comes from the environment, is required, and is never written in the file.
        assert re.fullmatch(r"\$\{RAY_AUTH_TOKEN:\?[^}]+\}", env["RAY_AUTH_TOKEN"]), name


def test_ray_commands_use_options_ray_start_has():
    scripts = pytest.importorskip("ray.scripts.scripts", reason="ray is not installed (the cluster extra)")
    commands = scripts.cli.commands
    for name, line in _lines_starting("ray"):
        known = {option for param in commands[line[1]].params for option in param.opts}
        used = {word.split("=")[0] for word in line[2:] if word.startswith("--")}
        assert used <= known, f"{name}: `ray {line[1]}` has no {sorted(used - known)}"
    health = _services()[HEAD]["healthcheck"]["test"]
    assert health[:3] == ["CMD", "ray", "health-check"] and "health-check" in commands


def test_environment_and_state_match_the_dockerfile_and_the_settings(monkeypatch, tmp_path):
    instructions = _dockerfile(REPO / "Dockerfile")
    home = _env(instructions)["DIGIT_STUDIO_HOME"]
    volumes = {rest.strip('[]" ') for k, rest in instructions if k == "VOLUME"}
    assert volumes == {home}
    studio = _services()[_lines_starting("digit-studio", "serve")[0][0]]
    assert [v.split(":", 1)[1] for v in studio["volumes"]] == [home], "the state volume is the studio's home"
    # Every DIGIT_STUDIO_ variable the file sets is one the settings read: set it, read it back.
    ours = {k: v for k, v in studio["environment"].items() if k.startswith("DIGIT_STUDIO_")}
    assert ours, "the studio needs its teacher token from the environment"
    read_back = {"DIGIT_STUDIO_TOKEN": lambda s: s.token, "DIGIT_STUDIO_HOME": lambda s: str(s.state_dir),
                 "DIGIT_STUDIO_RAY": lambda s: s.ray_address}
    for name in ours:
        assert name in read_back, f"compose sets {name}, which Settings does not read"
        monkeypatch.setenv(name, str(tmp_path))
        assert read_back[name](Settings()) == str(tmp_path), name
    monkeypatch.setenv("DIGIT_STUDIO_HOME", home)
    assert str(Settings().state_dir) == home
