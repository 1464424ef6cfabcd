"""Batched image operations with one parameter per sample, on any device.

Every function takes a batch ``images`` of shape ``(B, C, H, W)``, float in [0, 1] (convert uint8
batches with :func:`to_float`; :func:`resized_crop` also takes uint8 directly), plus per-sample
parameters of shape ``(B,)`` or ``(B, 4)``, and returns a new batch on the same device with the
same floating point dtype; the input is never modified. Each op is defined as torchvision's
per-image op of the same name (``torchvision.transforms.v2.functional``) or as selfsup's
per-image op (:mod:`selfsup.transforms.functional`), applied to every sample with its own
parameter, so the batched path and the per-sample path make the same views.

Masks (``mask``) are boolean ``(B,)`` tensors selecting the samples an op applies to; the other
samples are returned unchanged. Parameters may also be Python numbers (one value for the whole
batch). Nothing here draws random numbers: :class:`~selfsup.transforms.batched.BatchViewTransform`
samples the parameters and calls these functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as nn_functional
from torch import Tensor
from torchvision.transforms import InterpolationMode

from selfsup.transforms.batched._resampling import axis_taps, interpolation_name, resample

__all__ = [
    "adjust_brightness",
    "adjust_contrast",
    "adjust_hue",
    "adjust_saturation",
    "gaussian_blur",
    "hflip",
    "normalize",
    "resized_crop",
    "rgb_to_grayscale",
    "rot90",
    "rotate",
    "rotate_hue",
    "solarize",
    "to_float",
    "vflip",
]

#: ITU-R 601 luma weights as torchvision's ``rgb_to_grayscale`` uses them.
_GRAY_WEIGHTS = (0.2989, 0.587, 0.114)


def _check_images(images: object, *, allow_uint8: bool = False, rgb: bool = False) -> None:
    if not isinstance(images, Tensor):
        raise TypeError(f"images must be a tensor (B, C, H, W), got {type(images).__name__}")
    if images.ndim != 4:
        raise ValueError(f"images must have shape (B, C, H, W), got {tuple(images.shape)}")
    if not images.is_floating_point() and not (allow_uint8 and images.dtype == torch.uint8):
        allowed = "uint8 or floating point" if allow_uint8 else "floating point (use to_float)"
        raise TypeError(f"images must be {allowed}, got {images.dtype}")
    if rgb and images.shape[1] != 3:
        raise ValueError(f"images must have 3 channels (RGB), got {images.shape[1]}")


def _per_sample(name: str, values: Tensor | float, images: Tensor, dtype: torch.dtype) -> Tensor:
    """``values`` as a ``(B,)`` tensor of ``dtype`` on the images' device."""
    batch = images.shape[0]
    tensor = torch.as_tensor(values, dtype=dtype, device=images.device)
    if tensor.ndim == 0:
        return tensor.expand(batch)
    if tensor.shape != (batch,):
        raise ValueError(
            f"{name} must be a number or have shape ({batch},), got {tuple(tensor.shape)}"
        )
    return tensor


def _mask(mask: Tensor | None, images: Tensor) -> Tensor | None:
    """A ``(B, 1, 1, 1)`` boolean view of ``mask``, or None for "every sample"."""
    if mask is None:
        return None
    return _per_sample("mask", mask, images, torch.bool).view(-1, 1, 1, 1)


def _select(mask: Tensor | None, changed: Tensor, images: Tensor) -> Tensor:
    return changed if mask is None else torch.where(mask, changed, images)


def to_float(images: Tensor) -> Tensor:
    """Converts a uint8 batch to float32 in [0, 1] (``x / 255``); float batches are returned as is.

    Args:
        images: ``(B, C, H, W)`` (or any shape) uint8 in [0, 255] or float in [0, 1].

    Returns:
        Float tensor of the same shape on the same device (float32 for uint8 input).
    """
    if not isinstance(images, Tensor):
        raise TypeError(f"images must be a tensor, got {type(images).__name__}")
    if images.dtype == torch.uint8:
        return images.to(torch.float32).mul_(1.0 / 255.0)
    if images.is_floating_point():
        return images
    raise TypeError(f"images must be uint8 or floating point, got {images.dtype}")


def _size_pair(size: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(size, int) and not isinstance(size, bool) and size > 0:
        return size, size
    if (
        isinstance(size, Sequence)
        and len(size) == 2
        and all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)
    ):
        return int(size[0]), int(size[1])
    raise ValueError(f"size must be a positive int or a (height, width) pair, got {size!r}")


