"""NNCLR (Dwibedi et al., 2021, "With a Little Help from My Friends: Nearest-Neighbor
Contrastive Learning of Visual Representations")."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from selfsup.loss import NTXentLoss
from selfsup.methods.base import OptimizerDefaults, SSLMethod, register_method
from selfsup.models.modules import NNCLRPredictionHead, NNCLRProjectionHead, NNMemoryBankModule

__all__ = ["NNCLR"]


@register_method("nnclr")
class NNCLR(SSLMethod):
    """SimCLR whose positives are the nearest neighbours of the projections in a support set.

    Each view's projection ``z`` is replaced by its nearest neighbour ``NN(z)`` in a FIFO
    support set of earlier projections (Sec. 3.2) and contrasted with the prediction ``p`` of
    the other view: ``L = (InfoNCE(NN(z0), p1) + InfoNCE(NN(z1), p0)) / 2`` (Eq. 2, symmetric,
    Sec. 4.1). The support set is updated with the second view's projections.

    Args:
        backbone: Backbone name or module (see :class:`~selfsup.methods.base.SSLMethod`).
        hidden_dim: Hidden width of the projector; default the backbone's feature size (2048 for
            ResNet-50, Sec. 4.1).
        output_dim: Projection size ``d`` (256, Sec. 4.1).
        prediction_hidden_dim: Hidden width of the predictor; default twice the backbone's
            feature size (4096 for ResNet-50, Sec. 4.1).
        memory_bank_size: Support set size. Default 4096 as lightly's benchmarks on small data
            (98304 in the paper, Sec. 4.1).
        temperature: InfoNCE temperature (0.1, Sec. 4.1).
        gather_distributed: Use the samples of all processes as negatives and enqueue them.
        backbone_kwargs: Extra arguments for :func:`~selfsup.models.get_backbone`.
    """

    transform_name = "simclr"
    # lightly's CIFAR-10/Imagenette benchmarks (the paper: LARS, lr 0.3, wd 1e-6, Sec. 4.1).
    optimizer_defaults = OptimizerDefaults(name="sgd", lr=0.06, weight_decay=5e-4)

    def __init__(
        self,
        backbone: nn.Module | str = "resnet-18",
        *,
        hidden_dim: int | None = None,
        output_dim: int = 256,
        prediction_hidden_dim: int | None = None,
        memory_bank_size: int = 4096,
        temperature: float = 0.1,
        gather_distributed: bool = False,
        backbone_kwargs: dict | None = None,
    ) -> None:
        super().__init__(backbone, backbone_kwargs)
        self.projection_head = NNCLRProjectionHead(
            self.num_features,
            self.num_features if hidden_dim is None else hidden_dim,
            output_dim,
        )
        self.prediction_head = NNCLRPredictionHead(
            output_dim,
            2 * self.num_features if prediction_hidden_dim is None else prediction_hidden_dim,
            output_dim,
        )
        self.memory_bank = NNMemoryBankModule(
            size=(memory_bank_size, output_dim), gather_distributed=gather_distributed
        )
        self.criterion = NTXentLoss(temperature=temperature, gather_distributed=gather_distributed)

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Projections ``z`` and predictions ``p`` of images `(B, C, H, W)`, each
        `(B, output_dim)`."""
        z = self.projection_head(self.embed(images))
        return z, self.prediction_head(z)

    def training_loss(self, views: Sequence[Tensor]) -> Tensor:
        """Symmetric NNCLR loss of two views `(B, C, H, W)`."""
        x0, x1 = self.check_views(views)[:2]
        z0, p0 = self(x0)
        z1, p1 = self(x1)
        neighbours0 = self.memory_bank(z0.detach(), update=False)
        neighbours1 = self.memory_bank(z1.detach(), update=True)
        return 0.5 * (self.criterion(neighbours0, p1) + self.criterion(neighbours1, p0))
