"""Near-duplicate groups: connected components of the "cosine similarity >= threshold" graph.

Exact, without an `(N, N)` matrix and without storing the edges. The unit rows are grouped into
small clusters (two-level k-means). Two rows can only be linked if
``angle(u_a, u_b) - theta_a - theta_b <= acos(threshold)``, where ``u`` is a cluster's mean
direction and ``theta`` the largest angle of a member from it (the triangle inequality for angles
on the sphere), so only cluster pairs passing that bound are compared, as blocks of matrix
products; within a pair, columns farther than ``theta_a + acos(threshold)`` from ``u_a`` are
dropped. Components are kept in a union-find forest and every block's links are merged at once;
the rows of a cluster's most common component are only compared with rows of other components,
so on clustered data most pairs are joined early and skipped from then on. Before the exact
products, each block's columns are screened with a cheap upper bound on the similarity, ``q_i . q_j >= x_i . x_j`` for ``q = [P x, |x - P x|]`` (``P``
a rank-24 projection). Memory beyond ``x``: the `(N, 25)` bound copy and a few `(N,)` vectors.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from torch import Tensor

from selfsup.selection._geometry import fine_clusters, prepare, ranges_index
from selfsup.selection.base import SELECTION_STRATEGIES, SelectionStrategy, StrategyOutput

logger = logging.getLogger(__name__)

__all__ = ["DedupStrategy", "group_representatives", "near_duplicate_groups"]

# Radians added to every angle bound: covers float32 rounding of member-to-centre angles.
_ANGLE_SLACK = 2e-3
# Width of the low-rank copy whose dot products bound the similarities from above, and the
# margin (in cosine) that covers its rounding.
_BOUND_DIM = 24
_BOUND_SLACK = 1e-3


class _Forest:
    """Union-find over ``0..N-1`` with vectorised find and bulk union of edge lists."""

    def __init__(self, num: int, device: torch.device) -> None:
        self.parent = torch.arange(num, device=device)

    def find(self, nodes: Tensor) -> Tensor:
        """Root of every node in ``nodes`` `(M,)` int64."""
        root = self.parent[nodes]
        while True:
            up = self.parent[root]
            if torch.equal(up, root):
                return root
            root = up

    def union(self, first: Tensor, second: Tensor) -> None:
        """Links ``first[e]`` with ``second[e]`` for every edge ``e``; each merged set's root is
        its smallest old root."""
        ri, rj = self.find(first), self.find(second)
        keep = ri != rj
        if not bool(keep.any()):
            return
        ri, rj = ri[keep], rj[keep]
        nodes, local = torch.unique(torch.cat([ri, rj]), return_inverse=True)
        local = local.cpu().numpy()
        graph = coo_matrix(
            (np.ones(len(ri), dtype=np.int8), (local[: len(ri)], local[len(ri) :])),
            shape=(len(nodes), len(nodes)),
        )
        _, labels = connected_components(graph, directed=False)
        labels = torch.as_tensor(labels, dtype=torch.long, device=nodes.device)
        root = torch.full((int(labels.max()) + 1,), len(self.parent), device=nodes.device)
        root.scatter_reduce_(0, labels, nodes, reduce="amin")
        self.parent[nodes] = root[labels]

    def compress(self) -> Tensor:
        """Points every node straight at its root; returns the roots `(N,)`."""
        while True:
            up = self.parent[self.parent]
            if torch.equal(up, self.parent):
                return self.parent
            self.parent = up


def _linked(a: Tensor, b: Tensor, threshold: float) -> Tensor:
    """`(A, B)` bool: ``a_i . b_j >= threshold`` for rows of ``a`` `(A, D)` and ``b`` `(B, D)`.

    The matrix product decides, except where it lies within its rounding error (``D eps``) of
    the threshold: those pairs are recomputed in float64, so the answer does not depend on how
    the rows were blocked.
    """
    sim = a @ b.T
    linked = sim >= threshold
    unsure = torch.nonzero((sim - threshold).abs_() <= a.shape[1] * torch.finfo(a.dtype).eps)
    if len(unsure):
        i, j = unsure[:, 0], unsure[:, 1]
        linked[i, j] = (a[i].double() * b[j].double()).sum(1) >= threshold
    return linked


def _block_components(linked: Tensor) -> Tensor:
    """Smallest linked index of every row's component in a symmetric `(M, M)` bool block."""
    label = torch.arange(len(linked), device=linked.device)
    big = torch.full_like(linked, len(linked), dtype=torch.long)
    while True:
        new = torch.minimum(label, torch.where(linked, label[None, :], big).amin(1))
        new = torch.minimum(new, new[new])
        if torch.equal(new, label):
            return label
        label = new


def _chord_angle(sq_chord: Tensor) -> Tensor:
    """Angle between unit vectors from their squared distance: ``2 asin(|a - b| / 2)``."""
    return 2 * torch.asin((sq_chord.clamp_min(0).sqrt() / 2).clamp_max(1))


