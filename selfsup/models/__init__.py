"""Backbones, heads, memory banks and model utilities."""

from __future__ import annotations

from selfsup.models.backbones import (
    BACKBONES,
    FlattenedBackbone,
    create_backbone,
    get_backbone,
    list_backbones,
)
from selfsup.models.batchnorm import SplitBatchNorm
from selfsup.models.resnet import ResNet, ResNetGenerator
from selfsup.models.vision_transformer import (
    MaskedVisionTransformer,
    sincos_positional_embedding_2d,
)

__all__ = [
    "BACKBONES",
    "FlattenedBackbone",
    "MaskedVisionTransformer",
    "ResNet",
    "ResNetGenerator",
    "SplitBatchNorm",
    "create_backbone",
    "get_backbone",
    "list_backbones",
    "sincos_positional_embedding_2d",
]
