"""A full or read-only state folder, on a real tiny filesystem this test mounts (tmpfs, 2 MB): saves and
deletes answer a JSON 507 or 503 that says what to do and change nothing; GET /api/health says so; a
server started on a read-only folder comes up, moves nothing, and shows what was there."""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.studio import request, studio
from tests.support.tmpfs import tmpfs
from tests.support.wait import wait_until

pytestmark = pytest.mark.slow
TINY_RUN = {"hidden": [8], "epochs": 1, "train_subset": 200, "validation_size": 0, "batch_size": 50}
DRAWING = {"pixels": [0.0] * 300 + [1.0] * 20 + [0.0] * 464}


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """Return a 2 MB tmpfs mounted for this test (needs root: the CI container runs as root)."""
    with tmpfs(tmp_path / "state", "2m") as mount:
        yield mount


def remount(mount: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mount)], check=True)


def fill(folder: Path) -> Path:
    """Write a file until the disk is full; return it."""
    filler = folder / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def trained_run(url: str) -> str:
    status, _, run = request(f"{url}/api/runs", "POST", TINY_RUN)
    assert status == 201, run
    wait_until(lambda: request(f"{url}/api/runs/{run['id']}")[2]["status"], "finished".__eq__, timeout=120,
               what="the tiny run to finish")
    return run["id"]


def names(url: str) -> set[str]:
    return {m["name"] for m in request(f"{url}/api/models")[2]}


def problems(url: str) -> str:
    return " | ".join(request(f"{url}/api/health")[2]["problems"])


def test_a_full_disk_refuses_saves_cleanly_and_recovers(tiny_fs: Path):
    with studio(tiny_fs, "--no-train") as server:
        run_id = trained_run(server.url)
        assert request(f"{server.url}/api/runs/{run_id}/save", "POST", {"name": "kept"})[0] == 201
        filler = fill(tiny_fs)
        assert "full" in problems(server.url)

        status, headers, body = request(f"{server.url}/api/runs/{run_id}/save", "POST", {"name": "another"})
        assert status == 507 and headers["content-type"] == "application/json", (status, body)
        assert "full" in body["detail"] and "free some space" in body["detail"]
        assert "another" not in names(server.url) and not (tiny_fs / "models" / "another.npz").exists()

        deleted, _, body = request(f"{server.url}/api/models/kept", "DELETE")
        assert deleted in (204, 507), body
        assert ("kept" in names(server.url)) is (deleted == 507), "a refused delete changes nothing"
        runs_before = len(request(f"{server.url}/api/runs")[2])
        created, _, body = request(f"{server.url}/api/runs", "POST", TINY_RUN)
        assert created in (201, 507), body
        assert len(request(f"{server.url}/api/runs")[2]) == runs_before + (created == 201)
        if created == 201:
            request(f"{server.url}/api/runs/{body['id']}/stop", "POST", b"")

        filler.unlink()
        assert "full" not in problems(server.url)
        assert request(f"{server.url}/api/runs/{run_id}/save", "POST", {"name": "another"})[0] == 201
    with studio(tiny_fs, "--no-train") as server:
        assert names(server.url) >= {"another"} and ("kept" in names(server.url)) is (deleted == 507)
        assert "Traceback" not in server.output()


def test_a_read_only_folder_starts_shows_everything_and_refuses_changes(tiny_fs: Path):
    with studio(tiny_fs, "--no-train") as server:
        run_id = trained_run(server.url)
        assert request(f"{server.url}/api/runs/{run_id}/save", "POST", {"name": "kept"})[0] == 201
    remount(tiny_fs, "ro")
    try:
        with studio(tiny_fs, "--no-train") as server:
            assert "not writable" in problems(server.url)
            assert [r["id"] for r in request(f"{server.url}/api/runs")[2]] == [run_id]
            assert "kept" in names(server.url)
            assert request(f"{server.url}/api/predict?model=kept", "POST", DRAWING)[0] == 200
            for method, path, body in (("POST", f"/api/runs/{run_id}/save", {"name": "another"}),
                                       ("DELETE", "/api/models/kept", None), ("POST", "/api/runs", TINY_RUN)):
                status, headers, answer = request(f"{server.url}{path}", method, body)
                assert status == 503 and headers["content-type"] == "application/json", (path, answer)
                assert "read-only" in answer["detail"] and "--state-dir" in answer["detail"], answer
            assert [r["id"] for r in request(f"{server.url}/api/runs")[2]] == [run_id]
            output = server.output()
            assert "Traceback" not in output and "moved" not in output, output[-3000:]
    finally:
        remount(tiny_fs, "rw")
    with studio(tiny_fs, "--no-train") as server:
        assert "kept" in names(server.url) and "not writable" not in problems(server.url)
        assert [r["id"] for r in request(f"{server.url}/api/runs")[2]] == [run_id]


def test_the_default_serve_starts_on_a_read_only_folder(tiny_fs: Path):
    """`digit-studio serve` as a newcomer types it (a first run starts) on a folder it cannot write."""
    remount(tiny_fs, "ro")
    try:
        with studio(tiny_fs) as server:
            assert "not writable" in problems(server.url) and request(f"{server.url}/api/runs")[2] == []
            assert request(f"{server.url}/api/predict", "POST", DRAWING)[0] == 200
            output = server.output()
            assert "Traceback" not in output and "moved" not in output
            assert "first run was not started" in output
    finally:
        remount(tiny_fs, "rw")
