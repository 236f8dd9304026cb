"""The in-process executor: the Trainer itself, run on the manager's thread (the reference)."""

from __future__ import annotations

from collections.abc import Callable

from app.nn.network import Network
from app.training.config import TrainConfig
from app.training.mnist import Mnist
from app.training.trainer import Progress, Trainer


class ThreadExecutor:
    name = "thread"
    survives_restart = False   # its runs end with the server (interrupted at the next start)

    def __init__(self, data: Callable[[], Mnist]):
        self._data = data

    def start(self, config: TrainConfig, callback: Callable[[Progress], None], report_seconds: float,
              network: Network | None, start_epoch: int, label: str = "") -> Trainer:
        return Trainer(config, self._data(), callback, report_seconds=report_seconds, network=network,
                       start_epoch=start_epoch)

    def detach(self, training: object) -> bool:
        return False

    def shared_data(self) -> None:
        return None   # the trainer reads the server's own copy

    def close(self) -> None:
        pass