def resized_crop(
    images: Tensor,
    boxes: Tensor,
    size: int | Sequence[int],
    *,
    interpolation: InterpolationMode | str = InterpolationMode.BILINEAR,
    hflip: Tensor | None = None,
    vflip: Tensor | None = None,
) -> Tensor:
    """Crops a box out of every image and resizes it to ``size``, all in one batched resampling.

    Equal, up to float rounding, to torchvision's ``resized_crop(image, top, left, height, width,
    size, antialias=True)`` per sample for integer boxes: bilinear and bicubic use the antialiased
    filters of torchvision and Pillow (triangle; Keys cubic with a = -0.5, stretched by the shrink
    factor when the crop is larger than the output, so shrinking does not alias). The resampling
    is separable, every output pixel a weighted sum of a few input pixels (taps) along each
    axis: on CPU the taps are gathered; on other devices each sample's taps form ``(out_h, H)``
    and ``(out_w, W)`` matrices and the batch goes through two batched matrix products (no
    device-to-host reads; float16 products for uint8 batches on CUDA, within 1e-3 of float32).
    Bicubic results are clamped to [0, 1].
    Optional flips are folded into the weights (free): a flipped sample equals
    :func:`hflip` / :func:`vflip` of the unflipped result.

    Args:
        images: ``(B, C, H, W)``, uint8 in [0, 255] or float in [0, 1].
        boxes: ``(B, 4)`` crop boxes ``(x0, y0, x1, y1)`` in pixels of the input, ``x0 < x1``,
            ``y0 < y1``, inside the image; rounded to whole pixels, as torchvision's crops are.
        size: Output side ``s`` or ``(out_h, out_w)``.
        interpolation: ``"bilinear"``, ``"bicubic"``, ``"nearest"`` or ``"nearest-exact"`` (or the
            matching torchvision ``InterpolationMode``).
        hflip: Optional ``(B,)`` bool; True mirrors that sample left-right.
        vflip: Optional ``(B,)`` bool; True mirrors that sample top-bottom.

    Returns:
        Float tensor ``(B, C, out_h, out_w)`` in [0, 1] (float32 for uint8 input).
    """
    _check_images(images, allow_uint8=True)
    mode = interpolation_name(interpolation)
    out_h, out_w = _size_pair(size)
    batch, channels, height, width = images.shape
    dtype = torch.float32 if images.dtype == torch.uint8 else images.dtype
    boxes = torch.as_tensor(boxes, device=images.device).to(dtype)
    if boxes.shape != (batch, 4):
        raise ValueError(f"boxes must have shape ({batch}, 4), got {tuple(boxes.shape)}")
    flip_x = None if hflip is None else _per_sample("hflip", hflip, images, torch.bool)
    flip_y = None if vflip is None else _per_sample("vflip", vflip, images, torch.bool)
    x0, y0, x1, y1 = boxes.round().unbind(1)
    taps_x = axis_taps(x0, x1 - x0, out_w, width, mode, flip_x)
    taps_y = axis_taps(y0, y1 - y0, out_h, height, mode, flip_y)
    out = resample(images, taps_x, taps_y)
    if mode == "bicubic":
        out = out.clamp_(0.0, 1.0)
    return out


