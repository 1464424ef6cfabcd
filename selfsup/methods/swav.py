"""SwAV (Caron et al., 2020, "Unsupervised Learning of Visual Features by Contrasting Cluster
Assignments")."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from selfsup.loss import SwaVLoss
from selfsup.loss._checks import check_int
from selfsup.methods.base import (
    OptimizerDefaults,
    SSLMethod,
    forward_multicrop,
    register_method,
)
from selfsup.models.modules import MemoryBankModule, SwaVProjectionHead, SwaVPrototypes

__all__ = ["SwaV"]

_HIGH_RESOLUTION_VIEWS = 2


@register_method("swav")
class SwaV(SSLMethod):
    """Swapped prediction of online cluster codes between multi-crop views.

    Every view is embedded, L2-normalised and scored against trainable unit-norm prototypes
    (Sec. 3.1). Codes of the 2 high-resolution views come from Sinkhorn-Knopp on their scores;
    every other view (high or low resolution) predicts them (Eq. 1, multi-crop Sec. 3.2).
    Crops of one resolution share one forward pass. The prototypes are renormalised before
    every step; they can be frozen for the first ``n_steps_frozen_prototypes`` steps (the
    paper freezes them during the first epoch, App. A.1). For small batches a queue of past
    high-resolution embeddings enlarges the Sinkhorn problem (Sec. 4.3 / App. A.1): it is
    filled from epoch ``start_queue_at_epoch`` on and used once it is full.

    Args:
        backbone: Backbone name or module (see :class:`~selfsup.methods.base.SSLMethod`).
        hidden_dim: Hidden width of the projection head; default the backbone's feature size
            (2048 for ResNet-50, Sec. 4).
        output_dim: Embedding size (128, Sec. 4).
        n_prototypes: Number of prototypes (3000, Sec. 4).
        n_steps_frozen_prototypes: Initial steps without prototype updates. Default 0; pass the
            number of steps per epoch for the paper's setting.
        temperature: Softmax temperature (0.1, Sec. 4.1).
        sinkhorn_iterations: Sinkhorn-Knopp iterations (3, Sec. 4.1).
        sinkhorn_epsilon: Entropic regularisation of the codes (0.05, Sec. 4.1).
        queue_length: Queued embeddings per high-resolution view (0: no queue; the paper uses
            3840 for batches of 256, App. A.1).
        start_queue_at_epoch: Epoch from which the queue is filled (15, App. A.1).
        gather_distributed: Compute the Sinkhorn codes over the samples of all processes.
        backbone_kwargs: Extra arguments for :func:`~selfsup.models.get_backbone`.

    Raises:
        ValueError: Negative ``queue_length`` or ``start_queue_at_epoch``, or a bad
            loss/head/prototype argument.
    """

    transform_name = "swav"
    # lightly's CIFAR-10/Imagenette benchmarks: Adam, lr 1e-3, wd 1e-6 (the paper: LARS,
    # lr 4.8 for batches of 4096, wd 1e-6, Sec. 4.1).
    optimizer_defaults = OptimizerDefaults(name="adamw", lr=1e-3, weight_decay=1e-6)

    queue_count: Tensor

    def __init__(
        self,
        backbone: nn.Module | str = "resnet-18",
        *,
        hidden_dim: int | None = None,
        output_dim: int = 128,
        n_prototypes: int = 3000,
        n_steps_frozen_prototypes: int = 0,
        temperature: float = 0.1,
        sinkhorn_iterations: int = 3,
        sinkhorn_epsilon: float = 0.05,
        queue_length: int = 0,
        start_queue_at_epoch: int = 15,
        gather_distributed: bool = False,
        backbone_kwargs: dict | None = None,
    ) -> None:
        super().__init__(backbone, backbone_kwargs)
        self.queue_length = check_int("queue_length", queue_length, low=0)
        self.start_queue_at_epoch = check_int("start_queue_at_epoch", start_queue_at_epoch, low=0)
        self.step = 0
        self.epoch = 0
        self.projection_head = SwaVProjectionHead(
            self.num_features,
            self.num_features if hidden_dim is None else hidden_dim,
            output_dim,
        )
        self.prototypes = SwaVPrototypes(
            output_dim, n_prototypes, n_steps_frozen_prototypes=n_steps_frozen_prototypes
        )
        self.queues = nn.ModuleList(
            MemoryBankModule(size=(queue_length, output_dim))
            for _ in range(_HIGH_RESOLUTION_VIEWS if queue_length > 0 else 0)
        )
        self.register_buffer("queue_count", torch.zeros((), dtype=torch.long))
        self.criterion = SwaVLoss(
            temperature=temperature,
            sinkhorn_iterations=sinkhorn_iterations,
            sinkhorn_epsilon=sinkhorn_epsilon,
            sinkhorn_gather_distributed=gather_distributed,
        )

    def project(self, images: Tensor) -> Tensor:
        """L2-normalised embeddings of images `(B, C, H, W)` -> `(B, output_dim)`."""
        return F.normalize(self.projection_head(self.embed(images)), dim=1)

    def forward(self, images: Tensor) -> Tensor:
        """Prototype scores of images `(B, C, H, W)` -> `(B, n_prototypes)`."""
        return self.prototypes(self.project(images), step=self.step)

    def trainable_parameters(self) -> list[nn.Parameter]:
        """All parameters, the prototypes included even while they are frozen (their
        ``requires_grad`` is switched off only during the first steps)."""
        return list(self.parameters())

    def update_schedules(self, step: int, max_steps: int, epoch: int, max_epochs: int) -> None:
        """Records the step (prototype freezing) and the epoch (queue start)."""
        self.step = step
        self.epoch = epoch

    def training_loss(self, views: Sequence[Tensor]) -> Tensor:
        """SwaV loss of 2 high-resolution views followed by any number of low-resolution views,
        each `(B, C, H_i, W_i)`."""
        views = self.check_views(views)
        self.prototypes.normalize()
        embeddings = forward_multicrop(self.project, views)
        high = embeddings[:_HIGH_RESOLUTION_VIEWS]
        queue_scores = self._queue_scores(high)
        scores = [self.prototypes(z, step=self.step) for z in embeddings]
        return self.criterion(
            scores[:_HIGH_RESOLUTION_VIEWS], scores[_HIGH_RESOLUTION_VIEWS:], queue_scores
        )

    @torch.no_grad()
    def _queue_scores(self, high: list[Tensor]) -> list[Tensor] | None:
        """Enqueues the high-resolution embeddings; returns the prototype scores `(Q, K)` of the
        queue as it was before this batch, or None while the queue is off or not yet full."""
        if not self.queues or self.epoch < self.start_queue_at_epoch:
            return None
        full = int(self.queue_count) >= self.queue_length
        queued = [queue(z, update=True)[1] for queue, z in zip(self.queues, high, strict=True)]
        self.queue_count += high[0].shape[0]
        if not full:
            return None
        return [self.prototypes(q, step=self.step) for q in queued]
