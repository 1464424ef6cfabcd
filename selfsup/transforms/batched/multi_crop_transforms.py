"""Batched multi-crop method transforms: DINO, SwaV, MSN and SMoG."""

from __future__ import annotations

from selfsup.transforms.batched.multi_view_transform import BatchMethodTransform
from selfsup.transforms.dino_transform import DINOTransform
from selfsup.transforms.msn_transform import MSNTransform
from selfsup.transforms.smog_transform import SMoGTransform
from selfsup.transforms.swav_transform import SwaVTransform

__all__ = ["DINOBatchTransform", "MSNBatchTransform", "SMoGBatchTransform", "SwaVBatchTransform"]


class DINOBatchTransform(BatchMethodTransform):
    """DINO's 2 global and ``n_local_views`` local crops of every image of a batch (Caron et al., 2021).

    The batched counterpart of :class:`~selfsup.transforms.DINOTransform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of ``2 +
    n_local_views`` float tensors: ``(B, 3, global_crop_size, global_crop_size)`` twice, then ``(B,
    3, local_crop_size, local_crop_size)``, normalised, on the input's device.
    """

    per_sample_class = DINOTransform


class SwaVBatchTransform(BatchMethodTransform):
    """SwaV's multi-crop views of every image of a batch (Caron et al., 2020, Section 4).

    The batched counterpart of :class:`~selfsup.transforms.SwaVTransform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of
    ``sum(crop_counts)`` float tensors, group by group, ``(B, 3, crop_sizes[i], crop_sizes[i])``,
    normalised, on the input's device.
    """

    per_sample_class = SwaVTransform


class MSNBatchTransform(BatchMethodTransform):
    """MSN's random and focal views of every image of a batch (Assran et al., 2022).

    The batched counterpart of :class:`~selfsup.transforms.MSNTransform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of ``random_views +
    focal_views`` float tensors, ``(B, 3, random_size, random_size)`` first, then ``(B, 3,
    focal_size, focal_size)``, normalised, on the input's device.
    """

    per_sample_class = MSNTransform


class SMoGBatchTransform(BatchMethodTransform):
    """SMoG's groups of crops of every image of a batch (Pang et al., 2022).

    The batched counterpart of :class:`~selfsup.transforms.SMoGTransform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of
    ``sum(crop_counts)`` float tensors, group by group, normalised, on the input's device.
    """

    per_sample_class = SMoGTransform
