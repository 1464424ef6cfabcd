"""Weighted k-nearest-neighbour classification of embeddings (Wu et al., 2018, Sec. 3.4)."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["knn_predict"]


def knn_predict(
    feature: Tensor,
    feature_bank: Tensor,
    feature_labels: Tensor,
    num_classes: int,
    knn_k: int = 200,
    knn_t: float = 0.1,
    chunk_size: int = 1024,
) -> Tensor:
    """Ranks the classes of each query by a temperature-weighted vote of its k nearest neighbours.

    Each of the ``knn_k`` most cosine-similar bank entries votes for its label with weight
    ``exp(similarity / knn_t)``; queries are processed ``chunk_size`` at a time so memory stays at
    `(chunk_size, N)`.

    Args:
        feature: L2-normalised queries `(B, D)`.
        feature_bank: L2-normalised bank, `(D, N)` (as lightly's ``knn_predict`` takes it).
        feature_labels: Labels of the bank `(N,)`, integers in ``[0, num_classes)``.
        num_classes: Number of classes.
        knn_k: Number of neighbours (clipped to N).
        knn_t: Temperature of the vote weights.
        chunk_size: Queries per chunk.

    Returns:
        Class indices `(B, num_classes)`, sorted from most to least voted: column 0 is the
        prediction.

    Raises:
        ValueError: shapes that do not match, ``knn_k < 1`` or ``knn_t <= 0``.
    """
    if feature.ndim != 2 or feature_bank.ndim != 2 or feature.shape[1] != feature_bank.shape[0]:
        raise ValueError(
            f"feature must be (B, D) and feature_bank (D, N); got {tuple(feature.shape)} and "
            f"{tuple(feature_bank.shape)}"
        )
    if feature_labels.shape != (feature_bank.shape[1],):
        raise ValueError(
            f"feature_labels must have shape ({feature_bank.shape[1]},), "
            f"got {tuple(feature_labels.shape)}"
        )
    if knn_k < 1 or knn_t <= 0:
        raise ValueError(f"knn_k must be >= 1 and knn_t > 0, got knn_k={knn_k}, knn_t={knn_t}")
    k = min(knn_k, feature_bank.shape[1])
    labels = feature_labels.to(feature.device).long()
    rankings = []
    for start in range(0, feature.shape[0], chunk_size):
        similarity = feature[start : start + chunk_size] @ feature_bank
        sim_weight, sim_index = similarity.topk(k=k, dim=-1)
        weights = (sim_weight / knn_t).exp()
        scores = torch.zeros(
            similarity.shape[0], num_classes, device=feature.device, dtype=weights.dtype
        )
        scores.scatter_add_(1, labels[sim_index], weights)
        rankings.append(scores.argsort(dim=-1, descending=True))
    return torch.cat(rankings)
