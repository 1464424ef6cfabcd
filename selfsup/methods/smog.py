"""SMoG (Pang et al., 2022, "Unsupervised Visual Representation Learning by Synchronous Momentum
Grouping")."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from selfsup.loss._checks import check_int, check_number
from selfsup.methods.base import OptimizerDefaults, SSLMethod, momentum_copy, register_method
from selfsup.models.modules import (
    MemoryBankModule,
    SMoGPredictionHead,
    SMoGProjectionHead,
    SMoGPrototypes,
)
from selfsup.models.utils import update_momentum

__all__ = ["SMoG"]


@register_method("smog")
class SMoG(SSLMethod):
    """Contrast between instances and momentum-updated group features.

    The momentum encoder's embedding of one view is assigned to its nearest group; the online
    prediction of the other view is classified against all groups (cross entropy with
    temperature, Sec. 3.2). Each step the groups move towards the mean online embedding of
    their members, ``g = beta g + (1 - beta) mean(z)`` (Eq. 5). Every ``reset_interval`` steps
    the groups are re-initialised by spherical k-means on a memory bank of recent online
    embeddings and the momentum encoder is reset to the online one (Table 7b); otherwise the
    momentum encoder is an EMA of the online one. The two views swap roles every other step.
    This follows lightly's SMoG example; only the first two views are used.

    Args:
        backbone: Backbone name or module (see :class:`~selfsup.methods.base.SSLMethod`).
        hidden_dim: Hidden width of projector and predictor; default four times the backbone's
            feature size (2048 for ResNet-18, as lightly's example).
        output_dim: Embedding size (128, lightly's example).
        n_groups: Number of groups (300 as lightly's example; 3000 on ImageNet, Sec. 4.1).
        memory_bank_size: Embeddings kept for the k-means resets (10000, lightly's example);
            at least ``n_groups``.
        beta: Momentum of the group features (0.99, Sec. 4.1).
        momentum: Momentum of the encoder EMA (0.99, lightly's example).
        temperature: Temperature of the group logits (0.1, Sec. 4.1).
        reset_interval: Steps between k-means resets (300, lightly's example).
        kmeans_iterations: Lloyd iterations of each k-means reset.
        backbone_kwargs: Extra arguments for :func:`~selfsup.models.get_backbone`.

    Raises:
        ValueError: ``memory_bank_size < n_groups``, a momentum outside ``[0, 1]`` or a
            non-positive count.
    """

    transform_name = "smog"
    # lightly's SMoG example and Imagenette benchmark.
    optimizer_defaults = OptimizerDefaults(name="sgd", lr=0.01, weight_decay=1e-6)

    def __init__(
        self,
        backbone: nn.Module | str = "resnet-18",
        *,
        hidden_dim: int | None = None,
        output_dim: int = 128,
        n_groups: int = 300,
        memory_bank_size: int = 10000,
        beta: float = 0.99,
        momentum: float = 0.99,
        temperature: float = 0.1,
        reset_interval: int = 300,
        kmeans_iterations: int = 10,
        backbone_kwargs: dict | None = None,
    ) -> None:
        super().__init__(backbone, backbone_kwargs)
        self.n_groups = check_int("n_groups", n_groups, low=1)
        check_int("memory_bank_size", memory_bank_size, low=n_groups)
        self.momentum = check_number("momentum", momentum, low=0.0, high=1.0)
        self.temperature = check_number("temperature", temperature, low=0.0, low_open=True)
        self.reset_interval = check_int("reset_interval", reset_interval, low=1)
        self.kmeans_iterations = check_int("kmeans_iterations", kmeans_iterations, low=1)
        self.swap_views = False
        hidden = 4 * self.num_features if hidden_dim is None else hidden_dim
        self.projection_head = SMoGProjectionHead(self.num_features, hidden, output_dim)
        self.prediction_head = SMoGPredictionHead(output_dim, hidden, output_dim)
        self.backbone_momentum = momentum_copy(self.backbone)
        self.projection_head_momentum = momentum_copy(self.projection_head)
        self.smog = SMoGPrototypes(
            group_features=F.normalize(torch.rand(n_groups, output_dim), dim=1), beta=beta
        )
        self.memory_bank = MemoryBankModule(size=(memory_bank_size, output_dim))
        self.criterion = nn.CrossEntropyLoss()

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Online embeddings and predictions of images `(B, C, H, W)`, each `(B, output_dim)`."""
        encoded = self.projection_head(self.embed(images))
        return encoded, self.prediction_head(encoded)

    @torch.no_grad()
    def forward_momentum(self, images: Tensor) -> Tensor:
        """Momentum embeddings of images `(B, C, H, W)` -> `(B, output_dim)`, no gradient."""
        return self.projection_head_momentum(self.backbone_momentum(images).flatten(start_dim=1))

    @torch.no_grad()
    def reset_group_features(self) -> None:
        """Replaces the group features by spherical k-means centres of the memory bank."""
        bank = self.memory_bank.bank
        centres = _spherical_kmeans(bank, self.n_groups, self.kmeans_iterations)
        self.smog.set_group_features(centres.to(self.smog.group_features.dtype))

    @torch.no_grad()
    def reset_momentum_weights(self) -> None:
        """Copies the online backbone and projector into the momentum encoder."""
        self.backbone_momentum.load_state_dict(self.backbone.state_dict())
        self.projection_head_momentum.load_state_dict(self.projection_head.state_dict())

    def update_schedules(self, step: int, max_steps: int, epoch: int, max_epochs: int) -> None:
        """Every ``reset_interval`` steps (not at step 0) resets groups and momentum encoder,
        otherwise updates the momentum encoder by EMA; views swap roles on odd steps."""
        self.swap_views = step % 2 == 1
        if step > 0 and step % self.reset_interval == 0:
            self.reset_group_features()
            self.reset_momentum_weights()
        else:
            update_momentum(self.backbone, self.backbone_momentum, self.momentum)
            update_momentum(self.projection_head, self.projection_head_momentum, self.momentum)

    def training_loss(self, views: Sequence[Tensor]) -> Tensor:
        """SMoG loss of two views `(B, C, H, W)`; updates the group features and the memory
        bank as side effects."""
        x0, x1 = self.check_views(views)[:2]
        if self.swap_views:
            x0, x1 = x1, x0
        encoded, predicted = self(x0)
        assignments = self.smog.assign_groups(self.forward_momentum(x1))
        group_features = self.smog.get_updated_group_features(encoded.detach())
        logits = self.smog(predicted, group_features.to(predicted.dtype), self.temperature)
        self.smog.set_group_features(group_features)
        self.memory_bank(encoded.detach(), update=True)
        return self.criterion(logits, assignments)


def _spherical_kmeans(points: Tensor, k: int, iterations: int) -> Tensor:
    """Cosine k-means (Lloyd's algorithm on the unit sphere).

    Args:
        points: `(N, D)` with ``N >= k``.
        k: Number of clusters.
        iterations: Assignment/update rounds.

    Returns:
        `(k, D)` unit-norm centres; starts from ``k`` distinct random points, and a centre
        without members keeps its previous value.
    """
    points = F.normalize(points.float(), dim=1)
    centres = points[torch.randperm(points.shape[0], device=points.device)[:k]].clone()
    for _ in range(iterations):
        assignments = (points @ centres.t()).argmax(dim=1)
        sums = torch.zeros_like(centres).index_add_(0, assignments, points)
        counts = torch.bincount(assignments, minlength=k)
        hit = counts > 0
        centres[hit] = F.normalize(sums[hit], dim=1)
    return centres
