"""Argument checks shared by the transforms; each error names the argument and the value."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch

__all__ = [
    "bernoulli",
    "check_int",
    "check_normalize",
    "check_number",
    "check_pair",
    "check_probabilities",
    "check_probability",
    "check_same_length",
    "check_size",
    "crop_scale_from_min",
]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
) -> float:
    """Returns ``value`` as a float after checking that it is a finite number in range.

    Raises:
        TypeError: ``value`` is not a real number.
        ValueError: ``value`` is below ``low`` (or equal to it when not ``low_inclusive``) or
            above ``high``.
    """
    if not _is_number(value):
        raise TypeError(f"{name} must be a finite number, got {value!r}")
    below = low is not None and (value < low if low_inclusive else value <= low)
    if below or (high is not None and value > high):
        left = "[" if low_inclusive else "("
        allowed = f"{left}{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        raise ValueError(f"{name} must be in {allowed}, got {value!r}")
    return float(value)


def check_probability(name: str, value: Any) -> float:
    """Returns ``value`` as a float after checking it is a probability in [0, 1]."""
    return check_number(name, value, low=0.0, high=1.0)


def check_int(name: str, value: Any, *, low: int = 0) -> int:
    """Returns ``value`` after checking it is an integer (not a bool) of at least ``low``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return value


def check_pair(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
) -> tuple[float, float]:
    """Returns a ``(min, max)`` pair after checking ``low <= min <= max <= high``.

    Raises:
        TypeError: ``value`` is not a sequence of two real numbers.
        ValueError: an entry is out of range or ``min > max``.
    """
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise TypeError(f"{name} must be a (min, max) pair of numbers, got {value!r}")
    first = check_number(name, value[0], low=low, high=high, low_inclusive=low_inclusive)
    second = check_number(name, value[1], low=low, high=high, low_inclusive=low_inclusive)
    if first > second:
        raise ValueError(f"{name} must be (min, max) with min <= max, got {tuple(value)!r}")
    return first, second


def check_size(name: str, value: Any) -> tuple[int, int]:
    """Returns an output size ``(height, width)`` from an int or a pair of positive ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        check_int(name, value, low=1)
        return value, value
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)) and len(value) == 2:
        return check_int(name, value[0], low=1), check_int(name, value[1], low=1)
    raise TypeError(f"{name} must be a positive int or a (height, width) pair, got {value!r}")


def check_normalize(name: str, value: Any) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """Checks a ``{"mean": [...], "std": [...]}`` mapping (or None) and returns ``(mean, std)``.

    ``mean`` and ``std`` must have the same length, 1 or 3, and every ``std`` must be positive.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping) or "mean" not in value or "std" not in value:
        raise TypeError(
            f'{name} must be None or a mapping with keys "mean" and "std", got {value!r}'
        )
    mean, std = value["mean"], value["std"]
    for key, entries in (("mean", mean), ("std", std)):
        if not isinstance(entries, Sequence) or len(entries) not in (1, 3):
            raise ValueError(
                f'{name}["{key}"] must be a sequence of 1 or 3 numbers, got {entries!r}'
            )
        for entry in entries:
            check_number(f'{name}["{key}"]', entry)
    if len(mean) != len(std):
        raise ValueError(f"{name} mean and std must have the same length, got {mean!r} and {std!r}")
    if any(s <= 0 for s in std):
        raise ValueError(f'{name}["std"] must be positive, got {std!r}')
    return tuple(float(m) for m in mean), tuple(float(s) for s in std)


def bernoulli(prob: float) -> bool:
    """Draws True with probability ``prob`` from torch's global RNG.

    Probabilities 0 and 1 are decided without drawing, so a switched-off augmentation consumes no
    random numbers and leaves the input untouched.
    """
    if prob <= 0.0:
        return False
    if prob >= 1.0:
        return True
    return torch.rand(1).item() < prob


def crop_scale_from_min(min_scale: Any) -> tuple[float, float]:
    """Returns the crop area range ``(min_scale, 1.0)`` after checking ``0 < min_scale <= 1``."""
    return check_number("min_scale", min_scale, low=0.0, high=1.0, low_inclusive=False), 1.0


def check_probabilities(name: str, value: Any, count: int) -> tuple[float, ...]:
    """Returns ``count`` probabilities (one per view or crop group) after checking each."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != count:
        raise TypeError(f"{name} must be a sequence of {count} probabilities, got {value!r}")
    return tuple(check_probability(f"{name}[{index}]", entry) for index, entry in enumerate(value))


def check_same_length(**sequences: Any) -> int:
    """Checks that the named per-group sequences all have the same length and returns it."""
    for name, value in sequences.items():
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise TypeError(f"{name} must be a sequence with one entry per group, got {value!r}")
    lengths = {name: len(value) for name, value in sequences.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{', '.join(lengths)} must have the same length, got lengths {lengths}")
    return next(iter(lengths.values()), 0)
