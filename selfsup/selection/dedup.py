"""Near-duplicate groups: connected components of the "cosine similarity >= threshold" graph."""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from torch import Tensor

from selfsup.selection._geometry import fine_clusters, ranges_index
from selfsup.selection.base import SELECTION_STRATEGIES, SelectionStrategy, StrategyOutput

__all__ = ["DedupStrategy", "group_representatives", "near_duplicate_groups"]


def _similar_pairs(
    x: Tensor, threshold: float, num_clusters: int | None, chunk_size: int
) -> tuple[Tensor, Tensor]:
    """All pairs ``i < j`` with ``x_i . x_j >= threshold`` (rows unit length), pruned by clusters.

    Two unit rows with similarity ``>= t`` are within Euclidean ``r = sqrt(2 - 2t)``, so only
    clusters whose centres are within ``r_a + r_b + r`` of each other are compared.
    """
    num = len(x)
    k = num_clusters or max(1, num // 100)
    centres, cluster, to_centre = fine_clusters(x, k, chunk_size=chunk_size)
    k = len(centres)
    order = torch.argsort(cluster, stable=True)
    xs, cluster_s = x[order], cluster[order]
    sizes = torch.bincount(cluster_s, minlength=k)
    starts = torch.cumsum(sizes, 0) - sizes
    radius = torch.zeros(k, dtype=x.dtype, device=x.device)
    radius.scatter_reduce_(0, cluster_s, to_centre[order], reduce="amax")
    reach = math.sqrt(max(0.0, 2.0 - 2.0 * threshold)) + 1e-6
    firsts, seconds = [], []
    for a in range(k):
        if sizes[a] == 0:
            continue
        gap = torch.cdist(centres[a : a + 1], centres).squeeze(0)
        near = (gap <= radius[a] + radius + reach) & (torch.arange(k, device=x.device) >= a)
        bank = ranges_index(starts[near], sizes[near])
        rows = torch.arange(int(starts[a]), int(starts[a] + sizes[a]), device=x.device)
        for s in range(0, len(bank), chunk_size):
            cols = bank[s : s + chunk_size]
            hit = torch.nonzero((xs[rows] @ xs[cols].T) >= threshold)
            i, j = _spanning_edges(rows[hit[:, 0]], cols[hit[:, 1]])
            firsts.append(order[i])
            seconds.append(order[j])
    return torch.cat(firsts), torch.cat(seconds)


def _spanning_edges(i: Tensor, j: Tensor) -> tuple[Tensor, Tensor]:
    """Fewer edges with the same connected components: each component as a star.

    A block of similar pairs can hold far more edges than nodes; only connectivity matters, so
    each component of the block's graph becomes edges from its smallest node to the others.
    """
    keep = i != j
    i, j = i[keep], j[keep]
    if len(i) == 0:
        return i, j
    nodes, local = torch.unique(torch.cat([i, j]), return_inverse=True)
    if len(i) <= len(nodes):
        return i, j
    local = local.cpu()
    graph = coo_matrix(
        (np.ones(len(i), dtype=np.int8), (local[: len(i)].numpy(), local[len(i) :].numpy())),
        shape=(len(nodes), len(nodes)),
    )
    _, labels = connected_components(graph, directed=False)
    labels = torch.as_tensor(labels, dtype=torch.long)
    root = torch.full((int(labels.max()) + 1,), len(nodes), dtype=torch.long)
    root.scatter_reduce_(0, labels, torch.arange(len(nodes)), reduce="amin")
    star = root[labels]
    member = torch.nonzero(star != torch.arange(len(nodes))).squeeze(1)
    return nodes[star[member].to(nodes.device)], nodes[member.to(nodes.device)]


def near_duplicate_groups(
    x: Tensor, threshold: float, *, num_clusters: int | None = None, chunk_size: int = 4096
) -> Tensor:
    """Group id of every row: rows linked by a chain of cosine similarities ``>= threshold``.

    Args:
        x: Embeddings `(N, D)`, any scale (rows are L2-normalised here).
        threshold: Cosine similarity in ``(-1, 1]``; a pair at exactly the threshold is linked.
        num_clusters: Clusters used only to skip comparisons (default ``N // 1000``).
        chunk_size: Columns per similarity block.

    Returns:
        `(N,)` int64 group ids ``0..G-1``, numbered in order of each group's first row.
    """
    x = torch.nn.functional.normalize(x if x.is_floating_point() else x.float(), dim=1)
    num = len(x)
    i, j = _similar_pairs(x, threshold, num_clusters, chunk_size)
    graph = coo_matrix(
        (np.ones(len(i), dtype=np.int8), (i.cpu().numpy(), j.cpu().numpy())), shape=(num, num)
    )
    _, labels = connected_components(graph, directed=False)
    labels = torch.as_tensor(labels, dtype=torch.long, device=x.device)
    # Renumber by first occurrence.
    first = torch.full((int(labels.max()) + 1,), num, dtype=torch.long, device=x.device)
    first.scatter_reduce_(0, labels, torch.arange(num, device=x.device), reduce="amin")
    rank = torch.empty_like(first)
    rank[torch.argsort(first)] = torch.arange(len(first), device=x.device)
    return rank[labels]


def group_representatives(x: Tensor, groups: Tensor) -> Tensor:
    """For each group ``0..G-1``, the row closest (Euclidean) to the group's mean; ties: lowest.

    Args:
        x: `(N, D)` float.
        groups: `(N,)` int64 ids in ``0..G-1``.

    Returns:
        `(G,)` int64 row indices.
    """
    num_groups = int(groups.max()) + 1
    sums = torch.zeros(num_groups, x.shape[1], dtype=x.dtype, device=x.device)
    sums.index_add_(0, groups, x)
    counts = torch.bincount(groups, minlength=num_groups).to(x.dtype)
    dist = (x - (sums / counts[:, None])[groups]).square().sum(1)
    best = torch.full((num_groups,), torch.inf, dtype=x.dtype, device=x.device)
    best.scatter_reduce_(0, groups, dist, reduce="amin")
    rows = torch.arange(len(x), device=x.device)
    candidate = torch.where(dist <= best[groups], rows, len(x))
    rep = torch.full((num_groups,), len(x), dtype=torch.long, device=x.device)
    return rep.scatter_reduce_(0, groups, candidate, reduce="amin")


@SELECTION_STRATEGIES.register("dedup")
class DedupStrategy(SelectionStrategy):
    """Keeps one sample per group of near-duplicates (cosine similarity ``>= threshold``).

    Groups are the connected components of the similarity graph; each group keeps the member
    closest to the group's mean. Without a budget every group's representative is kept; with
    ``n`` the representatives of the ``n`` largest groups (ties: first row). A group holding an
    already-labeled (``initial``) sample keeps nothing. Score: the size of the group.

    Args:
        metric: Unused by the grouping (always cosine); kept for a uniform interface.
        threshold: Cosine-similarity threshold in ``(-1, 1]`` (default 0.95).
    """

    budget_optional = True

    def __init__(self, *, metric: str = "cosine", threshold: float = 0.95) -> None:
        super().__init__(metric=metric)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise TypeError(f"threshold must be a number, got {threshold!r}")
        if not -1.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (-1, 1], got {threshold!r}")
        self.threshold = float(threshold)

    def select(
        self,
        x: Tensor,
        n: int | None,
        *,
        eligible: Tensor,
        initial: Tensor,
        generator: torch.Generator | None = None,
    ) -> StrategyOutput:
        """Groups, then keeps representatives; see :meth:`SelectionStrategy.select`."""
        taking_part = eligible.clone()
        taking_part[initial] = True
        rows = torch.nonzero(taking_part).squeeze(1)
        local = near_duplicate_groups(x[rows], self.threshold)
        groups = torch.full((len(x),), -1, dtype=torch.long, device=x.device)
        groups[rows] = local
        reps = rows[group_representatives(torch.nn.functional.normalize(x[rows], dim=1), local)]
        sizes = torch.bincount(local)
        covered = torch.zeros(len(sizes), dtype=torch.bool, device=x.device)
        covered[groups[initial]] = True
        open_groups = torch.nonzero(~covered).squeeze(1)
        by_size = open_groups[torch.argsort(sizes[open_groups], descending=True, stable=True)]
        if n is not None:
            if n > len(by_size):
                raise ValueError(
                    f"n={n} exceeds the {len(by_size)} groups of near-duplicates at "
                    f"threshold {self.threshold}"
                )
            by_size = by_size[:n]
        return StrategyOutput(reps[by_size], sizes[by_size].double(), groups)
