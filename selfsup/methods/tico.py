"""TiCo (Zhu et al., 2022, "TiCo: Transformation Invariance and Covariance Contrast for
Self-Supervised Visual Representation Learning")."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from selfsup.loss import TiCoLoss
from selfsup.loss._checks import check_number
from selfsup.methods.base import OptimizerDefaults, SSLMethod, momentum_copy, register_method
from selfsup.models.modules import TiCoProjectionHead
from selfsup.models.utils import cosine_schedule, update_momentum

__all__ = ["TiCo"]


@register_method("tico")
class TiCo(SSLMethod):
    """Online encoder, momentum encoder, and the invariance + covariance-contrast loss.

    The online embedding of one view is pulled towards the momentum embedding of the other
    (transformation invariance) while its quadratic form under a running covariance of past
    embeddings is pushed down (covariance contrast, Algorithm 1). The momentum encoder is an
    EMA of the online one, as in BYOL.

    Args:
        backbone: Backbone name or module (see :class:`~selfsup.methods.base.SSLMethod`).
        hidden_dim: Hidden width of the projector; default twice the backbone's feature size
            (4096 for ResNet-50, Sec. 4).
        output_dim: Embedding size (256, Sec. 4).
        beta: EMA coefficient of the covariance (0.9, Sec. 4.1).
        rho: Weight of the covariance contrast (8, Sec. 4.1).
        momentum_start: Momentum of the encoder EMA at step 0 (0.99, as lightly's benchmark).
        momentum_end: Momentum at the last step, reached by a cosine schedule.
        gather_distributed: Use the global batch of all processes in the loss.
        backbone_kwargs: Extra arguments for :func:`~selfsup.models.get_backbone`.

    Raises:
        ValueError: Momenta outside ``[0, 1]`` or a bad loss/head argument.
    """

    transform_name = "tico"
    # lightly's Imagenette benchmark (the paper: LARS as BYOL).
    optimizer_defaults = OptimizerDefaults(name="sgd", lr=0.3, weight_decay=1e-4)

    def __init__(
        self,
        backbone: nn.Module | str = "resnet-18",
        *,
        hidden_dim: int | None = None,
        output_dim: int = 256,
        beta: float = 0.9,
        rho: float = 8.0,
        momentum_start: float = 0.99,
        momentum_end: float = 1.0,
        gather_distributed: bool = False,
        backbone_kwargs: dict | None = None,
    ) -> None:
        super().__init__(backbone, backbone_kwargs)
        self.momentum_start = check_number("momentum_start", momentum_start, low=0.0, high=1.0)
        self.momentum_end = check_number("momentum_end", momentum_end, low=0.0, high=1.0)
        self.momentum = self.momentum_start
        self.projection_head = TiCoProjectionHead(
            self.num_features,
            2 * self.num_features if hidden_dim is None else hidden_dim,
            output_dim,
        )
        self.backbone_momentum = momentum_copy(self.backbone)
        self.projection_head_momentum = momentum_copy(self.projection_head)
        self.criterion = TiCoLoss(beta=beta, rho=rho, gather_distributed=gather_distributed)

    def forward(self, images: Tensor) -> Tensor:
        """Online embeddings of images `(B, C, H, W)` -> `(B, output_dim)`."""
        return self.projection_head(self.embed(images))

    @torch.no_grad()
    def forward_momentum(self, images: Tensor) -> Tensor:
        """Momentum embeddings of images `(B, C, H, W)` -> `(B, output_dim)`, no gradient."""
        return self.projection_head_momentum(self.backbone_momentum(images).flatten(start_dim=1))

    def update_schedules(self, step: int, max_steps: int, epoch: int, max_epochs: int) -> None:
        """Cosine momentum schedule and the EMA update of the momentum encoder."""
        self.momentum = cosine_schedule(step, max_steps, self.momentum_start, self.momentum_end)
        update_momentum(self.backbone, self.backbone_momentum, self.momentum)
        update_momentum(self.projection_head, self.projection_head_momentum, self.momentum)

    def training_loss(self, views: Sequence[Tensor]) -> Tensor:
        """TiCo loss of the online embedding of view 0 and the momentum embedding of view 1,
        each view `(B, C, H, W)`."""
        x0, x1 = self.check_views(views)[:2]
        return self.criterion(self(x0), self.forward_momentum(x1))
