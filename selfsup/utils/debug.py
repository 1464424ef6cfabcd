"""Debugging helpers: representation-collapse measure and augmentation previews."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from PIL import Image
from torch import Tensor

__all__ = ["plot_augmented_images", "std_of_l2_normalized"]


def std_of_l2_normalized(z: Tensor) -> Tensor:
    """Mean over dimensions of the per-dimension std of the L2-normalised representations.

    A value near 0 means the representations have collapsed to one point; a value near
    ``1 / sqrt(dim)`` means they are spread over the sphere.

    Args:
        z: Representations, shape `(batch, dim)`, batch >= 2.

    Returns:
        A scalar tensor.

    Raises:
        ValueError: ``z`` is not 2-D or has fewer than 2 rows.
    """
    if z.ndim != 2:
        raise ValueError(f"z must have shape (batch, dim), got shape {tuple(z.shape)}")
    if z.shape[0] < 2:
        raise ValueError(f"z needs at least 2 rows to compute a std, got {z.shape[0]}")
    return F.normalize(z, dim=1).std(dim=0).mean()


def _find_normalization(obj: Any, depth: int = 6, seen: set[int] | None = None):
    """Finds the mean and std of the first normalisation inside ``obj``, if any: a ``Normalize``
    transform, or a ``normalize`` mapping with ``mean`` and ``std`` (selfsup's view transforms
    keep the one they were given)."""
    seen = set() if seen is None else seen
    if depth < 0 or id(obj) in seen:
        return None
    seen.add(id(obj))
    mean, std = getattr(obj, "mean", None), getattr(obj, "std", None)
    if type(obj).__name__ == "Normalize" and mean is not None and std is not None:
        return torch.as_tensor(mean, dtype=torch.float32), torch.as_tensor(std, dtype=torch.float32)
    normalize = getattr(obj, "normalize", None)
    if isinstance(normalize, Mapping) and {"mean", "std"} <= normalize.keys():
        return (
            torch.as_tensor(normalize["mean"], dtype=torch.float32),
            torch.as_tensor(normalize["std"], dtype=torch.float32),
        )
    if isinstance(obj, (list, tuple)):
        children = list(obj)
    elif isinstance(obj, dict):
        children = list(obj.values())
    elif hasattr(obj, "__dict__") and not isinstance(obj, (Tensor, Image.Image, type)):
        children = list(vars(obj).values())
        children += list(getattr(obj, "_modules", {}).values())
    else:
        return None
    for child in children:
        found = _find_normalization(child, depth - 1, seen)
        if found is not None:
            return found
    return None


def _to_display(view: Tensor, normalization) -> np.ndarray:
    """Turns a view `(C, H, W)` into an `(H, W, C)` float array in [0, 1] for ``imshow``."""
    view = view.detach().cpu()
    view = view.float() / 255 if view.dtype == torch.uint8 else view.float()
    if normalization is not None:
        mean, std = normalization
        view = view * std[:, None, None] + mean[:, None, None]
    elif view.min() < 0 or view.max() > 1:
        view = (view - view.min()) / (view.max() - view.min()).clamp_min(1e-12)
    array = view.clamp(0, 1).permute(1, 2, 0).numpy()
    return array[..., 0] if array.shape[2] == 1 else array


def _views_of(image: Image.Image | Tensor, transform: Callable) -> list[Tensor]:
    views = transform(image)
    if isinstance(views, Tensor):
        views = [views]
    if views and isinstance(views[0], Tensor) and views[0].ndim == 4:
        views = [patch for patches in views for patch in patches]
    return [v for v in views if isinstance(v, Tensor) and v.ndim == 3]


def plot_augmented_images(
    images: Sequence[Image.Image | Tensor],
    collate_fn_or_transform: Callable,
    *,
    max_views: int | None = None,
) -> Figure:
    """Plots each input image beside the views an augmentation makes of it.

    Args:
        images: PIL images or image tensors `(C, H, W)`.
        collate_fn_or_transform: A selfsup collate function (its ``transform`` attribute makes the
            views) or a transform that maps one image to a view `(C, H, W)` or a list of views
            (two-view and multi-crop transforms alike).
        max_views: Show at most this many views per image (all by default).

    Returns:
        A matplotlib Figure with one row per image: the original, then its views, each
        un-normalised for display (the transform's ``Normalize`` is inverted).

    Raises:
        ValueError: ``images`` is empty.
        TypeError: an element of ``images`` is not an image.
    """
    if len(images) == 0:
        raise ValueError("images is empty: pass at least one image to plot")
    for index, image in enumerate(images):
        if not isinstance(image, Image.Image) and not (
            isinstance(image, Tensor) and image.ndim == 3
        ):
            raise TypeError(
                f"images[{index}] is a {type(image).__name__}; expected a PIL image or a "
                "tensor (C, H, W) (pass untransformed images, not a dataset's views)"
            )
    transform = getattr(collate_fn_or_transform, "transform", collate_fn_or_transform)
    normalization = _find_normalization(transform)
    rows = [_views_of(image, transform)[:max_views] for image in images]
    n_cols = 1 + max(len(views) for views in rows)
    figure = Figure(figsize=(2.0 * n_cols, 2.0 * len(images)), layout="constrained")
    axes = figure.subplots(len(images), n_cols, squeeze=False)
    for row, (image, views) in enumerate(zip(images, rows, strict=True)):
        original = image if isinstance(image, Image.Image) else _to_display(image, None)
        axes[row, 0].imshow(original)
        axes[row, 0].set_title("original", fontsize=8)
        for col, view in enumerate(views, start=1):
            axes[row, col].imshow(_to_display(view, normalization), cmap="gray")
            axes[row, col].set_title(f"view {col} ({view.shape[-1]}px)", fontsize=8)
        for ax in axes[row]:
            ax.axis("off")
    return figure
