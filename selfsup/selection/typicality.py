"""TypiClust: the most typical sample of the largest uncovered clusters (Hacohen et al. 2022)."""

from __future__ import annotations

import torch
from torch import Tensor

from selfsup.selection._geometry import kmeans, knn
from selfsup.selection.base import SELECTION_STRATEGIES, SelectionStrategy, StrategyOutput

__all__ = ["TypicalityStrategy", "typicality"]


def typicality(x: Tensor, k: int = 20) -> Tensor:
    """Typicality of every row: ``1 / mean distance to its k nearest other rows``.

    Hacohen, Dekel and Weinshall, "Active Learning on a Budget", ICML 2022, Eq. 1 (``k = 20``,
    Sec. 4). ``k`` is capped at ``N - 1``; a lone row has typicality 0. The neighbours come from
    :func:`~selfsup.selection._geometry.knn` (faiss when installed and ``x`` is CPU float32,
    else torch; both exact).

    Args:
        x: Points `(N, D)`.
        k: Neighbours.

    Returns:
        `(N,)` typicality, same dtype as ``x``.
    """
    k = min(k, len(x) - 1)
    if k < 1:
        return torch.zeros(len(x), dtype=x.dtype, device=x.device)
    dist, _ = knn(x, x, k, exclude_self=True)
    return 1.0 / (dist.mean(1) + 1e-8)


@SELECTION_STRATEGIES.register("typicality")
class TypicalityStrategy(SelectionStrategy):
    """TypiClust (Hacohen et al., ICML 2022, Sec. 4, "TPC_RP"), for small label budgets.

    k-means splits the samples into ``min(L + n, max_clusters)`` clusters (``L`` already labeled;
    500 is the authors' cap). Clusters are visited by fewest labeled members, then largest size,
    round robin; each visit takes the cluster's most typical not yet chosen member (typicality
    within the cluster, k=20 neighbours, at most half the cluster's size as in the authors'
    code). Deviation: typicality is computed once per cluster rather than after every pick, so
    a cluster visited twice gives its second most typical member. Score: the typicality.

    Args:
        metric: ``"cosine"`` or ``"l2"``.
        max_clusters: Cap on the number of clusters (paper: 500).
        knn_k: Neighbours for typicality (paper: 20).
    """

    def __init__(self, *, metric: str = "cosine", max_clusters: int = 500, knn_k: int = 20) -> None:
        super().__init__(metric=metric)
        for name, value in (("max_clusters", max_clusters), ("knn_k", knn_k)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.max_clusters = max_clusters
        self.knn_k = knn_k

    def select(
        self,
        x: Tensor,
        n: int | None,
        *,
        eligible: Tensor,
        initial: Tensor,
        generator: torch.Generator | None = None,
    ) -> StrategyOutput:
        """Runs TypiClust; see :meth:`SelectionStrategy.select`."""
        if n is None:
            raise ValueError("the typicality strategy needs a budget: n or fraction")
        pool_mask = eligible.clone()
        pool_mask[initial] = True
        pool = torch.nonzero(pool_mask).squeeze(1)
        k = max(1, min(len(initial) + n, self.max_clusters, len(pool)))
        # Without labeled or removed rows the pool is all of x: no copy.
        _, cluster, _ = kmeans(x if len(pool) == len(x) else x[pool], k, generator=generator)
        labeled = torch.zeros(k, dtype=torch.long, device=x.device)
        is_initial = ~eligible[pool]
        labeled.index_add_(0, cluster[is_initial], torch.ones_like(cluster[is_initial]))
        sizes = torch.bincount(cluster, minlength=k)
        # Fewest labeled first, then largest (stable sort on size, then on labeled count).
        by_size = torch.argsort(sizes, descending=True, stable=True)
        visit = by_size[torch.argsort(labeled[by_size], stable=True)]
        queues: list[tuple[Tensor, Tensor]] = []
        for c in visit.tolist():
            members = pool[(cluster == c) & ~is_initial]
            if len(members) == 0:
                continue
            typ = typicality(x[members], min(self.knn_k, max(1, len(members) // 2)))
            rank = torch.argsort(typ, descending=True, stable=True)
            queues.append((members[rank], typ[rank]))
        picks, scores = [], []
        cursor = [0] * len(queues)
        while len(picks) < n:
            for q, (members, typ) in enumerate(queues):
                if len(picks) == n:
                    break
                if cursor[q] < len(members):
                    picks.append(members[cursor[q]])
                    scores.append(typ[cursor[q]])
                    cursor[q] += 1
        return StrategyOutput(torch.stack(picks), torch.stack(scores).double())
