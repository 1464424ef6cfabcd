"""One call that resolves the budget, runs the optional dedup step and then a strategy."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from selfsup.selection._geometry import METRICS, prepare
from selfsup.selection.base import create_strategy, list_strategies
from selfsup.selection.dedup import DedupStrategy

__all__ = ["Selection", "resolve_budget", "select_samples"]


@dataclasses.dataclass
class Selection:
    """The result of a selection.

    Attributes:
        indices: Selected rows `(n,)` int64, in selection order.
        filenames: Their file names (the row numbers as strings when none were given).
        scores: `(n,)` float64; coreset: distance to the nearest already-selected sample when
            picked; typicality: typicality; dedup: group size; random: NaN.
        strategy: Name of the strategy.
        groups: With dedup (as strategy or ``dedup_threshold``): group id of every row `(N,)`
            (``-1`` where a row took no part), else ``None``.
        files: Files written by :func:`selfsup.select` (name -> path), empty otherwise.
    """

    indices: np.ndarray
    filenames: list[str]
    scores: np.ndarray
    strategy: str
    groups: np.ndarray | None = None
    files: dict = dataclasses.field(default_factory=dict)

    @property
    def summary(self) -> dict:
        """Headline figures: strategy, number selected, groups found, files written."""
        out: dict = {"strategy": self.strategy, "selected": len(self.indices)}
        if self.groups is not None:
            out["num_groups"] = int(self.groups.max()) + 1 if len(self.groups) else 0
        out.update({name: str(path) for name, path in self.files.items()})
        return out


def resolve_budget(
    n: int | None, fraction: float | None, available: int, *, optional: bool
) -> int | None:
    """The number of samples to pick from ``n`` or ``fraction`` of ``available``.

    ``fraction`` gives ``max(1, round(fraction * available))``.

    Raises:
        ValueError: both or (unless ``optional``) neither given; ``n`` not a positive int or
            larger than ``available``; ``fraction`` outside ``(0, 1]``.
    """
    if n is not None and fraction is not None:
        raise ValueError(f"give either n or fraction, not both (got n={n}, fraction={fraction})")
    if n is None and fraction is None:
        if optional:
            return None
        raise ValueError("a budget is needed: give n (a count) or fraction (in (0, 1])")
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        if n > available:
            raise ValueError(f"n={n} exceeds the N={available} samples available for selection")
        return int(n)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)):
        raise ValueError(f"fraction must be a number in (0, 1], got {fraction!r}")
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    return max(1, round(fraction * available))


def select_samples(
    embeddings: Tensor | np.ndarray,
    *,
    n: int | None = None,
    fraction: float | None = None,
    strategy: str = "coreset",
    filenames: Sequence[str] | None = None,
    initial: Sequence[int] | Tensor | np.ndarray | None = None,
    dedup_threshold: float | None = None,
    metric: str = "cosine",
    seed: int = 0,
    generator: torch.Generator | None = None,
) -> Selection:
    """Selects samples from an embedding matrix (no files; see :func:`selfsup.select` for that).

    Args:
        embeddings: `(N, D)` array or tensor (any float dtype; work happens on its device).
        n: Number to select. Exactly one of ``n`` and ``fraction``, except for ``dedup`` alone.
        fraction: Share in ``(0, 1]`` of the samples available (after dedup and without
            ``initial``).
        strategy: One of :func:`list_strategies` (``coreset``, ``dedup``, ``random``,
            ``typicality``).
        filenames: `N` names; default: the row numbers as strings.
        initial: Rows already labeled: never selected; coreset continues from them, typicality
            counts them as covering their cluster, dedup skips their groups.
        dedup_threshold: If given (and the strategy is not ``dedup``), near-duplicates at this
            cosine similarity are removed first and the strategy picks among representatives.
        metric: ``"cosine"`` or ``"l2"``.
        seed: Seed of the ``torch.Generator`` used when ``generator`` is None.
        generator: Source of random draws (random picks, k-means seeding, coreset's first pick).

    Returns:
        A :class:`Selection`.

    Raises:
        ValueError: bad shapes, names, budgets, thresholds or indices (the message names them).
    """
    x = torch.as_tensor(embeddings)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"embeddings must have shape (N, D) with N >= 1, got {tuple(x.shape)}")
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}; got {metric!r}")
    if strategy not in list_strategies():
        raise ValueError(f"unknown strategy {strategy!r}; known: {', '.join(list_strategies())}")
    num = len(x)
    if filenames is not None and len(filenames) != num:
        raise ValueError(f"filenames has {len(filenames)} entries for N={num} embeddings")
    names = [str(i) for i in range(num)] if filenames is None else list(filenames)
    init = torch.as_tensor(np.asarray([] if initial is None else initial, dtype=np.int64))
    init = init.reshape(-1).to(x.device)
    if len(init) and (int(init.min()) < 0 or int(init.max()) >= num):
        raise ValueError(f"initial indices must be in [0, {num}), got {init.tolist()[:10]}")
    if generator is None:
        generator = torch.Generator().manual_seed(seed)
    prepared = prepare(x, metric)
    eligible = torch.ones(num, dtype=torch.bool, device=x.device)
    eligible[init] = False
    groups = None
    if dedup_threshold is not None and strategy != "dedup":
        dedup = DedupStrategy(metric=metric, threshold=dedup_threshold)
        kept = dedup.select(prepared, None, eligible=eligible, initial=init, generator=generator)
        groups = kept.groups
        eligible = torch.zeros_like(eligible)
        eligible[kept.indices] = True
    kwargs = {"metric": metric}
    if strategy == "dedup":
        kwargs["threshold"] = 0.95 if dedup_threshold is None else dedup_threshold
    chooser = create_strategy(strategy, **kwargs)
    budget = resolve_budget(
        n, fraction, int(eligible.sum()), optional=type(chooser).budget_optional
    )
    if budget is not None and budget == 0:
        raise ValueError("nothing is left to select: every sample is labeled or a duplicate")
    out = chooser.select(prepared, budget, eligible=eligible, initial=init, generator=generator)
    indices = out.indices.cpu().numpy().astype(np.int64)
    found = out.groups if groups is None else groups
    return Selection(
        indices=indices,
        filenames=[names[i] for i in indices],
        scores=out.scores.cpu().numpy().astype(np.float64),
        strategy=strategy,
        groups=None if found is None else found.cpu().numpy(),
    )
