"""Batched asymmetric view pairs: BYOL and the methods that reuse its augmentations."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from torch import Tensor

from selfsup.transforms.barlow_twins_transform import BarlowTwinsTransform
from selfsup.transforms.batched.multi_view_transform import BatchMultiViewTransform, batch_views_of
from selfsup.transforms.byol_transform import BYOLTransform
from selfsup.transforms.tico_transform import TiCoTransform
from selfsup.transforms.utils import IMAGENET_NORMALIZE

__all__ = ["BYOLBatchTransform", "BarlowTwinsBatchTransform", "TiCoBatchTransform"]


class BYOLBatchTransform(BatchMultiViewTransform):
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

    def __init__(
        self,
        *,
        view_1_transform: Callable[[Any], Tensor] | None = None,
        view_2_transform: Callable[[Any], Tensor] | None = None,
        input_size: int | Sequence[int] = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.2,
        cj_hue: float = 0.1,
        min_scale: float = 0.08,
        random_gray_scale: float = 0.2,
        gaussian_blur: Sequence[float] = (1.0, 0.1),
        solarization_prob: Sequence[float] = (0.0, 0.2),
        sigmas: tuple[float, float] = (0.1, 2.0),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(batch_views_of(BYOLTransform, locals()))


class BarlowTwinsBatchTransform(BatchMultiViewTransform):
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

    def __init__(
        self,
        *,
        view_1_transform: Callable[[Any], Tensor] | None = None,
        view_2_transform: Callable[[Any], Tensor] | None = None,
        input_size: int | Sequence[int] = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.2,
        cj_hue: float = 0.1,
        min_scale: float = 0.08,
        random_gray_scale: float = 0.2,
        gaussian_blur: Sequence[float] = (1.0, 0.1),
        solarization_prob: Sequence[float] = (0.0, 0.2),
        sigmas: tuple[float, float] = (0.1, 2.0),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(batch_views_of(BarlowTwinsTransform, locals()))


class TiCoBatchTransform(BatchMultiViewTransform):
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

    def __init__(
        self,
        *,
        view_1_transform: Callable[[Any], Tensor] | None = None,
        view_2_transform: Callable[[Any], Tensor] | None = None,
        input_size: int | Sequence[int] = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.2,
        cj_hue: float = 0.1,
        min_scale: float = 0.08,
        random_gray_scale: float = 0.2,
        gaussian_blur: Sequence[float] = (1.0, 0.1),
        solarization_prob: Sequence[float] = (0.0, 0.2),
        sigmas: tuple[float, float] = (0.1, 2.0),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(batch_views_of(TiCoTransform, locals()))
