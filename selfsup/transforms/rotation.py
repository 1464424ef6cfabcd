"""Random rotations: exact quarter turns, or free rotation by a uniform angle."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torchvision.transforms.v2.functional as tv_functional
from torchvision.transforms import InterpolationMode

from selfsup.transforms import functional as F
from selfsup.transforms._checks import check_number, check_pair
from selfsup.transforms.random_transform import RandomTransform

__all__ = ["RandomRotate", "RandomRotateDegrees", "random_rotation_transform"]


class RandomRotate(RandomTransform):
    """Rotates with probability ``prob`` by a random non-zero multiple of ``angle`` degrees.

    With the default ``angle=90`` the rotation is 90, 180 or 270 degrees counter-clockwise, drawn
    uniformly; with ``angle=180`` it is always 180. Quarter turns are exact pixel permutations
    (:func:`selfsup.transforms.functional.rotate90`); 90 and 270 swap height and width. Useful for
    images without a canonical orientation (satellite, microscopy).

    Input: PIL image or tensor ``(..., C, H, W)`` of any dtype. Output: same type, dtype and device.

    Args:
        prob: Probability in [0, 1] of rotating.
        angle: Rotation step in degrees: 90, 180 or 270.
    """

    def __init__(self, *, prob: float = 0.5, angle: int = 90) -> None:
        super().__init__(prob=prob)
        if isinstance(angle, bool) or angle not in (90, 180, 270):
            raise ValueError(f"angle must be 90, 180 or 270 degrees, got {angle!r}")
        self.angle = int(angle)
        step = self.angle // 90
        self._quarter_turns = sorted({(step * m) % 4 for m in range(1, 4)} - {0})

    def _sample(self, flat_inputs: list[Any]) -> dict[str, Any]:
        index = int(torch.randint(len(self._quarter_turns), (1,)).item())
        return {"k": self._quarter_turns[index]}

    def _apply(self, inpt: Any, params: dict[str, Any]) -> Any:
        return F.rotate90(inpt, params["k"])


class RandomRotateDegrees(RandomTransform):
    """Rotates with probability ``prob`` by an angle drawn uniformly from a range of degrees.

    Rotation is counter-clockwise about the centre, keeping the image size; uncovered corners are
    filled with 0 (torchvision's ``rotate``).

    Input: PIL image or tensor ``(..., C, H, W)``, uint8 in [0, 255] or float in [0, 1]. Output:
    same type, shape, dtype and device.

    Args:
        prob: Probability in [0, 1] of rotating.
        degrees: ``d`` for the range ``[-d, d]`` (``d >= 0``), or a ``(min, max)`` pair.
        interpolation: Resampling, torchvision's ``InterpolationMode`` (default nearest, as
            torchvision's ``RandomRotation`` that lightly uses).
    """

    def __init__(
        self,
        *,
        prob: float = 0.5,
        degrees: float | Sequence[float],
        interpolation: InterpolationMode = InterpolationMode.NEAREST,
    ) -> None:
        super().__init__(prob=prob)
        if isinstance(degrees, Sequence) and not isinstance(degrees, (str, bytes)):
            self.degrees = check_pair("degrees", degrees)
        else:
            half = check_number("degrees", degrees, low=0.0)
            self.degrees = (-half, half)
        if not isinstance(interpolation, InterpolationMode):
            raise TypeError(f"interpolation must be an InterpolationMode, got {interpolation!r}")
        self.interpolation = interpolation

    def _sample(self, flat_inputs: list[Any]) -> dict[str, Any]:
        low, high = self.degrees
        return {"angle": low + (high - low) * torch.rand(1).item()}

    def _apply(self, inpt: Any, params: dict[str, Any]) -> Any:
        return tv_functional.rotate(inpt, params["angle"], interpolation=self.interpolation)


def random_rotation_transform(
    *, rr_prob: float, rr_degrees: float | Sequence[float] | None
) -> RandomRotate | RandomRotateDegrees:
    """Builds the rotation of the method transforms from their ``rr_prob`` and ``rr_degrees``.

    Args:
        rr_prob: Probability in [0, 1] of rotating.
        rr_degrees: None for exact quarter turns (:class:`RandomRotate`); a number ``d`` for a free
            rotation in ``[-d, d]`` or a ``(min, max)`` pair (:class:`RandomRotateDegrees`).

    Returns:
        The rotation transform.
    """
    if rr_degrees is None:
        return RandomRotate(prob=rr_prob, angle=90)
    return RandomRotateDegrees(prob=rr_prob, degrees=rr_degrees)
