"""Random Gaussian blur with a standard deviation drawn per call."""

from __future__ import annotations

from typing import Any

import torch

from selfsup.transforms import functional as F
from selfsup.transforms._checks import check_pair
from selfsup.transforms.random_transform import RandomTransform

__all__ = ["GaussianBlur"]


class GaussianBlur(RandomTransform):
    """Blurs with probability ``prob``, with sigma drawn uniformly from ``sigmas`` for each call.

    ``sigma`` is the standard deviation of the Gaussian in pixels, never a kernel radius (see
    :func:`selfsup.transforms.functional.gaussian_blur`: PIL input goes through Pillow's
    ``GaussianBlur(radius=sigma)``, whose ``radius`` is the standard deviation; tensors use a kernel
    of radius ``ceil(3 * sigma)``). Default sigmas (0.1, 2.0) are SimCLR's (Chen et al., 2020,
    Appendix A).

    Input: PIL image or tensor ``(..., C, H, W)``, uint8 in [0, 255] or float in [0, 1]. Output:
    same type, shape, dtype and device.

    Args:
        prob: Probability in [0, 1] of blurring.
        sigmas: ``(min, max)`` standard deviation in pixels, ``0 <= min <= max``.
    """

    def __init__(self, *, prob: float = 0.5, sigmas: tuple[float, float] = (0.1, 2.0)) -> None:
        super().__init__(prob=prob)
        self.sigmas = check_pair("sigmas", sigmas, low=0.0)

    def _sample(self, flat_inputs: list[Any]) -> dict[str, Any]:
        low, high = self.sigmas
        return {"sigma": low + (high - low) * torch.rand(1).item()}

    def _apply(self, inpt: Any, params: dict[str, Any]) -> Any:
        return F.gaussian_blur(inpt, params["sigma"])
