"""DCL and DCLW (Yeh et al., 2022, "Decoupled Contrastive Learning"): SimCLR with the positive
pair removed from the InfoNCE denominator."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from selfsup.loss import DCLLoss, DCLWLoss
from selfsup.methods.base import OptimizerDefaults, SSLMethod, register_method
from selfsup.models.modules import SimCLRProjectionHead

__all__ = ["DCL", "DCLW"]


@register_method("dcl")
class DCL(SSLMethod):
    """SimCLR's backbone and projection head with the decoupled contrastive loss (Eq. 6).

    Args:
        backbone: Backbone name or module (see :class:`~selfsup.methods.base.SSLMethod`).
        hidden_dim: Hidden width of the projection head; default the backbone's feature size.
        output_dim: Projection size (128, as SimCLR).
        temperature: Temperature (0.1, Sec. 4).
        gather_distributed: Use the samples of all processes as negatives.
        backbone_kwargs: Extra arguments for :func:`~selfsup.models.get_backbone`.
    """

    transform_name = "simclr"
    # lightly's CIFAR-10/Imagenette benchmarks (SimCLR's optimizer).
    optimizer_defaults = OptimizerDefaults(name="sgd", lr=0.06, weight_decay=5e-4)

    def __init__(
        self,
        backbone: nn.Module | str = "resnet-18",
        *,
        hidden_dim: int | None = None,
        output_dim: int = 128,
        temperature: float = 0.1,
        gather_distributed: bool = False,
        backbone_kwargs: dict | None = None,
    ) -> None:
        super().__init__(backbone, backbone_kwargs)
        self.projection_head = SimCLRProjectionHead(
            input_dim=self.num_features,
            hidden_dim=self.num_features if hidden_dim is None else hidden_dim,
            output_dim=output_dim,
        )
        self.criterion: DCLLoss = DCLLoss(
            temperature=temperature, gather_distributed=gather_distributed
        )

    def forward(self, images: Tensor) -> Tensor:
        """Projections ``z = g(f(x))`` of images `(B, C, H, W)` -> `(B, output_dim)`."""
        return self.projection_head(self.embed(images))

    def training_loss(self, views: Sequence[Tensor]) -> Tensor:
        """Decoupled contrastive loss between the projections of two views `(B, C, H, W)`."""
        x0, x1 = self.check_views(views)[:2]
        return self.criterion(self(x0), self(x1))


@register_method("dclw")
class DCLW(DCL):
    """DCL with von Mises-Fisher weighting of the positive pairs (Sec. 3.3).

    Args:
        backbone: Backbone name or module (see :class:`~selfsup.methods.base.SSLMethod`).
        hidden_dim: Hidden width of the projection head; default the backbone's feature size.
        output_dim: Projection size (128, as SimCLR).
        temperature: Temperature (0.1, Sec. 4).
        sigma: Scale of the weighting function (0.5, Sec. 3.3).
        gather_distributed: Use the samples of all processes as negatives.
        backbone_kwargs: Extra arguments for :func:`~selfsup.models.get_backbone`.
    """

    def __init__(
        self,
        backbone: nn.Module | str = "resnet-18",
        *,
        hidden_dim: int | None = None,
        output_dim: int = 128,
        temperature: float = 0.1,
        sigma: float = 0.5,
        gather_distributed: bool = False,
        backbone_kwargs: dict | None = None,
    ) -> None:
        super().__init__(
            backbone,
            hidden_dim=hidden_dim,
            output_dim=output_dim,
            temperature=temperature,
            gather_distributed=gather_distributed,
            backbone_kwargs=backbone_kwargs,
        )
        self.criterion = DCLWLoss(
            temperature=temperature, sigma=sigma, gather_distributed=gather_distributed
        )
