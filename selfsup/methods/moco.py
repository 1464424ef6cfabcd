"""MoCo (He et al., 2020, "Momentum Contrast for Unsupervised Visual Representation Learning";
v2: Chen et al., 2020, "Improved Baselines with Momentum Contrastive Learning")."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from selfsup.loss import NTXentLoss
from selfsup.loss._checks import check_number
from selfsup.methods.base import OptimizerDefaults, SSLMethod, momentum_copy, register_method
from selfsup.models.modules import MoCoProjectionHead
from selfsup.models.utils import batch_shuffle, batch_unshuffle, cosine_schedule, update_momentum

__all__ = ["MoCo"]


@register_method("moco")
class MoCo(SSLMethod):
    """MoCo v2: a query encoder, a momentum key encoder and a queue of keys as negatives.

    Queries ``q = g(f(x_q))`` come from the trained backbone ``f`` and MLP head ``g`` (v2,
    Sec. 3); keys ``k`` from momentum copies of both, updated as ``theta_k = m theta_k + (1 - m)
    theta_q`` (Eq. 2) and run in train mode on a shuffled batch ("shuffling BN", Sec. 3.3).
    The InfoNCE loss (Eq. 1) contrasts each query with its key and the queue of earlier keys
    (:class:`~selfsup.loss.NTXentLoss` with a memory bank).

    Args:
        backbone: Backbone name or module (see :class:`~selfsup.methods.base.SSLMethod`).
        hidden_dim: Hidden width of the head; default the backbone's feature size (2048 for
            ResNet-50 in v2).
        output_dim: Size of queries and keys (128, v2 Sec. 3).
        temperature: InfoNCE temperature (0.2, v2 Sec. 3).
        memory_bank_size: Number of queued keys. Default 4096 as lightly's benchmarks on small
            data sets (the paper uses 65536, Sec. 4.1).
        momentum_start: Key-encoder momentum at step 0. Default 0.99 (lightly's benchmarks;
            the paper uses a constant 0.999, Sec. 4.1).
        momentum_end: Momentum at the last step, reached by a cosine schedule (BYOL,
            Grill et al., 2020, Sec. 3.2).
        symmetric: Also contrast the second view's queries with the first view's keys and
            average (MoCo's CIFAR-10 demo and lightly's benchmarks; the paper is asymmetric).
        gather_distributed: Shuffle BN across processes and enqueue the keys of all processes.
        backbone_kwargs: Extra arguments for :func:`~selfsup.models.get_backbone`.

    Raises:
        ValueError: Momenta outside ``[0, 1]`` or a bad loss/head argument.
    """

    transform_name = "moco"
    # lightly's CIFAR-10/Imagenette benchmarks (the paper: lr 0.03, wd 1e-4, Sec. 4.1).
    optimizer_defaults = OptimizerDefaults(name="sgd", lr=0.06, weight_decay=5e-4)

    def __init__(
        self,
        backbone: nn.Module | str = "resnet-18",
        *,
        hidden_dim: int | None = None,
        output_dim: int = 128,
        temperature: float = 0.2,
        memory_bank_size: int = 4096,
        momentum_start: float = 0.99,
        momentum_end: float = 1.0,
        symmetric: bool = True,
        gather_distributed: bool = False,
        backbone_kwargs: dict | None = None,
    ) -> None:
        super().__init__(backbone, backbone_kwargs)
        self.momentum_start = check_number("momentum_start", momentum_start, low=0.0, high=1.0)
        self.momentum_end = check_number("momentum_end", momentum_end, low=0.0, high=1.0)
        self.momentum = self.momentum_start
        self.symmetric = symmetric
        self.gather_distributed = gather_distributed
        self.projection_head = MoCoProjectionHead(
            input_dim=self.num_features,
            hidden_dim=self.num_features if hidden_dim is None else hidden_dim,
            output_dim=output_dim,
        )
        self.backbone_momentum = momentum_copy(self.backbone)
        self.projection_head_momentum = momentum_copy(self.projection_head)
        self.criterion = NTXentLoss(
            temperature=temperature,
            memory_bank_size=(memory_bank_size, output_dim),
            gather_distributed=gather_distributed,
        )

    def forward(self, images: Tensor) -> Tensor:
        """Queries ``q = g(f(x))`` of images `(B, C, H, W)` -> `(B, output_dim)`."""
        return self.projection_head(self.embed(images))

    @torch.no_grad()
    def forward_momentum(self, images: Tensor) -> Tensor:
        """Keys of images `(B, C, H, W)` -> `(B, output_dim)` from the momentum encoder, computed
        on a shuffled batch and unshuffled (shuffling BN), without gradient."""
        shuffled, order = batch_shuffle(images, distributed=self.gather_distributed)
        keys = self.projection_head_momentum(self.backbone_momentum(shuffled).flatten(start_dim=1))
        return batch_unshuffle(keys, order, distributed=self.gather_distributed)

    def update_schedules(self, step: int, max_steps: int, epoch: int, max_epochs: int) -> None:
        """Cosine momentum schedule and the EMA update of the key encoder (Eq. 2)."""
        self.momentum = cosine_schedule(step, max_steps, self.momentum_start, self.momentum_end)
        update_momentum(self.backbone, self.backbone_momentum, self.momentum)
        update_momentum(self.projection_head, self.projection_head_momentum, self.momentum)

    def training_loss(self, views: Sequence[Tensor]) -> Tensor:
        """InfoNCE of queries of view 0 against keys of view 1 (and the reverse if symmetric);
        views `(B, C, H, W)`."""
        x_query, x_key = self.check_views(views)[:2]
        loss = self.criterion(self(x_query), self.forward_momentum(x_key))
        if self.symmetric:
            loss = 0.5 * (loss + self.criterion(self(x_key), self.forward_momentum(x_query)))
        return loss
