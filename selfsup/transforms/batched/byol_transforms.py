"""Batched asymmetric view pairs: BYOL and the methods that reuse its augmentations."""

from __future__ import annotations

from selfsup.transforms.barlow_twins_transform import BarlowTwinsTransform
from selfsup.transforms.batched.multi_view_transform import BatchMethodTransform
from selfsup.transforms.byol_transform import BYOLTransform
from selfsup.transforms.tico_transform import TiCoTransform

__all__ = ["BYOLBatchTransform", "BarlowTwinsBatchTransform", "TiCoBatchTransform"]


class BYOLBatchTransform(BatchMethodTransform):
    """BYOL's two asymmetric views of every image of a batch (Grill et al., 2020, Table 6).

    The batched counterpart of :class:`~selfsup.transforms.BYOLTransform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of 2 float tensors
    ``(B, 3, input_size, input_size)``, normalised, on the input's device.

    ``view_1_transform`` / ``view_2_transform``: a per-sample ``ViewTransform`` is converted to its
    batched equivalent; any other callable must take the batch.
    """

    per_sample_class = BYOLTransform


class BarlowTwinsBatchTransform(BatchMethodTransform):
    """Barlow Twins' two views (BYOL's augmentations) of every image of a batch (Zbontar et al., 2021).

    The batched counterpart of :class:`~selfsup.transforms.BarlowTwinsTransform`: the same arguments
    with the same defaults and meaning, the same views in the same order, each made for the whole
    batch at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of 2 float tensors
    ``(B, 3, input_size, input_size)``, normalised, on the input's device.

    ``view_1_transform`` / ``view_2_transform``: a per-sample ``ViewTransform`` is converted to its
    batched equivalent; any other callable must take the batch.
    """

    per_sample_class = BarlowTwinsTransform


class TiCoBatchTransform(BatchMethodTransform):
    """TiCo's two views (BYOL's augmentations) of every image of a batch (Zhu et al., 2022).

    The batched counterpart of :class:`~selfsup.transforms.TiCoTransform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of 2 float tensors
    ``(B, 3, input_size, input_size)``, normalised, on the input's device.

    ``view_1_transform`` / ``view_2_transform``: a per-sample ``ViewTransform`` is converted to its
    batched equivalent; any other callable must take the batch.
    """

    per_sample_class = TiCoTransform
