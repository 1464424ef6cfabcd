"""Building blocks for self-supervised models: heads, prototypes, memory banks, MAE decoder."""

from __future__ import annotations

from selfsup.models.modules.heads import (
    BarlowTwinsProjectionHead,
    BYOLPredictionHead,
    BYOLProjectionHead,
    DINOProjectionHead,
    MoCoProjectionHead,
    MSNProjectionHead,
    NNCLRPredictionHead,
    NNCLRProjectionHead,
    ProjectionHead,
    SimCLRProjectionHead,
    SimSiamPredictionHead,
    SimSiamProjectionHead,
    SMoGPredictionHead,
    SMoGProjectionHead,
    SwaVProjectionHead,
    TiCoProjectionHead,
    VICRegProjectionHead,
)
from selfsup.models.modules.mae_decoder import MAEDecoder
from selfsup.models.modules.memory_bank import MemoryBankModule, NNMemoryBankModule
from selfsup.models.modules.prototypes import SMoGPrototypes, SwaVPrototypes

__all__ = [
    "BYOLPredictionHead",
    "BYOLProjectionHead",
    "BarlowTwinsProjectionHead",
    "DINOProjectionHead",
    "MAEDecoder",
    "MSNProjectionHead",
    "MemoryBankModule",
    "MoCoProjectionHead",
    "NNCLRPredictionHead",
    "NNCLRProjectionHead",
    "NNMemoryBankModule",
    "ProjectionHead",
    "SMoGPredictionHead",
    "SMoGProjectionHead",
    "SMoGPrototypes",
    "SimCLRProjectionHead",
    "SimSiamPredictionHead",
    "SimSiamProjectionHead",
    "SwaVProjectionHead",
    "SwaVPrototypes",
    "TiCoProjectionHead",
    "VICRegProjectionHead",
]
