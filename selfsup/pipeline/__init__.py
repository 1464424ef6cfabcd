"""High-level Python API, re-exported at the top level: ``selfsup.preview()``, ``train()``, ..."""

from selfsup.pipeline.demo import DemoConfig, demo
from selfsup.pipeline.embed import EmbedConfig, EmbedResult, embed, load_backbone
from selfsup.pipeline.evaluate import EvaluateConfig, evaluate
from selfsup.pipeline.extract import ExtractConfig, ExtractResult, MissingFilesError, extract
from selfsup.pipeline.invariance import InvarianceConfig, invariance
from selfsup.pipeline.preview import PreviewConfig, preview
from selfsup.pipeline.report import ReportConfig, ReportResult, report
from selfsup.pipeline.select import SelectConfig, select
from selfsup.pipeline.train import TrainConfig, TrainResult, train

__all__ = [
    "DemoConfig",
    "EmbedConfig",
    "EmbedResult",
    "EvaluateConfig",
    "ExtractConfig",
    "ExtractResult",
    "InvarianceConfig",
    "MissingFilesError",
    "demo",
    "PreviewConfig",
    "ReportConfig",
    "ReportResult",
    "SelectConfig",
    "TrainConfig",
    "TrainResult",
    "embed",
    "evaluate",
    "extract",
    "invariance",
    "load_backbone",
    "preview",
    "report",
    "select",
    "train",
]
