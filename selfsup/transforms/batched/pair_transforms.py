"""Batched two-view (and K-view) method transforms: the same view pipeline repeated."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from selfsup.transforms.batched.multi_view_transform import BatchMultiViewTransform, batch_views_of
from selfsup.transforms.fast_siam_transform import FastSiamTransform
from selfsup.transforms.moco_transform import MoCoV1Transform, MoCoV2Transform
from selfsup.transforms.simclr_transform import SimCLRTransform
from selfsup.transforms.simsiam_transform import SimSiamTransform
from selfsup.transforms.utils import IMAGENET_NORMALIZE
from selfsup.transforms.vicreg_transform import VICRegTransform

__all__ = [
    "FastSiamBatchTransform",
    "MoCoV1BatchTransform",
    "MoCoV2BatchTransform",
    "SimCLRBatchTransform",
    "SimSiamBatchTransform",
    "VICRegBatchTransform",
]


class SimCLRBatchTransform(BatchMultiViewTransform):
    """Two SimCLR views of every image of a batch (Chen et al., 2020, Appendix A).

    The batched counterpart of :class:`~selfsup.transforms.SimCLRTransform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of 2 float tensors
    ``(B, 3, input_size, input_size)``, normalised, on the input's device.
    """

    def __init__(
        self,
        *,
        input_size: int | Sequence[int] = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.8,
        cj_hue: float = 0.2,
        min_scale: float = 0.08,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.5,
        sigmas: tuple[float, float] = (0.1, 2.0),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(batch_views_of(SimCLRTransform, locals()))


class MoCoV1BatchTransform(BatchMultiViewTransform):
    """Two MoCo v1 views of every image of a batch (He et al., 2020, Section 4.1).

    The batched counterpart of :class:`~selfsup.transforms.MoCoV1Transform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of 2 float tensors
    ``(B, 3, input_size, input_size)``, normalised, on the input's device.
    """

    def __init__(
        self,
        *,
        input_size: int | Sequence[int] = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.4,
        cj_hue: float = 0.4,
        min_scale: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.0,
        sigmas: tuple[float, float] = (0.1, 2.0),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(batch_views_of(MoCoV1Transform, locals()))


class MoCoV2BatchTransform(BatchMultiViewTransform):
    """Two MoCo v2 views of every image of a batch (Chen et al., 2020, "Improved Baselines").

    The batched counterpart of :class:`~selfsup.transforms.MoCoV2Transform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of 2 float tensors
    ``(B, 3, input_size, input_size)``, normalised, on the input's device.
    """

    def __init__(
        self,
        *,
        input_size: int | Sequence[int] = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.4,
        cj_hue: float = 0.1,
        min_scale: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.5,
        sigmas: tuple[float, float] = (0.1, 2.0),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(batch_views_of(MoCoV2Transform, locals()))


class SimSiamBatchTransform(BatchMultiViewTransform):
    """Two SimSiam views of every image of a batch (Chen & He, 2021, Appendix A).

    The batched counterpart of :class:`~selfsup.transforms.SimSiamTransform`: the same arguments
    with the same defaults and meaning, the same views in the same order, each made for the whole
    batch at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of 2 float tensors
    ``(B, 3, input_size, input_size)``, normalised, on the input's device.
    """

    def __init__(
        self,
        *,
        input_size: int | Sequence[int] = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.4,
        cj_hue: float = 0.1,
        min_scale: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.5,
        sigmas: tuple[float, float] = (0.1, 2.0),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(batch_views_of(SimSiamTransform, locals()))


class VICRegBatchTransform(BatchMultiViewTransform):
    """Two VICReg views of every image of a batch (Bardes et al., 2022, Appendix C.1).

    The batched counterpart of :class:`~selfsup.transforms.VICRegTransform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of 2 float tensors
    ``(B, 3, input_size, input_size)``, normalised, on the input's device.
    """

    def __init__(
        self,
        *,
        input_size: int | Sequence[int] = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 0.5,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.4,
        cj_hue: float = 0.2,
        min_scale: float = 0.08,
        random_gray_scale: float = 0.2,
        solarize_prob: float = 0.1,
        gaussian_blur: float = 0.5,
        sigmas: tuple[float, float] = (0.1, 2.0),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(batch_views_of(VICRegTransform, locals()))


class FastSiamBatchTransform(BatchMultiViewTransform):
    """FastSiam's ``K + 1`` SimSiam views of every image of a batch (Pototzky et al., 2022).

    The batched counterpart of :class:`~selfsup.transforms.FastSiamTransform`: the same arguments
    with the same defaults and meaning, the same views in the same order, each made for the whole
    batch at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of ``K + 1`` float
    tensors ``(B, 3, input_size, input_size)``, normalised, on the input's device.
    """

    def __init__(
        self,
        *,
        K: int = 3,
        input_size: int | Sequence[int] = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.4,
        cj_hue: float = 0.1,
        min_scale: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.5,
        sigmas: tuple[float, float] = (0.1, 2.0),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(batch_views_of(FastSiamTransform, locals()))
