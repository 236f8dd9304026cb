"""The timeline of an ended run, in real Chromium against the real server, after a restart: the run's
snapshots are then in its replay file only (the server keeps their list, not their weights), and
scrubbing still shows the network as it was at each one, the very weights that file holds."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Page

from app.nn.network import Network
from app.server.inference import layer_activations
from tests.browser.test_page import ONE, draw
from tests.browser.test_watch import api, open_studio
from tests.support.server import running_server
from tests.support.wait import wait_until
from tests.test_replay import saved_rows

pytestmark = [pytest.mark.browser, pytest.mark.slow]
RUN = {"hidden": [16, 16], "train_subset": 3000, "validation_size": 200, "epochs": 3}


def test_an_ended_runs_timeline_shows_the_saved_snapshots_after_a_restart(tmp_path: Path, page: Page):
    state = tmp_path / "state"
    with running_server("--no-train", state_dir=state) as url:
        rid = api(f"{url}/api/runs", "POST", RUN)["id"]
        wait_until(lambda: api(f"{url}/api/runs/{rid}"), lambda r: r["status"] == "finished",
                   what="the run to finish")
    rows = saved_rows(state / "checkpoints" / f"{rid}.replay.npz")
    with running_server("--no-train", state_dir=state) as url:   # a new server: the weights are on disk
        snapshots = api(f"{url}/api/runs/{rid}/snapshots")["snapshots"]
        assert [s["index"] for s in snapshots] == sorted(rows) and len(snapshots) >= 5
        open_studio(page, url, f"?run={rid}")
        page.wait_for_function(f"window.studio.timeline.snapshots.length === {len(snapshots)}",
                               timeout=20_000)
        draw(page, ONE)
        page.wait_for_function("document.querySelector('#predicted-digit').textContent !== ''",
                               timeout=10_000)
        pixels = page.evaluate("Array.from(window.studio.state.pixels)")
        shown = "[...document.querySelectorAll('#output-bars .value')].map(e => e.textContent)"
        for k in (0, len(snapshots) // 2, len(snapshots) - 1):
            page.evaluate(f"""() => {{ const t = document.querySelector('#timeline'); t.value = '{k}';
                t.dispatchEvent(new Event('input')); t.dispatchEvent(new Event('change')); }}""")
            index = snapshots[k]["index"]
            page.wait_for_function(f"window.studio.state.replay?.index === {index}", timeout=5_000)
            then = api(f"{url}/api/predict?run={rid}&snapshot={index}", "POST", {"pixels": pixels})
            x28 = np.array(then["input"], dtype=np.float32).reshape(1, 784)
            saved = Network([784, 16, 16, 10], params=rows[index])
            assert np.allclose(then["activations"], layer_activations(saved, x28)[-1][0], atol=1e-3)
            values = json.dumps(json.dumps([f"{a:.2f}" for a in then["activations"]], separators=(",", ":")))
            page.wait_for_function(f"JSON.stringify({shown}) === {values}", timeout=10_000)
            label = page.text_content("#timeline-label") or ""
            assert f"{snapshots[k]['examples_seen']:,} examples" in label
