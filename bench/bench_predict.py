"""Predict latency in process (280x280 PNG, 28x28 pixels) and HTTP throughput while a run trains.

    python bench/bench_predict.py [--model best] [--seconds 10] [--concurrency 4]

In process: decode + MNIST-style preprocessing + forward pass + the JSON-ready response, as the
endpoint does it (goal: p50 <= 3 ms for the PNG). Over HTTP: a real `digit-studio serve` on
127.0.0.1 with its default run training, `concurrency` clients posting PNGs for `seconds`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.imaging import open_image, pixels_to_input, preprocess  # noqa: E402
from app.server.inference import describe  # noqa: E402
from app.server.models import ModelRegistry  # noqa: E402
from app.training.threads import pin_blas_threads  # noqa: E402
from tests.support.drawn import drawn_set  # noqa: E402
from tests.support.server import running_server  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def percentiles(seconds: list[float]) -> str:
    ms = np.array(seconds) * 1000
    return f"p50 {np.percentile(ms, 50):.2f} ms  p99 {np.percentile(ms, 99):.2f} ms  (n={len(ms)})"


def in_process(models_dir: Path, model_name: str, n: int) -> None:
    model = ModelRegistry(models_dir, REPO / "var" / "models").get(model_name)
    info = model.info()
    pngs = [png for _, png in drawn_set(10, seed=7)]
    pixels = [np.asarray(preprocess(open_image(p)).input).ravel().tolist() for p in pngs]
    for label, inputs, run in (
            ("280x280 PNG", pngs, lambda d: describe(model.net, preprocess(open_image(d)).input, info)),
            ("28x28 pixels", pixels, lambda p: describe(model.net, pixels_to_input(p), info))):
        for item in inputs[:20]:  # warm up
            run(item)
        times = []
        for i in range(n):
            t0 = time.perf_counter()
            run(inputs[i % len(inputs)])
            times.append(time.perf_counter() - t0)
        print(f"in process, {label:13s} [{model_name}]: {percentiles(times)}")


def http_throughput(models_dir: Path, seconds: float, concurrency: int) -> None:
    pngs = [png for _, png in drawn_set(10, seed=8)]
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker(url: str, stop_at: float, k: int) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            i = k
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                try:
                    upload = {"file": ("d.png", pngs[i % len(pngs)], "image/png")}
                    r = client.post("/api/predict", files=upload)
                    ok = r.status_code == 200
                    why = f"{r.status_code} {r.text[:80]}"
                except httpx.HTTPError as exc:
                    ok, why = False, repr(exc)
                with lock:
                    (latencies.append(time.perf_counter() - t0) if ok else errors.append(why))
                i += 1

    # The video's network trains in the background meanwhile.
    with running_server("--no-train", "--models-dir", str(models_dir)) as url:
        httpx.post(f"{url}/api/runs", json={"epochs": 500}).raise_for_status()  # outlasts the bench
        while httpx.get(f"{url}/api/runs/r1").json()["progress"]["step"] == 0:
            time.sleep(0.1)
        before = httpx.get(f"{url}/api/runs/r1").json()["progress"]["examples_seen"]
        stop_at = time.perf_counter() + seconds
        threads = [threading.Thread(target=worker, args=(url, stop_at, k)) for k in range(concurrency)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        trained = httpx.get(f"{url}/api/runs/r1").json()["progress"]["examples_seen"] - before
    print(f"HTTP predict, {concurrency} clients, run training: {len(latencies) / elapsed:.0f} req/s  "
          f"{percentiles(latencies)}  errors {len(errors)}  "
          f"(training meanwhile: {trained / elapsed:.0f} ex/s)")
    if errors:
        print("first errors:", statistics.multimode(errors)[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models-dir", type=Path, default=REPO / "models")
    parser.add_argument("--model", default=None, help="default: best, or default if best is missing")
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    pin_blas_threads()
    model = args.model or ("best" if (args.models_dir / "best.npz").exists() else "default")
    in_process(args.models_dir, model, args.n)
    http_throughput(args.models_dir, args.seconds, args.concurrency)


if __name__ == "__main__":
    main()
