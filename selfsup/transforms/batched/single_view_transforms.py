"""Batched MAE and PIRL transforms: one image view (PIRL adds jigsaw patches)."""

from __future__ import annotations

from selfsup.transforms.batched.multi_view_transform import BatchMethodTransform
from selfsup.transforms.mae_transform import MAETransform
from selfsup.transforms.pirl_transform import PIRLTransform

__all__ = ["MAEBatchTransform", "PIRLBatchTransform"]


class MAEBatchTransform(BatchMethodTransform):
    """MAE's single view of every image of a batch: bicubic crop and flip only (He et al., 2022, Appendix A.1).

    The batched counterpart of :class:`~selfsup.transforms.MAETransform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of one float tensor
    ``(B, 3, input_size, input_size)``, normalised, on the input's device.
    """

    per_sample_class = MAETransform


class PIRLBatchTransform(BatchMethodTransform):
    """PIRL's image view and shuffled jigsaw patches of every image of a batch (Misra & van der Maaten, 2020).

    The batched counterpart of :class:`~selfsup.transforms.PIRLTransform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of ``[views,
    patches]``: views ``(B, 3, input_size, input_size)`` and patches ``(B, n_grid ** 2, 3, p, p)``
    with ``p = input_size // n_grid``, normalised, on the input's device.
    """

    per_sample_class = PIRLTransform
