"""Base class of selfsup's random single augmentations."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from torchvision.transforms.v2 import Transform

from selfsup.transforms._checks import bernoulli, check_probability

__all__ = ["RandomTransform"]


class RandomTransform(Transform, ABC):
    """A torchvision v2 transform that is applied with probability ``prob``.

    Follows torchvision v2's split of sampling from applying: ``make_params`` draws every random
    number of one call from torch's global RNG (whether to apply it, then the subclass's
    ``_sample``), and ``transform`` applies them through ``selfsup.transforms.functional``. With
    ``prob=0`` no random number is drawn and the very input object is returned.

    Inputs are PIL images or image tensors ``(..., C, H, W)``, uint8 in [0, 255] or float in [0, 1];
    outputs keep type, dtype and device.

    Args:
        prob: Probability in [0, 1] of applying the augmentation.
    """

    def __init__(self, *, prob: float) -> None:
        super().__init__()
        self.prob = check_probability("prob", prob)

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        """Draws ``{"apply": bool, **sampled}`` for one call."""
        if not bernoulli(self.prob):
            return {"apply": False}
        return {"apply": True, **self._sample(flat_inputs)}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        """Applies ``params`` from ``make_params`` to one input; returns it unchanged if not applied."""
        if not params["apply"]:
            return inpt
        return self._apply(inpt, params)

    def _sample(self, flat_inputs: list[Any]) -> dict[str, Any]:
        return {}

    @abstractmethod
    def _apply(self, inpt: Any, params: dict[str, Any]) -> Any:
        """Applies the augmentation with the sampled ``params``."""
