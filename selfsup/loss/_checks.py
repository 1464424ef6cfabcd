"""Argument checks shared by the losses: every error names the argument, the value and the rule."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch.distributed as torch_dist
from torch import Tensor

__all__ = [
    "check_embeddings",
    "check_gather_available",
    "check_int",
    "check_number",
    "check_same_shape",
    "check_views",
]


def check_number(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Checks that ``value`` is a finite real number inside the given interval.

    Args:
        name: Argument name used in the error message.
        value: The value received.
        low: Lower bound, or None for no bound.
        high: Upper bound, or None for no bound.
        low_open: Exclude ``low`` itself.
        high_open: Exclude ``high`` itself.

    Returns:
        ``value`` as a float.

    Raises:
        TypeError: ``value`` is not an int or float (bools are rejected).
        ValueError: ``value`` is NaN, infinite or outside the interval.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    number = float(value)
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    allowed = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if not math.isfinite(number) or too_low or too_high:
        raise ValueError(f"{name} must be a finite number in {allowed}, got {value!r}")
    return number


def check_int(name: str, value: object, *, low: int) -> int:
    """Checks that ``value`` is an int (not a bool) with ``value >= low``.

    Raises:
        TypeError: ``value`` is not an int.
        ValueError: ``value < low``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    return value


def check_gather_available(gather_distributed: object, name: str = "gather_distributed") -> bool:
    """Checks the ``gather_distributed`` flag and that ``torch.distributed`` exists when it is set.

    Raises:
        TypeError: The flag is not a bool.
        ValueError: The flag is True but this torch build has no ``torch.distributed``.
    """
    if not isinstance(gather_distributed, bool):
        raise TypeError(f"{name} must be a bool, got {gather_distributed!r}")
    if gather_distributed and not torch_dist.is_available():
        raise ValueError(
            f"{name}=True but torch.distributed is not available in this torch build; "
            f"set {name}=False"
        )
    return gather_distributed


def check_embeddings(name: str, x: object, *, ndim: int = 2, min_batch: int = 1) -> Tensor:
    """Checks that ``x`` is a floating point tensor with ``ndim`` dims and enough samples.

    Args:
        name: Argument name used in the error message.
        x: The value received; expected shape ``(B, D)`` (or ``(B, k, D)`` for ``ndim=3``).
        ndim: Required number of dimensions.
        min_batch: Smallest allowed batch size ``B``.

    Returns:
        ``x`` unchanged.

    Raises:
        TypeError: ``x`` is not a floating point tensor.
        ValueError: Wrong number of dimensions, an empty feature dimension or ``B < min_batch``.
    """
    expected = "(B, D)" if ndim == 2 else "(B, " + ", ".join("k" * (ndim - 2)) + ", D)"
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor of shape {expected}, got {type(x).__name__}"
        )
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating point tensor, got dtype {x.dtype}")
    if x.ndim != ndim:
        raise ValueError(
            f"{name} must have shape {expected} ({ndim} dims), got shape {tuple(x.shape)} "
            f"({x.ndim} dims)"
        )
    if x.shape[-1] == 0:
        raise ValueError(f"{name} has an empty feature dimension: shape {tuple(x.shape)}")
    if x.shape[0] < min_batch:
        raise ValueError(
            f"{name} must have a batch size B >= {min_batch} for this loss, got shape "
            f"{tuple(x.shape)}"
        )
    return x


def check_same_shape(name_a: str, a: Tensor, name_b: str, b: Tensor) -> None:
    """Checks that two tensors have the same shape.

    Raises:
        ValueError: The shapes differ; the message shows both.
    """
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {tuple(a.shape)} and "
            f"{tuple(b.shape)}"
        )


def check_views(name: str, views: object, *, min_views: int = 1) -> list[Tensor]:
    """Checks a sequence of view batches: each ``(B, D)`` with one common ``B`` and ``D``.

    Args:
        name: Argument name used in the error message.
        views: The value received, a list or tuple of tensors.
        min_views: Smallest allowed number of views.

    Returns:
        The views as a list.

    Raises:
        TypeError: ``views`` is not a list/tuple of floating point tensors.
        ValueError: Too few views, a view is not 2-D, or the shapes differ between views.
    """
    if isinstance(views, Tensor) or not isinstance(views, Sequence):
        raise TypeError(
            f"{name} must be a list of tensors of shape (B, D), got {type(views).__name__}"
        )
    result = list(views)
    if len(result) < min_views:
        raise ValueError(f"{name} must hold at least {min_views} view(s), got {len(result)}")
    for index, view in enumerate(result):
        check_embeddings(f"{name}[{index}]", view)
    shapes = [tuple(view.shape) for view in result]
    if any(shape != shapes[0] for shape in shapes):
        raise ValueError(f"all views in {name} must have the same shape (B, D), got {shapes}")
    return result
