"""BYOL (Grill et al., 2020, "Bootstrap Your Own Latent: A New Approach to Self-Supervised
Learning")."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from selfsup.loss import NegativeCosineSimilarity
from selfsup.loss._checks import check_number
from selfsup.methods.base import OptimizerDefaults, SSLMethod, momentum_copy, register_method
from selfsup.models.modules import BYOLPredictionHead, BYOLProjectionHead
from selfsup.models.utils import cosine_schedule, update_momentum

__all__ = ["BYOL"]


@register_method("byol")
class BYOL(SSLMethod):
    """Online network (backbone, projector, predictor) regressing a momentum target network.

    The online prediction ``q(g(f(v)))`` of one view is pulled towards the target projection
    ``g'(f'(v'))`` of the other view (normalised MSE, i.e. negative cosine similarity, Eq. 2),
    symmetrised over the two views (Eq. 3). The target network is an EMA of the online one,
    ``xi = tau xi + (1 - tau) theta``, with ``tau`` increased from ``tau_base`` to 1 by a cosine
    schedule over the training steps (Sec. 3.2) and batch norm in train mode.

    Args:
        backbone: Backbone name or module (see :class:`~selfsup.methods.base.SSLMethod`).
        hidden_dim: Hidden width of projector and predictor; default twice the backbone's
            feature size (4096 for ResNet-50, Sec. 3.3).
        output_dim: Projection size (256, Sec. 3.3).
        prediction_hidden_dim: Hidden width of the predictor; default ``hidden_dim``.
        momentum_start: ``tau_base``. Default 0.99 (the authors' 100/300-epoch configs and
            lightly's benchmarks; 0.996 for 1000 epochs, Sec. 3.3).
        momentum_end: Momentum at the last step (1, Sec. 3.2).
        backbone_kwargs: Extra arguments for :func:`~selfsup.models.get_backbone`.

    Raises:
        ValueError: Momenta outside ``[0, 1]`` or a bad head size.
    """

    transform_name = "byol"
    # lightly's CIFAR-10/Imagenette benchmarks (the paper: LARS, lr 0.2, wd 1.5e-6, Sec. 3.3).
    optimizer_defaults = OptimizerDefaults(name="sgd", lr=0.06, weight_decay=5e-4)

    def __init__(
        self,
        backbone: nn.Module | str = "resnet-18",
        *,
        hidden_dim: int | None = None,
        output_dim: int = 256,
        prediction_hidden_dim: int | None = None,
        momentum_start: float = 0.99,
        momentum_end: float = 1.0,
        backbone_kwargs: dict | None = None,
    ) -> None:
        super().__init__(backbone, backbone_kwargs)
        self.momentum_start = check_number("momentum_start", momentum_start, low=0.0, high=1.0)
        self.momentum_end = check_number("momentum_end", momentum_end, low=0.0, high=1.0)
        self.momentum = self.momentum_start
        hidden = 2 * self.num_features if hidden_dim is None else hidden_dim
        self.projection_head = BYOLProjectionHead(self.num_features, hidden, output_dim)
        self.prediction_head = BYOLPredictionHead(
            output_dim,
            hidden if prediction_hidden_dim is None else prediction_hidden_dim,
            output_dim,
        )
        self.backbone_momentum = momentum_copy(self.backbone)
        self.projection_head_momentum = momentum_copy(self.projection_head)
        self.criterion = NegativeCosineSimilarity()

    def forward(self, images: Tensor) -> Tensor:
        """Online predictions ``q(g(f(x)))`` of images `(B, C, H, W)` -> `(B, output_dim)`."""
        return self.prediction_head(self.projection_head(self.embed(images)))

    @torch.no_grad()
    def forward_momentum(self, images: Tensor) -> Tensor:
        """Target projections ``g'(f'(x))`` of images `(B, C, H, W)` -> `(B, output_dim)`,
        without gradient (stop-gradient on the target, Sec. 3.1)."""
        return self.projection_head_momentum(self.backbone_momentum(images).flatten(start_dim=1))

    def update_schedules(self, step: int, max_steps: int, epoch: int, max_epochs: int) -> None:
        """Cosine schedule of ``tau`` (Sec. 3.2) and the EMA update of the target network."""
        self.momentum = cosine_schedule(step, max_steps, self.momentum_start, self.momentum_end)
        update_momentum(self.backbone, self.backbone_momentum, self.momentum)
        update_momentum(self.projection_head, self.projection_head_momentum, self.momentum)

    def training_loss(self, views: Sequence[Tensor]) -> Tensor:
        """Symmetric negative cosine similarity between each view's prediction and the other
        view's target projection; views `(B, C, H, W)`."""
        x0, x1 = self.check_views(views)[:2]
        p0, p1 = self(x0), self(x1)
        z0, z1 = self.forward_momentum(x0), self.forward_momentum(x1)
        return 0.5 * (self.criterion(p0, z1) + self.criterion(p1, z0))
