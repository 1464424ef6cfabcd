"""MAE (He et al., 2022, "Masked Autoencoders Are Scalable Vision Learners")."""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from selfsup.loss._checks import check_int, check_number
from selfsup.methods.base import (
    OptimizerDefaults,
    SSLMethod,
    masked_vit_backbone,
    random_patch_mask,
    register_method,
)
from selfsup.models import MaskedVisionTransformer
from selfsup.models.modules import MAEDecoder
from selfsup.models.utils import get_at_index, patchify

__all__ = ["MAE"]

_NORM_PIX_EPS = 1e-6


@register_method("mae")
class MAE(SSLMethod):
    """A ViT encoder on the visible patches, a light decoder, and pixel reconstruction.

    A random subset of ``mask_ratio`` of the patches is removed; the encoder sees only the
    visible ones (plus the class token), the decoder gets the encoded tokens and a shared mask
    token at the masked positions and predicts their pixels (Sec. 3). The loss is the mean
    squared error on the masked patches only, optionally against per-patch normalised pixels
    (Sec. 3 "Reconstruction target", Table 1d).

    Args:
        backbone: ViT preset (``"vit-tiny"`` by default, small enough for a CPU; the paper uses
            ViT-B/L/H), a :class:`~selfsup.models.MaskedVisionTransformer` or a torchvision
            ``VisionTransformer``.
        image_size: Image side for a preset (the view transform's crop size; 224 in the paper).
            Training images must have exactly this size.
        patch_size: Patch side for a preset; default 16 from 128 pixels on, else an 8x8 grid.
        decoder_dim: Decoder width; default the encoder width (the paper: 512, Table 1).
        decoder_depth: Decoder blocks. Default 1 (Table 1a: one block suffices for fine-tuning;
            8 in the paper's default).
        decoder_num_heads: Decoder attention heads; default the encoder's number of heads.
        mask_ratio: Fraction of masked patches, in ``(0, 1)`` (0.75, Sec. 4, Fig. 5).
        norm_pix_loss: Normalise each target patch by its mean and variance (Table 1d).
        backbone_kwargs: Extra preset arguments (``in_chans``, ``dropout``, ...).

    Raises:
        ValueError: A non-ViT backbone name, ``mask_ratio`` outside ``(0, 1)``, or bad sizes.
        TypeError: A backbone module that is not a ViT.
    """

    transform_name = "mae"
    min_views = 1
    # The paper, Table 8 (lr 1.5e-4 per 256 images, wd 0.05, betas 0.9/0.95), as lightly.
    optimizer_defaults = OptimizerDefaults(
        name="adamw", lr=1.5e-4, weight_decay=0.05, betas=(0.9, 0.95)
    )

    def __init__(
        self,
        backbone: nn.Module | str = "vit-tiny",
        *,
        image_size: int = 224,
        patch_size: int | None = None,
        decoder_dim: int | None = None,
        decoder_depth: int = 1,
        decoder_num_heads: int | None = None,
        mask_ratio: float = 0.75,
        norm_pix_loss: bool = True,
        backbone_kwargs: dict | None = None,
    ) -> None:
        mask_ratio = check_number(
            "mask_ratio", mask_ratio, low=0.0, high=1.0, low_open=True, high_open=True
        )
        super().__init__(
            masked_vit_backbone(
                backbone,
                image_size=image_size,
                patch_size=patch_size,
                backbone_kwargs=backbone_kwargs,
            )
        )
        self.mask_ratio = mask_ratio
        self.norm_pix_loss = norm_pix_loss
        vit = self.encoder
        width = self.num_features if decoder_dim is None else decoder_dim
        heads = (
            vit.vit.encoder.layers[0].num_heads if decoder_num_heads is None else decoder_num_heads
        )
        self.decoder = MAEDecoder(
            seq_length=vit.sequence_length,
            num_layers=check_int("decoder_depth", decoder_depth, low=1),
            num_heads=heads,
            embed_input_dim=self.num_features,
            hidden_dim=width,
            mlp_dim=4 * width,
            out_dim=vit.patch_size**2 * vit.vit.conv_proj.in_channels,
        )

    @property
    def encoder(self) -> MaskedVisionTransformer:
        """The encoder, a :class:`~selfsup.models.MaskedVisionTransformer`."""
        return self.backbone.model

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """Reconstructs randomly masked patches.

        Args:
            images: `(B, C, H, W)`, float, ``H = W = image_size``.

        Returns:
            ``(predictions, targets)``, each `(B, M, patch_size**2 * C)` for the ``M`` masked
            patches (targets normalised per patch when ``norm_pix_loss``).

        Raises:
            ValueError: Images of another size than the encoder's ``image_size``.
        """
        vit = self.encoder
        if tuple(images.shape[-2:]) != (vit.image_size, vit.image_size):
            raise ValueError(
                f"MAE images must be {vit.image_size}x{vit.image_size} (the decoder's sequence "
                f"length is fixed), got {tuple(images.shape[-2:])}"
            )
        idx_keep, idx_mask = random_patch_mask(
            images.shape[0], vit.sequence_length - 1, self.mask_ratio, device=images.device
        )
        encoded = vit.encode(images, idx_keep=idx_keep)
        predictions = self.decoder(encoded, idx_keep=idx_keep, idx_mask=idx_mask)
        # token t of the sequence is patch t - 1 (the class token is token 0)
        targets = get_at_index(patchify(images, vit.patch_size), idx_mask - 1)
        if self.norm_pix_loss:
            mean = targets.mean(dim=-1, keepdim=True)
            var = targets.var(dim=-1, keepdim=True)
            targets = (targets - mean) / (var + _NORM_PIX_EPS).sqrt()
        return predictions, targets

    def training_loss(self, views: Sequence[Tensor]) -> Tensor:
        """Mean squared reconstruction error on the masked patches of view 0 `(B, C, H, W)`."""
        predictions, targets = self(self.check_views(views)[0])
        return F.mse_loss(predictions, targets)
