"""``selfsup.preview``: a PNG grid of images and the views a method's augmentations make of them."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import torch
from matplotlib import cbook
from PIL import Image

from selfsup.data import ImageDataset, is_undecoded
from selfsup.pipeline._files import write_atomically
from selfsup.transforms import get_transform_class, list_transforms
from selfsup.utils.config import build_config, check_kwargs, choices
from selfsup.utils.debug import plot_augmented_images

__all__ = ["PreviewConfig", "preview", "sample_images"]

logger = logging.getLogger(__name__)

_SAMPLE_FILES = ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png", "logo2.png")


@dataclasses.dataclass
class PreviewConfig:
    """Options of ``selfsup preview``; any argument of the method's transform may be added."""

    data: str | None = dataclasses.field(
        default=None,
        metadata={"help": "folder of images; default: sample images shipped with matplotlib"},
    )
    method: str = choices(list_transforms, "simclr", "whose augmentations to preview")
    n: int = dataclasses.field(default=8, metadata={"help": "number of images (rows)"})
    out: str = dataclasses.field(default="preview.png", metadata={"help": "PNG file to write"})
    seed: int = dataclasses.field(default=0, metadata={"help": "random seed of the views"})
    max_views: int | None = dataclasses.field(
        default=None, metadata={"help": "show at most this many views per image"}
    )
    dpi: int = dataclasses.field(default=100, metadata={"help": "resolution of the PNG"})


def sample_images() -> list[Image.Image]:
    """The sample photographs that ship with matplotlib, as RGB PIL images."""
    images = []
    for name in _SAMPLE_FILES:
        with Image.open(cbook.get_sample_data(name, asfileobj=False)) as image:
            images.append(image.convert("RGB"))
    return images


def _load_images(data: str | None, n: int) -> list[Image.Image]:
    if data is None:
        images = sample_images()
        if n > len(images):
            logger.info("only %d sample images ship with matplotlib; showing those", len(images))
        return images[:n]
    dataset = ImageDataset(data)
    images = []
    for index in range(len(dataset)):
        image = dataset[index][0]
        if not is_undecoded(image):
            images.append(image)
        if len(images) == n:
            break
    if not images:
        raise ValueError(f"no readable image in {data!r}")
    return images


def preview(
    data: str | None = None,
    method: str = "simclr",
    n: int = 8,
    out: str | Path = "preview.png",
    seed: int = 0,
    max_views: int | None = None,
    dpi: int = 100,
    **transform_kwargs: Any,
) -> Path:
    """Writes a PNG showing ``n`` images beside the views ``method``'s transform makes of them.

    Args:
        data: Folder of images (the first ``n`` in sorted order are shown), or None for the
            sample images that ship with matplotlib.
        method: Name of the method whose transform is previewed (``selfsup preview --help``
            lists them).
        n: Number of images, one per row.
        out: Path of the PNG to write (written atomically).
        seed: Seed of the random augmentations.
        max_views: Show at most this many views per image.
        dpi: Resolution of the PNG.
        **transform_kwargs: Arguments of the method's transform, e.g. ``gaussian_blur=0``.

    Returns:
        The path of the PNG.

    Raises:
        ValueError: an unknown option or transform argument, a bad value, or an unreadable folder.
    """
    config = build_config(
        PreviewConfig,
        dict(data=data, method=method, n=n, out=str(out), seed=seed, max_views=max_views, dpi=dpi),
        command="selfsup preview",
    )
    if config.n < 1:
        raise ValueError(f"n must be >= 1, got {config.n}")
    transform_cls = get_transform_class(config.method)
    kwargs = check_kwargs(
        transform_cls,
        transform_kwargs,
        owner=f"selfsup preview (method {config.method!r}, {transform_cls.__name__})",
        also_allowed=[field.name for field in dataclasses.fields(PreviewConfig)],
    )
    transform = transform_cls(**kwargs)
    images = _load_images(config.data, config.n)
    torch.manual_seed(config.seed)
    figure = plot_augmented_images(images, transform, max_views=config.max_views)
    return write_atomically(
        config.out, lambda tmp: figure.savefig(tmp, format="png", dpi=config.dpi)
    )