def _cluster_geometry(
    x: Tensor, order: Tensor, cluster_s: Tensor, centres: Tensor, chunk_size: int
) -> tuple[Tensor, Tensor]:
    """Unit mean directions `(K, D)` float64 and angular radii `(K,)` float64 (``pi`` where a
    centre or a member is the zero vector, i.e. no pruning)."""
    k = len(centres)
    c = centres.double()
    c_norm = c.norm(dim=1)
    units = c / c_norm.clamp_min(1e-300)[:, None]
    theta = torch.zeros(k, dtype=torch.float64, device=x.device)
    for s in range(0, len(order), chunk_size):
        rows = x[order[s : s + chunk_size]].double()
        ids = cluster_s[s : s + chunk_size]
        ang = _chord_angle((rows - units[ids]).square().sum(1))
        ang[rows.square().sum(1) == 0] = math.pi
        theta.scatter_reduce_(0, ids, ang, reduce="amax")
    theta[c_norm == 0] = math.pi
    return units, theta


def _bound_basis(x: Tensor, dim: int) -> Tensor | None:
    """Top ``dim`` right singular vectors `(D, dim)` of a row sample (uncentred); ``None`` when
    ``D <= 2 dim`` (no room to shrink)."""
    if x.shape[1] <= 2 * dim:
        return None
    rows = x[:: max(1, len(x) // 65536)]
    _, vectors = torch.linalg.eigh(rows.T @ rows)
    return vectors[:, -dim:].contiguous()


def _bound_rows(rows: Tensor, basis: Tensor | None) -> Tensor:
    """``q = [P x, |x - P x|]`` `(M, dim + 1)` for rows `(M, D)` (``q = x`` without a basis).

    By Cauchy-Schwarz on the residuals, ``q_i . q_j >= x_i . x_j``: a cheap upper bound on the
    cosine similarity of unit rows.
    """
    if basis is None:
        return rows
    low = rows @ basis
    return torch.cat([low, (rows - low @ basis.T).norm(dim=1, keepdim=True)], 1)


def _unit_groups(x: Tensor, threshold: float, num_clusters: int | None, chunk_size: int) -> Tensor:
    """Component root (a row index) of every unit row `(N,)` int64; see the module docstring."""
    num = len(x)
    k = num_clusters or max(1, num // 100)
    centres, cluster, _ = fine_clusters(x, k, chunk_size=chunk_size)
    k = len(centres)
    order = torch.argsort(cluster, stable=True)
    cluster_s = cluster[order]
    sizes = torch.bincount(cluster_s, minlength=k)
    starts = torch.cumsum(sizes, 0) - sizes
    units, theta = _cluster_geometry(x, order, cluster_s, centres, chunk_size)
    reach = math.acos(max(-1.0, min(1.0, threshold))) + _ANGLE_SLACK
    forest = _Forest(num, x.device)  # over positions in cluster order
    sizes_l, starts_l = sizes.tolist(), starts.tolist()

    # Within each cluster: its components as stars, merged in batches.
    firsts, seconds, pending = [], [], 0
    for a in range(k):
        if sizes_l[a] < 2:
            continue
        pos = torch.arange(starts_l[a], starts_l[a] + sizes_l[a], device=x.device)
        rows = x[order[pos]]
        label = _block_components(_linked(rows, rows, threshold))
        moved = torch.nonzero(label != torch.arange(len(pos), device=x.device)).squeeze(1)
        firsts.append(pos[label[moved]])
        seconds.append(pos[moved])
        pending += len(moved)
        if pending > 1 << 20 or a == k - 1:
            forest.union(torch.cat(firsts), torch.cat(seconds))
            firsts, seconds, pending = [], [], 0
    if firsts:
        forest.union(torch.cat(firsts), torch.cat(seconds))

    # Across clusters: the rows of ``a``'s most common component (``major``) only meet rows of
    # other components; the remaining rows meet every row in reach. Columns are first screened
    # with the low-rank upper bound on the similarity, then checked exactly.
    basis = _bound_basis(x, _BOUND_DIM)
    width = x.shape[1] if basis is None else _BOUND_DIM + 1
    q = torch.empty(num, width, dtype=x.dtype, device=x.device)
    for s in range(0, num, chunk_size):
        q[s : s + chunk_size] = _bound_rows(x[order[s : s + chunk_size]], basis)
    q_units = _bound_rows(units.to(x.dtype), basis)
    screen = threshold - _BOUND_SLACK
    theta_l = theta.tolist()
    for a in range(k - 1):
        if sizes_l[a] == 0:
            continue
        gap = _chord_angle(2 - 2 * (units[a + 1 :] @ units[a]))
        near = torch.nonzero(gap - theta[a] - theta[a + 1 :] <= reach).squeeze(1) + (a + 1)
        if len(near) == 0:
            continue
        cols = ranges_index(starts[near], sizes[near])
        if theta_l[a] + reach < math.pi:
            # Only columns within theta_a + acos(t) of a's direction can meet a row of a.
            cols = cols[(q[cols] @ q_units[a]) >= math.cos(theta_l[a] + reach) - _BOUND_SLACK]
        if len(cols) == 0:
            continue
        pos_a = torch.arange(starts_l[a], starts_l[a] + sizes_l[a], device=x.device)
        roots_a = forest.find(pos_a)
        common = torch.mode(roots_a).values
        major = roots_a == common
        firsts, seconds = [], []
        for rows_pos, bank, star in (
            (pos_a[major], cols[forest.find(cols) != common], True),
            (pos_a[~major], cols, False),
        ):
            if len(rows_pos) == 0 or len(bank) == 0:
                continue
            q_rows, rows = q[rows_pos], None
            for s in range(0, len(bank), chunk_size):
                part = bank[s : s + chunk_size]
                part = part[((q_rows @ q[part].T) >= screen).any(0)]
                if len(part) == 0:
                    continue
                rows = x[order[rows_pos]] if rows is None else rows
                linked = _linked(rows, x[order[part]], threshold)
                if star:
                    hit = part[linked.any(0)]
                    firsts.append(rows_pos[:1].expand(len(hit)))
                    seconds.append(hit)
                else:
                    hit = torch.nonzero(linked)
                    firsts.append(rows_pos[hit[:, 0]])
                    seconds.append(part[hit[:, 1]])
        if firsts:
            forest.union(torch.cat(firsts), torch.cat(seconds))
        if a % 256 == 255:
            forest.compress()
    roots = torch.empty(num, dtype=torch.long, device=x.device)
    roots[order] = order[forest.compress()]
    return roots


def _renumber(labels: Tensor) -> Tensor:
    """Labels `(N,)` in ``0..N-1`` -> ids ``0..G-1`` numbered by each group's first row."""
    num = len(labels)
    first = torch.full((num,), num, dtype=torch.long, device=labels.device)
    first.scatter_reduce_(0, labels, torch.arange(num, device=labels.device), reduce="amin")
    used = torch.nonzero(first < num).squeeze(1)
    rank = torch.empty(num, dtype=torch.long, device=labels.device)
    rank[used[torch.argsort(first[used])]] = torch.arange(len(used), device=labels.device)
    return rank[labels]


def near_duplicate_groups(
    x: Tensor, threshold: float, *, num_clusters: int | None = None, chunk_size: int = 4096
) -> Tensor:
    """Group id of every row: rows linked by a chain of cosine similarities ``>= threshold``.

    Args:
        x: Embeddings `(N, D)`, any scale (rows are L2-normalised in a copy).
        threshold: Cosine similarity in ``(-1, 1]``; a pair at exactly the threshold is linked.
        num_clusters: Clusters used only to skip comparisons (default ``N // 100``); the groups
            do not depend on it.
        chunk_size: Columns per similarity block.

    Returns:
        `(N,)` int64 group ids ``0..G-1``, numbered in order of each group's first row.
    """
    return _renumber(_unit_groups(prepare(x, "cosine"), threshold, num_clusters, chunk_size))


def group_representatives(x: Tensor, groups: Tensor, *, chunk_size: int = 65536) -> Tensor:
    """For each group ``0..G-1``, the row closest (Euclidean) to the group's mean; ties: lowest.

    Args:
        x: `(N, D)` float.
        groups: `(N,)` int64 ids in ``0..G-1``.
        chunk_size: Rows per step (memory stays ``O(G D + chunk_size D)``).

    Returns:
        `(G,)` int64 row indices.
    """
    num_groups = int(groups.max()) + 1
    sums = torch.zeros(num_groups, x.shape[1], dtype=x.dtype, device=x.device)
    sums.index_add_(0, groups, x)
    means = sums / torch.bincount(groups, minlength=num_groups).to(x.dtype)[:, None]
    dist = torch.empty(len(x), dtype=x.dtype, device=x.device)
    for s in range(0, len(x), chunk_size):
        part = x[s : s + chunk_size] - means[groups[s : s + chunk_size]]
        dist[s : s + chunk_size] = part.square().sum(1)
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
    closest to the group's mean (of the unit rows). Without a budget every group's representative
    is kept; with ``n`` the representatives of the ``n`` largest groups (ties: first row). A group
    holding an already-labeled (``initial``) sample keeps nothing. Score: the size of the group.

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
        everyone = len(rows) == len(x)
        part = x if everyone else x[rows]
        # Prepared rows are already unit length under the cosine metric: no second copy.
        unit = part if self.metric == "cosine" else prepare(part, "cosine")
        local = _renumber(_unit_groups(unit, self.threshold, None, 4096))
        groups = torch.full((len(x),), -1, dtype=torch.long, device=x.device)
        groups[rows] = local
        reps = rows[group_representatives(unit, local)]
        sizes = torch.bincount(local)
        largest = int(sizes.max())
        if largest > 100 and 2 * largest > len(rows):
            logger.warning(
                "one group of near-duplicates holds %d of the %d rows: similarities >= "
                "%s chain through dense regions of the embedding; raise dedup_threshold "
                "(e.g. towards the rows' nearest-neighbour similarities) for smaller groups",
                largest,
                len(rows),
                self.threshold,
            )
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
