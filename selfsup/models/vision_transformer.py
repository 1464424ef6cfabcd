"""A configurable Vision Transformer (torchvision's) with token masking for MAE and MSN."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from selfsup.models.tokens import get_at_index, mask_at_index, prepend_class_token

if TYPE_CHECKING:
    import torchvision

__all__ = ["MaskedVisionTransformer", "VIT_PRESETS", "sincos_positional_embedding_2d"]

#: Standard sizes (Dosovitskiy et al., 2021, Table 1; tiny from DeiT, Touvron et al., 2021):
#: ``name -> (num_layers, num_heads, hidden_dim, mlp_dim)``.
VIT_PRESETS: dict[str, tuple[int, int, int, int]] = {
    "vit-tiny": (12, 3, 192, 768),
    "vit-small": (12, 6, 384, 1536),
    "vit-base": (12, 12, 768, 3072),
    "vit-large": (24, 16, 1024, 4096),
}


def sincos_positional_embedding_2d(
    grid_size: tuple[int, int],
    dim: int,
    *,
    class_token: bool = True,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> Tensor:
    """Fixed 2-D sine-cosine positional embedding (MAE, He et al., 2022, Sec. 3 / Appendix A).

    The first ``dim / 2`` channels encode the patch row, the last ``dim / 2`` the column; each
    half is ``[sin(pos * w_k), cos(pos * w_k)]`` with ``w_k = 10000 ** (-k / (dim / 4))``.

    Args:
        grid_size: ``(rows, cols)`` of the patch grid.
        dim: Embedding dimension, a multiple of 4.
        class_token: Prepend an all-zero row for the class token.
        device: Device of the result.
        dtype: Floating dtype of the result (default: torch's default dtype).

    Returns:
        ``(1, [1 +] rows * cols, dim)``, patches in row-major order.

    Raises:
        ValueError: ``dim`` not a multiple of 4.
    """
    if dim % 4 != 0:
        raise ValueError(f"dim must be a multiple of 4 for a 2-D sine-cosine embedding, got {dim}")
    rows, cols = grid_size
    quarter = dim // 4
    omega = 1.0 / 10000.0 ** (torch.arange(quarter, device=device, dtype=torch.float64) / quarter)
    row_pos, col_pos = torch.meshgrid(
        torch.arange(rows, device=device, dtype=torch.float64),
        torch.arange(cols, device=device, dtype=torch.float64),
        indexing="ij",
    )

    def encode(pos: Tensor) -> Tensor:
        angles = pos.reshape(-1, 1) * omega.reshape(1, -1)
        return torch.cat([angles.sin(), angles.cos()], dim=1)

    embedding = torch.cat([encode(row_pos), encode(col_pos)], dim=1)
    if class_token:
        embedding = torch.cat([embedding.new_zeros(1, dim), embedding], dim=0)
    return embedding.unsqueeze(0).to(dtype or torch.get_default_dtype())


class MaskedVisionTransformer(nn.Module):
    """Vision Transformer encoder whose token sequence can be masked or subsampled.

    Wraps a torchvision ``VisionTransformer`` (Dosovitskiy et al., 2021). Images become patch
    tokens, a class token is prepended (index 0), positional embeddings are added, and only
    then tokens are replaced by a mask token (``idx_mask``, SimMIM-style) or dropped
    (``idx_keep``, as MAE, He et al., 2022, Sec. 3, and MSN, Assran et al., 2022).
    Positional embeddings are interpolated (bicubic) for other image sizes (e.g. DINO/MSN
    local crops).

    Either pass ``vit`` (used as is; its ``heads`` stay unused) or the size arguments, which
    build one with MAE's initialisation (xavier-uniform linear layers and patch projection,
    2-D sine-cosine positional embedding, learnable) and without a classifier.

    Args:
        vit: An existing torchvision ``VisionTransformer`` to wrap.
        image_size: Training image side in pixels (multiple of ``patch_size``).
        patch_size: Patch side in pixels.
        num_layers: Transformer blocks.
        num_heads: Attention heads.
        hidden_dim: Token dimension ``D``.
        mlp_dim: MLP width inside each block.
        dropout: Dropout rate.
        attention_dropout: Attention dropout rate.
        in_chans: Input channels.
        mask_token: Create a learnable mask token (needed for ``idx_mask``). Off by default
            so that no parameter stays unused under DDP.

    Raises:
        ValueError: ``image_size`` not a multiple of ``patch_size``, ``hidden_dim`` not a
            multiple of ``num_heads``, or non-positive sizes.

    Example:
        >>> vit = MaskedVisionTransformer(image_size=32, patch_size=4, num_layers=2,
        ...                               num_heads=2, hidden_dim=64, mlp_dim=128)
        >>> vit(torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 64])
    """

    def __init__(
        self,
        vit: torchvision.models.VisionTransformer | None = None,
        *,
        image_size: int = 224,
        patch_size: int = 16,
        num_layers: int = 12,
        num_heads: int = 12,
        hidden_dim: int = 768,
        mlp_dim: int = 3072,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
        in_chans: int = 3,
        mask_token: bool = False,
    ) -> None:
        super().__init__()
        # Imported here: importing torchvision costs seconds, and most users of
        # selfsup.models (losses, memory banks) never need it.
        from torchvision.models.vision_transformer import VisionTransformer

        if vit is None:
            for name, value in (
                ("image_size", image_size),
                ("patch_size", patch_size),
                ("num_layers", num_layers),
                ("num_heads", num_heads),
                ("hidden_dim", hidden_dim),
                ("mlp_dim", mlp_dim),
                ("in_chans", in_chans),
            ):
                if value < 1:
                    raise ValueError(f"{name} must be >= 1, got {value}")
            if image_size % patch_size:
                raise ValueError(
                    f"image_size={image_size} must be a multiple of patch_size={patch_size}"
                )
            if hidden_dim % num_heads:
                raise ValueError(
                    f"hidden_dim={hidden_dim} must be a multiple of num_heads={num_heads}"
                )
            vit = VisionTransformer(
                image_size=image_size,
                patch_size=patch_size,
                num_layers=num_layers,
                num_heads=num_heads,
                hidden_dim=hidden_dim,
                mlp_dim=mlp_dim,
                dropout=dropout,
                attention_dropout=attention_dropout,
            )
            vit.heads = nn.Identity()
            if in_chans != 3:
                vit.conv_proj = nn.Conv2d(in_chans, hidden_dim, patch_size, stride=patch_size)
            _initialize_mae(vit)
        elif not isinstance(vit, VisionTransformer):
            raise TypeError(
                f"vit must be a torchvision VisionTransformer, got {type(vit).__name__}"
            )
        self.vit = vit
        self.image_size: int = vit.image_size
        self.patch_size: int = vit.patch_size
        self.num_features: int = vit.hidden_dim
        self.mask_token = nn.Parameter(torch.zeros(1, 1, vit.hidden_dim)) if mask_token else None

    @property
    def sequence_length(self) -> int:
        """Tokens per image at ``image_size``, class token included: ``1 + N``."""
        return int(self.vit.seq_length)

    def images_to_tokens(self, images: Tensor) -> Tensor:
        """Patch embedding without class token or positions.

        Args:
            images: ``(B, C, H, W)``, float; ``H`` and ``W`` multiples of ``patch_size``.

        Returns:
            ``(B, N, D)`` with ``N = (H / p) * (W / p)``, row-major patch order.

        Raises:
            ValueError: ``H`` or ``W`` not a multiple of ``patch_size``.
        """
        height, width = images.shape[-2:]
        if height % self.patch_size or width % self.patch_size:
            raise ValueError(
                f"image size {height}x{width} is not a multiple of patch_size={self.patch_size}"
            )
        return self.vit.conv_proj(images).flatten(2).transpose(1, 2)

    def positional_embedding(self, grid_size: tuple[int, int]) -> Tensor:
        """Positional embedding ``(1, 1 + rows * cols, D)`` for a patch grid, interpolated
        bicubically from the training grid when the sizes differ."""
        pos = self.vit.encoder.pos_embedding
        side = self.image_size // self.patch_size
        if tuple(grid_size) == (side, side):
            return pos
        grid = pos[:, 1:].reshape(1, side, side, -1).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=tuple(grid_size), mode="bicubic", align_corners=False)
        return torch.cat([pos[:, :1], grid.flatten(2).transpose(1, 2)], dim=1)

    def encode(
        self, images: Tensor, idx_keep: Tensor | None = None, idx_mask: Tensor | None = None
    ) -> Tensor:
        """Encoded tokens.

        Args:
            images: ``(B, C, H, W)``, float.
            idx_keep: Optional ``(B, K)`` int64 positions in the full sequence ``0..N``
                (0 is the class token, see :func:`~selfsup.models.utils.random_token_mask`);
                only these tokens are encoded.
            idx_mask: Optional ``(B, M)`` positions replaced by the mask token (needs
                ``mask_token=True``).

        Returns:
            ``(B, 1 + N, D)``, or ``(B, K, D)`` with ``idx_keep``.

        Raises:
            ValueError: ``idx_mask`` given without a mask token.
        """
        tokens = self.images_to_tokens(images)
        tokens = prepend_class_token(tokens, self.vit.class_token)
        if idx_mask is not None:
            if self.mask_token is None:
                raise ValueError("idx_mask needs MaskedVisionTransformer(..., mask_token=True)")
            tokens = mask_at_index(tokens, idx_mask, self.mask_token)
        height, width = images.shape[-2:]
        grid = (height // self.patch_size, width // self.patch_size)
        tokens = tokens + self.positional_embedding(grid)
        if idx_keep is not None:
            tokens = get_at_index(tokens, idx_keep)
        encoder = self.vit.encoder
        return encoder.ln(encoder.layers(encoder.dropout(tokens)))

    def forward(
        self, images: Tensor, idx_keep: Tensor | None = None, idx_mask: Tensor | None = None
    ) -> Tensor:
        """Encoded class token ``(B, D)``; arguments as :meth:`encode`."""
        return self.encode(images, idx_keep=idx_keep, idx_mask=idx_mask)[:, 0]


@torch.no_grad()
def _initialize_mae(vit: torchvision.models.VisionTransformer) -> None:
    for module in vit.modules():
        if isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    weight = vit.conv_proj.weight
    nn.init.xavier_uniform_(weight.view(weight.shape[0], -1))
    nn.init.normal_(vit.class_token, std=0.02)
    side = vit.image_size // vit.patch_size
    pos = vit.encoder.pos_embedding
    pos.copy_(sincos_positional_embedding_2d((side, side), pos.shape[-1], dtype=pos.dtype))
