"""The live channel's fan-out: one asyncio feed per watched run, one outbox per client.

Training threads never touch asyncio: they only swap `Run.latest`. A feed task per run looks at it
a few times a second, encodes each message once, and drops it into every client's outbox. An outbox
holds at most one pending message of each kind (a newer one replaces it), and a per-client sender
task writes whatever is pending. A slow or stalled client therefore only ever delays itself, and its
memory is bounded by one message of each kind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import numpy as np
from starlette.websockets import WebSocket

from app.training.trainer import Progress

from .encode import (
    activation_messages,
    activation_payloads,
    default_neurons,
    dumps,
    network_message,
    weights_message,
)
from .runs import Run, RunManager, clean_metrics

TICK = 0.05               # how often a feed looks for news
METRICS_INTERVAL = 0.2    # at most 5 metrics messages a second per client
WEIGHTS_INTERVAL = 0.4    # the first-layer weight maps 2.5 times a second (16 x 784 numbers each)
# The network picture and the drawing's answer under it follow each new report of the weights (the
# trainer reports about 10 times a second): small messages, one encode per run per tick.
NETWORK_INTERVAL = 0.08
MAX_ENCODINGS = 64        # neuron selections kept encoded per report (each client may ask its own)
log = logging.getLogger(__name__)
ORDER = ("status", "studio", "metrics", "weights", "network", "activations", "error")


class Outbox:
    """The newest pending message of each kind for one client, and a wake-up for its sender."""

    def __init__(self) -> None:
        self.pending: dict[str, str] = {}
        self.ready = asyncio.Event()

    def put(self, kind: str, text: str) -> None:
        self.pending[kind] = text
        self.ready.set()

    def take(self) -> list[str]:
        """Return the pending messages in a fixed order and forget them."""
        texts = [self.pending.pop(kind) for kind in ORDER if kind in self.pending]
        self.ready.clear()
        return texts


class Encodings:
    """The weights and network messages of a run's newest report, each encoded once and shared: the
    feed's tick and every client that joins (a class comes and goes all lesson long) send the same text."""

    def __init__(self) -> None:
        self.of: Progress | None = None
        self.texts: dict[tuple, str] = {}

    def get(self, latest: Progress, key: tuple, make: Callable[[], str]) -> str:
        if latest is not self.of or len(self.texts) >= MAX_ENCODINGS:   # bounded, whatever clients ask
            self.of, self.texts = latest, {}
        if key not in self.texts:
            self.texts[key] = make()
        return self.texts[key]

    def weights(self, latest: Progress, neurons: tuple[int, ...]) -> str:
        return self.get(latest, ("weights", neurons),
                        lambda: weights_message(latest.snapshot, latest.step, neurons))

    def network(self, latest: Progress) -> str:
        return self.get(latest, ("network",), lambda: dumps(network_message(latest.snapshot, latest.step)))


class Client:
    def __init__(self, websocket: WebSocket, run: Run):
        self.websocket, self.run = websocket, run
        self.outbox = Outbox()
        self.encodings = Encodings()   # its feed's, once it joins
        self.drawing: np.ndarray | None = None     # (784,) float32, 1 = ink
        self.neurons: tuple[int, ...] | None = None

    async def send_forever(self) -> None:
        """Write pending messages as fast as this client takes them."""
        while True:
            await self.outbox.ready.wait()
            for text in self.outbox.take():
                await self.websocket.send_text(text)

    def answer_drawing(self, image_input: np.ndarray | None = None) -> None:
        """Queue activations for the current drawing under the latest weights (if there are any)."""
        latest = self.run.latest
        if self.drawing is None or latest is None:
            return
        message = activation_payloads(latest.snapshot, latest.step, self.drawing[None, :])[0]
        if image_input is not None:  # show what the network saw when the page sent a raw canvas
            message["input"] = np.round(image_input.astype(np.float64), 3).tolist()
        self.outbox.put("activations", dumps(message))

    def weights_now(self) -> None:
        latest = self.run.latest
        if latest is not None:
            neurons = self.neurons or default_neurons(latest.snapshot)
            self.outbox.put("weights", self.encodings.weights(latest, neurons))
            self.outbox.put("network", self.encodings.network(latest))


