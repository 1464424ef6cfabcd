"""Uniform random selection, the baseline every other strategy is compared with."""

from __future__ import annotations

import torch
from torch import Tensor

from selfsup.selection.base import SELECTION_STRATEGIES, SelectionStrategy, StrategyOutput

__all__ = ["RandomStrategy"]


@SELECTION_STRATEGIES.register("random")
class RandomStrategy(SelectionStrategy):
    """Picks ``n`` eligible samples uniformly without replacement (``torch.randperm``).

    The same ``generator`` seed gives the same picks. Score: NaN (no score).

    Args:
        metric: Unused by the draw; kept for a uniform interface.
    """

    def select(
        self,
        x: Tensor,
        n: int | None,
        *,
        eligible: Tensor,
        initial: Tensor,
        generator: torch.Generator | None = None,
    ) -> StrategyOutput:
        """Draws the sample; see :meth:`SelectionStrategy.select`."""
        if n is None:
            raise ValueError("the random strategy needs a budget: n or fraction")
        pool = torch.nonzero(eligible).squeeze(1)
        draw = torch.randperm(len(pool), generator=generator)[:n].to(pool.device)
        scores = torch.full((n,), torch.nan, dtype=torch.float64, device=x.device)
        return StrategyOutput(pool[draw], scores)
