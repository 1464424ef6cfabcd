"""Random color jitter: torchvision v2's ColorJitter, applied with a probability."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torchvision.transforms.v2.functional as tv_functional
from torchvision.transforms.v2 import ColorJitter

from selfsup.transforms import functional as F
from selfsup.transforms._checks import bernoulli, check_probability

__all__ = ["RandomColorJitter"]


class RandomColorJitter(ColorJitter):
    """torchvision v2 ``ColorJitter`` applied with probability ``prob`` (``RandomApply`` in one).

    Parameters mean exactly what they mean for torchvision's ``ColorJitter`` (a number ``b`` for
    brightness draws a factor from ``[max(0, 1 - b), 1 + b]``, hue draws a shift from
    ``[-hue, hue]``), and the factors and the random order of the four adjustments are drawn by
    torchvision's own ``make_params``. Brightness, contrast and saturation use torchvision's kernels;
    the hue shift uses :func:`selfsup.transforms.functional.adjust_hue`, the exact HSV rotation
    computed in floating point (faster than torchvision's kernels on float tensors and on PIL
    images of 10,000 pixels or more, and within half a grey level of the exact result on uint8).
    :class:`ViewTransform` hands this class a float tensor for views of 10,000 pixels or more.

    Input: PIL image or tensor ``(..., 3, H, W)``, uint8 in [0, 255] or float in [0, 1]. Output:
    same type, shape, dtype and device.

    Args:
        prob: Probability in [0, 1] of jittering at all.
        brightness: Brightness jitter strength (number >= 0) or ``(min, max)`` factor range.
        contrast: Contrast jitter strength or factor range.
        saturation: Saturation jitter strength or factor range.
        hue: Hue jitter in [0, 0.5] or a ``(min, max)`` shift range within [-0.5, 0.5].
    """

    def __init__(
        self,
        *,
        prob: float = 0.8,
        brightness: float | Sequence[float] = 0.0,
        contrast: float | Sequence[float] = 0.0,
        saturation: float | Sequence[float] = 0.0,
        hue: float | Sequence[float] = 0.0,
    ) -> None:
        super().__init__(brightness=brightness, contrast=contrast, saturation=saturation, hue=hue)
        self.prob = check_probability("prob", prob)

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        """Draws ``{"apply": bool}`` plus, when applied, torchvision's order and factors."""
        if not bernoulli(self.prob):
            return {"apply": False}
        return {"apply": True, **super().make_params(flat_inputs)}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        """Applies the drawn adjustments in the drawn order; returns the input if not applied."""
        if not params["apply"]:
            return inpt
        output = inpt
        for fn_id in params["fn_idx"].tolist():
            if fn_id == 0 and params["brightness_factor"] is not None:
                output = tv_functional.adjust_brightness(output, params["brightness_factor"])
            elif fn_id == 1 and params["contrast_factor"] is not None:
                output = tv_functional.adjust_contrast(output, params["contrast_factor"])
            elif fn_id == 2 and params["saturation_factor"] is not None:
                output = tv_functional.adjust_saturation(output, params["saturation_factor"])
            elif fn_id == 3 and params["hue_factor"] is not None:
                output = F.adjust_hue(output, params["hue_factor"])
        return output
