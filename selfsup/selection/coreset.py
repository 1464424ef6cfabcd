"""Coreset selection by k-center greedy (farthest-first traversal), Sener and Savarese 2018.

Each step picks the eligible point farthest from its nearest selected centre. A plain
implementation scans every point at every step (``n`` passes over the whole matrix). Here the
points are grouped by a two-level k-means into about ``N / 100`` small clusters (bookkeeping kept
in cluster order). When a centre ``c`` is added, two lower bounds skip the points whose nearest
centre cannot change: the triangle inequality ``d(x, c) >= d(c, g) - d(x, g)`` (``g`` the point's
cluster centre; whole clusters are skipped at once), then
``d(x, c)^2 >= |Px - Pc|^2 + (|rx| - |rc|)^2`` from a rank-24 projection ``P`` and the residual
norms. Exact distances are computed only for the points left. While the bounds prune little
(early steps, unstructured data), one exact pass over all points is cheaper and is used instead.
The picks are exactly those of the plain algorithm. Memory beyond ``x``: the `(N, 24)`
projection and a few `(N,)` vectors; large distance updates are one pass over ``x`` instead of a
gathered copy, so no second `(N, D)` matrix is made.
"""

from __future__ import annotations

import torch
from torch import Tensor

from selfsup.selection._geometry import fine_clusters, knn, ranges_index, to_metric
from selfsup.selection.base import SELECTION_STRATEGIES, SelectionStrategy, StrategyOutput

__all__ = ["CoresetStrategy", "k_center_greedy"]


def _segment_max(values: Tensor, segment: Tensor, num: int) -> Tensor:
    out = torch.full((num,), -torch.inf, dtype=values.dtype, device=values.device)
    return out.scatter_reduce_(0, segment, values, reduce="amax", include_self=True)


