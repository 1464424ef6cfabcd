"""High-level Python API, re-exported at the top level: ``selfsup.preview()``, ``train()``, ..."""

from selfsup.pipeline.demo import DemoConfig, demo
from selfsup.pipeline.embed import EmbedConfig, EmbedResult, embed, load_backbone
from selfsup.pipeline.evaluate import EvaluateConfig, evaluate
from selfsup.pipeline.preview import PreviewConfig, preview
from selfsup.pipeline.select import SelectConfig, select
from selfsup.pipeline.train import TrainConfig, TrainResult, train

__all__ = [
    "DemoConfig",
    "EmbedConfig",
    "EmbedResult",
    "EvaluateConfig",
    "demo",
    "PreviewConfig",
    "SelectConfig",
    "TrainConfig",
    "TrainResult",
    "embed",
    "evaluate",
    "load_backbone",
    "preview",
    "select",
    "train",
]
