"""Selection on embeddings: coreset (k-center greedy), typicality (TypiClust), dedup, random."""

from __future__ import annotations

from selfsup.selection.base import (
    SELECTION_STRATEGIES,
    SelectionStrategy,
    StrategyOutput,
    create_strategy,
    get_strategy,
    list_strategies,
)
from selfsup.selection.coreset import CoresetStrategy, k_center_greedy
from selfsup.selection.dedup import DedupStrategy, group_representatives, near_duplicate_groups
from selfsup.selection.random_selection import RandomStrategy
from selfsup.selection.select_samples import Selection, resolve_budget, select_samples
from selfsup.selection.typicality import TypicalityStrategy, typicality

__all__ = [
    "SELECTION_STRATEGIES",
    "CoresetStrategy",
    "DedupStrategy",
    "RandomStrategy",
    "Selection",
    "SelectionStrategy",
    "StrategyOutput",
    "TypicalityStrategy",
    "create_strategy",
    "get_strategy",
    "group_representatives",
    "k_center_greedy",
    "list_strategies",
    "near_duplicate_groups",
    "resolve_budget",
    "select_samples",
    "typicality",
]