def _low_rank(
    x: Tensor, order: Tensor, sq: Tensor, dim: int, chunk_size: int, sample: int = 65536
) -> tuple[Tensor | None, Tensor, Tensor]:
    """Projection of ``x[order]`` on the top ``dim`` right singular vectors (uncentred).

    Returns ``(low (N, dim), |low|^2 (N,), |residual| (N,))`` or ``(None, ., .)`` when ``dim`` is
    not smaller than D. The projection and the residual are orthogonal, so
    ``|x|^2 = |low|^2 + |residual|^2`` and both parts give lower bounds on distances. Built in
    chunks of ``chunk_size`` rows (no second full-size temporary).
    """
    if dim >= x.shape[1] or len(x) < 4 * dim:
        return None, sq, sq
    rows = x[:: max(1, len(x) // sample)]
    _, vectors = torch.linalg.eigh(rows.T @ rows)
    basis = vectors[:, -dim:].contiguous()
    low = torch.empty(len(x), dim, dtype=x.dtype, device=x.device)
    for s in range(0, len(x), chunk_size):
        low[s : s + chunk_size] = x[order[s : s + chunk_size]] @ basis
    low_sq = low.square().sum(1)
    return low, low_sq, (sq - low_sq).clamp_min_(0).sqrt()


def _low_rank_bound(
    low: Tensor, low_sq: Tensor, rest: Tensor, c_low: Tensor, c_low_sq: Tensor, c_rest: Tensor
) -> Tensor:
    """Lower bound on squared distances to a centre: ``|Px - Pc|^2 + (|rx| - |rc|)^2``."""
    base = low_sq + (rest - c_rest).square() + c_low_sq
    return torch.addmv(base, low, c_low, alpha=-2)


def _sq_dists_to(
    x: Tensor, order: Tensor, near: Tensor, sq_s: Tensor, c: Tensor, c_sq: Tensor
) -> Tensor:
    """Squared distances from the rows ``x[order[near]]`` to ``c`` `(D,)`, as `(len(near),)`.

    Many rows: one pass over all of ``x`` (no copy); few: their rows gathered in slices of at
    most 65536 (the gathered copy stays small).
    """
    if len(near) > len(x) // 8:
        dots = (x @ c)[order[near]]
    else:
        dots = torch.cat([x[order[near[s : s + 65536]]] @ c for s in range(0, len(near), 65536)])
    return (sq_s[near] + c_sq - 2 * dots).clamp_min_(0)


def k_center_greedy(
    x: Tensor,
    n: int,
    *,
    eligible: Tensor | None = None,
    initial: Tensor | None = None,
    generator: torch.Generator | None = None,
    num_clusters: int | None = None,
    proj_dim: int = 24,
    chunk_size: int = 4096,
) -> tuple[Tensor, Tensor]:
    """Farthest-first traversal in Euclidean distance, exact, with triangle-inequality pruning.

    Args:
        x: Points `(N, D)`, float.
        n: Centres to add, ``1 <= n <= eligible.sum()``.
        eligible: `(N,)` bool, rows that may be picked (default: all).
        initial: `(L,)` int64, rows already selected (the traversal continues from them). Without
            them the first centre is an eligible row drawn with ``generator``.
        generator: Source of the first draw and of the coarse clustering's draws.
        num_clusters: Small clusters for the pruning (default ``N // 100``).
        proj_dim: Width of the low-rank copy used for a second, cheaper lower bound (skipped when
            not below D); exact distances are computed only where both bounds fail.
        chunk_size: Rows per distance chunk.

    Returns:
        ``(indices (n,) int64, distance (n,))``: the picks in order and each pick's Euclidean
        distance to its nearest centre at the moment it was picked (``inf`` for a first pick
        without ``initial``).
    """
    num = len(x)
    device = x.device
    if eligible is None:
        eligible = torch.ones(num, dtype=torch.bool, device=device)
    centres, cluster, to_centre = fine_clusters(
        x, num_clusters or max(1, num // 100), generator=generator, chunk_size=chunk_size
    )
    k = len(centres)
    order = torch.argsort(cluster, stable=True)
    sq_s = torch.cat([x[s : s + chunk_size].square().sum(1) for s in range(0, num, chunk_size)])
    sq_s = sq_s[order]
    cluster_s = cluster[order]
    to_centre_s = to_centre[order]
    sizes = torch.bincount(cluster_s, minlength=k)
    starts = torch.cumsum(sizes, 0) - sizes
    radius = _segment_max(to_centre_s, cluster_s, k)
    centre_sq = centres.square().sum(1)

    low, low_sq, rest = _low_rank(x, order, sq_s, proj_dim, chunk_size)

    # key: squared distance to the nearest centre; -1 marks rows that can never be picked.
    key = torch.where(eligible[order], torch.inf, -1.0).to(x.dtype)
    if initial is not None and len(initial) > 0:
        for s in range(0, num, chunk_size):
            open_ = key[s : s + chunk_size] >= 0
            if open_.any():
                rows = order[s : s + chunk_size][open_]
                d, _ = knn(x[rows], x[initial], 1, chunk_size=chunk_size)
                key[s : s + chunk_size][open_] = d[:, 0].square()
        key[torch.argsort(order)[initial]] = -1
    cluster_max = _segment_max(key, cluster_s, k)
    first: int | None = None
    if initial is None or len(initial) == 0:
        open_pos = torch.nonzero(key >= 0).squeeze(1)
        first = int(open_pos[torch.randint(len(open_pos), (1,), generator=generator).item()])

    picks = torch.empty(n, dtype=torch.long, device=device)
    scores = torch.empty(n, dtype=x.dtype, device=device)
    slack = 1e-6 * float(radius.max().clamp_min(1.0))
    dense_until = 0  # while the low-rank bound prunes little, scan exactly (no gathers)
    for step in range(n):
        if first is not None:
            pos, first = first, None
        else:
            best = int(torch.argmax(cluster_max))
            s = int(starts[best])
            pos = s + int(torch.argmax(key[s : s + int(sizes[best])]))
        picks[step] = pos
        scores[step] = key[pos]
        key[pos] = -1
        c, c_sq = x[order[pos]], sq_s[pos]
        to_c = (centre_sq + c_sq - 2 * (centres @ c)).clamp_min_(0).sqrt()
        touched = (to_c - radius - slack) < cluster_max.sqrt()
        touched[cluster_s[pos]] = True
        ids = torch.nonzero(touched).squeeze(1)
        in_reach = int(sizes[ids].sum())
        if in_reach > num // 4 and (low is None or step < dense_until):
            # Bounds prune little: one exact pass over all rows, no gathers.
            idx, near = None, None
            d2 = (sq_s + c_sq - 2 * (x @ c)[order]).clamp_min_(0)
            torch.minimum(key, d2, out=key)
        elif in_reach > num // 4:
            # Most rows are in reach: scan all of them with the low-rank bound only.
            idx = None
            lb = _low_rank_bound(low, low_sq, rest, low[pos], low_sq[pos], rest[pos])
            near = torch.nonzero(lb - slack < key).squeeze(1)
            if len(near) > num // 2:
                dense_until = step + 16
        else:
            idx = ranges_index(starts[ids], sizes[ids])
            bound = to_c[cluster_s[idx]] - to_centre_s[idx] - slack
            near = idx[(bound < 0) | (bound.square() < key[idx])]
            if low is not None and len(near):
                lb = _low_rank_bound(
                    low[near], low_sq[near], rest[near], low[pos], low_sq[pos], rest[pos]
                )
                near = near[lb - slack < key[near]]
        if near is not None and len(near):
            key[near] = torch.minimum(key[near], _sq_dists_to(x, order, near, sq_s, c, c_sq))
        if idx is None:
            cluster_max = _segment_max(key, cluster_s, k)
        else:
            cluster_max[ids] = -1
            cluster_max.scatter_reduce_(0, cluster_s[idx], key[idx], reduce="amax")
    scores = scores.clamp_min(0).sqrt()
    return order[picks], scores


@SELECTION_STRATEGIES.register("coreset")
class CoresetStrategy(SelectionStrategy):
    """k-center greedy coreset (Sener and Savarese, ICLR 2018, Sec. 4.1, Alg. 1).

    Greedily adds the sample farthest from every selected one, so the selection covers the
    embedding space: the largest distance from any sample to its nearest selected sample is
    within a factor 2 of the optimum. Continues from ``initial`` (an already-labeled set) when
    given. Score: the pick's distance (``1 - cos`` or L2) to its nearest centre at the moment it
    was picked (``inf`` for the very first pick without ``initial``).

    Args:
        metric: ``"cosine"`` or ``"l2"``.
        num_clusters: Small clusters used only to skip work (default ``N // 100``); the
            result does not depend on it.
    """

    def __init__(self, *, metric: str = "cosine", num_clusters: int | None = None) -> None:
        super().__init__(metric=metric)
        if num_clusters is not None and (isinstance(num_clusters, bool) or num_clusters < 1):
            raise ValueError(f"num_clusters must be a positive int or None, got {num_clusters!r}")
        self.num_clusters = num_clusters

    def select(
        self,
        x: Tensor,
        n: int | None,
        *,
        eligible: Tensor,
        initial: Tensor,
        generator: torch.Generator | None = None,
    ) -> StrategyOutput:
        """Runs :func:`k_center_greedy`; see :meth:`SelectionStrategy.select`."""
        if n is None:
            raise ValueError("the coreset strategy needs a budget: n or fraction")
        indices, dist = k_center_greedy(
            x,
            n,
            eligible=eligible,
            initial=initial,
            generator=generator,
            num_clusters=self.num_clusters,
        )
        return StrategyOutput(indices, to_metric(dist, self.metric).double())
