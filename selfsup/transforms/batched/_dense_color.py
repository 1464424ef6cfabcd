"""Colour jitter and grayscale without data-dependent shapes, compiled into a few CUDA kernels.

:class:`~selfsup.transforms.batched.BatchViewTransform` applies hue and grayscale on CPU to the
selected samples only (``index_select``), which needs the number of selected samples on the
host: on a GPU every such step waits for the device, and each of the ~20 elementwise ops of a
hue shift reads and writes the whole selection. Here every step is computed for every sample and
the result kept where the sample has it (``torch.where``), so the four jitter positions and the
grayscale step have static shapes and ``torch.compile`` fuses them (on an H200, one 224 px view
of 512 images: jitter 1.2 ms instead of 7.5 ms; benchmarks/RESULTS.md). The arithmetic per
selected sample is the same as on the subset path; unselected samples pass through
``torch.where`` unchanged, and blends with weight 0 are exact no-ops.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from selfsup.transforms.batched import functional as BF

__all__ = ["blend_at_position", "color_jitter_and_grayscale", "compiled_for"]

logger = logging.getLogger(__name__)

#: Set to ``0`` to run the CUDA colour steps eagerly (no ``torch.compile``).
COMPILE_ENV = "SELFSUP_COMPILE_AUGMENT"


def blend_at_position(
    views: Tensor,
    chosen: Tensor,
    brightness: Tensor | None,
    contrast: Tensor | None,
    saturation: Tensor | None,
) -> tuple[Tensor, Tensor] | None:
    """Weight and target of one jitter position's blend ``lerp(x, target, weight)``.

    Brightness, contrast and saturation are all blends ``clamp(f * x + (1 - f) * target)``
    (target 0, the image's mean gray, the pixel's gray), so one blend over the whole batch
    applies whichever of the three each sample has at this position; samples without one get
    weight 0, an exact no-op. Shared by this module and the subset path of
    :class:`~selfsup.transforms.batched.BatchViewTransform`.

    Args:
        views: ``(B, 3, H, W)`` float in [0, 1].
        chosen: ``(B,)`` int64 op at this position (0 brightness, 1 contrast, 2 saturation,
            3 hue, -1 none).
        brightness: ``(B,)`` factors, or None where the op is switched off; likewise
            ``contrast`` and ``saturation``.

    Returns:
        ``(weight (B, 1, 1, 1), target)`` (target broadcastable to ``views``), or None when all
        three ops are switched off.
    """
    blends = [
        (op_id, factors)
        for op_id, factors in enumerate((brightness, contrast, saturation))
        if factors is not None
    ]
    if not blends:
        return None
    shape = (-1, 1, 1, 1)
    weight = torch.zeros_like(views[:, 0, 0, 0])
    for op_id, factors in blends:
        weight = torch.where(chosen == op_id, 1.0 - factors, weight)
    if contrast is None and saturation is None:
        return weight.view(shape), torch.zeros_like(views[:1, :1, :1, :1])
    gray = BF._gray(views)
    mean = gray.mean(dim=(-2, -1), keepdim=True)
    target = gray.mul_((chosen == 2).view(shape)).add_(mean * (chosen == 1).view(shape))
    return weight.view(shape), target


def color_jitter_and_grayscale(
    views: Tensor,
    apply: Tensor | None,
    order: Tensor | None,
    brightness: Tensor | None,
    contrast: Tensor | None,
    saturation: Tensor | None,
    hue: Tensor | None,
    grayscale: Tensor | None,
) -> Tensor:
    """Colour jitter in each sample's own order, then random grayscale, for the whole batch.

    Args:
        views: ``(B, 3, H, W)`` float in [0, 1].
        apply: ``(B,)`` bool, True where the sample is jittered; None for no jitter.
        order: ``(B, 4)`` int64 permutations of (0 brightness, 1 contrast, 2 saturation, 3 hue).
        brightness: ``(B,)`` factors, or None where the op is switched off; likewise
            ``contrast``, ``saturation`` and ``hue`` (hue: shifts in turns).
        grayscale: ``(B,)`` bool, True where the sample turns gray; None for no grayscale.

    Returns:
        New float tensor ``(B, 3, H, W)``.
    """
    shape = (-1, 1, 1, 1)
    if apply is not None and order is not None:
        for position in range(4):
            chosen = torch.where(apply, order[:, position], -1)
            blend = blend_at_position(views, chosen, brightness, contrast, saturation)
            if blend is not None:
                weight, target = blend
                views = torch.lerp(views, target, weight).clamp(0.0, 1.0)
            if hue is not None:
                selected = (chosen == 3).view(shape)
                shifted = BF.rotate_hue(views, torch.where(selected, hue.view(shape), 0.0))
                views = torch.where(selected, shifted, views)
    if grayscale is not None:
        views = torch.where(grayscale.view(shape), BF._gray(views).expand_as(views), views)
    return views


class _CompiledOnce:
    """``torch.compile(fn)``, falling back to ``fn`` for good when compiling fails."""

    def __init__(self, fn: Callable[..., Tensor]) -> None:
        self.fn = fn
        self.compiled: Callable[..., Tensor] | None = None
        self.failed = False

    def __call__(self, *args: Any) -> Tensor:
        if self.failed:
            return self.fn(*args)
        if self.compiled is None:
            # Automatic dynamic shapes: the first batch shape compiles static kernels; a second
            # one (a smaller batch after undecodable files were dropped, multi-crop sizes)
            # compiles one shape-generic version instead of one per size.
            self.compiled = torch.compile(self.fn, dynamic=None)
        try:
            return self.compiled(*args)
        except Exception as error:  # noqa: BLE001 - any compiler failure: run eagerly instead
            logger.warning(
                "torch.compile of %s failed (%s: %s); running it eagerly",
                self.fn.__name__,
                type(error).__name__,
                error,
            )
            self.failed = True
            return self.fn(*args)


_COMPILED: dict[Callable[..., Tensor], _CompiledOnce] = {}


def compiled_for(fn: Callable[..., Tensor], device: torch.device) -> Callable[..., Tensor] | None:
    """``fn`` compiled with ``torch.compile`` for a CUDA ``device``; None on other devices or with
    ``SELFSUP_COMPILE_AUGMENT=0`` (the caller then keeps its subset path)."""
    if device.type != "cuda" or os.environ.get(COMPILE_ENV, "1") == "0":
        return None
    if fn not in _COMPILED:
        _COMPILED[fn] = _CompiledOnce(fn)
    return _COMPILED[fn]
