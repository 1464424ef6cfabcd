"""One augmented view: the configurable pipeline behind every method transform."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torchvision.transforms.v2.functional as tv_functional
from PIL import Image
from torch import Tensor
from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import RandomResizedCrop, Transform

from selfsup.transforms import functional as F
from selfsup.transforms._checks import (
    bernoulli,
    check_normalize,
    check_number,
    check_pair,
    check_probability,
    check_size,
)
from selfsup.transforms._threads import single_intra_op_thread
from selfsup.transforms.color_jitter import RandomColorJitter
from selfsup.transforms.functional import _FLOAT_PATH_MIN_PIXELS
from selfsup.transforms.gaussian_blur import GaussianBlur
from selfsup.transforms.rotation import random_rotation_transform
from selfsup.transforms.solarize import RandomSolarization
from selfsup.transforms.utils import IMAGENET_NORMALIZE

__all__ = ["ViewTransform"]


def _as_rgb(img: Any) -> Any:
    if isinstance(img, Image.Image):
        return img if img.mode == "RGB" else img.convert("RGB")
    if not isinstance(img, Tensor) or img.ndim < 3:
        raise TypeError(f"expected a PIL image or a tensor (C, H, W), got {type(img).__name__}")
    channels = img.shape[-3]
    if channels == 1:
        return torch.cat([img, img, img], dim=-3)
    if channels != 3:
        raise ValueError(f"expected an image with 1 or 3 channels, got {channels}")
    return img


class ViewTransform(Transform):
    """Makes one augmented view of an image, as the SSL method transforms do.

    Steps, in order (each skipped when switched off): random resized crop, horizontal flip,
    vertical flip, rotation, color jitter, grayscale, Gaussian blur, solarization, conversion to a
    float tensor, normalisation. Crop, flips, jitter factors and grayscale are torchvision v2's;
    rotation, blur, solarization and the hue kernel are selfsup's. All random numbers of a view are
    drawn up front in ``make_params`` (torch's global RNG, so ``torch.manual_seed`` fixes the view)
    and ``transform`` applies them with one torch intra-op thread.

    The geometric steps run on the input as given (PIL images in Pillow). The photometric steps
    (jitter, grayscale, blur, solarization) run once on a floating point tensor in [0, 1]: the
    image is converted when the first of them applies, nothing is rounded to 8 bits in between,
    and the blur is the sampled Gaussian truncated at ``3 * sigma``
    (:func:`selfsup.transforms.functional.gaussian_blur` on tensors). This is faster than Pillow's
    uint8 kernels at SimCLR's 224 px and closer to the exact float result (torchvision's PIL
    kernels truncate to an integer after each adjustment; Pillow's blur is a box approximation).
    PIL images of fewer than 10,000 pixels after the crop (below 100x100, where torch's per-op
    overhead dominates) stay uint8 PIL images through Pillow's kernels (torchvision's PIL jitter,
    Pillow's ``GaussianBlur(radius=sigma)``) until the single conversion at the end. The random
    parameters and their distributions are the same on both paths.

    The defaults are SimCLR's (Chen et al., 2020, Appendix A) with lightly's argument names;
    everything can be switched off (probabilities 0, ``crop_scale=(1.0, 1.0)``), leaving a plain
    resize, conversion and normalisation.

    Input: PIL image (any mode; converted to RGB) or tensor ``(C, H, W)`` with 1 or 3 channels, uint8
    in [0, 255] or float in [0, 1]. Output: float tensor ``(3, H, W)``, float32 for PIL and uint8
    input (floating point input keeps its dtype), on the input's device.

    Args:
        input_size: Output size ``s`` or ``(height, width)``; None keeps the input size and skips the
            crop (for containers that crop first, such as :class:`MultiCropTransform`).
        crop_scale: ``(min, max)`` area fraction of the input covered by the crop, in (0, 1].
        interpolation: Resampling of the crop (torchvision ``InterpolationMode``).
        hf_prob: Probability of a horizontal flip.
        vf_prob: Probability of a vertical flip.
        rr_prob: Probability of a rotation.
        rr_degrees: None for quarter turns (90, 180 or 270 degrees); a number ``d`` for a free
            rotation in ``[-d, d]``, or a ``(min, max)`` pair of degrees.
        cj_prob: Probability of color jitter.
        cj_strength: Factor multiplying ``cj_bright``, ``cj_contrast``, ``cj_sat`` and ``cj_hue``.
        cj_bright: Brightness jitter (torchvision ``ColorJitter(brightness=...)``), >= 0.
        cj_contrast: Contrast jitter, >= 0.
        cj_sat: Saturation jitter, >= 0.
        cj_hue: Hue jitter, >= 0 with ``cj_strength * cj_hue <= 0.5``.
        random_gray_scale: Probability of converting to grayscale (kept 3-channel).
        gaussian_blur: Probability of a Gaussian blur.
        sigmas: ``(min, max)`` standard deviation of the blur in pixels.
        solarization_prob: Probability of solarization (threshold 128).
        normalize: ``{"mean": [...], "std": [...]}`` per channel, or None to return values in [0, 1].
    """

    def __init__(
        self,
        *,
        input_size: int | Sequence[int] | None = 224,
        crop_scale: tuple[float, float] = (0.08, 1.0),
        interpolation: InterpolationMode = InterpolationMode.BILINEAR,
        hf_prob: float = 0.5,
        vf_prob: float = 0.0,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.8,
        cj_hue: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.5,
        sigmas: tuple[float, float] = (0.1, 2.0),
        solarization_prob: float = 0.0,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__()
        self.input_size = None if input_size is None else check_size("input_size", input_size)
        self.crop_scale = check_pair(
            "crop_scale", crop_scale, low=0.0, high=1.0, low_inclusive=False
        )
        if not isinstance(interpolation, InterpolationMode):
            raise TypeError(f"interpolation must be an InterpolationMode, got {interpolation!r}")
        self.interpolation = interpolation
        self.hf_prob = check_probability("hf_prob", hf_prob)
        self.vf_prob = check_probability("vf_prob", vf_prob)
        self.rr_prob = check_probability("rr_prob", rr_prob)
        if isinstance(rr_degrees, Sequence) and not isinstance(rr_degrees, (str, bytes)):
            self.rr_degrees: float | tuple[float, float] | None = check_pair(
                "rr_degrees", rr_degrees
            )
        else:
            self.rr_degrees = (
                None if rr_degrees is None else check_number("rr_degrees", rr_degrees, low=0.0)
            )
        self.cj_prob = check_probability("cj_prob", cj_prob)
        self.cj_strength = check_number("cj_strength", cj_strength, low=0.0)
        self.cj_bright = check_number("cj_bright", cj_bright, low=0.0)
        self.cj_contrast = check_number("cj_contrast", cj_contrast, low=0.0)
        self.cj_sat = check_number("cj_sat", cj_sat, low=0.0)
        self.cj_hue = check_number("cj_hue", cj_hue, low=0.0)
        if self.cj_strength * self.cj_hue > 0.5:
            raise ValueError(
                f"cj_strength * cj_hue must be <= 0.5, got {cj_strength!r} * {cj_hue!r}"
            )
        self.random_gray_scale = check_probability("random_gray_scale", random_gray_scale)
        self.gaussian_blur = check_probability("gaussian_blur", gaussian_blur)
        self.sigmas = check_pair("sigmas", sigmas, low=0.0)
        self.solarization_prob = check_probability("solarization_prob", solarization_prob)
        stats = check_normalize("normalize", normalize)
        self.normalize = None if stats is None else {"mean": list(stats[0]), "std": list(stats[1])}

        self._crop = (
            None
            if self.input_size is None
            else RandomResizedCrop(
                self.input_size, scale=self.crop_scale, interpolation=interpolation, antialias=True
            )
        )
        self._rotation = random_rotation_transform(rr_prob=self.rr_prob, rr_degrees=self.rr_degrees)
        self._color_jitter = RandomColorJitter(
            prob=self.cj_prob,
            brightness=self.cj_strength * self.cj_bright,
            contrast=self.cj_strength * self.cj_contrast,
            saturation=self.cj_strength * self.cj_sat,
            hue=self.cj_strength * self.cj_hue,
        )
        self._blur = GaussianBlur(prob=self.gaussian_blur, sigmas=self.sigmas)
        self._solarize = RandomSolarization(prob=self.solarization_prob)
        self._mean = None if stats is None else torch.tensor(stats[0]).view(-1, 1, 1)
        self._std = None if stats is None else torch.tensor(stats[1]).view(-1, 1, 1)

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        """Draws every random number of one view: crop box, flips, rotation, jitter, blur, etc."""
        return {
            "crop": None if self._crop is None else self._crop.make_params(flat_inputs),
            "hflip": bernoulli(self.hf_prob),
            "vflip": bernoulli(self.vf_prob),
            "rotation": self._rotation.make_params(flat_inputs),
            "color_jitter": self._color_jitter.make_params(flat_inputs),
            "grayscale": bernoulli(self.random_gray_scale),
            "blur": self._blur.make_params(flat_inputs),
            "solarize": self._solarize.make_params(flat_inputs),
        }

    def transform(self, inpt: Any, params: dict[str, Any]) -> Tensor:
        """Applies the drawn ``params`` to one image and returns the float tensor ``(3, H, W)``."""
        with single_intra_op_thread():
            img = _as_rgb(inpt)
            if self._crop is not None:
                img = self._crop.transform(img, params["crop"])
            if params["hflip"]:
                img = tv_functional.horizontal_flip(img)
            if params["vflip"]:
                img = tv_functional.vertical_flip(img)
            img = self._rotation.transform(img, params["rotation"])
            photometric = (
                params["color_jitter"]["apply"]
                or params["grayscale"]
                or params["blur"]["apply"]
                or params["solarize"]["apply"]
            )
            if not photometric:
                return F.to_float_tensor(img, self._mean, self._std)
            small_pil = isinstance(img, Image.Image) and (
                img.width * img.height < _FLOAT_PATH_MIN_PIXELS
            )
            if not small_pil:
                img = F.to_float_tensor(img)
            img = self._color_jitter.transform(img, params["color_jitter"])
            if params["grayscale"]:
                img = tv_functional.rgb_to_grayscale(img, num_output_channels=3)
            img = self._blur.transform(img, params["blur"])
            img = self._solarize.transform(img, params["solarize"])
            return F.to_float_tensor(img, self._mean, self._std)
