"""Self-supervised losses: one module per loss family, pure functions of tensors.

Example:
    >>> from selfsup.loss import NTXentLoss
    >>> criterion = NTXentLoss(memory_bank_size=4096)
    >>> loss = criterion(y0, y1)
"""

from __future__ import annotations

from selfsup.loss.barlow_twins_loss import BarlowTwinsLoss
from selfsup.loss.dcl_loss import DCLLoss, DCLWLoss, negative_mises_fisher_weights
from selfsup.loss.dino_loss import DINOLoss
from selfsup.loss.hypersphere_loss import HypersphereLoss
from selfsup.loss.koleo_loss import KoLeoLoss
from selfsup.loss.memory_bank import MemoryBankModule
from selfsup.loss.mmcr_loss import MMCRLoss
from selfsup.loss.msn_loss import MSNLoss, power_law_distribution
from selfsup.loss.negative_cosine_similarity import NegativeCosineSimilarity
from selfsup.loss.ntx_ent_loss import NTXentLoss
from selfsup.loss.sinkhorn import sinkhorn_knopp
from selfsup.loss.swav_loss import SwaVLoss, sinkhorn
from selfsup.loss.sym_neg_cos_sim_loss import SymNegCosineSimilarityLoss
from selfsup.loss.tico_loss import TiCoLoss
from selfsup.loss.vicreg_loss import VICRegLoss
from selfsup.loss.wmse_loss import WMSELoss, whiten

__all__ = [
    "BarlowTwinsLoss",
    "DCLLoss",
    "DCLWLoss",
    "DINOLoss",
    "HypersphereLoss",
    "KoLeoLoss",
    "MMCRLoss",
    "MSNLoss",
    "MemoryBankModule",
    "NTXentLoss",
    "NegativeCosineSimilarity",
    "SwaVLoss",
    "SymNegCosineSimilarityLoss",
    "TiCoLoss",
    "VICRegLoss",
    "WMSELoss",
    "negative_mises_fisher_weights",
    "power_law_distribution",
    "sinkhorn",
    "sinkhorn_knopp",
    "whiten",
]
