"""The SSL training loop (Lightning), its quality monitors and checkpoints."""

from selfsup.training.callbacks import (
    AtomicCheckpoint,
    CollapseMonitor,
    FeatureNormCalibration,
    KNNMonitor,
    MetricsWriter,
    calibrate_feature_norm,
    embed_loader,
)
from selfsup.training.lars import LARS
from selfsup.training.module import OptimizerConfig, SSLTrainingModule, build_optimizer

__all__ = [
    "LARS",
    "AtomicCheckpoint",
    "CollapseMonitor",
    "FeatureNormCalibration",
    "KNNMonitor",
    "MetricsWriter",
    "OptimizerConfig",
    "SSLTrainingModule",
    "build_optimizer",
    "calibrate_feature_norm",
    "embed_loader",
]
