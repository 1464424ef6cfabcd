"""The SSL training loop (Lightning), its quality monitors and checkpoints."""

from selfsup.training.callbacks import (
    AtomicCheckpoint,
    CollapseMonitor,
    KNNMonitor,
    MetricsWriter,
    embed_loader,
)
from selfsup.training.lars import LARS
from selfsup.training.module import OptimizerConfig, SSLTrainingModule, build_optimizer

__all__ = [
    "LARS",
    "AtomicCheckpoint",
    "CollapseMonitor",
    "KNNMonitor",
    "MetricsWriter",
    "OptimizerConfig",
    "SSLTrainingModule",
    "build_optimizer",
    "embed_loader",
]
