"""The teacher leads: the studio's watched run, and the live `studio` message every page gets, against
a real uvicorn on a loopback port; the live `network` message beside the weights."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.support.server import running_server
from tests.support.wait import next_message

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(small_model_dir) -> Iterator[str]:
    with running_server("--models-dir", str(small_model_dir), "--no-train") as url:
        yield url


def test_pages_hear_the_teachers_run(server):
    assert httpx.get(f"{server}/api/studio").json()["watched"] is None
    quiet = {"train_subset": 2000, "epochs": 200, "pace": 100}
    first = httpx.post(f"{server}/api/runs", json=quiet).json()["id"]
    assert httpx.get(f"{server}/api/studio").json()["watched"] == first

    async def session():
        async with connect(server.replace("http://", "ws://") + f"/api/runs/{first}/live") as ws:
            hello = await next_message(ws, lambda m: m["type"] == "studio")
            assert hello["watched"] == first
            network = await next_message(ws, lambda m: m["type"] == "network")
            assert network["sizes"] == [784, 16, 16, 10]
            assert [len(s) for s in network["shown"]] == [16, 16, 10]
            # A run started with watch: false leaves the studio where it is ...
            other = httpx.post(f"{server}/api/runs", json={**quiet, "watch": False}).json()["id"]
            assert httpx.get(f"{server}/api/studio").json()["watched"] == first
            # ... until the teacher switches to it: this page (watching another run) hears it.
            put = httpx.put(f"{server}/api/studio", json={"watched": other})
            assert put.status_code == 200 and put.json()["watched"] == other
            heard = await next_message(ws, lambda m: m["type"] == "studio")
            assert heard["watched"] == other and heard["changed"] == put.json()["changed"]
            # A new run started by the teacher becomes the watched one.
            third = httpx.post(f"{server}/api/runs", json=quiet).json()["id"]
            assert (await next_message(ws, lambda m: m["type"] == "studio"))["watched"] == third
            for run_id in (first, other, third):
                httpx.post(f"{server}/api/runs/{run_id}/stop")
    asyncio.run(session())
    missing = httpx.put(f"{server}/api/studio", json={"watched": "r999"})
    assert missing.status_code == 404 and "no run" in missing.json()["detail"]
    assert httpx.put(f"{server}/api/studio", json={"watched": 3}).status_code == 422


def test_the_live_channel_follows_pace_and_steps(server):
    run_id = httpx.post(f"{server}/api/runs", json={"train_subset": 2000, "epochs": 200, "pace": 50,
                                                    "watch": False}).json()["id"]

    async def session():
        async with connect(server.replace("http://", "ws://") + f"/api/runs/{run_id}/live") as ws:
            await next_message(ws, lambda m: m["type"] == "network")
            httpx.post(f"{server}/api/runs/{run_id}/pace", json={"pace": 20}).raise_for_status()
            await next_message(ws, lambda m: m["type"] == "status" and m["run"]["pace"] == 20)
            paused = httpx.post(f"{server}/api/runs/{run_id}/pause").json()
            assert paused["status"] == "paused"
            await next_message(ws, lambda m: m["type"] == "status" and m["run"]["status"] == "paused")
            step = httpx.post(f"{server}/api/runs/{run_id}/step", json={"steps": 2}).json()
            assert step["examples_seen"] == step["examples_seen_before"] + 20
            stepped = step["run"]["progress"]["step"]
            # The page sees what the step did: a metrics and a network message at that step, in either
            # order (metrics go out at most every METRICS_INTERVAL, so the picture may come first).
            seen: set[str] = set()
            while seen != {"metrics", "network"}:
                message = await next_message(ws, lambda m: m["type"] in ("metrics", "network")
                                             and m["step"] == stepped)
                seen.add(message["type"])
            httpx.post(f"{server}/api/runs/{run_id}/stop")
    asyncio.run(session())
