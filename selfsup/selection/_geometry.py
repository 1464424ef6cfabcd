"""Chunked distance kernels shared by the selection strategies: never an `(N, N)` matrix.

All strategies work in Euclidean distance on a *prepared* copy of the embeddings: for the cosine
metric the rows are L2-normalised, so the Euclidean distance ``sqrt(2 - 2 cos)`` is a true metric
(triangle inequality holds, which the pruning relies on) and is monotone in the cosine distance
``1 - cos``. :func:`to_metric` converts Euclidean distances back to the metric's own values.
"""

from __future__ import annotations

import math
from types import ModuleType

import torch
from torch import Tensor

from selfsup.utils.imports import import_optional

__all__ = [
    "KNN_BACKENDS",
    "METRICS",
    "assign",
    "fine_clusters",
    "kmeans",
    "knn",
    "prepare",
    "ranges_index",
    "sq_dists",
    "to_metric",
]

METRICS = ("cosine", "l2")

_CHUNK = 4096


def prepare(x: Tensor, metric: str) -> Tensor:
    """``x`` `(N, D)` ready for Euclidean work: L2-normalised rows (a copy) for ``"cosine"``.

    For ``"l2"`` floating input is returned as is (never modified by the strategies); integer
    input becomes float32. Dtype and device follow the input. Zero rows stay zero under
    ``"cosine"``. The copy is built in slices of 65536 rows, so the peak is one extra matrix.
    """
    if metric == "cosine":
        dtype = x.dtype if x.is_floating_point() else torch.float32
        out = torch.empty(x.shape, dtype=dtype, device=x.device)
        for s in range(0, len(x), 65536):
            out[s : s + 65536] = torch.nn.functional.normalize(x[s : s + 65536].to(dtype), dim=1)
        return out
    return x if x.is_floating_point() else x.float()


def to_metric(distance: Tensor, metric: str) -> Tensor:
    """Euclidean distances on prepared rows -> the metric's value (``1 - cos`` or L2)."""
    if metric == "cosine":
        return distance.square() / 2
    return distance


def sq_dists(
    a: Tensor, b: Tensor, a_sq: Tensor | None = None, b_sq: Tensor | None = None
) -> Tensor:
    """Squared Euclidean distances `(A, B)` between rows of ``a`` `(A, D)` and ``b`` `(B, D)`.

    Uses ``|a|^2 + |b|^2 - 2 a.b`` (one matrix product), clamped at 0.
    """
    a_sq = a.square().sum(1) if a_sq is None else a_sq
    b_sq = b.square().sum(1) if b_sq is None else b_sq
    return (a_sq[:, None] + b_sq[None, :] - 2 * (a @ b.T)).clamp_min_(0)


def assign(x: Tensor, centres: Tensor, *, chunk_size: int = _CHUNK) -> tuple[Tensor, Tensor]:
    """Nearest centre of every row, in chunks of ``chunk_size`` rows.

    Args:
        x: Points `(N, D)`.
        centres: Centres `(K, D)`.

    Returns:
        ``(index (N,) int64, distance (N,))`` Euclidean distance to that centre.
    """
    c_sq = centres.square().sum(1)
    index = torch.empty(len(x), dtype=torch.long, device=x.device)
    dist = torch.empty(len(x), dtype=x.dtype, device=x.device)
    for start in range(0, len(x), chunk_size):
        d2 = sq_dists(x[start : start + chunk_size], centres, b_sq=c_sq)
        value, arg = d2.min(1)
        index[start : start + chunk_size] = arg
        dist[start : start + chunk_size] = value.sqrt()
    return index, dist


KNN_BACKENDS = ("auto", "faiss", "torch")


def _faiss_or_none() -> ModuleType | None:
    """The ``faiss`` module when it is installed (extra ``faiss``), else ``None``."""
    try:
        return import_optional("faiss", "faiss")
    except ImportError:
        return None


