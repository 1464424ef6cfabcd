"""FastSiam (Pototzky et al., 2022, "FastSiam: Resource-Efficient Self-supervised Learning on a
Single GPU")."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from selfsup.methods.base import OptimizerDefaults, register_method
from selfsup.methods.simsiam import SimSiam

__all__ = ["FastSiam"]


@register_method("fastsiam")
class FastSiam(SimSiam):
    """SimSiam with more views: each view's prediction regresses the mean target of the others.

    With ``K`` views (4 in the paper, Sec. 3), the loss is ``1/K sum_i D(p_i, stopgrad(mean_{j
    != i} z_j))``, ``D`` the negative cosine similarity. The averaged target is more stable,
    which lets SimSiam train with small batches. Arguments as :class:`SimSiam`.
    """

    transform_name = "fastsiam"
    # lightly's FastSiam example: SimSiam's optimizer.
    optimizer_defaults = OptimizerDefaults(name="sgd", lr=0.06, weight_decay=5e-4)
    min_views = 3

    def training_loss(self, views: Sequence[Tensor]) -> Tensor:
        """FastSiam loss of ``K >= 3`` views, each `(B, C, H, W)`."""
        views = self.check_views(views)
        outputs = [self(view) for view in views]
        targets = torch.stack([z.detach() for z, _ in outputs])  # (K, B, D)
        total = targets.sum(dim=0)
        count = len(views) - 1
        losses = [
            self.criterion(p, (total - targets[i]) / count) for i, (_, p) in enumerate(outputs)
        ]
        return torch.stack(losses).mean()
