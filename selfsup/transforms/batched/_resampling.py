"""Separable antialiased resampling of per-sample crops (behind ``functional.resized_crop``).

Every output pixel is a weighted sum of a few input pixels (taps) along each axis, with the
filters of torchvision's ``antialias=True`` resize and Pillow. On CPU the taps are gathered; on
other devices they become dense ``(B, out, in)`` matrices and two batched matrix products.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torchvision.transforms import InterpolationMode

__all__ = ["axis_taps", "interpolation_name", "resample"]

#: Resampling filters: name -> support radius at scale 1 (torchvision / Pillow antialiased).
_FILTER_SUPPORT = {"bilinear": 1.0, "bicubic": 2.0}
_NEAREST_MODES = ("nearest", "nearest-exact")
#: Pillow's and torch's antialiased bicubic use the Keys kernel with a = -0.5.
_BICUBIC_A = -0.5


def interpolation_name(interpolation: InterpolationMode | str) -> str:
    """The filter name of ``interpolation``; ValueError for the filters the batched path lacks."""
    name = interpolation.value if isinstance(interpolation, InterpolationMode) else interpolation
    if name not in _FILTER_SUPPORT and name not in _NEAREST_MODES:
        allowed = ", ".join([*_FILTER_SUPPORT, *_NEAREST_MODES])
        raise ValueError(f"interpolation must be one of {allowed}, got {interpolation!r}")
    return name


def _filter(name: str, distance: Tensor) -> Tensor:
    """The resampling filter at ``distance`` (in input pixels, divided by the shrink factor)."""
    ad = distance.abs()
    if name == "bilinear":
        return (1.0 - ad).clamp_(min=0.0)
    a = _BICUBIC_A
    inner = ((a + 2.0) * ad - (a + 3.0)) * ad * ad + 1.0
    outer = a * (((ad - 5.0) * ad + 8.0) * ad - 4.0)
    return torch.where(ad < 1.0, inner, torch.where(ad < 2.0, outer, torch.zeros_like(ad)))


def axis_taps(
    start: Tensor,
    length: Tensor,
    out_size: int,
    in_size: int,
    mode: str,
    flip: Tensor | None,
) -> tuple[Tensor, Tensor]:
    """Per-sample resampling taps along one axis: pixel indices and weights ``(B, out_size, K)``.

    Output pixel ``i`` is ``sum_k weights[i, k] * input[index[i, k]]``. Filters follow the
    antialiased resampling of torchvision (``antialias=True``) and Pillow: output pixel ``i``
    is centred at ``(i + 0.5) * scale`` inside the crop (``scale = length / out_size``); the
    filter is stretched by ``max(scale, 1)`` when shrinking; taps outside the crop get weight 0
    and the remaining weights are renormalised. Nearest modes pick one pixel (torch's
    ``nearest``: ``floor(i * scale)``; ``nearest-exact``: ``floor((i + 0.5) * scale)``). ``K``
    is a bound known without reading the device: the widest filter any crop of ``in_size`` pixels
    can need.
    """
    dtype, device = start.dtype, start.device
    position = torch.arange(out_size, dtype=dtype, device=device).expand(start.shape[0], -1)
    if flip is not None:
        position = torch.where(flip.view(-1, 1), (out_size - 1) - position, position)
    scale = (length / out_size).view(-1, 1)
    if mode in _NEAREST_MODES:
        offset = 0.5 if mode == "nearest-exact" else 0.0
        source = torch.minimum(torch.floor((position + offset) * scale), length.view(-1, 1) - 1)
        index = (start.view(-1, 1) + source).long().clamp_(0, in_size - 1).unsqueeze(-1)
        return index, torch.ones(index.shape, dtype=dtype, device=device)
    taps = min(math.ceil(2.0 * _FILTER_SUPPORT[mode] * max(in_size / out_size, 1.0)) + 1, in_size)
    center = ((position + 0.5) * scale).unsqueeze(-1)
    stretch = scale.clamp(min=1.0).unsqueeze(-1)
    support = _FILTER_SUPPORT[mode] * stretch
    low = torch.floor(center - support + 0.5).clamp_(min=0.0)
    high = torch.minimum(torch.floor(center + support + 0.5), length.view(-1, 1, 1))
    relative = low + torch.arange(taps, dtype=dtype, device=device)
    weights = _filter(mode, (relative + 0.5 - center) / stretch) * (relative < high)
    weights = weights / weights.sum(-1, keepdim=True).clamp_(min=torch.finfo(dtype).tiny)
    index = (start.view(-1, 1, 1) + relative).long().clamp_(0, in_size - 1)
    return index, weights


def _dense(index: Tensor, weights: Tensor, in_size: int) -> Tensor:
    """The ``(B, out_size, in_size)`` matrix of taps ``(B, out_size, K)``."""
    matrix = torch.zeros(*index.shape[:2], in_size, dtype=weights.dtype, device=weights.device)
    return matrix.scatter_add_(2, index, weights)


def _trim(index: Tensor, weights: Tensor) -> tuple[Tensor, Tensor]:
    """Drops trailing tap columns that are zero for every output pixel of every sample."""
    used = int((weights != 0).any(dim=0).any(dim=0).nonzero().max()) + 1 if weights.numel() else 0
    return index[..., : max(used, 1)], weights[..., : max(used, 1)]


def _gather(planes: Tensor, dim: int, index: Tensor, weights: Tensor) -> Tensor:
    """``sum_k weights[..., k] * planes[index[..., k]]`` along ``dim`` (2 rows, 3 columns).

    One gather buffer and one output, accumulated in place (fresh allocations cost more than
    the arithmetic on CPU).
    """
    batch, channels = planes.shape[:2]
    if dim == 3:
        view, size = (batch, 1, 1, -1), (batch, channels, planes.shape[2], index.shape[1])
    else:
        view, size = (batch, 1, -1, 1), (batch, channels, index.shape[1], planes.shape[3])
    taps = torch.empty(size, dtype=planes.dtype, device=planes.device)
    out = torch.empty(size, dtype=weights.dtype, device=planes.device)
    for k in range(index.shape[-1]):
        torch.gather(planes, dim, index[..., k].view(view).expand(size), out=taps)
        if k == 0:
            torch.mul(taps, weights[..., k].view(view), out=out)
        else:
            out.addcmul_(taps, weights[..., k].view(view))
    return out


def _resample_gather(
    images: Tensor, taps_x: tuple[Tensor, Tensor], taps_y: tuple[Tensor, Tensor]
) -> Tensor:
    """Separable resampling by gathering each output pixel's few taps (fastest on CPU)."""
    index_x, weights_x = _trim(*taps_x)
    index_y, weights_y = _trim(*taps_y)
    if images.dtype == torch.uint8:
        weights_x = weights_x * (1.0 / 255.0)
    return _gather(_gather(images, 3, index_x, weights_x), 2, index_y, weights_y)


