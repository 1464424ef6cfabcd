"""Random solarization: invert the pixels at or above a threshold."""

from __future__ import annotations

from typing import Any

from selfsup.transforms import functional as F
from selfsup.transforms._checks import check_number
from selfsup.transforms.random_transform import RandomTransform

__all__ = ["RandomSolarization"]


class RandomSolarization(RandomTransform):
    """Solarizes with probability ``prob``: every value ``>= threshold`` is inverted.

    As ``PIL.ImageOps.solarize`` and torchvision: uint8 ``v`` becomes ``255 - v``; float images in
    [0, 1] compare with ``threshold / 255`` and become ``1 - x``. Threshold 128 is BYOL's 0.5
    (Grill et al., 2020, Table 6).

    Input: PIL image or tensor ``(..., C, H, W)``, uint8 in [0, 255] or float in [0, 1]. Output:
    same type, shape, dtype and device.

    Args:
        prob: Probability in [0, 1] of solarizing.
        threshold: Smallest inverted value on the uint8 scale, in [0, 256].
    """

    def __init__(self, *, prob: float = 0.5, threshold: float = 128) -> None:
        super().__init__(prob=prob)
        self.threshold = check_number("threshold", threshold, low=0, high=256)

    def _apply(self, inpt: Any, params: dict[str, Any]) -> Any:
        return F.solarize(inpt, self.threshold)
