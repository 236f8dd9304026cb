"""What a Trainer holds: indices into the shared images, not copies of them; and once it has ended and
its owner lets go, nothing keeps it alive (reference counting alone frees it: no cycles, no thread)."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest

from app.training.config import TrainConfig
from app.training.epochs import prepare
from app.training.mnist import load_mnist
from app.training.trainer import Trainer
from tests.support.wait import wait_until


@pytest.fixture(scope="module")
def data():
    return load_mnist()


def held_arrays(obj) -> list[np.ndarray]:
    return [v for v in vars(obj).values() if isinstance(v, np.ndarray)] + \
        [a for v in vars(obj).values() if isinstance(v, tuple) for a in v if isinstance(a, np.ndarray)]


def test_prepared_data_holds_no_copy_of_any_image(data):
    d = prepare(TrainConfig(), data)   # 55,000 training rows, 5,000 validation rows
    rows, labels = d.sample             # made (and kept) at the first evaluation
    assert len(rows) == 10_000
    shared = (data.train.images, data.test.images)
    for array in held_arrays(d):
        if array.ndim > 1:
            assert any(array is s for s in shared), f"a {array.nbytes / 2**20:.1f} MB copy of images"
        else:
            assert array.nbytes < 1_000_000, array.nbytes   # indices and labels only
    # The gathered sets are the same images, with the same labels, as the indices say.
    np.testing.assert_array_equal(data.train.images[d.val_idx], d.val_x)
    np.testing.assert_array_equal(labels, data.train.labels[rows])


def test_evaluating_rows_equals_evaluating_the_gathered_images(data):
    config = TrainConfig(train_subset=3000, validation_size=1200, epochs=1)
    trainer = Trainer(config, data)
    net, d = trainer.run(), trainer.data
    cost, accuracy = net.evaluate(data.train.images[d.val_idx], d.val_labels)
    assert d.evaluate(net, d.val_idx, d.val_labels) == pytest.approx((cost, accuracy), rel=1e-5)
    assert trainer.last is not None and trainer.last.val_accuracy == pytest.approx(accuracy)


def collected_without_gc(make) -> bool:
    """Return whether the object `make()` returns is freed by reference counting alone once dropped."""
    gc.collect()
    gc.disable()
    try:
        ref = weakref.ref(make())
        return ref() is None
    finally:
        gc.enable()


def test_a_finished_trainer_is_freed_once_its_owner_lets_go(data):
    reports: list = []

    def finished() -> Trainer:
        trainer = Trainer(TrainConfig(train_subset=2000, validation_size=500, epochs=2), data, reports.append)
        trainer.run()
        return trainer

    assert collected_without_gc(finished)
    assert reports[-1].final, "it trained to the end; the reports (and their snapshots) outlive it"


def test_a_stopped_trainer_of_another_thread_is_freed_with_its_thread_ended(data):
    started = threading.Event()

    def stopped() -> Trainer:
        trainer = Trainer(TrainConfig(train_subset=5000, validation_size=0, epochs=50), data,
                          lambda progress: started.set())
        thread = threading.Thread(target=trainer.run, name="test-trainer")
        thread.start()
        wait_until(started.is_set, what="the first report")
        trainer.pause()
        trainer.request_steps(3).done.wait(60)
        trainer.stop()
        thread.join(60)
        assert not thread.is_alive()
        return trainer

    assert collected_without_gc(stopped)
    assert not [t for t in threading.enumerate() if t.name in ("test-trainer", "epoch-feeder")]
