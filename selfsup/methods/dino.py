"""DINO (Caron et al., 2021, "Emerging Properties in Self-Supervised Vision Transformers")."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from selfsup.loss import DINOLoss
from selfsup.loss._checks import check_number
from selfsup.methods.base import (
    OptimizerDefaults,
    SSLMethod,
    forward_multicrop,
    momentum_copy,
    register_method,
)
from selfsup.models.modules import DINOProjectionHead
from selfsup.models.utils import cosine_schedule, update_momentum

__all__ = ["DINO"]


@register_method("dino")
class DINO(SSLMethod):
    """Self-distillation: a student matches a momentum teacher on multi-crop views.

    The teacher (an EMA of the student, momentum following a cosine schedule from 0.996 to 1,
    Sec. 3.1) sees only the 2 global views; the student sees all views, global first, then the
    local ones (Sec. 3.1, Fig. 2). The teacher output is centred and sharpened, and the cross
    entropy is averaged over all (teacher view, other student view) pairs (Algorithm 1).
    Crops of one resolution share one forward pass, as the authors' multi-crop wrapper. The
    last layer of the student head gets no update during the first ``freeze_last_layer``
    epochs (:meth:`after_backward`).

    :meth:`embed` uses the student backbone, like every other method here. The paper reports
    the teacher to be slightly better for k-NN evaluation (Sec. 5.2); both share one
    architecture and the student is the network the optimizer trains.

    Args:
        backbone: Backbone name or module (see :class:`~selfsup.methods.base.SSLMethod`).
        hidden_dim: Hidden width of the head MLP; default four times the backbone's feature size
            (2048 for ResNet-18; the paper: 2048, Sec. 3.1).
        bottleneck_dim: MLP output size before the last layer (256, Sec. 3.1).
        output_dim: ``K``, number of output logits. Default 2048 as lightly's ResNet-18
            benchmark (65536 in the paper, Sec. 3.1).
        batch_norm: Batch norm in the head MLP (off for ViTs, Sec. 3.1; an option for ResNets
            in the authors' code).
        freeze_last_layer: Epochs during which the head's last layer is frozen (1, the
            authors' code).
        norm_last_layer: Keep the last layer's weight-norm magnitude fixed at 1 (authors' code).
        momentum_start: Teacher momentum at step 0 (0.996, Sec. 3.1).
        momentum_end: Teacher momentum at the last step (1, Sec. 3.1).
        warmup_teacher_temp: Teacher temperature at epoch 0 (0.04, Sec. 4).
        teacher_temp: Teacher temperature after the warm-up (0.04, Sec. 4).
        warmup_teacher_temp_epochs: Length of the temperature warm-up (30 epochs, Sec. 4).
        student_temp: Student temperature (0.1, Sec. 3.1).
        center_momentum: EMA momentum of the centre (0.9, Sec. 3.1).
        backbone_kwargs: Extra arguments for :func:`~selfsup.models.get_backbone`.

    Raises:
        ValueError: Momenta outside ``[0, 1]`` or a bad loss/head argument.
    """

    transform_name = "dino"
    # lightly's Imagenette ResNet-18 benchmark (ViTs in the paper: AdamW, lr 5e-4, wd 0.04).
    optimizer_defaults = OptimizerDefaults(name="sgd", lr=0.06, weight_decay=5e-4)

    def __init__(
        self,
        backbone: nn.Module | str = "resnet-18",
        *,
        hidden_dim: int | None = None,
        bottleneck_dim: int = 256,
        output_dim: int = 2048,
        batch_norm: bool = False,
        freeze_last_layer: int = 1,
        norm_last_layer: bool = True,
        momentum_start: float = 0.996,
        momentum_end: float = 1.0,
        warmup_teacher_temp: float = 0.04,
        teacher_temp: float = 0.04,
        warmup_teacher_temp_epochs: int = 30,
        student_temp: float = 0.1,
        center_momentum: float = 0.9,
        backbone_kwargs: dict | None = None,
    ) -> None:
        super().__init__(backbone, backbone_kwargs)
        self.momentum_start = check_number("momentum_start", momentum_start, low=0.0, high=1.0)
        self.momentum_end = check_number("momentum_end", momentum_end, low=0.0, high=1.0)
        self.momentum = self.momentum_start
        self.epoch = 0
        self.projection_head = DINOProjectionHead(
            input_dim=self.num_features,
            hidden_dim=4 * self.num_features if hidden_dim is None else hidden_dim,
            bottleneck_dim=bottleneck_dim,
            output_dim=output_dim,
            batch_norm=batch_norm,
            freeze_last_layer=freeze_last_layer,
            norm_last_layer=norm_last_layer,
        )
        self.teacher_backbone = momentum_copy(self.backbone)
        self.teacher_head = momentum_copy(self.projection_head)
        self.criterion = DINOLoss(
            output_dim=output_dim,
            warmup_teacher_temp=warmup_teacher_temp,
            teacher_temp=teacher_temp,
            warmup_teacher_temp_epochs=warmup_teacher_temp_epochs,
            student_temp=student_temp,
            center_momentum=center_momentum,
        )

    def forward(self, images: Tensor) -> Tensor:
        """Student logits of images `(B, C, H, W)` -> `(B, output_dim)`."""
        return self.projection_head(self.embed(images))

    @torch.no_grad()
    def forward_teacher(self, images: Tensor) -> Tensor:
        """Teacher logits of images `(B, C, H, W)` -> `(B, output_dim)`, without gradient."""
        return self.teacher_head(self.teacher_backbone(images).flatten(start_dim=1))

    def update_schedules(self, step: int, max_steps: int, epoch: int, max_epochs: int) -> None:
        """Cosine teacher momentum, EMA update of the teacher, and the epoch for the loss's
        teacher-temperature warm-up."""
        self.epoch = epoch
        self.momentum = cosine_schedule(step, max_steps, self.momentum_start, self.momentum_end)
        update_momentum(self.backbone, self.teacher_backbone, self.momentum)
        update_momentum(self.projection_head, self.teacher_head, self.momentum)

    def after_backward(self, epoch: int) -> None:
        """Drops the gradients of the head's last layer while ``epoch < freeze_last_layer``."""
        self.projection_head.cancel_last_layer_gradients(epoch)

    def training_loss(self, views: Sequence[Tensor]) -> Tensor:
        """DINO loss of 2 global views followed by any number of local views, each
        `(B, C, H_i, W_i)`."""
        views = self.check_views(views)
        teacher_out = forward_multicrop(self.forward_teacher, views[:2])
        student_out = forward_multicrop(self, views)
        return self.criterion(teacher_out, student_out, epoch=self.epoch)