def studio_message(runs: RunManager) -> str:
    return dumps({"type": "studio", **runs.studio()})


class Feed:
    """Watches one run and fans its news out to the run's clients, at bounded rates."""

    def __init__(self, run: Run, runs: RunManager):
        self.run, self.runs = run, runs
        self.clients: set[Client] = set()
        self.task: asyncio.Task | None = None
        self.encodings = Encodings()

    def broadcast(self, kind: str, text: str) -> None:
        for client in self.clients:
            client.outbox.put(kind, text)

    async def watch(self) -> None:
        """Fan news out until the last client leaves; a failure is logged, never silently fatal."""
        while self.clients:
            try:
                await self._watch()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("live feed of run %s failed; restarting it", self.run.id)
                await asyncio.sleep(1.0)

    async def _watch(self) -> None:
        run = self.run
        status, metrics_of, weights_of, network_of = None, None, None, None
        metrics_at = weights_at = network_at = 0.0
        studio = self.runs.studio_version
        while self.clients:
            latest, now = run.latest, time.monotonic()
            if self.runs.studio_version != studio:   # the teacher switched runs: every page hears it
                studio = self.runs.studio_version
                self.broadcast("studio", studio_message(self.runs))
            if (run.status, run.pace, run.warning) != status:
                status = (run.status, run.pace, run.warning)
                self.broadcast("status", dumps({"type": "status", "run": run.to_dict()}))
            if latest is not None and latest is not metrics_of and now - metrics_at >= METRICS_INTERVAL:
                metrics_of, metrics_at = latest, now
                self.broadcast("metrics", dumps({"type": "metrics", **clean_metrics(latest)}))
            if latest is not None and latest is not network_of and now - network_at >= NETWORK_INTERVAL:
                network_of, network_at = latest, now
                self.send_network_and_activations(latest)
            if latest is not None and latest is not weights_of and now - weights_at >= WEIGHTS_INTERVAL:
                weights_of, weights_at = latest, now
                self.send_weights(latest)
            await asyncio.sleep(TICK)

    def send_weights(self, latest: Progress) -> None:
        """Send the weight maps, encoded once per neuron selection."""
        default = default_neurons(latest.snapshot)
        for client in self.clients:
            client.outbox.put("weights", self.encodings.weights(latest, client.neurons or default))

    def send_network_and_activations(self, latest: Progress) -> None:
        """Encode the network picture once and every client's activations in one batch."""
        net = latest.snapshot
        self.broadcast("network", self.encodings.network(latest))
        drawing = [(client, client.drawing) for client in self.clients if client.drawing is not None]
        if drawing:
            texts = activation_messages(net, latest.step, np.stack([d for _, d in drawing]))
            for (client, _), text in zip(drawing, texts, strict=True):
                client.outbox.put("activations", text)


class LiveHub:
    """All feeds of this server: a feed starts with a run's first client and ends with its last."""

    def __init__(self, runs: RunManager):
        self.runs = runs
        self.feeds: dict[str, Feed] = {}

    def join(self, client: Client) -> None:
        feed = self.feeds.get(client.run.id)
        if feed is None:
            feed = self.feeds[client.run.id] = Feed(client.run, self.runs)
        feed.clients.add(client)
        client.encodings = feed.encodings
        if feed.task is None or feed.task.done():
            feed.task = asyncio.create_task(feed.watch(), name=f"feed-{client.run.id}")

    def leave(self, client: Client) -> None:
        feed = self.feeds.get(client.run.id)
        if feed is not None:
            feed.clients.discard(client)
            if not feed.clients:
                self.feeds.pop(client.run.id, None)

    def client_count(self) -> int:
        return sum(len(feed.clients) for feed in self.feeds.values())

    async def close(self) -> None:
        for feed in list(self.feeds.values()):
            feed.clients.clear()
            if feed.task is not None:
                feed.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await feed.task
        self.feeds.clear()
