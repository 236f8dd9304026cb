"""Runs as Ray actors (app/server/executors/ray.py) on a real local Ray cluster of two nodes, started
inside a network namespace of the test's own (tests/support/ray_cluster.py has the scenario: start,
live frames, pause, step, resume, predict ?run=, save, stop; two runs on two nodes; ray.kill of an
actor interrupts its run only; tests/support/ray_restart.py: a run trains on through kill -9 and
SIGTERM of its server, on the same actor, and the next server takes it back; a run whose actor is gone
is interrupted and resumes; an actor no server calls ends when its lease runs out)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="ray is not installed: pip install -e '.[cluster]' (the optional extra)")

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_a_studio_on_a_two_node_ray_cluster(tmp_path: Path):
    # A network namespace of its own (a user namespace too, so no root is needed): only loopback.
    command = ["unshare", "--map-root-user", "--net", sys.executable, "-m", "tests.support.ray_cluster"]
    done = subprocess.run([*command, str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert done.returncode == 0, f"the cluster scenario failed:\n{done.stdout[-4000:]}\n{done.stderr[-6000:]}"
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["first"] == "stopped" and summary["second"] == "interrupted"
    assert len(summary["actor_parents"]) == 2 and "weights" in summary["live"]
    assert summary["saved"] == "from-ray"
    # Through kill -9 and SIGTERM of its server the same actor trained on; its actor gone, the run was
    # interrupted and resumed from its checkpoint.
    assert "weights" in summary["live_after_kill"]
    assert summary["checkpoint"] < summary["first_after_kill"]
    assert summary["shown_before_kill"] < summary["later_after_kill"]
    assert "Ray actor" in summary["interrupted"] and summary["lapsed"]
