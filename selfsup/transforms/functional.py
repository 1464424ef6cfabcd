"""Deterministic image operations behind selfsup's augmentations.

Every function here is pure: it takes an image and explicit parameters (no randomness) and returns a
new image. Each accepts a PIL image or a tensor ``(..., C, H, W)`` on any device, uint8 (values in
[0, 255]) or floating point (values in [0, 1]), and returns the same kind of image with the same
dtype and device. The random transform classes sample parameters and call these functions; the
batched on-device path builds on them too.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as nn_functional
import torchvision.transforms.v2.functional as tv_functional
from PIL import Image, ImageFilter, ImageOps
from torch import Tensor

__all__ = [
    "adjust_hue",
    "crop_grid",
    "gaussian_blur",
    "rotate90",
    "solarize",
    "to_float_tensor",
]

_PIL_ROTATIONS = {
    1: Image.Transpose.ROTATE_90,
    2: Image.Transpose.ROTATE_180,
    3: Image.Transpose.ROTATE_270,
}


def _check_tensor(img: Tensor) -> None:
    if img.ndim < 3:
        raise ValueError(
            f"expected an image tensor of shape (..., C, H, W), got {tuple(img.shape)}"
        )
    if img.dtype != torch.uint8 and not img.is_floating_point():
        raise TypeError(f"expected a uint8 or floating point image tensor, got {img.dtype}")


def _check_image(img: object) -> None:
    if isinstance(img, Image.Image):
        return
    if not isinstance(img, Tensor):
        raise TypeError(f"expected a PIL image or a tensor, got {type(img).__name__}")
    _check_tensor(img)


def _image_size(img: Image.Image | Tensor) -> tuple[int, int]:
    if isinstance(img, Image.Image):
        return img.height, img.width
    return int(img.shape[-2]), int(img.shape[-1])


def _gaussian_taps(sigma: float, dtype: torch.dtype) -> list[float]:
    """Taps ``w_0 .. w_radius`` of the sampled Gaussian, ``radius = ceil(3 * sigma)``, normalised
    to sum 1 over ``-radius .. radius`` in ``dtype`` (the values a ``conv2d`` kernel would hold)."""
    radius = math.ceil(3.0 * sigma)
    offsets = torch.arange(-radius, radius + 1, dtype=dtype)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    return (kernel / kernel.sum())[radius:].tolist()


def _convolve_axis(planes: Tensor, taps: list[float], dim: int) -> Tensor:
    """Symmetric 1-D convolution of ``(N, H, W)`` planes along ``dim`` with replicate padding."""
    radius = len(taps) - 1
    size = planes.shape[dim]
    padding = (radius, radius) if dim == -1 else (0, 0, radius, radius)
    padded = nn_functional.pad(planes, padding, mode="replicate")
    out = padded.narrow(dim, radius, size) * taps[0]
    for offset in range(1, radius + 1):
        out.add_(padded.narrow(dim, radius - offset, size), alpha=taps[offset])
        out.add_(padded.narrow(dim, radius + offset, size), alpha=taps[offset])
    return out


def gaussian_blur(img: Image.Image | Tensor, sigma: float) -> Image.Image | Tensor:
    """Blurs an image with a Gaussian of standard deviation ``sigma`` pixels.

    PIL images use ``ImageFilter.GaussianBlur(radius=sigma)``: despite its name, Pillow documents
    ``radius`` as the "Standard deviation of the Gaussian kernel" (lightly issue #1051 passed a
    kernel radius there by mistake). Pillow approximates the Gaussian with three extended box
    filters of exactly that variance (Gwosdek et al., 2011); near sharp edges that differs from the
    sampled Gaussian by up to about 15 grey levels at ``sigma = 2`` (mean below 0.5). Tensors are
    convolved, separably, with the sampled Gaussian truncated at ``radius = ceil(3 * sigma)``
    (kernel size ``2 * radius + 1``), as a sum of shifted copies (on CPU about 2x faster than
    ``conv2d`` for one image). Both paths extend the border pixels (replicate padding).

    Args:
        img: PIL image, or tensor ``(..., C, H, W)``, uint8 in [0, 255] or float in [0, 1].
        sigma: Standard deviation of the Gaussian in pixels, >= 0; 0 returns a copy.

    Returns:
        The blurred image, same type, shape, dtype and device as ``img``.
    """
    if not math.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be a finite number >= 0, got {sigma!r}")
    _check_image(img)
    if isinstance(img, Image.Image):
        return img.filter(ImageFilter.GaussianBlur(radius=sigma))
    if math.ceil(3.0 * sigma) == 0:
        return img.clone()
    compute_dtype = img.dtype if img.dtype in (torch.float32, torch.float64) else torch.float32
    taps = _gaussian_taps(sigma, compute_dtype)
    height, width = _image_size(img)
    planes = img.reshape(-1, height, width).to(compute_dtype)
    planes = _convolve_axis(_convolve_axis(planes, taps, -1), taps, -2)
    if img.dtype == torch.uint8:
        planes = planes.round_().clamp_(0, 255)
    return planes.to(img.dtype).reshape(img.shape)


def solarize(img: Image.Image | Tensor, threshold: float = 128) -> Image.Image | Tensor:
    """Inverts every pixel value at or above ``threshold`` (as ``PIL.ImageOps.solarize``).

    ``threshold`` is on the uint8 scale [0, 256]: uint8 values ``v >= threshold`` become ``255 - v``;
    float values ``x >= threshold / 255`` become ``1 - x``. Default 128 is BYOL's 0.5
    (Grill et al., 2020, Table 6).

    Args:
        img: PIL image, or tensor ``(..., C, H, W)``, uint8 in [0, 255] or float in [0, 1].
        threshold: Smallest value that is inverted, in [0, 256] (256 inverts nothing).

    Returns:
        The solarized image, same type, shape, dtype and device as ``img``.
    """
    if not math.isfinite(threshold) or not 0 <= threshold <= 256:
        raise ValueError(f"threshold must be in [0, 256], got {threshold!r}")
    _check_image(img)
    if isinstance(img, Image.Image):
        # Pixel values are integers, so v >= threshold exactly when v >= ceil(threshold).
        return ImageOps.solarize(img, threshold=math.ceil(threshold))
    if img.dtype == torch.uint8:
        # A float threshold keeps the comparison exact (an int 256 would wrap around in uint8).
        return torch.where(img >= float(threshold), 255 - img, img)
    return torch.where(img >= threshold / 255.0, 1.0 - img, img)


def rotate90(img: Image.Image | Tensor, k: int) -> Image.Image | Tensor:
    """Rotates an image counter-clockwise by ``k`` quarter turns; an exact pixel permutation.

    Tensors follow ``torch.rot90(img, k, dims=(-2, -1))`` (equal to ``numpy.rot90`` on the last two
    axes); PIL images use the matching ``Image.transpose``. ``k`` is taken modulo 4; 0 returns
    ``img`` itself. Odd ``k`` swaps height and width.

    Args:
        img: PIL image or tensor ``(..., C, H, W)`` of any dtype.
        k: Number of counter-clockwise quarter turns.

    Returns:
        The rotated image, ``(..., C, W, H)`` for odd ``k``.
    """
    if not isinstance(k, int) or isinstance(k, bool):
        raise TypeError(f"k must be an integer, got {k!r}")
    k %= 4
    if isinstance(img, Image.Image):
        return img if k == 0 else img.transpose(_PIL_ROTATIONS[k])
    if not isinstance(img, Tensor) or img.ndim < 2:
        raise TypeError(f"expected a PIL image or a tensor (..., H, W), got {type(img).__name__}")
    return img if k == 0 else torch.rot90(img, k, dims=(-2, -1))


# Below this many pixels torch's per-op overhead dominates and torchvision's PIL hue kernel is faster.
_FLOAT_PATH_MIN_PIXELS = 10_000
# Hue positions (in sextants) where the green and blue weights of the HSV hexcone peak; the red
# weight is one minus the weight of a peak at cyan (3).
_HEXCONE_PEAKS = (3.0, 2.0, 4.0)


def _shift_hue(rgb: Tensor, hue_factor: float) -> Tensor:
    """Exact HSV hue rotation of a floating point ``(..., 3, H, W)`` tensor on any value scale.

    With ``max``, ``min`` and chroma ``c = max - min`` per pixel, the hue in sextants is
    ``h = (g - b) / c`` where red is largest, ``2 + (b - r) / c`` where green is, else
    ``4 + (r - g) / c`` (torchvision's order for ties). Each output channel is rebuilt from the
    hexcone, ``out = min + c * w(h + 6 * hue_factor)``, with the piecewise-linear weights
    ``w_g(h) = clip(2 - |h - 2|, 0, 1)``, ``w_b(h) = clip(2 - |h - 4|, 0, 1)`` and
    ``w_r(h) = 1 - clip(2 - |h - 3|, 0, 1)`` on ``h`` taken modulo 6. Saturation and value are
    untouched, so the result equals an RGB -> HSV -> RGB round trip without its intermediate
    tensors (measured 1e-6 from torchvision's tensor kernel, several times faster).
    """
    maxc = rgb.amax(dim=-3)
    minc = rgb.amin(dim=-3)
    chroma = maxc - minc
    red, green, blue = rgb.unbind(dim=-3)
    numerator = torch.where(
        red == maxc,
        green - blue,
        torch.where(
            green == maxc, (blue - red).add_(chroma, alpha=2), (red - green).add_(chroma, alpha=4)
        ),
    )
    hue = numerator.div_(chroma.clamp(min=torch.finfo(rgb.dtype).tiny)).add_(6.0 * hue_factor)
    hue.sub_(torch.floor(hue / 6.0).mul_(6.0))
    peaks = torch.tensor(_HEXCONE_PEAKS, dtype=rgb.dtype, device=rgb.device).view(3, 1, 1)
    weights = (hue.unsqueeze(-3) - peaks).abs_().neg_().add_(2.0).clamp_(0.0, 1.0)
    weights.select(-3, 0).neg_().add_(1.0)
    return weights.mul_(chroma.unsqueeze(-3)).add_(minc.unsqueeze(-3))


def adjust_hue(img: Image.Image | Tensor, hue_factor: float) -> Image.Image | Tensor:
    """Rotates the hue by ``hue_factor`` of a full turn, keeping HSV saturation and value.

    Computes the exact HSV hue rotation in floating point directly from the HSV hexcone (see
    ``_shift_hue``: the same result as torchvision's tensor kernel within 1e-6, without its
    RGB -> HSV -> RGB round trip). uint8 tensors and RGB PIL images are computed in float32 and
    rounded to the nearest level once, so they are within 0.5 grey levels of the exact shift
    (torchvision's PIL kernel, an 8-bit HSV round trip in Pillow, is up to 15 levels off) and at
    224x224 about 2x faster than that kernel. RGB PIL images under ``_FLOAT_PATH_MIN_PIXELS``
    (10,000) pixels, where torch's per-op overhead dominates, and PIL images in other modes go to
    torchvision's PIL kernel. Single-channel tensors have no hue and are returned as a copy.

    Args:
        img: PIL image, or tensor ``(..., 3, H, W)``, uint8 in [0, 255] or float in [0, 1].
        hue_factor: Shift in [-0.5, 0.5] of a full hue turn; 0 leaves the image unchanged.

    Returns:
        The hue-shifted image, same type, shape, dtype and device as ``img``.
    """
    if not math.isfinite(hue_factor) or not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor must be in [-0.5, 0.5], got {hue_factor!r}")
    _check_image(img)
    if isinstance(img, Image.Image):
        if img.mode != "RGB" or img.width * img.height < _FLOAT_PATH_MIN_PIXELS:
            return tv_functional.adjust_hue(img, hue_factor)
        if hue_factor == 0:
            return img.copy()
        rgb = torch.from_numpy(np.asarray(img).transpose(2, 0, 1).astype(np.float32, order="C"))
        shifted = _shift_hue(rgb, hue_factor).round_().to(torch.uint8)
        return Image.fromarray(shifted.permute(1, 2, 0).numpy())
    channels = img.shape[-3]
    if channels == 1 or hue_factor == 0:
        return img.clone()
    if channels != 3:
        raise ValueError(f"adjust_hue expects 1 or 3 channels, got {channels}")
    if img.is_floating_point():
        return _shift_hue(img, hue_factor)
    return _shift_hue(img.to(torch.float32), hue_factor).round_().to(img.dtype)


def to_float_tensor(
    img: Image.Image | Tensor,
    mean: Sequence[float] | Tensor | None = None,
    std: Sequence[float] | Tensor | None = None,
) -> Tensor:
    """Converts an image to a float tensor ``(..., C, H, W)`` and optionally normalises it.

    PIL images (8-bit modes such as "L", "RGB") become float32 ``(C, H, W)`` in [0, 1]; uint8 tensors
    become float32 divided by 255; floating point tensors keep their dtype and values. With ``mean``
    and ``std`` the result is ``(x - mean) / std`` per channel. PIL images are converted in numpy
    (single-threaded) with the scaling and normalisation fused into one multiply-add.

    Args:
        img: PIL image, or tensor ``(..., C, H, W)``, uint8 in [0, 255] or float in [0, 1].
        mean: Per-channel means (length C or 1), or None for no normalisation.
        std: Per-channel standard deviations, given exactly when ``mean`` is.

    Returns:
        Float tensor ``(..., C, H, W)`` on the input's device (CPU for PIL input).
    """
    if (mean is None) != (std is None):
        raise ValueError("mean and std must be given together or both be None")
    _check_image(img)
    if isinstance(img, Image.Image):
        array = np.asarray(img)
        if array.dtype != np.uint8:
            raise TypeError(f"expected an 8-bit PIL image, got mode {img.mode!r}; convert it first")
        planes = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
        out = np.empty(planes.shape, dtype=np.float32)
        if mean is None or std is None:
            np.multiply(planes, np.float32(1.0 / 255.0), out=out, dtype=np.float32)
        else:
            scale, shift = _uint8_affine(_as_floats(mean), _as_floats(std))
            np.multiply(planes, scale, out=out, dtype=np.float32)
            out += shift
        return torch.from_numpy(out)
    if img.dtype == torch.uint8:
        converted = img.to(torch.float32).mul_(1.0 / 255.0)
    else:
        converted = img
    if mean is None or std is None:
        return converted
    mean_t = torch.as_tensor(mean, dtype=converted.dtype, device=converted.device).view(-1, 1, 1)
    std_t = torch.as_tensor(std, dtype=converted.dtype, device=converted.device).view(-1, 1, 1)
    if converted is img:
        return (converted - mean_t) / std_t
    return converted.sub_(mean_t).div_(std_t)


def _as_floats(values: Sequence[float] | Tensor) -> tuple[float, ...]:
    if isinstance(values, Tensor):
        return tuple(float(v) for v in values.flatten().tolist())
    return tuple(float(v) for v in values)


@functools.lru_cache(maxsize=64)
def _uint8_affine(mean: tuple[float, ...], std: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """``(scale, shift)`` of shape ``(C, 1, 1)`` with ``x * scale + shift = (x / 255 - mean) / std``."""
    mean_a = np.asarray(mean, dtype=np.float64).reshape(-1, 1, 1)
    std_a = np.asarray(std, dtype=np.float64).reshape(-1, 1, 1)
    return (1.0 / (255.0 * std_a)).astype(np.float32), (-mean_a / std_a).astype(np.float32)


def crop_grid(
    img: Image.Image | Tensor,
    n_grid: int,
    crop_size: int,
    offsets: Tensor | Sequence[Sequence[int]],
) -> list[Image.Image | Tensor]:
    """Takes one square crop from every cell of an ``n_grid`` x ``n_grid`` grid (jigsaw patches).

    The image is divided into cells of ``(H // n_grid, W // n_grid)`` pixels; the crop of cell
    ``(row, col)`` starts ``offsets[row * n_grid + col] = (dy, dx)`` pixels below and right of the
    cell's top-left corner.

    Args:
        img: PIL image or tensor ``(..., C, H, W)`` of any dtype.
        n_grid: Cells per side.
        crop_size: Side of each crop in pixels, at most the cell size.
        offsets: ``(n_grid ** 2, 2)`` integer offsets ``(dy, dx)`` inside the cells, each in
            ``[0, cell_size - crop_size]``.

    Returns:
        ``n_grid ** 2`` crops of ``crop_size`` x ``crop_size`` pixels (tensors ``(..., C, crop_size,
        crop_size)``), listed row by row.
    """
    if not isinstance(img, (Image.Image, Tensor)) or (isinstance(img, Tensor) and img.ndim < 2):
        raise TypeError(f"expected a PIL image or a tensor (..., H, W), got {type(img).__name__}")
    height, width = _image_size(img)
    cell_height, cell_width = height // n_grid, width // n_grid
    if not 0 < crop_size <= min(cell_height, cell_width):
        raise ValueError(
            f"crop_size must be in [1, {min(cell_height, cell_width)}] for a {height}x{width} image "
            f"cut into a {n_grid}x{n_grid} grid, got {crop_size}"
        )
    positions = offsets.tolist() if isinstance(offsets, Tensor) else [list(o) for o in offsets]
    if len(positions) != n_grid * n_grid:
        raise ValueError(f"expected {n_grid * n_grid} offsets, got {len(positions)}")
    crops: list[Image.Image | Tensor] = []
    for index, (dy, dx) in enumerate(positions):
        if not (0 <= dy <= cell_height - crop_size and 0 <= dx <= cell_width - crop_size):
            raise ValueError(f"offset {(dy, dx)} puts crop {index} outside its grid cell")
        row, col = divmod(index, n_grid)
        top, left = row * cell_height + dy, col * cell_width + dx
        if isinstance(img, Image.Image):
            crops.append(img.crop((left, top, left + crop_size, top + crop_size)))
        else:
            crops.append(img[..., top : top + crop_size, left : left + crop_size])
    return crops
