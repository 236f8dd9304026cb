"""The training step of two versions of app/nn, timed in one process, interleaved.

For a change to app/nn that should not cost speed: export the old version's app/nn as a package
directory, e.g. `git archive c01b6bd app/nn | tar -x -C /tmp/old`, and compare it with this tree's.
Both train the video's 784-16-16-10 network on the same 6,000 MNIST digits, 600 steps a block, old
and new in alternating order; prints the CPU time a step (median and best block) through the step
function (what the Trainer calls) and through SGD.step (which checks its inputs), and whether the
two trained the same weights, bit for bit.

    python3 bench/compare_step.py /tmp/old/app/nn [--blocks 80]
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.training.mnist import load_mnist  # noqa: E402
from app.training.threads import pin_blas_threads  # noqa: E402


def load(nn_dir: Path, name: str, packages: Path):
    """Return (network module, optim module) of the app/nn copy in nn_dir, imported as `name`."""
    shutil.copytree(nn_dir, packages / name, ignore=shutil.ignore_patterns("__pycache__"))
    return importlib.import_module(f"{name}.network"), importlib.import_module(f"{name}.optim")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="the other version's app/nn directory")
    parser.add_argument("--blocks", type=int, default=80, help="blocks of 600 steps each (default 80)")
    args = parser.parse_args()
    pin_blas_threads(1)
    data = load_mnist()
    packages = Path(tempfile.mkdtemp(prefix="compare_step_"))
    sys.path.insert(0, str(packages))
    here = Path(__file__).resolve().parents[1] / "app" / "nn"
    setups = {}
    for name, nn_dir in {"old": args.old, "new": here}.items():
        network, optim = load(nn_dir, f"nn_{name}", packages)
        net = network.Network([784, 16, 16, 10])
        sgd = optim.SGD(net, 3.0)
        x_aug, y = net.input_batch(data.train.images[:6000]), network.one_hot(data.train.labels[:6000])
        blocks = x_aug.reshape(600, 10, -1)
        y_t = y.reshape(600, 10, 10).transpose(0, 2, 1).copy()
        setups[name] = (sgd.step_function(10), sgd.step, blocks, y_t, net)
    times: dict[tuple[str, str], list[float]] = {(n, k): [] for n in setups for k in ("function", "SGD.step")}
    for r in range(args.blocks):
        for name in (("old", "new") if r % 2 else ("new", "old")):
            step_fn, step, blocks, y_t, _ = setups[name]
            start = time.process_time()
            for i in range(600):
                step_fn(blocks[i], y_t[i], 3.0)
            times[(name, "function")].append((time.process_time() - start) / 600 * 1e6)
            start = time.process_time()
            for i in range(600):
                step(blocks[i], y_t[i].T, 3.0)
            times[(name, "SGD.step")].append((time.process_time() - start) / 600 * 1e6)
    for (name, kind), v in times.items():
        print(f"{name} {kind:9s}: median {statistics.median(v):6.2f} us a step (CPU), "
              f"best block {min(v):6.2f}")
    same = setups["old"][4].params.tobytes() == setups["new"][4].params.tobytes()
    print(f"same weights, bit for bit: {same}")
    shutil.rmtree(packages)


if __name__ == "__main__":
    main()
