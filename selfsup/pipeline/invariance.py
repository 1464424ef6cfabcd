"""``selfsup.invariance``: how invariant a trained backbone is to each augmentation family."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Subset

from selfsup.data import ImageDataset, MultiViewCollate
from selfsup.pipeline._files import write_atomically
from selfsup.pipeline.embed import _run_input_size, load_backbone
from selfsup.report.invariance import AUGMENTATION_FAMILIES, InvarianceResult, measure_invariance
from selfsup.transforms import EvalTransform
from selfsup.utils.config import ConfigError, build_config, option

__all__ = ["InvarianceConfig", "invariance"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class InvarianceConfig:
    """Options of ``selfsup invariance`` (and keyword arguments of :func:`invariance`)."""

    checkpoint: str | None = option("run folder, its backbone.pt or its last.ckpt (required)")
    data: str | None = option("folder of images to measure on (required)")
    out: str = option("folder to write invariance.json and invariance.png to", "invariance")
    families: str = option(
        f"comma-separated augmentation families, from: {', '.join(AUGMENTATION_FAMILIES)}",
        ",".join(AUGMENTATION_FAMILIES),
    )
    n_images: int = option("images measured: a seeded random sample of the folder (or all)", 512)
    n_views: int = option("augmented views per image for families with random parameters", 1)
    input_size: int | None = option("center-crop size (default: the run's input size)")
    batch_size: int = option("images per batch", 128)
    num_workers: int = option("DataLoader workers for decoding images", 0)
    device: str = option("torch device: cpu, cuda, cuda:1, ...", "cpu")
    seed: int = option("random seed of the image sample and of the augmentations", 0)


def _family_names(families: str) -> list[str]:
    names = list(dict.fromkeys(name.strip() for name in families.split(",") if name.strip()))
    if not names:
        raise ConfigError(
            f"families is empty; give one or more of: {', '.join(AUGMENTATION_FAMILIES)}"
        )
    for name in names:
        if name not in AUGMENTATION_FAMILIES:
            raise ConfigError(
                f"unknown augmentation family {name!r} in 'families'; "
                f"allowed: {', '.join(AUGMENTATION_FAMILIES)}"
            )
    return names


def _check(config: InvarianceConfig) -> torch.device:
    if config.checkpoint is None or config.data is None:
        raise ConfigError(
            "checkpoint and data are required: selfsup invariance checkpoint=RUN data=DIR"
        )
    for key, low in (("n_images", 2), ("n_views", 1), ("batch_size", 1), ("num_workers", 0)):
        if getattr(config, key) < low:
            raise ConfigError(f"{key} must be >= {low}, got {getattr(config, key)}")
    if config.input_size is not None and config.input_size < 1:
        raise ConfigError(f"input_size must be >= 1, got {config.input_size}")
    try:
        return torch.device(config.device)
    except RuntimeError:
        raise ConfigError(
            f"invalid value {config.device!r} for 'device': expected cpu, cuda, cuda:N, mps"
        ) from None


def _load_images(config: InvarianceConfig, size: int) -> tuple[Tensor, list[str]]:
    """A seeded sample of ``n_images`` images, center-cropped, as uint8 `(N, 3, size, size)`."""
    transform = EvalTransform(input_size=size, normalize=None)
    dataset = ImageDataset(config.data, transform=transform, draft_size=size)
    generator = torch.Generator().manual_seed(config.seed)
    chosen = torch.randperm(len(dataset), generator=generator)[: config.n_images]
    loader = DataLoader(
        Subset(dataset, chosen.sort().values.tolist()),
        batch_size=config.batch_size,
        num_workers=config.num_workers,
        collate_fn=MultiViewCollate(),
    )
    batches, filenames = [], []
    for views, _, names in loader:
        if names:
            batches.append(views[0].mul(255).round_().to(torch.uint8))
            filenames.extend(names)
    if len(filenames) < 2:
        raise ValueError(
            f"invariance needs at least 2 decodable images, {config.data!r} gave {len(filenames)}"
        )
    return torch.cat(batches), filenames


def invariance(config: InvarianceConfig | None = None, **options: Any) -> InvarianceResult:
    """Measures a trained backbone's invariance to each augmentation family on a folder.

    A seeded random sample of ``n_images`` images of ``data`` is preprocessed as ``selfsup
    embed`` does it (resize the short side, center crop ``input_size``, ImageNet
    normalisation), and :func:`selfsup.report.invariance.measure_invariance` compares each
    image's embedding with the embeddings of its augmented views: a score of 1 means the
    embedding does not change, 0 that it moves as far as another image of the set is on
    average. The table is printed; ``out/invariance.json`` (settings, figures per family and
    per-image scores by filename) and ``out/invariance.png`` (bar chart) are written
    atomically.

    Args:
        config: An :class:`InvarianceConfig`; or give its fields as keyword arguments
            (``selfsup.invariance(checkpoint="runs/simclr", data="images/")``).
        **options: Fields of :class:`InvarianceConfig`; ``families`` may also be a list.

    Returns:
        The :class:`~selfsup.report.invariance.InvarianceResult`, whose ``summary`` holds the
        score per family, the baseline, the number of images and the files written.

    Raises:
        ConfigError: missing or invalid options, e.g. an unknown family.
        ValueError: a missing checkpoint or folder, weights that do not fit, or fewer than 2
            decodable images.
    """
    if isinstance(options.get("families"), (list, tuple)):
        options["families"] = ",".join(str(name) for name in options["families"])
    if config is None:
        config = build_config(InvarianceConfig, options, command="selfsup invariance")
    elif options:
        merged = {**dataclasses.asdict(config), **options}
        config = build_config(InvarianceConfig, merged, command="selfsup invariance")
    device = _check(config)
    families = _family_names(config.families)

    backbone, _, run_config = load_backbone(config.checkpoint)
    size = config.input_size or _run_input_size(run_config)
    images, filenames = _load_images(config, size)
    result = measure_invariance(
        backbone.to(device),
        images,
        families=families,
        n_views=config.n_views,
        batch_size=config.batch_size,
        device=device,
        seed=config.seed,
        filenames=filenames,
    )
    print(result.table())

    out = Path(config.out)
    settings = {
        "checkpoint": str(config.checkpoint),
        "backbone": run_config["backbone"],
        "data": str(config.data),
        "input_size": size,
        "n_views": config.n_views,
    }
    text = json.dumps({"settings": settings, **result.to_dict()}, indent=2)
    json_path = write_atomically(out / "invariance.json", lambda tmp: tmp.write_text(text))
    png_path = write_atomically(out / "invariance.png", lambda tmp: result.plot(tmp))
    logger.info("measured %d images; wrote %s and %s", result.n_images, json_path, png_path)
    return dataclasses.replace(result, files={"json": str(json_path), "png": str(png_path)})