def hflip(images: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mirrors the selected images left-right (torchvision's ``horizontal_flip``).

    Args:
        images: ``(B, C, H, W)`` of any dtype.
        mask: ``(B,)`` bool, True where the sample is flipped; None flips all.

    Returns:
        Tensor ``(B, C, H, W)``, same dtype and device.
    """
    if not isinstance(images, Tensor) or images.ndim != 4:
        raise ValueError("images must be a tensor of shape (B, C, H, W)")
    return _select(_mask(mask, images), images.flip(-1), images)


def vflip(images: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mirrors the selected images top-bottom (torchvision's ``vertical_flip``).

    Args:
        images: ``(B, C, H, W)`` of any dtype.
        mask: ``(B,)`` bool, True where the sample is flipped; None flips all.

    Returns:
        Tensor ``(B, C, H, W)``, same dtype and device.
    """
    if not isinstance(images, Tensor) or images.ndim != 4:
        raise ValueError("images must be a tensor of shape (B, C, H, W)")
    return _select(_mask(mask, images), images.flip(-2), images)


def rot90(images: Tensor, k: Tensor | int) -> Tensor:
    """Rotates each image counter-clockwise by its own number of quarter turns (exact).

    Sample ``b`` equals ``torch.rot90(images[b], k[b], dims=(-2, -1))`` (and
    :func:`selfsup.transforms.functional.rotate90`). Images must be square so that every sample
    keeps the batch's shape.

    Args:
        images: ``(B, C, S, S)`` of any dtype.
        k: ``(B,)`` integers (taken modulo 4), or one integer for all.

    Returns:
        Tensor ``(B, C, S, S)``, same dtype and device.
    """
    if not isinstance(images, Tensor) or images.ndim != 4:
        raise ValueError("images must be a tensor of shape (B, C, S, S)")
    if images.shape[-1] != images.shape[-2]:
        raise ValueError(
            f"rot90 needs square images to keep the batch shape, got {tuple(images.shape[-2:])}"
        )
    turns = _per_sample("k", k, images, torch.int64).remainder(4)
    out = images.clone()
    for quarter in (1, 2, 3):
        selected = turns == quarter
        out[selected] = torch.rot90(images[selected], quarter, dims=(-2, -1))
    return out


def rotate(
    images: Tensor,
    degrees: Tensor | float,
    *,
    interpolation: InterpolationMode | str = InterpolationMode.NEAREST,
) -> Tensor:
    """Rotates each image counter-clockwise about its centre by its own angle, keeping the size.

    As torchvision's ``rotate(image, angle, interpolation)`` (``expand=False``): corners that come
    from outside the image are 0. One ``affine_grid`` + ``grid_sample`` for the whole batch.

    Args:
        images: ``(B, C, H, W)`` float in [0, 1].
        degrees: ``(B,)`` angles in degrees, or one angle for all.
        interpolation: ``"nearest"`` (default, as torchvision's ``RandomRotation``) or
            ``"bilinear"`` (or the matching ``InterpolationMode``).

    Returns:
        Float tensor ``(B, C, H, W)``, same dtype and device.
    """
    _check_images(images)
    mode = interpolation.value if isinstance(interpolation, InterpolationMode) else interpolation
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"interpolation must be nearest or bilinear, got {interpolation!r}")
    batch, _, height, width = images.shape
    radians = _per_sample("degrees", degrees, images, images.dtype) * (math.pi / 180.0)
    cos, sin = radians.cos(), radians.sin()
    theta = torch.zeros(batch, 2, 3, dtype=images.dtype, device=images.device)
    theta[:, 0, 0] = cos
    theta[:, 0, 1] = -sin * (height / width)
    theta[:, 1, 0] = sin * (width / height)
    theta[:, 1, 1] = cos
    grid = nn_functional.affine_grid(theta, list(images.shape), align_corners=False)
    return nn_functional.grid_sample(
        images, grid, mode=mode, padding_mode="zeros", align_corners=False
    )


def _gray(images: Tensor) -> Tensor:
    """Luma ``(B, 1, H, W)`` of RGB images (torchvision's weights), or the image if 1 channel."""
    if images.shape[1] == 1:
        return images
    red, green, blue = images.unbind(1)
    gray = red * _GRAY_WEIGHTS[0]
    gray.add_(green, alpha=_GRAY_WEIGHTS[1]).add_(blue, alpha=_GRAY_WEIGHTS[2])
    return gray.unsqueeze(1)


def _factors(name: str, factors: Tensor | float, images: Tensor) -> Tensor:
    return _per_sample(name, factors, images, images.dtype).view(-1, 1, 1, 1)


def adjust_brightness(images: Tensor, factors: Tensor | float) -> Tensor:
    """Scales brightness: ``clamp(x * factor, 0, 1)`` per sample (torchvision's definition).

    Args:
        images: ``(B, C, H, W)`` float in [0, 1].
        factors: ``(B,)`` factors >= 0 (1 leaves the image unchanged).

    Returns:
        Float tensor ``(B, C, H, W)``.
    """
    _check_images(images)
    return (images * _factors("factors", factors, images)).clamp_(0.0, 1.0)


def adjust_contrast(images: Tensor, factors: Tensor | float) -> Tensor:
    """Scales contrast against each image's mean gray level (torchvision's definition).

    ``clamp(f * x + (1 - f) * m, 0, 1)`` with ``m`` the mean over the image of its grayscale.

    Args:
        images: ``(B, C, H, W)`` float in [0, 1], C = 1 or 3.
        factors: ``(B,)`` factors >= 0 (1 unchanged, 0 uniform gray).

    Returns:
        Float tensor ``(B, C, H, W)``.
    """
    _check_images(images)
    factor = _factors("factors", factors, images)
    mean = _gray(images).mean(dim=(-3, -2, -1), keepdim=True)
    return (factor * images + (1.0 - factor) * mean).clamp_(0.0, 1.0)


def adjust_saturation(images: Tensor, factors: Tensor | float) -> Tensor:
    """Blends each pixel with its grayscale (torchvision's definition).

    ``clamp(f * x + (1 - f) * gray(x), 0, 1)``.

    Args:
        images: ``(B, 3, H, W)`` float in [0, 1].
        factors: ``(B,)`` factors >= 0 (1 unchanged, 0 grayscale).

    Returns:
        Float tensor ``(B, 3, H, W)``.
    """
    _check_images(images, rgb=True)
    factor = _factors("factors", factors, images)
    return (factor * images + (1.0 - factor) * _gray(images)).clamp_(0.0, 1.0)


def adjust_hue(images: Tensor, factors: Tensor | float) -> Tensor:
    """Rotates the hue of each image by its factor of a full turn (torchvision's definition).

    Exact in float arithmetic: the hue ``h`` in [0, 1) is computed from RGB as in the HSV hexcone
    model (as torchvision's ``_rgb_to_hsv``), shifted to ``h' = (h + f) mod 1``, and each channel
    is rebuilt keeping HSV value and saturation, i.e. per pixel ``max`` and ``min`` of the
    channels: ``out_c = max - (max - min) * clamp(min(k_c, 4 - k_c), 0, 1)`` with
    ``k_c = (n_c + 6 h') mod 6`` and ``n = (5, 3, 1)`` for (R, G, B), which is HSV -> RGB.

    Args:
        images: ``(B, 3, H, W)`` float in [0, 1].
        factors: ``(B,)`` hue shifts in [-0.5, 0.5] (0 unchanged).

    Returns:
        Float tensor ``(B, 3, H, W)``.
    """
    _check_images(images, rgb=True)
    return rotate_hue(images, _factors("factors", factors, images))


def rotate_hue(images: Tensor, shift: Tensor) -> Tensor:
    """:func:`adjust_hue` without argument checks (also traced by ``torch.compile``).

    Args:
        images: ``(B, 3, H, W)`` float in [0, 1].
        shift: ``(B, 1, 1, 1)`` hue shifts, same dtype and device.

    Returns:
        Float tensor ``(B, 3, H, W)``.
    """
    red, green, blue = images.unbind(1)
    high = torch.maximum(torch.maximum(red, green), blue).unsqueeze(1)
    low = torch.minimum(torch.minimum(red, green), blue).unsqueeze(1)
    chroma = high - low
    is_red = (high == images[:, :1]).squeeze(1)
    is_green = (high == images[:, 1:2]).squeeze(1) & ~is_red
    # Hue in sextants [0, 6): (G - B) / C on the red sextants, 2 + (B - R) / C on the green ones,
    # 4 + (R - G) / C on the blue ones (torchvision's _rgb_to_hsv, times 6).
    numerator = torch.where(is_red, green - blue, torch.where(is_green, blue - red, red - green))
    offset = torch.where(is_red, 0.0, torch.where(is_green, 2.0, 4.0)).to(images.dtype)
    sextant = numerator.unsqueeze(1).div_(torch.where(chroma > 0, chroma, 1.0))
    sextant.add_(offset.unsqueeze(1)).add_(6.0 * shift)
    # HSV -> RGB: channel c from k_c = (n_c + 6 h) mod 6 with n = (5, 3, 1) for (R, G, B), made
    # on the device (no host-to-device copy).
    channel_offsets = 5.0 - 2.0 * torch.arange(3, dtype=images.dtype, device=images.device)
    k = (sextant + channel_offsets.view(1, 3, 1, 1)).remainder_(6.0)
    weight = torch.minimum(k, 4.0 - k).clamp_(0.0, 1.0)
    return weight.mul_(chroma).neg_().add_(high)


def rgb_to_grayscale(images: Tensor, mask: Tensor | None = None) -> Tensor:
    """Turns the selected images gray, keeping 3 channels (torchvision's weights).

    Gray is ``0.2989 R + 0.587 G + 0.114 B``, repeated in all three channels.

    Args:
        images: ``(B, 3, H, W)`` float in [0, 1].
        mask: ``(B,)`` bool, True where the sample turns gray; None converts all.

    Returns:
        Float tensor ``(B, 3, H, W)``.
    """
    _check_images(images, rgb=True)
    gray = _gray(images).expand(-1, 3, -1, -1)
    return _select(_mask(mask, images), gray, images).contiguous()


def _gaussian_kernels(sigmas: Tensor, radius: int) -> Tensor:
    """``(B, 2 * radius + 1)`` kernels: sample ``b`` is selfsup's per-image kernel for ``sigmas[b]``
    (truncated at ``ceil(3 * sigma)``, zero beyond), padded with zeros to ``radius``."""
    offsets = torch.arange(-radius, radius + 1, dtype=sigmas.dtype, device=sigmas.device)
    own_radius = torch.ceil(3.0 * sigmas.double()).to(sigmas.dtype).view(-1, 1)
    safe = torch.where(sigmas > 0, sigmas, torch.ones_like(sigmas)).view(-1, 1)
    kernels = torch.exp(-0.5 * (offsets / safe) ** 2) * (offsets.abs() <= own_radius)
    return kernels / kernels.sum(dim=1, keepdim=True)


def gaussian_blur(images: Tensor, sigmas: Tensor | float, *, radius: int | None = None) -> Tensor:
    """Blurs each image with a Gaussian of its own standard deviation (in pixels).

    Sample ``b`` equals :func:`selfsup.transforms.functional.gaussian_blur` of ``images[b]`` with
    ``sigmas[b]``: the sampled Gaussian truncated at ``ceil(3 * sigma)`` pixels, normalised, with
    replicated borders. The whole batch is convolved at once: a ``(B, K)`` bank of kernels (every
    kernel zero-padded to the widest, ``K = 2 * radius + 1``) applied as two grouped (depthwise)
    1-D convolutions. Sigma 0 leaves a sample unchanged.

    Args:
        images: ``(B, C, H, W)`` float in [0, 1].
        sigmas: ``(B,)`` standard deviations >= 0 in pixels, or one for all.
        radius: Kernel radius of the bank, at least ``ceil(3 * max(sigmas))``; None computes it
            from ``sigmas`` (one device-to-host read). Pass it (e.g. from the largest sigma a
            transform can draw) to avoid that read.

    Returns:
        Float tensor ``(B, C, H, W)``.
    """
    _check_images(images)
    batch, channels, height, width = images.shape
    sigma = _per_sample("sigmas", sigmas, images, images.dtype)
    if radius is None:
        radius = math.ceil(3.0 * float(sigma.max())) if batch else 0
    if not isinstance(radius, int) or isinstance(radius, bool) or radius < 0:
        raise ValueError(f"radius must be an integer >= 0, got {radius!r}")
    if radius == 0 or batch == 0:
        return images.clone()
    kernels = _gaussian_kernels(sigma, radius).repeat_interleave(channels, dim=0)
    size = 2 * radius + 1
    planes = images.reshape(1, batch * channels, height, width)
    planes = nn_functional.pad(planes, (radius, radius, radius, radius), mode="replicate")
    groups = batch * channels
    planes = nn_functional.conv2d(planes, kernels.view(groups, 1, 1, size), groups=groups)
    planes = nn_functional.conv2d(planes, kernels.view(groups, 1, size, 1), groups=groups)
    return planes.view(batch, channels, height, width)


def solarize(images: Tensor, mask: Tensor | None = None, threshold: float = 0.5) -> Tensor:
    """Inverts (``1 - x``) every value at or above ``threshold`` in the selected images.

    The per-sample path's uint8 threshold 128 is ``128 / 255`` here (what
    :class:`~selfsup.transforms.batched.BatchViewTransform` passes).

    Args:
        images: ``(B, C, H, W)`` float in [0, 1].
        mask: ``(B,)`` bool, True where the sample is solarized; None solarizes all.
        threshold: Smallest inverted value, in [0, 1].

    Returns:
        Float tensor ``(B, C, H, W)``.
    """
    _check_images(images)
    if not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
    inverted = images >= threshold
    selected = _mask(mask, images)
    if selected is not None:
        inverted = inverted & selected
    return torch.where(inverted, 1.0 - images, images)


def normalize(
    images: Tensor, mean: Sequence[float] | Tensor, std: Sequence[float] | Tensor
) -> Tensor:
    """Normalises per channel: ``(x - mean) / std``.

    Args:
        images: ``(B, C, H, W)`` float.
        mean: ``C`` (or 1) channel means.
        std: ``C`` (or 1) positive channel standard deviations.

    Returns:
        Float tensor ``(B, C, H, W)``.
    """
    _check_images(images)
    mean_t = torch.as_tensor(mean, dtype=images.dtype, device=images.device).view(1, -1, 1, 1)
    std_t = torch.as_tensor(std, dtype=images.dtype, device=images.device).view(1, -1, 1, 1)
    if mean_t.shape[1] not in (1, images.shape[1]) or mean_t.shape != std_t.shape:
        raise ValueError(
            f"mean and std must have 1 or {images.shape[1]} entries each, got "
            f"{mean_t.shape[1]} and {std_t.shape[1]}"
        )
    return (images - mean_t) / std_t
