"""Registry of the per-method view transforms, keyed by the command line's method names."""

from __future__ import annotations

from typing import Any

from selfsup.transforms.barlow_twins_transform import BarlowTwinsTransform
from selfsup.transforms.byol_transform import BYOLTransform
from selfsup.transforms.dino_transform import DINOTransform
from selfsup.transforms.fast_siam_transform import FastSiamTransform
from selfsup.transforms.mae_transform import MAETransform
from selfsup.transforms.moco_transform import MoCoV1Transform, MoCoV2Transform
from selfsup.transforms.msn_transform import MSNTransform
from selfsup.transforms.pirl_transform import PIRLTransform
from selfsup.transforms.simclr_transform import SimCLRTransform
from selfsup.transforms.simsiam_transform import SimSiamTransform
from selfsup.transforms.smog_transform import SMoGTransform
from selfsup.transforms.swav_transform import SwaVTransform
from selfsup.transforms.tico_transform import TiCoTransform
from selfsup.transforms.vicreg_transform import VICRegTransform
from selfsup.utils.registry import Registry

__all__ = ["TRANSFORMS", "create_transform", "get_transform_class", "list_transforms"]

TRANSFORMS: Registry[type] = Registry("transform")

for _name, _cls in {
    "barlowtwins": BarlowTwinsTransform,
    "byol": BYOLTransform,
    "dino": DINOTransform,
    "fastsiam": FastSiamTransform,
    "mae": MAETransform,
    "moco": MoCoV2Transform,
    "mocov1": MoCoV1Transform,
    "mocov2": MoCoV2Transform,
    "msn": MSNTransform,
    "pirl": PIRLTransform,
    "simclr": SimCLRTransform,
    "simsiam": SimSiamTransform,
    "smog": SMoGTransform,
    "swav": SwaVTransform,
    "tico": TiCoTransform,
    "vicreg": VICRegTransform,
}.items():
    TRANSFORMS.register(_name)(_cls)


def get_transform_class(name: str) -> type:
    """The view transform class of method ``name``; the error lists the known names."""
    return TRANSFORMS.get(name)


def list_transforms(pattern: str = "*") -> list[str]:
    """Sorted method names that have a view transform, matching a shell-style ``pattern``."""
    return TRANSFORMS.names(pattern)


def create_transform(name: str, **kwargs: Any):
    """Builds method ``name``'s view transform with keyword arguments ``kwargs``."""
    return get_transform_class(name)(**kwargs)
