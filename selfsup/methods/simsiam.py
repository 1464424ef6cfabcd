"""SimSiam (Chen & He, 2021, "Exploring Simple Siamese Representation Learning")."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from selfsup.loss import NegativeCosineSimilarity
from selfsup.methods.base import OptimizerDefaults, SSLMethod, register_method
from selfsup.models.modules import SimSiamPredictionHead, SimSiamProjectionHead

__all__ = ["SimSiam"]


@register_method("simsiam")
class SimSiam(SSLMethod):
    """Encoder f (backbone + projector), predictor h, and a stop-gradient on the target.

    ``D(p1, stopgrad(z2)) / 2 + D(p2, stopgrad(z1)) / 2`` with ``D`` the negative cosine
    similarity, ``z = f(x)`` and ``p = h(z)`` (Algorithm 1, Eq. 4).

    Args:
        backbone: Backbone name or module (see :class:`~selfsup.methods.base.SSLMethod`).
        hidden_dim: Hidden width of the projector; default the backbone's feature size (2048 for
            ResNet-50, Sec. 4.1).
        output_dim: Projection size; default the backbone's feature size (2048, Sec. 4.1).
        prediction_hidden_dim: Bottleneck of the predictor; default ``output_dim // 4`` (512
            for 2048, Sec. 4.1).
        backbone_kwargs: Extra arguments for :func:`~selfsup.models.get_backbone`.
    """

    transform_name = "simsiam"
    # lightly's CIFAR-10/Imagenette benchmarks (the paper: lr 0.05, wd 1e-4, Sec. 4.1).
    optimizer_defaults = OptimizerDefaults(name="sgd", lr=0.06, weight_decay=5e-4)

    def __init__(
        self,
        backbone: nn.Module | str = "resnet-18",
        *,
        hidden_dim: int | None = None,
        output_dim: int | None = None,
        prediction_hidden_dim: int | None = None,
        backbone_kwargs: dict | None = None,
    ) -> None:
        super().__init__(backbone, backbone_kwargs)
        out = self.num_features if output_dim is None else output_dim
        self.projection_head = SimSiamProjectionHead(
            self.num_features, self.num_features if hidden_dim is None else hidden_dim, out
        )
        self.prediction_head = SimSiamPredictionHead(
            out, max(1, out // 4) if prediction_hidden_dim is None else prediction_hidden_dim, out
        )
        self.criterion = NegativeCosineSimilarity()

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Projections ``z`` and predictions ``p = h(z)`` of images `(B, C, H, W)`, each
        `(B, output_dim)`; ``z`` is not detached."""
        z = self.projection_head(self.embed(images))
        return z, self.prediction_head(z)

    def training_loss(self, views: Sequence[Tensor]) -> Tensor:
        """Symmetric SimSiam loss of two views `(B, C, H, W)` (Algorithm 1)."""
        x0, x1 = self.check_views(views)[:2]
        z0, p0 = self(x0)
        z1, p1 = self(x1)
        return 0.5 * (self.criterion(p0, z1.detach()) + self.criterion(p1, z0.detach()))
