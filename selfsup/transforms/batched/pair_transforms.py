"""Batched two-view (and K-view) method transforms: the same view pipeline repeated."""

from __future__ import annotations

from selfsup.transforms.batched.multi_view_transform import BatchMethodTransform
from selfsup.transforms.fast_siam_transform import FastSiamTransform
from selfsup.transforms.moco_transform import MoCoV1Transform, MoCoV2Transform
from selfsup.transforms.simclr_transform import SimCLRTransform
from selfsup.transforms.simsiam_transform import SimSiamTransform
from selfsup.transforms.vicreg_transform import VICRegTransform

__all__ = [
    "FastSiamBatchTransform",
    "MoCoV1BatchTransform",
    "MoCoV2BatchTransform",
    "SimCLRBatchTransform",
    "SimSiamBatchTransform",
    "VICRegBatchTransform",
]


class SimCLRBatchTransform(BatchMethodTransform):
    """Two SimCLR views of every image of a batch (Chen et al., 2020, Appendix A).

    The batched counterpart of :class:`~selfsup.transforms.SimCLRTransform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of 2 float tensors
    ``(B, 3, input_size, input_size)``, normalised, on the input's device.
    """

    per_sample_class = SimCLRTransform


class MoCoV1BatchTransform(BatchMethodTransform):
    """Two MoCo v1 views of every image of a batch (He et al., 2020, Section 4.1).

    The batched counterpart of :class:`~selfsup.transforms.MoCoV1Transform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of 2 float tensors
    ``(B, 3, input_size, input_size)``, normalised, on the input's device.
    """

    per_sample_class = MoCoV1Transform


class MoCoV2BatchTransform(BatchMethodTransform):
    """Two MoCo v2 views of every image of a batch (Chen et al., 2020, "Improved Baselines").

    The batched counterpart of :class:`~selfsup.transforms.MoCoV2Transform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of 2 float tensors
    ``(B, 3, input_size, input_size)``, normalised, on the input's device.
    """

    per_sample_class = MoCoV2Transform


class SimSiamBatchTransform(BatchMethodTransform):
    """Two SimSiam views of every image of a batch (Chen & He, 2021, Appendix A).

    The batched counterpart of :class:`~selfsup.transforms.SimSiamTransform`: the same arguments
    with the same defaults and meaning, the same views in the same order, each made for the whole
    batch at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of 2 float tensors
    ``(B, 3, input_size, input_size)``, normalised, on the input's device.
    """

    per_sample_class = SimSiamTransform


class VICRegBatchTransform(BatchMethodTransform):
    """Two VICReg views of every image of a batch (Bardes et al., 2022, Appendix C.1).

    The batched counterpart of :class:`~selfsup.transforms.VICRegTransform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of 2 float tensors
    ``(B, 3, input_size, input_size)``, normalised, on the input's device.
    """

    per_sample_class = VICRegTransform


class FastSiamBatchTransform(BatchMethodTransform):
    """FastSiam's ``K + 1`` SimSiam views of every image of a batch (Pototzky et al., 2022).

    The batched counterpart of :class:`~selfsup.transforms.FastSiamTransform`: the same arguments
    with the same defaults and meaning, the same views in the same order, each made for the whole
    batch at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of ``K + 1`` float
    tensors ``(B, 3, input_size, input_size)``, normalised, on the input's device.
    """

    per_sample_class = FastSiamTransform
