"""The selection-strategy interface and its registry (``SELECTION_STRATEGIES``)."""

from __future__ import annotations

import abc
import dataclasses
from typing import Any

import torch
from torch import Tensor

from selfsup.utils.registry import Registry

__all__ = [
    "SELECTION_STRATEGIES",
    "SelectionStrategy",
    "StrategyOutput",
    "create_strategy",
    "get_strategy",
    "list_strategies",
]


@dataclasses.dataclass
class StrategyOutput:
    """What a strategy returns.

    Attributes:
        indices: Selected rows `(n,)` int64, in selection order.
        scores: Score of each selected row `(n,)` float64 (meaning depends on the strategy).
        groups: Only for ``dedup``: group id of every row `(N,)` int64 (``-1`` for rows that took
            no part), else ``None``.
    """

    indices: Tensor
    scores: Tensor
    groups: Tensor | None = None


class SelectionStrategy(abc.ABC):
    """Chooses rows of an embedding matrix.

    Subclasses implement :meth:`select`. ``x`` is the *prepared* matrix (L2-normalised rows for the
    cosine metric), so strategies compute Euclidean distances and report scores in ``metric``.

    Args:
        metric: ``"cosine"`` or ``"l2"``: the metric scores are reported in.
    """

    #: Whether the strategy can run without a budget (``dedup`` keeps one sample per group).
    budget_optional: bool = False

    def __init__(self, *, metric: str = "cosine") -> None:
        if metric not in ("cosine", "l2"):
            raise ValueError(f"metric must be 'cosine' or 'l2', got {metric!r}")
        self.metric = metric

    @abc.abstractmethod
    def select(
        self,
        x: Tensor,
        n: int | None,
        *,
        eligible: Tensor,
        initial: Tensor,
        generator: torch.Generator | None = None,
    ) -> StrategyOutput:
        """Picks ``n`` rows among the eligible ones.

        Args:
            x: Prepared embeddings `(N, D)`, float.
            n: Number of rows to pick, ``1 <= n <= eligible.sum()``; ``None`` only where
                :attr:`budget_optional`.
            eligible: `(N,)` bool: rows that may be picked (not already labeled, not removed as
                duplicates).
            initial: `(L,)` int64: rows already labeled; they count as selected but are not
                returned.
            generator: Source of random draws.
        """


SELECTION_STRATEGIES: Registry[type[SelectionStrategy]] = Registry("selection strategy")


def get_strategy(name: str) -> type[SelectionStrategy]:
    """The strategy class registered as ``name``; an unknown name lists the known ones."""
    return SELECTION_STRATEGIES.get(name)


def list_strategies(pattern: str = "*") -> list[str]:
    """Sorted names of the registered strategies matching a shell-style ``pattern``."""
    return SELECTION_STRATEGIES.names(pattern)


def create_strategy(name: str, **kwargs: Any) -> SelectionStrategy:
    """Instantiates the strategy ``name`` with keyword arguments (e.g. ``metric="l2"``)."""
    return get_strategy(name)(**kwargs)