def _resample_dense(
    images: Tensor,
    taps_x: tuple[Tensor, Tensor],
    taps_y: tuple[Tensor, Tensor],
    compute_dtype: torch.dtype | None = None,
) -> Tensor:
    """Separable resampling as two batched products with dense ``(B, out, in)`` matrices (no
    device-to-host reads; fastest on GPUs). ``compute_dtype`` (default: the taps' dtype) is the
    dtype of the products; the result is in the taps' dtype."""
    batch, channels, height, width = images.shape
    matrix_x = _dense(*taps_x, width)
    matrix_y = _dense(*taps_y, height)
    out_dtype = matrix_x.dtype
    out_h, out_w = matrix_y.shape[1], matrix_x.shape[1]
    if images.dtype == torch.uint8:
        matrix_x = matrix_x * (1.0 / 255.0)
    if compute_dtype is not None:
        matrix_x, matrix_y = matrix_x.to(compute_dtype), matrix_y.to(compute_dtype)
    planes = images.to(matrix_x.dtype)
    columns_first = height * width * out_w + out_h * height * out_w
    rows_first = out_h * height * width + out_h * width * out_w
    if columns_first <= rows_first:
        tmp = torch.bmm(planes.reshape(batch, channels * height, width), matrix_x.transpose(1, 2))
        out = torch.matmul(matrix_y.unsqueeze(1), tmp.view(batch, channels, height, out_w))
    else:
        tmp = torch.matmul(matrix_y.unsqueeze(1), planes)
        out = torch.bmm(tmp.reshape(batch, channels * out_h, width), matrix_x.transpose(1, 2))
    return out.view(batch, channels, out_h, out_w).to(out_dtype)


def resample(
    images: Tensor, taps_x: tuple[Tensor, Tensor], taps_y: tuple[Tensor, Tensor]
) -> Tensor:
    """Resamples ``(B, C, H, W)`` (uint8 or float) with per-sample taps along x and y.

    Gathers on CPU (fastest there), dense matrix products elsewhere (no device-to-host reads).
    On CUDA, uint8 batches are resampled in float16 products with float32 accumulation (tensor
    cores; uint8 values are exact in float16, the weights carry 11 significant bits): within
    about 1e-3 of float32, a quarter of one 8-bit level.
    Returns float ``(B, C, out_h, out_w)``, uint8 input scaled to [0, 1].
    """
    if images.device.type == "cpu":
        return _resample_gather(images, taps_x, taps_y)
    half = images.device.type == "cuda" and images.dtype == torch.uint8
    return _resample_dense(images, taps_x, taps_y, torch.float16 if half else None)
