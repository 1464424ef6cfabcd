"""One augmented view of a whole batch, made at once on the batch's device."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor
from torchvision.transforms import InterpolationMode

from selfsup.transforms._threads import cpu_single_thread
from selfsup.transforms.batched import functional as BF
from selfsup.transforms.batched._dense_color import (
    blend_at_position,
    color_jitter_and_grayscale,
    compiled_for,
)
from selfsup.transforms.batched._resampling import interpolation_name
from selfsup.transforms.batched._sampling import random_resized_crop_boxes
from selfsup.transforms.utils import IMAGENET_NORMALIZE
from selfsup.transforms.view_transform import ViewTransform

__all__ = ["BatchViewTransform", "check_batch"]

#: The per-sample path solarizes uint8 values >= 128, i.e. floats >= 128 / 255.
_SOLARIZE_THRESHOLD = 128.0 / 255.0
#: Color jitter ops in torchvision's ``ColorJitter`` numbering (its ``fn_idx``).
_JITTER_OPS = ("brightness", "contrast", "saturation", "hue")


def check_batch(images: Any) -> None:
    """Checks that ``images`` is a batch ``(B, C, H, W)``, C = 1 or 3, uint8 or floating point.

    Raises:
        TypeError: not a tensor, or neither uint8 nor floating point.
        ValueError: wrong number of dimensions or channels.
    """
    if not isinstance(images, Tensor):
        raise TypeError(f"expected a batch tensor (B, C, H, W), got {type(images).__name__}")
    if images.ndim != 4:
        raise ValueError(
            f"expected a batch tensor (B, C, H, W), got shape {tuple(images.shape)}; "
            "add a batch dimension with images.unsqueeze(0) for a single image"
        )
    if images.shape[1] not in (1, 3):
        raise ValueError(f"expected 1 or 3 channels, got {images.shape[1]}")
    if images.dtype != torch.uint8 and not images.is_floating_point():
        raise TypeError(f"expected uint8 or floating point images, got {images.dtype}")


def _jitter_range(value: float, *, center: float) -> tuple[float, float] | None:
    """torchvision's ``ColorJitter`` range for a strength (None when switched off)."""
    if value == 0:
        return None
    if center == 0.0:
        return (-value, value)
    return (max(0.0, center - value), center + value)


def _apply_to(images: Tensor, mask: Tensor, fn: Callable[..., Tensor], *values: Tensor) -> None:
    """Replaces, in place, the samples selected by ``mask`` with ``fn`` of them."""
    index = mask.nonzero().squeeze(1)
    if index.numel() == 0:
        return
    # index_select / index_copy_ along the batch: plain row copies (advanced-index assignment
    # takes a general, sorting scatter path on CUDA).
    selected = images.index_select(0, index)
    images.index_copy_(0, index, fn(selected, *(value.index_select(0, index) for value in values)))


