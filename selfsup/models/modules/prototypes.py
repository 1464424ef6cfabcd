"""Learnable prototypes (SwAV) and momentum-updated group features (SMoG)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from selfsup.models.utils import normalize_weight

__all__ = ["SMoGPrototypes", "SwaVPrototypes"]


class SwaVPrototypes(nn.Module):
    """SwAV prototypes: linear layers without bias whose rows are unit-norm prototypes.

    Scores are ``x @ C^T`` with L2-normalised features ``x`` (Caron et al., 2020;
    3000 prototypes for ImageNet). Call :meth:`normalize` after each optimiser step
    to keep the prototypes on the unit sphere (they are normalised at creation). SwAV freezes
    the prototypes during the first epoch; with
    ``n_steps_frozen_prototypes > 0`` :meth:`forward` needs ``step`` and turns the
    prototypes' gradients off while ``step < n_steps_frozen_prototypes``.

    Args:
        input_dim: Feature size ``D``.
        n_prototypes: Number of prototypes ``K``, or a list for several heads (multi-crop
            SwAV with several prototype sets).
        n_steps_frozen_prototypes: Number of initial steps without prototype updates.

    Raises:
        ValueError: Non-positive sizes or negative ``n_steps_frozen_prototypes``.
    """

    def __init__(
        self,
        input_dim: int = 128,
        n_prototypes: int | Sequence[int] = 3000,
        n_steps_frozen_prototypes: int = 0,
    ) -> None:
        super().__init__()
        self._single = isinstance(n_prototypes, int)
        counts = [n_prototypes] if isinstance(n_prototypes, int) else list(n_prototypes)
        if input_dim < 1 or not counts or any(k < 1 for k in counts):
            raise ValueError(
                f"input_dim and n_prototypes must be >= 1, got {input_dim} and {n_prototypes!r}"
            )
        if n_steps_frozen_prototypes < 0:
            raise ValueError(
                f"n_steps_frozen_prototypes must be >= 0, got {n_steps_frozen_prototypes}"
            )
        self.n_prototypes = counts
        self.n_steps_frozen_prototypes = n_steps_frozen_prototypes
        self.heads = nn.ModuleList(nn.Linear(input_dim, k, bias=False) for k in counts)
        self.normalize()

    def forward(self, x: Tensor, step: int | None = None) -> Tensor | list[Tensor]:
        """Prototype scores.

        Args:
            x: L2-normalised features ``(B, D)``.
            step: Current training step; required when ``n_steps_frozen_prototypes > 0``.

        Returns:
            ``(B, K)``, or a list of ``(B, K_i)`` when ``n_prototypes`` was a list.

        Raises:
            ValueError: ``step`` is missing while prototypes can be frozen.
        """
        if self.n_steps_frozen_prototypes > 0:
            if step is None:
                raise ValueError(
                    "n_steps_frozen_prototypes > 0: pass the current step, forward(x, step=...)"
                )
            self.heads.requires_grad_(step >= self.n_steps_frozen_prototypes)
        scores = [head(x) for head in self.heads]
        return scores[0] if self._single else scores

    def normalize(self) -> None:
        """Rescales every prototype (weight row) to unit L2 norm, in place."""
        for head in self.heads:
            normalize_weight(cast(nn.Linear, head).weight, dim=1)


class SMoGPrototypes(nn.Module):
    """Group features of SMoG, updated by synchronous momentum grouping (Pang et al., 2022).

    Each sample is assigned to the most similar group (cosine); a group's feature moves
    towards the mean of its assigned samples: ``g = beta * g + (1 - beta) * mean(x)``
    (``beta = 0.99`` in the paper).

    Args:
        group_features: Initial features ``(n_groups, D)``; stored as a parameter without
            gradient (saved in ``state_dict``).
        beta: Momentum in ``[0, 1]``.

    Raises:
        ValueError: ``group_features`` not 2-D or ``beta`` outside ``[0, 1]``.
    """

    def __init__(self, group_features: Tensor, beta: float) -> None:
        super().__init__()
        if group_features.ndim != 2:
            raise ValueError(
                f"group_features must be (n_groups, D), got shape {tuple(group_features.shape)}"
            )
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"beta must be in [0, 1], got {beta}")
        self.group_features = nn.Parameter(group_features.detach().clone(), requires_grad=False)
        self.beta = beta

    def forward(self, x: Tensor, group_features: Tensor, temperature: float = 0.1) -> Tensor:
        """Cosine-similarity logits ``(B, n_groups)`` of ``x`` ``(B, D)`` against
        ``group_features`` ``(n_groups, D)``, divided by ``temperature``."""
        logits = F.normalize(x, dim=1) @ F.normalize(group_features, dim=1).t()
        return logits / temperature

    @torch.no_grad()
    def assign_groups(self, x: Tensor) -> Tensor:
        """Index ``(B,)`` (int64) of the most similar group for each row of ``x`` ``(B, D)``."""
        return self.forward(x, self.group_features).argmax(dim=-1)

    @torch.no_grad()
    def get_updated_group_features(self, x: Tensor) -> Tensor:
        """Momentum-updated copy of the group features (the module is not changed).

        Args:
            x: Features ``(B, D)``.

        Returns:
            ``(n_groups, D)``: groups with assigned samples become
            ``beta * g + (1 - beta) * mean(x[assigned])``; the others are unchanged.
        """
        assignments = self.assign_groups(x)
        n_groups = self.group_features.shape[0]
        x = x.to(self.group_features.dtype)
        sums = torch.zeros_like(self.group_features).index_add_(0, assignments, x)
        counts = torch.bincount(assignments, minlength=n_groups)
        updated = self.group_features.detach().clone()
        hit = counts > 0
        means = sums[hit] / counts[hit].unsqueeze(1).to(sums.dtype)
        updated[hit] = self.beta * updated[hit] + (1.0 - self.beta) * means
        return updated

    @torch.no_grad()
    def set_group_features(self, x: Tensor) -> None:
        """Replaces the group features by ``x`` ``(n_groups, D)`` (kept without gradient)."""
        self.group_features.data = x.detach().to(self.group_features.device)
