"""The table of ``selfsup`` subcommands: each parses its options and calls the pipeline."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from selfsup import pipeline
from selfsup.transforms import get_transform_class
from selfsup.utils.config import ConfigError, describe_kwargs, merge_options

__all__ = ["COMMANDS", "Command"]


def _no_extra_help(options: dict) -> list[tuple[str, str, str]]:
    return []


@dataclasses.dataclass(frozen=True)
class Command:
    """One subcommand: its option schema and the pipeline call it makes."""

    name: str
    summary: str
    schema: type
    call: Callable[..., Any]
    extra_help: Callable[[dict], list[tuple[str, str, str]]] = _no_extra_help

    def with_config_file(self, options: dict) -> dict:
        """Merges ``config=FILE.yaml`` under the command-line options (which win)."""
        path = options.pop("config", None)
        if path is None:
            return options
        if not Path(str(path)).is_file():
            raise ConfigError(f"config file {str(path)!r} does not exist")
        try:
            loaded = yaml.safe_load(Path(str(path)).read_text()) or {}
        except yaml.YAMLError as error:
            raise ConfigError(f"config file {str(path)!r} is not valid YAML: {error}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {str(path)!r} must hold a mapping of key: value")
        return merge_options(loaded, options)

    def run(self, options: dict) -> None:
        result = self.call(**options)
        if getattr(result, "global_rank", 0) != 0:
            return
        summary = result if isinstance(result, dict) else getattr(result, "summary", None)
        summary = getattr(result, "files", None) if summary is None else summary
        if summary is not None:
            print(json.dumps(summary, indent=2))
        elif result is not None:
            print(getattr(result, "csv", result))


def _transform_help(options: dict) -> list[tuple[str, str, str]]:
    method = options.get("method", pipeline.PreviewConfig.method)
    cls = get_transform_class(str(method))
    return [(key, default, f"{cls.__name__} argument") for key, default, _ in describe_kwargs(cls)]


COMMANDS: dict[str, Command] = {
    cmd.name: cmd
    for cmd in [
        Command(
            name="demo",
            summary="train SimCLR on scikit-learn's digits, monitor, embed and plot (CPU, minutes)",
            schema=pipeline.DemoConfig,
            call=pipeline.demo,
        ),
        Command(
            name="train",
            summary="train a self-supervised model on a folder of images",
            schema=pipeline.TrainConfig,
            call=pipeline.train,
        ),
        Command(
            name="embed",
            summary="embed a folder of images with a trained backbone (CSV + .npy)",
            schema=pipeline.EmbedConfig,
            call=pipeline.embed,
        ),
        Command(
            name="evaluate",
            summary="kNN and linear-probe accuracy of a trained backbone on labeled folders",
            schema=pipeline.EvaluateConfig,
            call=pipeline.evaluate,
        ),
        Command(
            name="report",
            summary="one self-contained HTML page: embedding map, thumbnails, neighbours, runs",
            schema=pipeline.ReportConfig,
            call=pipeline.report,
        ),
        Command(
            name="select",
            summary="select the samples worth labeling from embeddings (coreset, typicality, ...)",
            schema=pipeline.SelectConfig,
            call=pipeline.select,
        ),
        Command(
            name="extract",
            summary="write the listed images and video frames to a folder as PNG or JPEG",
            schema=pipeline.ExtractConfig,
            call=pipeline.extract,
        ),
        Command(
            name="invariance",
            summary="how invariant a backbone's embeddings are to each augmentation family",
            schema=pipeline.InvarianceConfig,
            call=pipeline.invariance,
        ),
        Command(
            name="preview",
            summary="write a PNG of images beside the views a method's augmentations make",
            schema=pipeline.PreviewConfig,
            call=pipeline.preview,
            extra_help=_transform_help,
        ),
    ]
}
