"""Lesson 6 on a small budget, at the Trainer level with the lesson's own recipes (real MNIST):
after the same number of steps, the shuffled-label run fits its training labels far worse than the
true-label run, and it knows nothing about the test set (near 10%, chance for ten digits)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.lessons.experiments import random_label_configs
from app.training.trainer import Progress, Trainer

pytestmark = pytest.mark.slow


def final_report(config, mnist) -> Progress:
    reports: list[Progress] = []
    Trainer(config, mnist, reports.append, report_seconds=60, eval_seconds=60).run()
    assert reports[-1].final
    return reports[-1]


def test_shuffled_labels_lag_behind_and_stay_at_chance(mnist):
    configs = random_label_configs(train_subset=1000, epochs=8)
    configs = {k: replace(c, hidden=[64]) for k, c in configs.items()}  # smaller, for the test's budget
    assert configs["shuffled"].label_mode == "shuffled" and configs["real"].label_mode == "real"
    real, shuffled = final_report(configs["real"], mnist), final_report(configs["shuffled"], mnist)
    assert real.step == shuffled.step == 8 * 1000 // configs["real"].batch_size
    assert real.train_accuracy > 0.85
    assert shuffled.train_accuracy < real.train_accuracy - 0.5, "shuffled labels are learnt far more slowly"
    assert 0.05 < shuffled.test_accuracy < 0.16, "nothing general is learnt from random labels"
    assert real.test_accuracy > 0.75
    assert shuffled.train_cost > real.train_cost
