"""Masked-autoencoder decoder: encoded visible tokens + mask tokens -> patch pixels."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from selfsup.models.tokens import get_at_index, repeat_token, set_at_index
from selfsup.models.vision_transformer import sincos_positional_embedding_2d

__all__ = ["MAEDecoder"]


class MAEDecoder(nn.Module):
    """Lightweight transformer decoder of MAE (He et al., 2022, Sec. 3 "MAE decoder").

    The encoded visible tokens are projected to the decoder width (:meth:`embed`), placed at
    their positions in a full sequence filled with a shared learnable mask token, decoded by
    transformer blocks with their own positional embedding (:meth:`decode`; 2-D sine-cosine
    initialised, learnable) and mapped to pixel values per patch (:meth:`predict`).
    Defaults are the paper's decoder (Table 1 and Appendix A.1: 8 blocks, width 512, 16 heads) behind
    a ViT-B/16 encoder.

    Args:
        seq_length: Tokens per image, class token included (``1 + N``).
        num_layers: Decoder blocks.
        num_heads: Attention heads.
        embed_input_dim: Width of the encoder tokens.
        hidden_dim: Decoder width.
        mlp_dim: MLP width inside each block.
        out_dim: Values predicted per patch, usually ``patch_size ** 2 * channels``.
        dropout: Dropout rate.
        attention_dropout: Attention dropout rate.

    Raises:
        ValueError: Non-positive sizes or ``hidden_dim`` not a multiple of ``num_heads``.
    """

    def __init__(
        self,
        seq_length: int,
        num_layers: int = 8,
        num_heads: int = 16,
        embed_input_dim: int = 768,
        hidden_dim: int = 512,
        mlp_dim: int = 2048,
        out_dim: int = 768,
        dropout: float = 0.0,
        attention_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        for name, value in (
            ("seq_length", seq_length),
            ("num_layers", num_layers),
            ("num_heads", num_heads),
            ("embed_input_dim", embed_input_dim),
            ("hidden_dim", hidden_dim),
            ("mlp_dim", mlp_dim),
            ("out_dim", out_dim),
        ):
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if hidden_dim % num_heads:
            raise ValueError(f"hidden_dim={hidden_dim} must be a multiple of num_heads={num_heads}")
        self.seq_length = seq_length
        self.decoder_embed = nn.Linear(embed_input_dim, hidden_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, hidden_dim))
        # Imported here: importing torchvision costs seconds (see vision_transformer).
        from torchvision.models.vision_transformer import Encoder

        self.encoder = Encoder(
            seq_length=seq_length,
            num_layers=num_layers,
            num_heads=num_heads,
            hidden_dim=hidden_dim,
            mlp_dim=mlp_dim,
            dropout=dropout,
            attention_dropout=attention_dropout,
        )
        self.prediction_head = nn.Linear(hidden_dim, out_dim)
        self._initialize()

    @torch.no_grad()
    def _initialize(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        nn.init.normal_(self.mask_token, std=0.02)
        side = math.isqrt(self.seq_length - 1)
        pos = self.encoder.pos_embedding
        if side * side == self.seq_length - 1 and pos.shape[-1] % 4 == 0:
            pos.copy_(sincos_positional_embedding_2d((side, side), pos.shape[-1]))

    def embed(self, tokens: Tensor) -> Tensor:
        """Projects encoder tokens ``(B, L, embed_input_dim)`` to ``(B, L, hidden_dim)``."""
        return self.decoder_embed(tokens)

    def decode(self, tokens: Tensor) -> Tensor:
        """Adds positions and runs the blocks: ``(B, seq_length, hidden_dim)`` -> same shape."""
        return self.encoder(tokens)

    def predict(self, tokens: Tensor) -> Tensor:
        """Pixel predictions ``(B, L, out_dim)`` from decoded tokens ``(B, L, hidden_dim)``."""
        return self.prediction_head(tokens)

    def forward(
        self, tokens: Tensor, idx_keep: Tensor | None = None, idx_mask: Tensor | None = None
    ) -> Tensor:
        """Reconstructs patches from encoded tokens.

        Args:
            tokens: Encoded tokens: the full sequence ``(B, seq_length, embed_input_dim)`` when
                ``idx_keep`` is None, else the visible ones ``(B, K, embed_input_dim)`` as
                returned by ``MaskedVisionTransformer.encode(images, idx_keep)``.
            idx_keep: ``(B, K)`` positions of ``tokens`` in the full sequence (class token
                at 0); all other positions get the mask token.
            idx_mask: Optional ``(B, M)`` positions to return predictions for (MAE's loss is
                computed on the masked patches only).

        Returns:
            ``(B, M, out_dim)`` with ``idx_mask``, else ``(B, seq_length, out_dim)``. Row
            ``m`` of the result predicts token ``idx_mask[:, m]``, i.e. patch
            ``idx_mask[:, m] - 1``.
        """
        embedded = self.embed(tokens)
        if idx_keep is not None:
            full = repeat_token(
                self.mask_token.to(embedded.dtype), (tokens.shape[0], self.seq_length)
            )
            embedded = set_at_index(full, idx_keep, embedded)
        decoded = self.decode(embedded)
        if idx_mask is not None:
            decoded = get_at_index(decoded, idx_mask)
        return self.predict(decoded)
