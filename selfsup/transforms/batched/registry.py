"""Registry of the batched method transforms, keyed by the same names as the per-sample ones."""

from __future__ import annotations

from typing import Any

from selfsup.transforms.batched.byol_transforms import (
    BarlowTwinsBatchTransform,
    BYOLBatchTransform,
    TiCoBatchTransform,
)
from selfsup.transforms.batched.multi_crop_transforms import (
    DINOBatchTransform,
    MSNBatchTransform,
    SMoGBatchTransform,
    SwaVBatchTransform,
)
from selfsup.transforms.batched.multi_view_transform import BatchMultiViewTransform
from selfsup.transforms.batched.pair_transforms import (
    FastSiamBatchTransform,
    MoCoV1BatchTransform,
    MoCoV2BatchTransform,
    SimCLRBatchTransform,
    SimSiamBatchTransform,
    VICRegBatchTransform,
)
from selfsup.transforms.batched.single_view_transforms import (
    MAEBatchTransform,
    PIRLBatchTransform,
)
from selfsup.utils.registry import Registry

__all__ = [
    "BATCH_TRANSFORMS",
    "create_batch_transform",
    "get_batch_transform_class",
    "list_batch_transforms",
]

#: Batched method transforms by method name; the names of ``selfsup.transforms.TRANSFORMS``.
BATCH_TRANSFORMS: Registry[type] = Registry("batch transform")

for _name, _cls in {
    "barlowtwins": BarlowTwinsBatchTransform,
    "byol": BYOLBatchTransform,
    "dino": DINOBatchTransform,
    "fastsiam": FastSiamBatchTransform,
    "mae": MAEBatchTransform,
    "moco": MoCoV2BatchTransform,
    "mocov1": MoCoV1BatchTransform,
    "mocov2": MoCoV2BatchTransform,
    "msn": MSNBatchTransform,
    "pirl": PIRLBatchTransform,
    "simclr": SimCLRBatchTransform,
    "simsiam": SimSiamBatchTransform,
    "smog": SMoGBatchTransform,
    "swav": SwaVBatchTransform,
    "tico": TiCoBatchTransform,
    "vicreg": VICRegBatchTransform,
}.items():
    BATCH_TRANSFORMS.register(_name)(_cls)


def get_batch_transform_class(name: str) -> type:
    """The batched view transform class of method ``name``; the error lists the known names."""
    return BATCH_TRANSFORMS.get(name)


def list_batch_transforms(pattern: str = "*") -> list[str]:
    """Sorted method names that have a batched transform, matching a shell-style ``pattern``."""
    return BATCH_TRANSFORMS.names(pattern)


def create_batch_transform(name: str, **kwargs: Any) -> BatchMultiViewTransform:
    """Builds method ``name``'s batched transform with keyword arguments ``kwargs``.

    Example:
        >>> views = create_batch_transform("simclr", input_size=32)(uint8_batch)  # 2 x (B, 3, 32, 32)
    """
    return get_batch_transform_class(name)(**kwargs)
