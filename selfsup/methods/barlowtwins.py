"""Barlow Twins (Zbontar et al., 2021, "Barlow Twins: Self-Supervised Learning via Redundancy
Reduction")."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from selfsup.loss import BarlowTwinsLoss
from selfsup.methods.base import OptimizerDefaults, SSLMethod, register_method
from selfsup.models.modules import BarlowTwinsProjectionHead

__all__ = ["BarlowTwins"]


@register_method("barlowtwins")
class BarlowTwins(SSLMethod):
    """Backbone, projector, and the cross-correlation loss between the embeddings of two views.

    The cross-correlation matrix of the batch-standardised embeddings is pushed to the identity
    (Eq. 1): invariance on the diagonal, redundancy reduction off it.

    Args:
        backbone: Backbone name or module (see :class:`~selfsup.methods.base.SSLMethod`).
        hidden_dim: Hidden width of the projector; default four times the backbone's feature
            size (8192 for ResNet-50, Sec. 4; 2048 for ResNet-18, as lightly's benchmarks).
        output_dim: Embedding size; default ``hidden_dim`` (Sec. 4).
        lambda_param: Weight of the redundancy reduction term (5e-3, Sec. 4).
        gather_distributed: Correlate over the global batch of all processes.
        backbone_kwargs: Extra arguments for :func:`~selfsup.models.get_backbone`.
    """

    transform_name = "barlowtwins"
    # lightly's CIFAR-10/Imagenette benchmarks (the paper: LARS, lr 0.2, wd 1.5e-6, Sec. 4).
    optimizer_defaults = OptimizerDefaults(name="sgd", lr=0.06, weight_decay=5e-4)

    def __init__(
        self,
        backbone: nn.Module | str = "resnet-18",
        *,
        hidden_dim: int | None = None,
        output_dim: int | None = None,
        lambda_param: float = 5e-3,
        gather_distributed: bool = False,
        backbone_kwargs: dict | None = None,
    ) -> None:
        super().__init__(backbone, backbone_kwargs)
        hidden = 4 * self.num_features if hidden_dim is None else hidden_dim
        self.projection_head = BarlowTwinsProjectionHead(
            self.num_features, hidden, hidden if output_dim is None else output_dim
        )
        self.criterion = BarlowTwinsLoss(
            lambda_param=lambda_param, gather_distributed=gather_distributed
        )

    def forward(self, images: Tensor) -> Tensor:
        """Embeddings ``z`` of images `(B, C, H, W)` -> `(B, output_dim)`."""
        return self.projection_head(self.embed(images))

    def training_loss(self, views: Sequence[Tensor]) -> Tensor:
        """Barlow Twins loss between the embeddings of two views `(B, C, H, W)`."""
        x0, x1 = self.check_views(views)[:2]
        return self.criterion(self(x0), self(x1))