class BatchViewTransform:
    """Makes one augmented view of every image of a batch at once, on the batch's device.

    The batched counterpart of :class:`~selfsup.transforms.ViewTransform`: the same arguments
    with the same defaults (SimCLR's, Chen et al., 2020, Appendix A), the same steps in the same
    order (random resized crop, horizontal flip, vertical flip, rotation, color jitter, grayscale,
    Gaussian blur, solarization, normalisation) and the same distributions, with independent
    random parameters per sample. :meth:`make_params` draws all random numbers of a batch as
    tensors (torch's RNG on the batch's device, or ``generator``); :meth:`transform` applies them
    with :mod:`selfsup.transforms.batched.functional`. The crop and resize come first, as one
    batched resampling with the flips folded in, so everything else runs at the output size.

    Distributions, per sample, as the per-sample path: crop as torchvision's
    ``RandomResizedCrop`` (area fraction uniform in ``crop_scale``, log aspect ratio uniform in
    ``log(3/4), log(4/3)``, up to 10 tries, then the centre-crop fallback), antialiased
    resampling; color jitter as torchvision's ``ColorJitter`` (factors uniform in their ranges,
    brightness, contrast, saturation and hue applied in a random order drawn per sample);
    blur sigma uniform in ``sigmas``; flips, rotation, grayscale, blur and solarization with
    their probabilities. Results differ from the per-sample path's only by rounding (the
    per-sample path rounds PIL images to uint8 after each step; this one stays in float).

    Input: tensor ``(B, C, H, W)`` with C = 1 (repeated to RGB) or 3, uint8 in [0, 255] or float
    in [0, 1], on any device. Output: float tensor ``(B, 3, h, w)`` on the same device (float32
    for uint8 input), normalised when ``normalize`` is given; ``(h, w)`` is ``input_size`` or,
    when it is None, the input's size.

    Args:
        input_size: Output size ``s`` or ``(height, width)``; None keeps the input size and skips
            the crop.
        crop_scale: ``(min, max)`` area fraction of the input covered by the crop, in (0, 1].
        interpolation: Resampling of the crop: bilinear, bicubic, nearest or nearest-exact.
        hf_prob: Probability of a horizontal flip.
        vf_prob: Probability of a vertical flip.
        rr_prob: Probability of a rotation.
        rr_degrees: None for quarter turns (90, 180 or 270 degrees; square outputs only); a
            number ``d`` for a free rotation in ``[-d, d]``, or a ``(min, max)`` pair of degrees
            (nearest interpolation, zero fill, as the per-sample path).
        cj_prob: Probability of color jitter.
        cj_strength: Factor multiplying ``cj_bright``, ``cj_contrast``, ``cj_sat`` and ``cj_hue``.
        cj_bright: Brightness jitter, >= 0.
        cj_contrast: Contrast jitter, >= 0.
        cj_sat: Saturation jitter, >= 0.
        cj_hue: Hue jitter, >= 0 with ``cj_strength * cj_hue <= 0.5``.
        random_gray_scale: Probability of converting to grayscale (kept 3-channel).
        gaussian_blur: Probability of a Gaussian blur.
        sigmas: ``(min, max)`` standard deviation of the blur in pixels.
        solarization_prob: Probability of solarization (values >= 128 / 255 inverted).
        normalize: ``{"mean": [...], "std": [...]}`` per channel, or None for values in [0, 1].

    Example:
        >>> views = BatchViewTransform(input_size=32)(uint8_batch)  # (B, 3, 32, 32) float
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
        # The per-sample class checks every argument, so both raise the same errors.
        spec = ViewTransform(
            input_size=input_size,
            crop_scale=crop_scale,
            interpolation=interpolation,
            hf_prob=hf_prob,
            vf_prob=vf_prob,
            rr_prob=rr_prob,
            rr_degrees=rr_degrees,
            cj_prob=cj_prob,
            cj_strength=cj_strength,
            cj_bright=cj_bright,
            cj_contrast=cj_contrast,
            cj_sat=cj_sat,
            cj_hue=cj_hue,
            random_gray_scale=random_gray_scale,
            gaussian_blur=gaussian_blur,
            sigmas=sigmas,
            solarization_prob=solarization_prob,
            normalize=normalize,
        )
        self.input_size: tuple[int, int] | None = spec.input_size
        self.crop_scale: tuple[float, float] = spec.crop_scale
        self.interpolation = spec.interpolation
        self._interpolation = interpolation_name(spec.interpolation)
        self.hf_prob = spec.hf_prob
        self.vf_prob = spec.vf_prob
        self.rr_prob = spec.rr_prob
        self.rr_degrees = spec.rr_degrees
        if (
            self.rr_prob > 0
            and self.rr_degrees is None
            and self.input_size is not None
            and self.input_size[0] != self.input_size[1]
        ):
            raise ValueError(
                "quarter-turn rotation (rr_degrees=None, rr_prob > 0) needs a square input_size "
                f"in a batch, got {self.input_size}"
            )
        self.cj_prob = spec.cj_prob
        self.cj_strength = spec.cj_strength
        self.cj_bright = spec.cj_bright
        self.cj_contrast = spec.cj_contrast
        self.cj_sat = spec.cj_sat
        self.cj_hue = spec.cj_hue
        self.random_gray_scale = spec.random_gray_scale
        self.gaussian_blur = spec.gaussian_blur
        self.sigmas: tuple[float, float] = spec.sigmas
        self.solarization_prob = spec.solarization_prob
        self.normalize = spec.normalize
        strength = self.cj_strength
        self._jitter_ranges = {
            "brightness": _jitter_range(strength * self.cj_bright, center=1.0),
            "contrast": _jitter_range(strength * self.cj_contrast, center=1.0),
            "saturation": _jitter_range(strength * self.cj_sat, center=1.0),
            "hue": _jitter_range(strength * self.cj_hue, center=0.0),
        }
        self._blur_radius = math.ceil(3.0 * self.sigmas[1])
        self._mean_std = (
            ([], []) if self.normalize is None else (self.normalize["mean"], self.normalize["std"])
        )
        self._stats_cache: dict[tuple[torch.device, torch.dtype], tuple[Tensor, Tensor]] = {}

    @classmethod
    def from_view_transform(cls, view: ViewTransform, **overrides: Any) -> BatchViewTransform:
        """The batched equivalent of a per-sample :class:`~selfsup.transforms.ViewTransform`.

        Args:
            view: The per-sample view whose settings are copied.
            **overrides: Arguments to set differently (e.g. ``input_size`` and ``crop_scale``
                of a multi-crop group).
        """
        if not isinstance(view, ViewTransform):
            raise TypeError(f"view must be a ViewTransform, got {type(view).__name__}")
        arguments = dict(
            input_size=view.input_size,
            crop_scale=view.crop_scale,
            interpolation=view.interpolation,
            hf_prob=view.hf_prob,
            vf_prob=view.vf_prob,
            rr_prob=view.rr_prob,
            rr_degrees=view.rr_degrees,
            cj_prob=view.cj_prob,
            cj_strength=view.cj_strength,
            cj_bright=view.cj_bright,
            cj_contrast=view.cj_contrast,
            cj_sat=view.cj_sat,
            cj_hue=view.cj_hue,
            random_gray_scale=view.random_gray_scale,
            gaussian_blur=view.gaussian_blur,
            sigmas=view.sigmas,
            solarization_prob=view.solarization_prob,
            normalize=view.normalize,
        )
        arguments.update(overrides)
        return cls(**arguments)

    def make_params(
        self,
        batch_size: int,
        height: int,
        width: int,
        device: torch.device | str | None = None,
        generator: torch.Generator | None = None,
    ) -> dict[str, Tensor]:
        """Draws every random number of one view of a batch, one entry per sample.

        Probabilities of 0 (and 1) are decided without drawing, and parameters of switched-off
        steps are not drawn.

        Args:
            batch_size: Number of images ``B``.
            height: Input height ``H`` in pixels.
            width: Input width ``W`` in pixels.
            device: Where the parameters are drawn (the batch's device); None for the CPU.
            generator: Optional ``torch.Generator`` on ``device``; None uses torch's default RNG.

        Returns:
            Dict of tensors on ``device``: ``"boxes"`` ``(B, 4)`` float crop boxes
            ``(x0, y0, x1, y1)`` (when cropping); bool masks ``(B,)`` ``"hflip"``, ``"vflip"``,
            ``"rotate"``, ``"color_jitter"``, ``"grayscale"``, ``"blur"``, ``"solarize"``;
            ``"quarter_turns"`` ``(B,)`` int64 in {1, 2, 3} or ``"degrees"`` ``(B,)``;
            ``"jitter_order"`` ``(B, 4)`` int64 permutations of (0 brightness, 1 contrast,
            2 saturation, 3 hue) and the factors ``"brightness"``, ``"contrast"``,
            ``"saturation"``, ``"hue"`` ``(B,)`` of the ops that are switched on; ``"sigma"``
            ``(B,)`` blur standard deviations.
        """
        if batch_size < 0 or height < 1 or width < 1:
            raise ValueError(
                f"expected batch_size >= 0 and a positive image size, got {batch_size}, "
                f"{height}x{width}"
            )
        device = torch.device("cpu") if device is None else torch.device(device)

        def rand(*shape: int) -> Tensor:
            return torch.rand(*shape, generator=generator, device=device)

        def uniform(bounds: tuple[float, float]) -> Tensor:
            low, high = bounds
            return low + (high - low) * rand(batch_size)

        def coin(prob: float) -> Tensor:
            if prob <= 0.0 or prob >= 1.0:
                return torch.full((batch_size,), prob >= 1.0, dtype=torch.bool, device=device)
            return rand(batch_size) < prob

        params: dict[str, Tensor] = {}
        if self.input_size is not None:
            params["boxes"] = random_resized_crop_boxes(
                batch_size, height, width, self.crop_scale, rand
            )
        params["hflip"] = coin(self.hf_prob)
        params["vflip"] = coin(self.vf_prob)
        params["rotate"] = coin(self.rr_prob)
        if self.rr_prob > 0:
            if self.rr_degrees is None:
                params["quarter_turns"] = torch.randint(
                    1, 4, (batch_size,), generator=generator, device=device
                )
            else:
                bounds = self.rr_degrees
                if not isinstance(bounds, tuple):
                    bounds = (-bounds, bounds)
                params["degrees"] = uniform(bounds)
        params["color_jitter"] = coin(self.cj_prob)
        if self.cj_prob > 0:
            params["jitter_order"] = rand(batch_size, 4).argsort(dim=1)
            for name, bounds in self._jitter_ranges.items():
                if bounds is not None:
                    params[name] = uniform(bounds)
        params["grayscale"] = coin(self.random_gray_scale)
        params["blur"] = coin(self.gaussian_blur)
        if self.gaussian_blur > 0:
            params["sigma"] = uniform(self.sigmas)
        params["solarize"] = coin(self.solarization_prob)
        return params

    def transform(self, images: Tensor, params: Mapping[str, Tensor]) -> Tensor:
        """Applies drawn ``params`` (from :meth:`make_params`) to a batch.

        Args:
            images: ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1].
            params: The parameters of this batch, on the images' device.

        Returns:
            Float tensor ``(B, 3, h, w)`` on the images' device.
        """
        check_batch(images)
        if self.input_size is not None:
            views = BF.resized_crop(
                images,
                params["boxes"],
                self.input_size,
                interpolation=self._interpolation,
                hflip=params["hflip"] if self.hf_prob > 0 else None,
                vflip=params["vflip"] if self.vf_prob > 0 else None,
            )
        else:
            views = BF.to_float(images)
            views = views.clone() if views is images else views
            if self.hf_prob > 0:
                views = BF.hflip(views, params["hflip"])
            if self.vf_prob > 0:
                views = BF.vflip(views, params["vflip"])
        if views.shape[1] == 1:
            views = views.expand(-1, 3, -1, -1).contiguous()
        if self.rr_prob > 0:
            if self.rr_degrees is None:
                turns = torch.where(params["rotate"], params["quarter_turns"], 0)
                views = BF.rot90(views, turns)
            else:
                _apply_to(views, params["rotate"], BF.rotate, params["degrees"])
        colour = self.cj_prob > 0 or self.random_gray_scale > 0
        dense = compiled_for(color_jitter_and_grayscale, views.device) if colour else None
        if dense is not None:
            views = self._dense_color(dense, views, params)
        else:
            if self.cj_prob > 0:
                self._color_jitter(views, params)
            if self.random_gray_scale > 0:
                _apply_to(views, params["grayscale"], BF.rgb_to_grayscale)
        if self.gaussian_blur > 0:
            _apply_to(views, params["blur"], self._blur, params["sigma"])
        if self.solarization_prob > 0:
            views = BF.solarize(views, params["solarize"], threshold=_SOLARIZE_THRESHOLD)
        if self.normalize is not None:
            mean, std = self._statistics(views)
            views = views.sub_(mean).div_(std)
        return views

    def _statistics(self, views: Tensor) -> tuple[Tensor, Tensor]:
        """``normalize``'s mean and std as ``(1, C, 1, 1)`` tensors on the views' device, made
        once per device and dtype (a host-to-device copy per call would stall the GPU queue)."""
        key = (views.device, views.dtype)
        if key not in self._stats_cache:
            mean, std = (
                torch.tensor(values, dtype=views.dtype).view(1, -1, 1, 1).to(views.device)
                for values in self._mean_std
            )
            self._stats_cache[key] = (mean, std)
        return self._stats_cache[key]

    def _blur(self, images: Tensor, sigmas: Tensor) -> Tensor:
        return BF.gaussian_blur(images, sigmas, radius=self._blur_radius)

    def _dense_color(
        self, dense: Callable[..., Tensor], views: Tensor, params: Mapping[str, Tensor]
    ) -> Tensor:
        """Jitter and grayscale on every sample, kept where drawn, by ``dense`` (compiled
        :func:`~selfsup.transforms.batched._dense_color.color_jitter_and_grayscale`): a few
        fused kernels and no host-device waits on a GPU."""
        jitter = self.cj_prob > 0
        return dense(
            views,
            params["color_jitter"] if jitter else None,
            params["jitter_order"] if jitter else None,
            *(params.get(name) if jitter else None for name in _JITTER_OPS),
            params["grayscale"] if self.random_gray_scale > 0 else None,
        )

    def _color_jitter(self, views: Tensor, params: Mapping[str, Tensor]) -> None:
        """Applies brightness, contrast, saturation and hue in each sample's own order, in place.

        Position by position: one in-place blend over the whole batch applies whichever of
        brightness, contrast and saturation each sample has at that position
        (:func:`~selfsup.transforms.batched._dense_color.blend_at_position`); the hue shift runs
        on the samples that have it at that position.
        """
        apply, order = params["color_jitter"], params["jitter_order"]
        factors = [params.get(name) for name in _JITTER_OPS[:3]]
        for position in range(4):
            chosen = torch.where(apply, order[:, position], -1)
            blend = blend_at_position(views, chosen, *factors)
            if blend is not None:
                weight, target = blend
                views.lerp_(target, weight).clamp_(0.0, 1.0)
            if "hue" in params:
                _apply_to(views, chosen == 3, BF.adjust_hue, params["hue"])

    def __call__(self, images: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        """Makes one view of every image: :meth:`make_params` then :meth:`transform`.

        Args:
            images: ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1].
            generator: Optional ``torch.Generator`` on the images' device.

        Returns:
            Float tensor ``(B, 3, h, w)`` on the images' device.
        """
        check_batch(images)
        batch, _, height, width = images.shape
        with cpu_single_thread(images):
            params = self.make_params(batch, height, width, images.device, generator)
            return self.transform(images, params)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(input_size={self.input_size}, crop_scale={self.crop_scale}, "
            f"hf_prob={self.hf_prob}, cj_prob={self.cj_prob}, "
            f"random_gray_scale={self.random_gray_scale}, gaussian_blur={self.gaussian_blur}, "
            f"solarization_prob={self.solarization_prob})"
        )
