"""``selfsup.embed``: embeddings of a folder of images with a trained backbone."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from torch import nn
from torch.utils.data import DataLoader

from selfsup.data import ImageDataset, MultiViewCollate
from selfsup.models import get_backbone
from selfsup.pipeline._files import write_atomically
from selfsup.transforms import EvalTransform
from selfsup.utils.config import ConfigError, build_config, option
from selfsup.utils.features import extract_features
from selfsup.utils.io import save_embeddings

__all__ = ["EmbedConfig", "EmbedResult", "embed", "load_backbone"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class EmbedConfig:
    """Options of ``selfsup embed`` (and keyword arguments of :func:`selfsup.embed`)."""

    checkpoint: str | None = option("run folder, its backbone.pt or its last.ckpt (required)")
    data: str | None = option("folder of images to embed (required)")
    out: str = option(
        "CSV file to write; a .npy of the array is written beside it", "embeddings.csv"
    )
    input_size: int | None = option("center-crop size (default: the run's input size)")
    batch_size: int = option("images per batch", 128)
    num_workers: int = option("DataLoader workers", 0)
    device: str = option("torch device: cpu, cuda, cuda:1, ...", "cpu")


@dataclasses.dataclass
class EmbedResult:
    """What :func:`selfsup.embed` wrote."""

    csv: Path
    npy: Path
    embeddings: np.ndarray
    filenames: list[str]
    labels: list[int]


def _run_dir_and_weights(checkpoint: Path) -> tuple[Path, Path]:
    if checkpoint.is_dir():
        return checkpoint, checkpoint / "backbone.pt"
    return checkpoint.parent, checkpoint


def load_backbone(checkpoint: str | Path) -> tuple[nn.Module, int, dict[str, Any]]:
    """Rebuilds a run's backbone and loads its trained weights.

    Args:
        checkpoint: A run folder, its ``backbone.pt`` or its ``last.ckpt``; the run's
            ``config.yaml`` beside it names the backbone.

    Returns:
        ``(backbone, feature_dim, run_config)``; the backbone maps `(B, 3, H, W)` to `(B, F)`.

    Raises:
        ValueError: the file or the run's ``config.yaml`` is missing, or the weights do not fit
            the backbone.
    """
    run_dir, weights = _run_dir_and_weights(Path(checkpoint))
    config_path = run_dir / "config.yaml"
    if not weights.is_file():
        raise ValueError(f"checkpoint {str(weights)!r} does not exist")
    if not config_path.is_file():
        raise ValueError(f"{str(config_path)!r} is missing: it names the backbone of the run")
    run_config = yaml.safe_load(config_path.read_text())
    kwargs = {} if run_config.get("width") is None else {"width": run_config["width"]}
    backbone, dim = get_backbone(run_config["backbone"], **kwargs)
    state = torch.load(weights, map_location="cpu", weights_only=True)
    if weights.suffix == ".ckpt":
        prefix = "method.backbone."
        state = {
            k[len(prefix) :]: v for k, v in state["state_dict"].items() if k.startswith(prefix)
        }
    try:
        backbone.load_state_dict(state)
    except RuntimeError as error:
        first = str(error).splitlines()[0]
        raise ValueError(f"weights in {str(weights)!r} do not fit the backbone: {first}") from None
    return backbone.eval(), dim, run_config


def _run_input_size(run_config: dict[str, Any]) -> int:
    if run_config.get("input_size"):
        return int(run_config["input_size"])
    transform = run_config.get("transform") or {}
    for key in ("input_size", "global_crop_size"):
        if key in transform:
            return int(transform[key])
    return 224


@torch.no_grad()
def embed(config: EmbedConfig | None = None, **options: Any) -> EmbedResult:
    """Embeds every image of a folder with a trained backbone and writes CSV and ``.npy``.

    Preprocessing is deterministic (resize the short side, center crop, normalise), so the same
    image always gives the same embedding. The CSV has lightly's columns
    ``filenames,embedding_0,...,embedding_{D-1},labels`` (labels from subfolders); the ``.npy``
    beside it holds the float32 array `(N, D)` in the same order.

    Returns:
        An :class:`EmbedResult`.

    Raises:
        ValueError: missing options, files or folders, or weights that do not fit.
    """
    if config is None:
        config = build_config(EmbedConfig, options, command="selfsup embed")
    if config.checkpoint is None or config.data is None:
        raise ConfigError("checkpoint and data are required: selfsup embed checkpoint=RUN data=DIR")
    backbone, _, run_config = load_backbone(config.checkpoint)
    device = torch.device(config.device)
    backbone.to(device)
    size = config.input_size or _run_input_size(run_config)
    dataset = ImageDataset(config.data, transform=EvalTransform(input_size=size), draft_size=size)
    loader = DataLoader(
        dataset,
        batch_size=config.batch_size,
        num_workers=config.num_workers,
        collate_fn=MultiViewCollate(),
    )
    features, targets, filenames = extract_features(backbone, loader, device, desc="embed")
    embeddings = features.numpy()
    labels = targets.tolist()
    csv_path = Path(config.out)
    npy_path = csv_path.with_suffix(".npy")
    save_embeddings(csv_path, embeddings, labels, filenames)
    write_atomically(npy_path, lambda tmp: np.save(tmp, embeddings))
    logger.info("wrote %d embeddings of dimension %d to %s", *embeddings.shape, csv_path)
    return EmbedResult(csv_path, npy_path, embeddings, filenames, labels)