def _knn_faiss(
    faiss: ModuleType, query: Tensor, bank: Tensor, k: int, exclude_self: bool
) -> tuple[Tensor, Tensor]:
    """:func:`knn` by faiss's exact ``IndexFlatL2`` (CPU float32), same conventions."""
    faiss.omp_set_num_threads(torch.get_num_threads())
    index = faiss.IndexFlatL2(bank.shape[1])
    index.add(bank.contiguous().numpy())
    wanted = k + 1 if exclude_self else k
    d2, idx = index.search(query.contiguous().numpy(), wanted)
    d2, idx = torch.from_numpy(d2), torch.from_numpy(idx)
    if exclude_self:
        # Drop the row itself, or (when ties pushed it out of the list) the last neighbour.
        is_self = idx == torch.arange(len(query))[:, None]
        drop = torch.where(is_self.any(1), is_self.to(torch.uint8).argmax(1), wanted - 1)
        keep = torch.ones_like(is_self)
        keep[torch.arange(len(query)), drop] = False
        d2, idx = d2[keep].view(len(query), k), idx[keep].view(len(query), k)
    return d2.clamp_min_(0).sqrt(), idx


def knn(
    query: Tensor,
    bank: Tensor,
    k: int,
    *,
    exclude_self: bool = False,
    chunk_size: int = _CHUNK,
    backend: str = "auto",
) -> tuple[Tensor, Tensor]:
    """Exact k nearest neighbours (Euclidean), never an `(Q, M)` matrix at once.

    Two exact backends: faiss's ``IndexFlatL2`` (optional extra ``faiss``; CPU float32 only)
    and chunked matrix products in torch (any device and float dtype). Both compute
    ``|q|^2 + |b|^2 - 2 q.b``; they agree up to float rounding (and the order of exact ties).

    Args:
        query: `(Q, D)`.
        bank: `(M, D)`; with ``exclude_self`` it must be ``query`` itself (row i never returns i).
        k: Neighbours per query, ``1 <= k <= M`` (``M - 1`` with ``exclude_self``).
        exclude_self: Skip each query's own row.
        chunk_size: Rows per query chunk and per bank chunk (torch backend).
        backend: ``"auto"`` (faiss when installed and the input is CPU float32, else torch),
            ``"faiss"`` or ``"torch"``.

    Returns:
        ``(distance (Q, k), index (Q, k) int64)``, Euclidean, nearest first; dtype and device
        follow ``query``.

    Raises:
        ValueError: unknown ``backend``, or ``"faiss"`` for input that is not CPU float32.
        ImportError: ``backend="faiss"`` without faiss installed (names the extra).
    """
    if backend not in KNN_BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(KNN_BACKENDS)}; got {backend!r}")
    fits_faiss = (
        query.device.type == "cpu"
        and query.dtype == torch.float32
        and bank.dtype == torch.float32
        and bank.device.type == "cpu"
    )
    if backend == "faiss":
        if not fits_faiss:
            raise ValueError(
                f"backend='faiss' needs CPU float32 input, got {query.dtype} on {query.device}"
            )
        return _knn_faiss(import_optional("faiss", "faiss"), query, bank, k, exclude_self)
    if backend == "auto" and fits_faiss:
        faiss = _faiss_or_none()
        if faiss is not None:
            return _knn_faiss(faiss, query, bank, k, exclude_self)
    return _knn_torch(query, bank, k, exclude_self=exclude_self, chunk_size=chunk_size)


def _knn_torch(
    query: Tensor, bank: Tensor, k: int, *, exclude_self: bool, chunk_size: int
) -> tuple[Tensor, Tensor]:
    """:func:`knn` by chunked matrix products over queries and bank."""
    b_sq = bank.square().sum(1)
    out_d = torch.empty(len(query), k, dtype=query.dtype, device=query.device)
    out_i = torch.empty(len(query), k, dtype=torch.long, device=query.device)
    for qs in range(0, len(query), chunk_size):
        q = query[qs : qs + chunk_size]
        q_sq = q.square().sum(1)
        best_d = best_i = None
        for bs in range(0, len(bank), chunk_size):
            d2 = sq_dists(q, bank[bs : bs + chunk_size], q_sq, b_sq[bs : bs + chunk_size])
            if exclude_self:
                rows = torch.arange(len(q), device=q.device)
                cols = rows + qs - bs
                inside = (cols >= 0) & (cols < d2.shape[1])
                d2[rows[inside], cols[inside]] = torch.inf
            kk = min(k, d2.shape[1])
            value, arg = d2.topk(kk, dim=1, largest=False)
            arg = arg + bs
            if best_d is not None:
                value = torch.cat([best_d, value], 1)
                arg = torch.cat([best_i, arg], 1)
                value, pos = value.topk(min(k, value.shape[1]), dim=1, largest=False)
                arg = arg.gather(1, pos)
            best_d, best_i = value, arg
        out_d[qs : qs + chunk_size] = best_d.sqrt()
        out_i[qs : qs + chunk_size] = best_i
    return out_d, out_i


