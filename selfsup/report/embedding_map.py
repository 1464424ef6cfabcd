"""The numbers behind the embedding map: a 2-D projection, a seeded subsample and exact cosine
nearest neighbours computed in chunks (never an `(N, N)` matrix)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from selfsup.utils.imports import import_optional

__all__ = ["PROJECTIONS", "Projection", "cosine_neighbours", "project_2d", "subsample_indices"]

PROJECTIONS = ("pca", "umap")

_CHUNK_ELEMENTS = 1 << 24  # similarities held at once: 64 MB of float32


@dataclasses.dataclass
class Projection:
    """2-D map coordinates and how they were made.

    Attributes:
        coords: `(N, 2)` float64, scaled into the unit square with the aspect ratio kept
            (the longer side spans [0, 1], the shorter one is centred).
        method: ``"pca"`` or ``"umap"``.
        explained: PCA only: share of the (L2-normalised) embeddings' variance along each axis,
            e.g. ``(0.31, 0.12)``; empty for UMAP.
    """

    coords: np.ndarray
    method: str
    explained: tuple[float, ...] = ()


def _unit_square(coords: np.ndarray) -> np.ndarray:
    low, high = coords.min(0), coords.max(0)
    span = float((high - low).max())
    if span <= 0:
        return np.full_like(coords, 0.5)
    return (coords - (low + high) / 2) / span + 0.5


def _pca(x: Tensor, rows: Tensor) -> tuple[np.ndarray, tuple[float, ...]]:
    mean = x.mean(0)
    centred_sq = torch.zeros(x.shape[1], x.shape[1], dtype=torch.float64)
    step = max(1, _CHUNK_ELEMENTS // max(1, x.shape[1]))
    for start in range(0, len(x), step):
        block = (x[start : start + step] - mean).double()
        centred_sq += block.T @ block
    values, vectors = torch.linalg.eigh(centred_sq)
    order = values.argsort(descending=True)[:2]
    axes = vectors[:, order]
    # A fixed sign per axis: its largest loading is positive, so reruns draw the same picture.
    largest = axes[axes.abs().argmax(0), torch.arange(axes.shape[1])]
    axes = axes * torch.where(largest < 0, -1.0, 1.0).to(axes.dtype)
    coords = ((x[rows] - mean).double() @ axes).numpy()
    if coords.shape[1] == 1:
        coords = np.concatenate([coords, np.zeros_like(coords)], 1)
    total = float(values.clamp_min(0).sum())
    explained = tuple(float(values[i]) / total if total > 0 else 0.0 for i in order)
    return coords, explained


def project_2d(
    embeddings: np.ndarray | Tensor,
    rows: Sequence[int] | np.ndarray,
    *,
    method: str = "pca",
    seed: int = 0,
) -> Projection:
    """Projects the L2-normalised embeddings of ``rows`` to 2-D.

    PCA is fitted on all `N` rows (a `(D, D)` scatter matrix accumulated in chunks) and applied
    to ``rows``; UMAP (McInnes et al. 2018, cosine metric, ``random_state=seed``) is fitted on
    ``rows`` only and needs the ``umap`` extra. Rows are L2-normalised first, so the map shows
    the same cosine geometry the neighbours are computed in.

    Args:
        embeddings: `(N, D)` float array or tensor.
        rows: Indices of the rows to place on the map, `(n,)`.
        method: ``"pca"`` or ``"umap"``.
        seed: Random state of UMAP (PCA is deterministic).

    Returns:
        A :class:`Projection` with `(n, 2)` coordinates in the unit square.

    Raises:
        ValueError: an unknown ``method`` or an embeddings array that is not 2-D.
        ImportError: ``method="umap"`` without ``umap-learn`` installed (names the extra).
    """
    if method not in PROJECTIONS:
        raise ValueError(f"projection must be one of {', '.join(PROJECTIONS)}, got {method!r}")
    x = torch.as_tensor(np.asarray(embeddings), dtype=torch.float32)
    if x.ndim != 2:
        raise ValueError(f"embeddings must have shape (N, D), got {tuple(x.shape)}")
    x = torch.nn.functional.normalize(x, dim=1)
    index = torch.as_tensor(np.asarray(rows, dtype=np.int64))
    if method == "umap":
        umap = import_optional("umap", "umap")
        reducer = umap.UMAP(n_components=2, metric="cosine", random_state=seed)
        coords = np.asarray(reducer.fit_transform(x[index].numpy()), dtype=np.float64)
        return Projection(_unit_square(coords), method)
    coords, explained = _pca(x, index)
    return Projection(_unit_square(coords), method, explained)


def subsample_indices(
    n: int,
    max_points: int,
    *,
    keep: Sequence[int] | np.ndarray = (),
    generator: torch.Generator | None = None,
) -> np.ndarray:
    """Rows to draw: all of them when ``n <= max_points``, else every row of ``keep`` plus a
    uniform random draw of the others up to ``max_points``.

    Args:
        n: Number of rows `N`.
        max_points: Most rows to return, ``>= 1``.
        keep: Rows that are always returned (the selected samples).
        generator: Source of the random draw.

    Returns:
        Sorted row indices `(min(N, max_points),)` int64.

    Raises:
        ValueError: ``max_points < 1``, or ``keep`` holds more than ``max_points`` rows or a row
            outside ``[0, n)``.
    """
    if max_points < 1:
        raise ValueError(f"max_points must be >= 1, got {max_points}")
    keep_array = np.unique(np.asarray(keep, dtype=np.int64))
    if len(keep_array) and (keep_array[0] < 0 or keep_array[-1] >= n):
        raise ValueError(f"keep holds rows outside [0, {n})")
    if len(keep_array) > max_points:
        raise ValueError(
            f"{len(keep_array)} selected samples are more than max_points={max_points}; "
            f"raise max_points to at least {len(keep_array)}"
        )
    if n <= max_points:
        return np.arange(n, dtype=np.int64)
    others = np.setdiff1d(np.arange(n, dtype=np.int64), keep_array, assume_unique=True)
    order = torch.randperm(len(others), generator=generator).numpy()
    drawn = others[order[: max_points - len(keep_array)]]
    return np.sort(np.concatenate([keep_array, drawn]))


def cosine_neighbours(
    embeddings: np.ndarray | Tensor,
    queries: Sequence[int] | np.ndarray,
    k: int,
    *,
    chunk_size: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows most cosine-similar to each query row, the query itself left out.

    Exact: each chunk of queries is compared with all `N` rows by one matrix product, so
    memory stays at `(chunk_size, N)`.

    Args:
        embeddings: `(N, D)` float array or tensor; zero rows have similarity 0 to everything.
        queries: Row indices `(Q,)`.
        k: Neighbours per query, ``1 <= k <= N - 1``.
        chunk_size: Queries per chunk (default: as many as fit 2^24 similarities).

    Returns:
        ``(similarity (Q, k) float32, index (Q, k) int64)``, most similar first.

    Raises:
        ValueError: ``k`` outside ``[1, N - 1]``, a query outside ``[0, N)`` or a bad
            ``chunk_size``.
    """
    x = torch.as_tensor(np.asarray(embeddings), dtype=torch.float32)
    n = len(x)
    if not 1 <= k <= n - 1:
        raise ValueError(f"k must be in [1, {n - 1}] for {n} embeddings, got {k}")
    query = torch.as_tensor(np.asarray(queries, dtype=np.int64))
    if len(query) and (int(query.min()) < 0 or int(query.max()) >= n):
        raise ValueError(f"queries must be rows in [0, {n})")
    if chunk_size is None:
        chunk_size = max(1, _CHUNK_ELEMENTS // n)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    x = torch.nn.functional.normalize(x, dim=1)
    sims = np.empty((len(query), k), dtype=np.float32)
    index = np.empty((len(query), k), dtype=np.int64)
    for start in range(0, len(query), chunk_size):
        rows = query[start : start + chunk_size]
        similarity = x[rows] @ x.T
        similarity[torch.arange(len(rows)), rows] = -torch.inf
        value, arg = similarity.topk(k, dim=1)
        sims[start : start + len(rows)] = value.numpy()
        index[start : start + len(rows)] = arg.numpy()
    return sims, index
