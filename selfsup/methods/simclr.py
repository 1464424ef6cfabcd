"""SimCLR (Chen et al., 2020, "A Simple Framework for Contrastive Learning of Visual Representations")."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from selfsup.loss import NTXentLoss
from selfsup.methods.base import OptimizerDefaults, SSLMethod, register_method
from selfsup.models.modules import SimCLRProjectionHead

__all__ = ["SimCLR"]


@register_method("simclr")
class SimCLR(SSLMethod):
    """Backbone f, projection head g, and the NT-Xent loss between two views (Sec. 2.1).

    Args:
        backbone: Backbone name or module (see :class:`~selfsup.methods.base.SSLMethod`).
        hidden_dim: Hidden width of the projection head; default: the backbone's feature size.
        output_dim: Size of the projections z the loss compares (128 in the paper).
        num_layers: Linear layers of the head (2 for SimCLR v1).
        temperature: NT-Xent temperature tau (0.5 as lightly's default; the paper tunes 0.1-1).
        memory_bank_size: Optional bank of past projections used as extra negatives (0: none).
        gather_distributed: Gather negatives from all processes.
        backbone_kwargs: Extra arguments for :func:`~selfsup.models.get_backbone`.
    """

    transform_name = "simclr"
    optimizer_defaults = OptimizerDefaults(name="sgd", lr=0.06, weight_decay=5e-4)

    def __init__(
        self,
        backbone: nn.Module | str = "resnet-18",
        *,
        hidden_dim: int | None = None,
        output_dim: int = 128,
        num_layers: int = 2,
        temperature: float = 0.5,
        memory_bank_size: int = 0,
        gather_distributed: bool = False,
        backbone_kwargs: dict | None = None,
    ) -> None:
        super().__init__(backbone, backbone_kwargs)
        self.projection_head = SimCLRProjectionHead(
            input_dim=self.num_features,
            hidden_dim=self.num_features if hidden_dim is None else hidden_dim,
            output_dim=output_dim,
            num_layers=num_layers,
        )
        self.criterion = NTXentLoss(
            temperature=temperature,
            memory_bank_size=memory_bank_size,
            gather_distributed=gather_distributed,
        )

    def forward(self, images: Tensor) -> Tensor:
        """Projections z = g(f(x)) of images `(B, C, H, W)` -> `(B, output_dim)`."""
        return self.projection_head(self.embed(images))

    def training_loss(self, views: Sequence[Tensor]) -> Tensor:
        """NT-Xent loss between the projections of the two views, each `(B, C, H, W)`."""
        x0, x1 = self.check_views(views)[:2]
        return self.criterion(self(x0), self(x1))
