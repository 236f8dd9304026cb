"""The training loop on the real MNIST: reports, control from another thread, splits, seeds, divergence."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

import app.training.trainer as trainer_module
from app.nn.optim import scheduled_rate
from app.training.config import TrainConfig
from app.training.mnist import load_mnist
from app.training.threads import pin_blas_threads
from app.training.trainer import Diverged, Progress, Trainer, prepare
from tests.support.wait import wait_until

pin_blas_threads()


@pytest.fixture(scope="module")
def data():
    return load_mnist()


def test_progress_reports_are_complete_and_consistent(data):
    config = TrainConfig(train_subset=2000, validation_size=1000, epochs=2, learning_rate=3.0,
                         schedule="cosine", warmup=0.1)
    reports: list[Progress] = []
    trainer = Trainer(config, data, reports.append, report_seconds=0.0, eval_seconds=1e9)
    net = trainer.run()
    steps = 2000 // 10
    timed = [p.step for p in reports if not (p.epoch_end or p.final)]
    # report_seconds=0: one after every run of at most 25 steps, and at each log-spaced milestone
    assert timed[0] == 1 and timed == sorted(set(timed)) and max(np.diff([0, *timed])) <= 25
    assert sum(p.milestone for p in reports) >= 30
    ends = [p for p in reports if p.epoch_end]
    assert [p.step for p in ends] == [steps, 2 * steps] and [p.epoch for p in ends] == [1.0, 2.0]
    assert [p.final for p in reports].count(True) == 1 and reports[-1].final
    for p in reports:
        assert p.epoch == pytest.approx(p.step / steps)
        assert p.examples_seen == 10 * p.step
        rate = scheduled_rate(3.0, "cosine", (p.step - 1) / (2 * steps), warmup=0.1)
        assert p.learning_rate == pytest.approx(rate)
        assert p.examples_per_second > 0 and p.train_seconds > 0
        assert p.batch_cost > 0 and np.isfinite(p.batch_cost)
        assert not np.shares_memory(p.snapshot.params, net.params)
    assert all(b.train_seconds >= a.train_seconds for a, b in zip(reports, reports[1:], strict=False))
    evaluated = [p for p in reports if p.evaluated]
    assert evaluated == ends + [reports[-1]]  # eval_seconds is huge: only epoch ends and the end
    for p in evaluated:
        assert 0 <= p.test_accuracy <= 1 and 0 <= p.val_accuracy <= 1 and 0 <= p.train_accuracy <= 1
        assert p.test_cost > 0 and p.val_cost > 0 and p.train_cost > 0
    # Figures are carried forward between evaluations, so every report after the first epoch is complete.
    assert reports[reports.index(ends[0]) + 2].test_accuracy == ends[0].test_accuracy
    # It learns: 2 epochs on 2,000 digits reach well above chance, measured on the 10,000 test digits.
    assert reports[-1].test_accuracy > 0.6 and reports[-1].test_accuracy > ends[0].test_accuracy - 0.05
    assert reports[-1].snapshot.evaluate(data.test.images, data.test.labels)[1] == reports[-1].test_accuracy
    json.dumps(reports[-1].metrics())  # plain numbers, no snapshot
    assert "snapshot" not in reports[-1].metrics()


def run_in_thread(trainer: Trainer) -> threading.Thread:
    thread = threading.Thread(target=trainer.run, daemon=True)
    thread.start()
    return thread


class ShiftedTime:
    """The time module, as the trainer sees it, with a perf_counter that the test can move ahead."""
    def __init__(self) -> None:
        self.offset = 0.0

    def perf_counter(self) -> float:
        return time.perf_counter() + self.offset

    def __getattr__(self, name: str):
        return getattr(time, name)


def test_pause_resume_and_stop(data, monkeypatch):
    """A pause stops the loop before its next step, resume() and stop() from another thread go on and
    end it, and the time spent paused is not training time: on the trainer's clock, the pause lasts an
    hour. (The pause is asked from the callback, so the step it stops at is known exactly; the run
    manager pauses from other threads, as tests/test_api_runs.py does.)"""
    clock = ShiftedTime()
    monkeypatch.setattr(trainer_module, "time", clock)
    config = TrainConfig(train_subset=4000, validation_size=1000, epochs=500)  # far longer than the test
    reports: list[Progress] = []
    pauses: list[Progress] = []

    def pause_once_past_step_100(p: Progress) -> None:
        reports.append(p)
        if p.step > 100 and not pauses:
            pauses.append(p)
            trainer.pause()

    trainer = Trainer(config, data, pause_once_past_step_100, report_seconds=0.02, eval_seconds=1e9)
    thread = run_in_thread(trainer)
    before = wait_until(lambda: pauses, what="the pause")[0]
    # Before it waits, the loop books the training time since the last report: then the hour passes.
    wait_until(lambda: trainer.train_seconds > before.train_seconds, what="the loop to stop on the pause")
    assert trainer.step == before.step and reports[-1] is before and thread.is_alive()
    clock.offset += 3600.0
    trainer.resume()
    wait_until(lambda: trainer.step > before.step + 100)
    trainer.stop()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert reports[-1].final and reports[-1].step == trainer.step < trainer.steps_per_epoch() * 500
    after = reports[reports.index(before) + 1]   # the first report after the pause
    assert after.step > before.step
    assert 0 < after.train_seconds - before.train_seconds < 3600.0


def test_stop_while_paused_and_stop_before_start(data):
    trainer = Trainer(TrainConfig(train_subset=4000, validation_size=1000, epochs=500), data,
                      report_seconds=0.05, eval_seconds=1e9)
    thread = run_in_thread(trainer)
    wait_until(lambda: trainer.step > 50)
    trainer.pause()
    trainer.stop()   # heard whether the loop is already waiting on the pause or not
    thread.join(timeout=60)
    assert not thread.is_alive() and trainer.last.final and trainer.last.step == trainer.step

    reports: list[Progress] = []
    early = Trainer(TrainConfig(train_subset=1000, validation_size=1000, epochs=1), data, reports.append)
    early.stop()
    net = early.run()
    assert early.step == 0 and [p.final for p in reports] == [True]
    np.testing.assert_array_equal(net.params, early.net.params)


def test_validation_split_is_disjoint_from_the_training_subset(data):
    config = TrainConfig(train_subset=3000, validation_size=1000, seed=4)
    d = prepare(config, data)
    assert len(d.train_idx) == 3000 and len(d.val_idx) == 1000
    assert not set(d.train_idx.tolist()) & set(d.val_idx.tolist())
    np.testing.assert_array_equal(d.train_x, data.train.images[d.train_idx])
    np.testing.assert_array_equal(d.val_x, data.train.images[d.val_idx])
    np.testing.assert_array_equal(d.val_labels, data.train.labels[d.val_idx])
    np.testing.assert_array_equal(d.test_labels, data.test.labels)  # the test set is never split
    assert d.sample_idx.max() < 3000
    # The whole training set: the two parts are a partition of the 60,000.
    full = prepare(TrainConfig(validation_size=5000), data)
    assert len(full.train_idx) == 55_000
    assert np.array_equal(np.sort(np.concatenate([full.train_idx, full.val_idx])), np.arange(60_000))
    # Seeded: the same seed picks the same split, another seed another.
    np.testing.assert_array_equal(prepare(config, data).val_idx, d.val_idx)
    assert not np.array_equal(prepare(TrainConfig(train_subset=3000, validation_size=1000, seed=5),
                                      data).val_idx, d.val_idx)


def test_shuffled_labels_mode_really_permutes_the_labels(data):
    real = prepare(TrainConfig(train_subset=5000, seed=2), data)
    shuffled = prepare(TrainConfig(train_subset=5000, seed=2, label_mode="shuffled"), data)
    np.testing.assert_array_equal(real.train_idx, shuffled.train_idx)  # same images
    np.testing.assert_array_equal(real.train_labels, data.train.labels[real.train_idx])
    np.testing.assert_array_equal(np.bincount(shuffled.train_labels), np.bincount(real.train_labels))
    assert np.mean(shuffled.train_labels == real.train_labels) < 0.15  # ~10% agree by chance
    np.testing.assert_array_equal(shuffled.val_labels, real.val_labels)  # validation keeps its labels
    # Trained on the shuffled labels, the network learns nothing that carries over to the test set.
    trainer = Trainer(TrainConfig(train_subset=2000, epochs=1, label_mode="shuffled"), data)
    trainer.run()
    assert trainer.last.test_accuracy < 0.2


def train_params(data, **overrides) -> np.ndarray:
    config = TrainConfig(train_subset=600, validation_size=500, epochs=2, momentum=0.5, **overrides)
    return Trainer(config, data, report_seconds=1e9).run().params


@pytest.mark.parametrize("augment", [0.0, 1.0])
def test_same_seed_same_weights_bitwise_different_seed_different(data, augment):
    a = train_params(data, seed=11, augment=augment)
    b = train_params(data, seed=11, augment=augment)
    c = train_params(data, seed=12, augment=augment)
    assert a.tobytes() == b.tobytes()
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("jitter", [0.0, 1.0])
def test_the_trainer_takes_the_textbook_steps(data, jitter):
    """Each step pairs the right images with the right labels and the scheduled rate: the Trainer's
    weights equal, bit for bit, a plain loop of SGD steps over the same shuffled order (the Trainer
    gathers each epoch's targets once and slices them; this checks the slices stay aligned). With
    augmentation, the images the Trainer jitters on its helper thread are the ones this loop jitters
    in line, from the same random numbers in the same order."""
    from app.nn.network import Network, one_hot
    from app.nn.optim import SGD
    from app.training.augment import augment
    config = TrainConfig(train_subset=530, validation_size=500, epochs=3, schedule="cosine", warmup=0.1,
                         momentum=0.5, l2=1e-3, seed=4, augment=jitter)  # 530: 3 examples sit out
    trained = Trainer(config, data, report_seconds=1e9).run()
    d = prepare(config, data)
    net = Network(config.sizes, seed=config.seed)
    sgd = SGD(net, config.learning_rate, config.momentum, config.l2)
    rng, m, steps = np.random.default_rng([config.seed, 2, 0]), config.batch_size, 530 // 10
    xs, ys = net.input_batch(d.train_x), one_hot(d.train_labels)
    for epoch in range(config.epochs):
        if jitter:
            xs[:, :-1] = augment(d.train_x, rng, jitter) * np.float32(net.input_scale)
        order = rng.permutation(530)
        for i in range(steps):
            rows = order[i * m:(i + 1) * m]
            progress = (epoch * steps + i) / (config.epochs * steps)
            rate = scheduled_rate(config.learning_rate, "cosine", progress, warmup=0.1)
            sgd.step(xs[rows], ys[rows], rate)
    assert trained.params.tobytes() == net.params.tobytes()


def test_an_absurd_learning_rate_raises_diverged_and_leaves_finite_weights(data):
    # ReLU units at lr 100 mostly die (gradient 0) in a 16-16 net; three wide layers overflow instead.
    config = TrainConfig(hidden=[64, 64, 64], activation="relu", cost="cross_entropy", learning_rate=100.0,
                         momentum=0.9, train_subset=2000, epochs=3)
    reports: list[Progress] = []
    trainer = Trainer(config, data, reports.append, report_seconds=0.0, eval_seconds=1e9)
    initial = trainer.net.params.copy()
    with pytest.raises(Diverged, match="smaller learning rate"):
        trainer.run()
    assert np.all(np.isfinite(trainer.net.params))
    last_good = reports[-1].snapshot.params if reports else initial  # the last weights a reader saw
    np.testing.assert_array_equal(trainer.net.params, last_good)
    assert trainer.step < trainer.steps_per_epoch()


def test_the_callback_runs_under_the_callers_floating_point_rules(data):
    """Training raises on overflow to detect divergence; a callback's own arithmetic must not."""
    seen = []

    def callback(progress: Progress) -> None:
        seen.append(np.float32(3e38) * np.float32(10))  # overflows to inf

    with np.errstate(over="ignore"):
        Trainer(TrainConfig(train_subset=500, validation_size=100, epochs=1), data, callback).run()
    assert seen and all(np.isinf(v) for v in seen)


def test_continuing_a_run_trains_the_given_network_for_the_remaining_epochs(data):
    config = TrainConfig(train_subset=1000, validation_size=500, epochs=3)
    first = Trainer(TrainConfig(train_subset=1000, validation_size=500, epochs=1), data).run()
    reports: list[Progress] = []
    trainer = Trainer(config, data, reports.append, network=first, start_epoch=1)
    assert trainer.run() is first  # trained in place
    steps = trainer.steps_per_epoch()
    assert [p.step for p in reports if p.epoch_end] == [2 * steps, 3 * steps]
    assert reports[-1].final and reports[-1].epoch == 3.0


def test_a_batch_larger_than_the_subset_is_refused(data):
    with pytest.raises(ValueError, match="exceeds"):
        Trainer(TrainConfig(train_subset=5, batch_size=10), data)


@pytest.mark.parametrize("field,value,says", [
    ("hidden", [0], "1 to 1024 neurons"), ("hidden", [16] * 5, "at most 4 hidden layers"),
    ("learning_rate", 0.0, "learning rate must be in (0, 100]"), ("learning_rate", -1.0, "(got -1.0)"),
    ("activation", "tanh", "'tanh'"), ("epochs", 0, "epochs must be 1 to"), ("momentum", 1.0, "[0, 1)"),
    ("batch_size", 0, "batch size"), ("train_subset", 0, "training subset"),
    ("label_mode", "random", "'random'"), ("schedule", "step", "'step'"), ("seed", -1, "seed")])
def test_config_validation_names_the_problem(field, value, says):
    with pytest.raises(ValueError) as err:
        TrainConfig(**{field: value}).validate()
    assert says in str(err.value)


def test_config_round_trips_through_a_dict():
    config = TrainConfig(hidden=[64, 32], activation="relu", cost="cross_entropy", seed=3)
    assert TrainConfig.from_dict({**config.to_dict(), "unknown_future_key": 1}) == config
    assert config.sizes == [784, 64, 32, 10]


def test_an_averaging_run_trains_the_same_steps_and_keeps_the_average(data):
    """With `average`, the steps are the ones of the same run without it (bit for bit); what the run
    reports, evaluates and returns is the moving average of its weights, which at a high rate is the
    better model."""
    base = dict(hidden=[32], activation="relu", cost="cross_entropy", learning_rate=0.05, momentum=0.9,
                train_subset=3000, validation_size=1000, epochs=2, seed=3)

    def train(config: TrainConfig) -> tuple[Trainer, list, list]:
        reports: list[Progress] = []
        trained: list[np.ndarray] = []   # the weights as trained, at each epoch's end

        def callback(p: Progress) -> None:
            reports.append(p)
            if p.epoch_end:
                trained.append(trainer.net.params.copy())
        trainer = Trainer(config, data, callback, report_seconds=1e9)
        trainer.run()
        return trainer, reports, trained

    plain, plain_reports, plain_trained = train(TrainConfig(**base))
    averaging, reports, trained = train(TrainConfig(**base, average=0.99))
    assert [t.tobytes() for t in trained] == [t.tobytes() for t in plain_trained]   # same steps
    assert averaging.optimizer.averaged is not None
    np.testing.assert_array_equal(averaging.net.params, averaging.optimizer.averaged)  # the run's model
    assert not np.array_equal(reports[0].snapshot.params, trained[0])     # reports show the average
    final = reports[-1]
    assert final.final and final.snapshot.params.tobytes() == averaging.net.params.tobytes()
    assert final.test_accuracy == averaging.net.evaluate(data.test.images, data.test.labels)[1]
    as_trained = plain_reports[-1].test_accuracy
    assert final.test_accuracy > as_trained + 0.01, (final.test_accuracy, as_trained)  # seeded: 88.9 vs 86.9%


@pytest.mark.parametrize("augment", [0.0, 1.0])
def test_a_stopped_run_leaves_no_helper_thread_and_a_helper_error_reaches_run(data, augment, monkeypatch):
    """The next epoch's inputs are made on a helper thread: stopping mid-epoch waits for it, and an
    error there is raised by run() in the training thread, not lost."""
    import threading

    config = TrainConfig(train_subset=2000, validation_size=500, epochs=5, augment=augment)

    def stop_at_first_report(p: Progress) -> None:
        trainer.stop()
    trainer = Trainer(config, data, stop_at_first_report, report_seconds=0.0)
    trainer.run()
    assert trainer.stopped and trainer.step < trainer.steps_per_epoch()
    assert not [t for t in threading.enumerate() if t.name == "epoch-feeder"]

    import app.training.trainer as module
    real_make = module.EpochFeeder._make

    def failing_on_the_helper(self, *args, **kwargs):
        if threading.current_thread().name == "epoch-feeder":
            raise MemoryError("no room for the next epoch")
        return real_make(self, *args, **kwargs)
    monkeypatch.setattr(module.EpochFeeder, "_make", failing_on_the_helper)
    failing = Trainer(config, data, report_seconds=1e9)
    with pytest.raises(MemoryError, match="next epoch"):
        failing.run()
    assert failing.step == failing.steps_per_epoch()   # the first epoch trained, then the error came
    assert not [t for t in threading.enumerate() if t.name == "epoch-feeder"]


def test_stop_is_heard_at_the_next_step_when_steps_are_big(data):
    """A big batch through a wide network can take seconds a step: Stop must not wait 25 of them."""
    config = TrainConfig(hidden=[512], activation="relu", cost="cross_entropy", learning_rate=0.1,
                         batch_size=500, train_subset=20_000, validation_size=500, epochs=1)

    def stop_at_first_report(p: Progress) -> None:
        trainer.stop()
    trainer = Trainer(config, data, stop_at_first_report, report_seconds=0.0, eval_seconds=1e9)
    trainer.run()
    assert trainer.stopped and trainer.step == 1