def _kmeans_pp(x: Tensor, k: int, generator: torch.Generator | None) -> Tensor:
    """k-means++ seeding (Arthur and Vassilvitskii 2007): D^2-weighted draws, `(k, D)`."""
    first = torch.randint(len(x), (1,), generator=generator).item()
    centres = [x[first]]
    x_sq = x.square().sum(1)
    best = sq_dists(x, x[first : first + 1], x_sq).squeeze(1)
    for _ in range(1, k):
        total = best.sum()
        if total <= 0:
            weights = torch.ones_like(best)
        else:
            weights = best / total
        pick = torch.multinomial(weights.float().cpu(), 1, generator=generator).item()
        centres.append(x[pick])
        best = torch.minimum(best, sq_dists(x, x[pick : pick + 1], x_sq).squeeze(1))
    return torch.stack(centres)


def kmeans(
    x: Tensor,
    k: int,
    *,
    iterations: int = 10,
    sample_size: int = 65536,
    generator: torch.Generator | None = None,
    chunk_size: int = _CHUNK,
) -> tuple[Tensor, Tensor, Tensor]:
    """Lloyd's k-means fitted on a random subsample, then every row assigned once.

    Args:
        x: Points `(N, D)`.
        k: Clusters, ``1 <= k <= N``.
        iterations: Lloyd iterations on the subsample after k-means++ seeding.
        sample_size: Rows drawn (without replacement) to fit the centres; at least ``k``.
        generator: Source of all random draws.
        chunk_size: Rows per distance chunk.

    Returns:
        ``(centres (k, D), index (N,) int64, distance (N,))``: the centre of every row and the
        Euclidean distance to it. An empty cluster keeps its previous centre.
    """
    n = len(x)
    size = min(n, max(sample_size, k))
    sample = x if size == n else x[torch.randperm(n, generator=generator)[:size].to(x.device)]
    centres = _kmeans_pp(sample, k, generator)
    for _ in range(iterations):
        index, _ = assign(sample, centres, chunk_size=chunk_size)
        sums = torch.zeros_like(centres).index_add_(0, index, sample)
        counts = torch.bincount(index, minlength=k).to(sample.dtype)
        filled = counts > 0
        centres[filled] = sums[filled] / counts[filled, None]
    index, dist = assign(x, centres, chunk_size=chunk_size)
    return centres, index, dist


def ranges_index(starts: Tensor, lengths: Tensor) -> Tensor:
    """Concatenation of ``arange(s, s + l)`` for every ``(s, l)`` pair, `(sum(lengths),)` int64."""
    total = int(lengths.sum())
    offsets = torch.cumsum(lengths, 0) - lengths
    base = torch.repeat_interleave(starts - offsets, lengths, output_size=total)
    return base + torch.arange(total, device=starts.device)


def fine_clusters(
    x: Tensor, k: int, *, generator: torch.Generator | None = None, chunk_size: int = _CHUNK
) -> tuple[Tensor, Tensor, Tensor]:
    """About ``k`` small clusters by two-level k-means (``sqrt(k)`` groups, then split each).

    Cheap even for many clusters: every row is compared with about ``2 sqrt(k)`` centres instead
    of ``k``. Used to prune distance computations, so cluster quality only affects speed.

    Returns:
        ``(centres (K, D), index (N,) int64, distance (N,))`` with ``K`` close to ``k``.
    """
    n = len(x)
    k = max(1, min(k, n))
    top = max(1, min(round(math.sqrt(k)), n))
    _, group, _ = kmeans(x, top, iterations=5, generator=generator, chunk_size=chunk_size)
    centres, index, dist = (
        [],
        torch.empty_like(group),
        torch.empty(n, dtype=x.dtype, device=x.device),
    )
    offset = 0
    for g in range(top):
        rows = torch.nonzero(group == g).squeeze(1)
        if len(rows) == 0:
            continue
        sub = max(1, min(len(rows), round(k * len(rows) / n)))
        c, i, d = kmeans(x[rows], sub, iterations=3, generator=generator, chunk_size=chunk_size)
        centres.append(c)
        index[rows] = i + offset
        dist[rows] = d
        offset += sub
    return torch.cat(centres), index, dist
