"""Batched multi-crop method transforms: DINO, SwaV, MSN and SMoG."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from selfsup.transforms.batched.multi_view_transform import BatchMultiViewTransform, batch_views_of
from selfsup.transforms.dino_transform import DINOTransform
from selfsup.transforms.msn_transform import MSNTransform
from selfsup.transforms.smog_transform import SMoGTransform
from selfsup.transforms.swav_transform import SwaVTransform
from selfsup.transforms.utils import IMAGENET_NORMALIZE

__all__ = ["DINOBatchTransform", "MSNBatchTransform", "SMoGBatchTransform", "SwaVBatchTransform"]


class DINOBatchTransform(BatchMultiViewTransform):
    """DINO's 2 global and ``n_local_views`` local crops of every image of a batch (Caron et al., 2021).

    The batched counterpart of :class:`~selfsup.transforms.DINOTransform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of ``2 +
    n_local_views`` float tensors: ``(B, 3, global_crop_size, global_crop_size)`` twice, then ``(B,
    3, local_crop_size, local_crop_size)``, normalised, on the input's device.
    """

    def __init__(
        self,
        *,
        global_crop_size: int | Sequence[int] = 224,
        global_crop_scale: tuple[float, float] = (0.4, 1.0),
        local_crop_size: int | Sequence[int] = 96,
        local_crop_scale: tuple[float, float] = (0.05, 0.4),
        n_local_views: int = 6,
        hf_prob: float = 0.5,
        vf_prob: float = 0.0,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        cj_prob: float = 0.8,
        cj_strength: float = 0.5,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.4,
        cj_hue: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: Sequence[float] = (1.0, 0.1, 0.5),
        sigmas: tuple[float, float] = (0.1, 2.0),
        solarization_prob: float = 0.2,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(batch_views_of(DINOTransform, locals()))


class SwaVBatchTransform(BatchMultiViewTransform):
    """SwaV's multi-crop views of every image of a batch (Caron et al., 2020, Section 4).

    The batched counterpart of :class:`~selfsup.transforms.SwaVTransform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of
    ``sum(crop_counts)`` float tensors, group by group, ``(B, 3, crop_sizes[i], crop_sizes[i])``,
    normalised, on the input's device.
    """

    def __init__(
        self,
        *,
        crop_sizes: Sequence[int] = (224, 96),
        crop_counts: Sequence[int] = (2, 6),
        crop_min_scales: Sequence[float] = (0.14, 0.05),
        crop_max_scales: Sequence[float] = (1.0, 0.14),
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
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(batch_views_of(SwaVTransform, locals()))


class MSNBatchTransform(BatchMultiViewTransform):
    """MSN's random and focal views of every image of a batch (Assran et al., 2022).

    The batched counterpart of :class:`~selfsup.transforms.MSNTransform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of ``random_views +
    focal_views`` float tensors, ``(B, 3, random_size, random_size)`` first, then ``(B, 3,
    focal_size, focal_size)``, normalised, on the input's device.
    """

    def __init__(
        self,
        *,
        random_size: int | Sequence[int] = 224,
        focal_size: int | Sequence[int] = 96,
        random_views: int = 2,
        focal_views: int = 10,
        random_crop_scale: tuple[float, float] = (0.3, 1.0),
        focal_crop_scale: tuple[float, float] = (0.05, 0.3),
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.8,
        cj_hue: float = 0.2,
        gaussian_blur: float = 0.5,
        sigmas: tuple[float, float] = (0.1, 2.0),
        random_gray_scale: float = 0.2,
        hf_prob: float = 0.5,
        vf_prob: float = 0.0,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(batch_views_of(MSNTransform, locals()))


class SMoGBatchTransform(BatchMultiViewTransform):
    """SMoG's groups of crops of every image of a batch (Pang et al., 2022).

    The batched counterpart of :class:`~selfsup.transforms.SMoGTransform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of
    ``sum(crop_counts)`` float tensors, group by group, normalised, on the input's device.
    """

    def __init__(
        self,
        *,
        crop_sizes: Sequence[int] = (224, 96),
        crop_counts: Sequence[int] = (4, 4),
        crop_min_scales: Sequence[float] = (0.2, 0.05),
        crop_max_scales: Sequence[float] = (1.0, 0.2),
        gaussian_blur_probs: Sequence[float] = (0.5, 0.1),
        gaussian_blur_sigmas: tuple[float, float] = (0.1, 2.0),
        solarize_probs: Sequence[float] = (0.0, 0.2),
        hf_prob: float = 0.5,
        cj_prob: float = 1.0,
        cj_strength: float = 0.5,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.4,
        cj_hue: float = 0.2,
        random_gray_scale: float = 0.2,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(batch_views_of(SMoGTransform, locals()))
