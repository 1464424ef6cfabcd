"""MSN (Assran et al., 2022, "Masked Siamese Networks for Label-Efficient Learning")."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from selfsup.loss import MSNLoss
from selfsup.loss._checks import check_int, check_number
from selfsup.methods.base import (
    OptimizerDefaults,
    SSLMethod,
    masked_vit_backbone,
    momentum_copy,
    random_patch_mask,
    register_method,
)
from selfsup.models import MaskedVisionTransformer
from selfsup.models.modules import MSNProjectionHead
from selfsup.models.utils import cosine_schedule, update_momentum

__all__ = ["MSN"]


@register_method("msn")
class MSN(SSLMethod):
    """Masked anchor views matched to an unmasked target view through learnable prototypes.

    The anchor network (ViT encoder + projection head, trained) sees masked anchor views: a
    random fraction ``mask_ratio`` of their patches is dropped (Sec. 3). The target network,
    an EMA of the anchor network, sees the unmasked target view. Both outputs are softly
    assigned to prototypes; the anchors' assignments are trained towards the sharpened target
    assignments, with a mean-entropy-maximisation regulariser (Eq. 3-4). The views follow
    lightly's ``MSNTransform``: view 0 is the target, view 1 the random anchor, the rest the
    focal (small) anchors.

    Args:
        backbone: ViT preset (``"vit-tiny"`` by default, small enough for a CPU; ViT-S/16 is the
            paper's smallest), a :class:`~selfsup.models.MaskedVisionTransformer` or a
            torchvision ``VisionTransformer``.
        image_size: Image side for a preset (the random views' size; 224 in the paper).
        patch_size: Patch side for a preset; default 16 from 128 pixels on, else an 8x8 grid.
        hidden_dim: Hidden width of the projection head; default four times the encoder width
            (the paper: 2048, Sec. 5).
        output_dim: Projection and prototype size (256, Sec. 5).
        n_prototypes: Number of prototypes (1024, Sec. 5).
        mask_ratio: Fraction of dropped anchor patches, in ``[0, 1)`` (0.15 for ViT-S/16,
            Sec. 5).
        momentum_start: Target-network momentum at step 0 (0.996, Sec. 5).
        momentum_end: Momentum at the last step (1, cosine schedule as the authors' code).
        temperature: Temperature of the anchor prototype softmax (0.1, Sec. 5).
        target_sharpen_temperature: Targets are sharpened as ``p ** (1 / T)``; 0.25 with the
            anchor temperature 0.1 equals the paper's target temperature 0.025 (Sec. 5).
        regularization_weight: Weight of the mean-entropy maximisation (1, Sec. 5).
        sinkhorn_iterations: Sinkhorn-Knopp iterations on the targets (0: off, as lightly).
        gather_distributed: Compute Sinkhorn and the regulariser over all processes.
        backbone_kwargs: Extra preset arguments (``in_chans``, ``dropout``, ...).

    Raises:
        ValueError: A non-ViT backbone name, momenta or ``mask_ratio`` out of range, or bad
            loss/head arguments.
        TypeError: A backbone module that is not a ViT.
    """

    transform_name = "msn"
    # lightly's Imagenette ViT-S benchmark (the paper: AdamW, lr 1e-3 for batches of 1024,
    # wd 0.04-0.4).
    optimizer_defaults = OptimizerDefaults(
        name="adamw", lr=1.5e-4, weight_decay=0.05, betas=(0.9, 0.95)
    )

    def __init__(
        self,
        backbone: nn.Module | str = "vit-tiny",
        *,
        image_size: int = 224,
        patch_size: int | None = None,
        hidden_dim: int | None = None,
        output_dim: int = 256,
        n_prototypes: int = 1024,
        mask_ratio: float = 0.15,
        momentum_start: float = 0.996,
        momentum_end: float = 1.0,
        temperature: float = 0.1,
        target_sharpen_temperature: float = 0.25,
        regularization_weight: float = 1.0,
        sinkhorn_iterations: int = 0,
        gather_distributed: bool = False,
        backbone_kwargs: dict | None = None,
    ) -> None:
        mask_ratio = check_number("mask_ratio", mask_ratio, low=0.0, high=1.0, high_open=True)
        super().__init__(
            masked_vit_backbone(
                backbone,
                image_size=image_size,
                patch_size=patch_size,
                backbone_kwargs=backbone_kwargs,
            )
        )
        self.mask_ratio = mask_ratio
        self.momentum_start = check_number("momentum_start", momentum_start, low=0.0, high=1.0)
        self.momentum_end = check_number("momentum_end", momentum_end, low=0.0, high=1.0)
        self.momentum = self.momentum_start
        self.target_sharpen_temperature = check_number(
            "target_sharpen_temperature", target_sharpen_temperature, low=0.0, low_open=True
        )
        self.projection_head = MSNProjectionHead(
            self.num_features,
            4 * self.num_features if hidden_dim is None else hidden_dim,
            output_dim,
        )
        self.target_backbone = momentum_copy(self.backbone)
        self.target_projection_head = momentum_copy(self.projection_head)
        # uniform(-1/sqrt(D), 1/sqrt(D)) initialisation, as the authors' code
        bound = 1.0 / math.sqrt(output_dim)
        self.prototypes = nn.Parameter(
            torch.empty(check_int("n_prototypes", n_prototypes, low=1), output_dim).uniform_(
                -bound, bound
            )
        )
        self.criterion = MSNLoss(
            temperature=temperature,
            sinkhorn_iterations=sinkhorn_iterations,
            regularization_weight=regularization_weight,
            target_distribution="uniform",
            gather_distributed=gather_distributed,
        )

    @property
    def encoder(self) -> MaskedVisionTransformer:
        """The anchor encoder, a :class:`~selfsup.models.MaskedVisionTransformer`."""
        return self.backbone.model

    def forward(self, images: Tensor) -> Tensor:
        """Anchor-network projections of unmasked images `(B, C, H, W)` -> `(B, output_dim)`."""
        return self.projection_head(self.embed(images))

    def forward_masked(self, images: Tensor) -> Tensor:
        """Anchor-network projections of images `(B, C, H, W)` with a random ``mask_ratio`` of
        their patches dropped (the class token is always kept) -> `(B, output_dim)`."""
        patch = self.encoder.patch_size
        num_patches = (images.shape[-2] // patch) * (images.shape[-1] // patch)
        idx_keep, _ = random_patch_mask(
            images.shape[0], num_patches, self.mask_ratio, device=images.device
        )
        return self.projection_head(self.encoder(images, idx_keep=idx_keep))

    @torch.no_grad()
    def forward_target(self, images: Tensor) -> Tensor:
        """Target-network projections of unmasked images `(B, C, H, W)` -> `(B, output_dim)`,
        without gradient."""
        return self.target_projection_head(self.target_backbone(images).flatten(start_dim=1))

    def update_schedules(self, step: int, max_steps: int, epoch: int, max_epochs: int) -> None:
        """Cosine momentum schedule and the EMA update of the target network."""
        self.momentum = cosine_schedule(step, max_steps, self.momentum_start, self.momentum_end)
        update_momentum(self.backbone, self.target_backbone, self.momentum)
        update_momentum(self.projection_head, self.target_projection_head, self.momentum)

    def training_loss(self, views: Sequence[Tensor]) -> Tensor:
        """MSN loss: view 0 is the target `(B, C, H, W)`, view 1 the random anchor, further
        views focal anchors `(B, C, h, w)` (view-major order in the loss)."""
        views = self.check_views(views)
        targets = self.forward_target(views[0])
        anchors = [self.forward_masked(views[1])]
        if len(views) > 2:
            anchors.append(self.forward_masked(torch.cat(views[2:])))
        return self.criterion(
            torch.cat(anchors), targets, self.prototypes, self.target_sharpen_temperature
        )
