"""Batched MAE and PIRL transforms: one image view (PIRL adds jigsaw patches)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from selfsup.transforms.batched.multi_view_transform import BatchMultiViewTransform, batch_views_of
from selfsup.transforms.mae_transform import MAETransform
from selfsup.transforms.pirl_transform import PIRLTransform
from selfsup.transforms.utils import IMAGENET_NORMALIZE

__all__ = ["MAEBatchTransform", "PIRLBatchTransform"]


class MAEBatchTransform(BatchMultiViewTransform):
    """MAE's single view of every image of a batch: bicubic crop and flip only (He et al., 2022, Appendix A.1).

    The batched counterpart of :class:`~selfsup.transforms.MAETransform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of one float tensor
    ``(B, 3, input_size, input_size)``, normalised, on the input's device.
    """

    def __init__(
        self,
        *,
        input_size: int | Sequence[int] = 224,
        min_scale: float = 0.2,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(batch_views_of(MAETransform, locals()))


class PIRLBatchTransform(BatchMultiViewTransform):
    """PIRL's image view and shuffled jigsaw patches of every image of a batch (Misra & van der Maaten, 2020).

    The batched counterpart of :class:`~selfsup.transforms.PIRLTransform`: the same arguments with
    the same defaults and meaning, the same views in the same order, each made for the whole batch
    at once with independent random parameters per sample (see :class:`BatchViewTransform`).

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any device
    (e.g. from :class:`DecodeResize` in the DataLoader workers). Output: list of ``[views,
    patches]``: views ``(B, 3, input_size, input_size)`` and patches ``(B, n_grid ** 2, 3, p, p)``
    with ``p = input_size // n_grid``, normalised, on the input's device.
    """

    def __init__(
        self,
        *,
        input_size: int = 64,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.4,
        cj_hue: float = 0.4,
        min_scale: float = 0.08,
        random_gray_scale: float = 0.2,
        hf_prob: float = 0.5,
        n_grid: int = 3,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(batch_views_of(PIRLTransform, locals()))
