"""VICReg (Bardes et al., 2022, "VICReg: Variance-Invariance-Covariance Regularization for
Self-Supervised Learning")."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from selfsup.loss import VICRegLoss
from selfsup.methods.base import OptimizerDefaults, SSLMethod, register_method
from selfsup.models.modules import VICRegProjectionHead

__all__ = ["VICReg"]


@register_method("vicreg")
class VICReg(SSLMethod):
    """Encoder, expander, and the variance-invariance-covariance loss of two views.

    The loss (Eq. 6) is ``lambda * s(Z, Z') + mu * (v(Z) + v(Z')) + nu * (c(Z) + c(Z'))``:
    mean squared distance of the pairs, a hinge keeping each dimension's standard deviation
    above 1, and the squared off-diagonal covariances.

    Args:
        backbone: Backbone name or module (see :class:`~selfsup.methods.base.SSLMethod`).
        hidden_dim: Hidden width of the expander; default four times the backbone's feature
            size (8192 for ResNet-50, Sec. 4.2; 2048 for ResNet-18, as lightly's benchmarks).
        output_dim: Embedding size; default ``hidden_dim`` (Sec. 4.2).
        num_layers: Linear layers of the expander (3, Sec. 4.2).
        lambda_param: Invariance weight (25, Sec. 4.1).
        mu_param: Variance weight (25, Sec. 4.1).
        nu_param: Covariance weight (1, Sec. 4.1).
        gather_distributed: Variance and covariance over the global batch of all processes.
        backbone_kwargs: Extra arguments for :func:`~selfsup.models.get_backbone`.
    """

    transform_name = "vicreg"
    # lightly's Imagenette benchmark ("training diverges without LARS"); the paper: LARS,
    # base lr 0.2, wd 1e-6 (Sec. 4.1).
    optimizer_defaults = OptimizerDefaults(name="lars", lr=0.3, weight_decay=1e-4)

    def __init__(
        self,
        backbone: nn.Module | str = "resnet-18",
        *,
        hidden_dim: int | None = None,
        output_dim: int | None = None,
        num_layers: int = 3,
        lambda_param: float = 25.0,
        mu_param: float = 25.0,
        nu_param: float = 1.0,
        gather_distributed: bool = False,
        backbone_kwargs: dict | None = None,
    ) -> None:
        super().__init__(backbone, backbone_kwargs)
        hidden = 4 * self.num_features if hidden_dim is None else hidden_dim
        self.projection_head = VICRegProjectionHead(
            input_dim=self.num_features,
            hidden_dim=hidden,
            output_dim=hidden if output_dim is None else output_dim,
            num_layers=num_layers,
        )
        self.criterion = VICRegLoss(
            lambda_param=lambda_param,
            mu_param=mu_param,
            nu_param=nu_param,
            gather_distributed=gather_distributed,
        )

    def forward(self, images: Tensor) -> Tensor:
        """Embeddings ``z`` of images `(B, C, H, W)` -> `(B, output_dim)`."""
        return self.projection_head(self.embed(images))

    def training_loss(self, views: Sequence[Tensor]) -> Tensor:
        """VICReg loss between the embeddings of two views `(B, C, H, W)`."""
        x0, x1 = self.check_views(views)[:2]
        return self.criterion(self(x0), self(x1))
