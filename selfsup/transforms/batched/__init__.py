"""Batched, on-device augmentation: all views of a whole batch at once on the training device.

DataLoader workers only decode and resize each image to a uint8 tensor (:class:`DecodeResize`);
the default collate stacks them into ``(B, 3, S, S)``; in the training process a batched method
transform (``create_batch_transform("simclr", input_size=224)``) moves nothing but that uint8
batch to the device and makes every view there, with independent random parameters per sample.
Every ``<Method>Transform`` of :mod:`selfsup.transforms` has a ``<Method>BatchTransform`` with the
same arguments and defaults. The ops live in :mod:`selfsup.transforms.batched.functional`.

Example:
    >>> transform = SimCLRBatchTransform(input_size=32)
    >>> x0, x1 = transform(uint8_batch.to("cuda"))  # two (B, 3, 32, 32) float batches
"""

from __future__ import annotations

from selfsup.transforms.batched import functional
from selfsup.transforms.batched.byol_transforms import (
    BarlowTwinsBatchTransform,
    BYOLBatchTransform,
    TiCoBatchTransform,
)
from selfsup.transforms.batched.decode_resize import DecodeResize
from selfsup.transforms.batched.jigsaw import BatchJigsaw
from selfsup.transforms.batched.multi_crop_transforms import (
    DINOBatchTransform,
    MSNBatchTransform,
    SMoGBatchTransform,
    SwaVBatchTransform,
)
from selfsup.transforms.batched.multi_view_transform import (
    BatchMethodTransform,
    BatchMultiViewTransform,
    batch_views_of,
)
from selfsup.transforms.batched.pair_transforms import (
    FastSiamBatchTransform,
    MoCoV1BatchTransform,
    MoCoV2BatchTransform,
    SimCLRBatchTransform,
    SimSiamBatchTransform,
    VICRegBatchTransform,
)
from selfsup.transforms.batched.registry import (
    BATCH_TRANSFORMS,
    create_batch_transform,
    get_batch_transform_class,
    list_batch_transforms,
)
from selfsup.transforms.batched.single_view_transforms import (
    MAEBatchTransform,
    PIRLBatchTransform,
)
from selfsup.transforms.batched.view_transform import BatchViewTransform, check_batch

__all__ = [
    "BATCH_TRANSFORMS",
    "BYOLBatchTransform",
    "BarlowTwinsBatchTransform",
    "BatchJigsaw",
    "BatchMethodTransform",
    "BatchMultiViewTransform",
    "BatchViewTransform",
    "DINOBatchTransform",
    "DecodeResize",
    "FastSiamBatchTransform",
    "MAEBatchTransform",
    "MSNBatchTransform",
    "MoCoV1BatchTransform",
    "MoCoV2BatchTransform",
    "PIRLBatchTransform",
    "SMoGBatchTransform",
    "SimCLRBatchTransform",
    "SimSiamBatchTransform",
    "SwaVBatchTransform",
    "TiCoBatchTransform",
    "VICRegBatchTransform",
    "batch_views_of",
    "check_batch",
    "create_batch_transform",
    "functional",
    "get_batch_transform_class",
    "list_batch_transforms",
]
