"""Augmentations for self-supervised learning: single random transforms, multi-view containers
and one view transform per method with lightly's published defaults.

Every transform accepts PIL images and image tensors ``(C, H, W)`` (uint8 in [0, 255] or float in
[0, 1]); the method transforms return lists of float tensors ``(3, H, W)``. Deterministic
operations live in :mod:`selfsup.transforms.functional`.
"""

from __future__ import annotations

from selfsup.transforms import batched, functional
from selfsup.transforms.barlow_twins_transform import BarlowTwinsTransform
from selfsup.transforms.byol_transform import (
    BYOLTransform,
    BYOLView1Transform,
    BYOLView2Transform,
)
from selfsup.transforms.color_jitter import RandomColorJitter
from selfsup.transforms.dino_transform import DINOTransform, DINOViewTransform
from selfsup.transforms.eval_transform import EvalTransform
from selfsup.transforms.fast_siam_transform import FastSiamTransform
from selfsup.transforms.gaussian_blur import GaussianBlur
from selfsup.transforms.jigsaw import Jigsaw
from selfsup.transforms.mae_transform import MAETransform
from selfsup.transforms.moco_transform import MoCoV1Transform, MoCoV2Transform
from selfsup.transforms.msn_transform import MSNTransform, MSNViewTransform
from selfsup.transforms.multi_crop_transform import MultiCropTransform
from selfsup.transforms.multi_view_transform import MultiViewTransform
from selfsup.transforms.pirl_transform import PIRLTransform
from selfsup.transforms.random_transform import RandomTransform
from selfsup.transforms.registry import (
    TRANSFORMS,
    create_transform,
    get_transform_class,
    list_transforms,
)
from selfsup.transforms.rotation import RandomRotate, RandomRotateDegrees, random_rotation_transform
from selfsup.transforms.simclr_transform import SimCLRTransform, SimCLRViewTransform
from selfsup.transforms.simsiam_transform import SimSiamTransform, SimSiamViewTransform
from selfsup.transforms.smog_transform import SMoGTransform, SMoGViewTransform
from selfsup.transforms.solarize import RandomSolarization
from selfsup.transforms.swav_transform import SwaVTransform, SwaVViewTransform
from selfsup.transforms.tico_transform import TiCoTransform
from selfsup.transforms.utils import IMAGENET_NORMALIZE
from selfsup.transforms.vicreg_transform import VICRegTransform, VICRegViewTransform
from selfsup.transforms.view_transform import ViewTransform

__all__ = [
    "IMAGENET_NORMALIZE",
    "TRANSFORMS",
    "BYOLTransform",
    "BYOLView1Transform",
    "BYOLView2Transform",
    "BarlowTwinsTransform",
    "DINOTransform",
    "DINOViewTransform",
    "EvalTransform",
    "FastSiamTransform",
    "GaussianBlur",
    "Jigsaw",
    "MAETransform",
    "MSNTransform",
    "MSNViewTransform",
    "MoCoV1Transform",
    "MoCoV2Transform",
    "MultiCropTransform",
    "MultiViewTransform",
    "PIRLTransform",
    "RandomColorJitter",
    "RandomRotate",
    "RandomRotateDegrees",
    "RandomSolarization",
    "RandomTransform",
    "SMoGTransform",
    "SMoGViewTransform",
    "SimCLRTransform",
    "SimCLRViewTransform",
    "SimSiamTransform",
    "SimSiamViewTransform",
    "SwaVTransform",
    "SwaVViewTransform",
    "TiCoTransform",
    "VICRegTransform",
    "VICRegViewTransform",
    "ViewTransform",
    "create_transform",
    "batched",
    "functional",
    "get_transform_class",
    "list_transforms",
    "random_rotation_transform",
]
