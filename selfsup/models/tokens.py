"""Token and patch helpers for Vision Transformers: patchify, random masks, indexing."""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = [
    "get_at_index",
    "mask_at_index",
    "patchify",
    "prepend_class_token",
    "random_token_mask",
    "repeat_token",
    "set_at_index",
    "unpatchify",
]


def patchify(images: Tensor, patch_size: int) -> Tensor:
    """Cuts images into non-overlapping square patches, row-major (as MAE's ``patchify``).

    Args:
        images: ``(B, C, H, W)``; ``H`` and ``W`` multiples of ``patch_size``.
        patch_size: Patch side ``p`` in pixels.

    Returns:
        ``(B, N, p * p * C)`` with ``N = (H / p) * (W / p)``; each patch flattened in
        ``(p_row, p_col, C)`` order.

    Raises:
        ValueError: ``H`` or ``W`` not a multiple of ``patch_size``, or not 4-D.
    """
    if images.ndim != 4:
        raise ValueError(f"images must be (B, C, H, W), got shape {tuple(images.shape)}")
    batch, channels, height, width = images.shape
    if patch_size < 1 or height % patch_size or width % patch_size:
        raise ValueError(
            f"image size {height}x{width} is not a multiple of patch_size={patch_size}"
        )
    rows, cols = height // patch_size, width // patch_size
    patches = images.reshape(batch, channels, rows, patch_size, cols, patch_size)
    patches = patches.permute(0, 2, 4, 3, 5, 1)
    return patches.reshape(batch, rows * cols, patch_size * patch_size * channels)


def unpatchify(
    patches: Tensor, patch_size: int, channels: int = 3, image_size: tuple[int, int] | None = None
) -> Tensor:
    """Inverse of :func:`patchify`.

    Args:
        patches: ``(B, N, p * p * C)``.
        patch_size: Patch side ``p``.
        channels: ``C``.
        image_size: ``(H, W)``; default square with ``H = W = p * sqrt(N)``.

    Returns:
        Images ``(B, C, H, W)``.

    Raises:
        ValueError: The shapes do not fit together.
    """
    batch, num, dim = patches.shape
    if dim != patch_size * patch_size * channels:
        raise ValueError(
            f"patch dim {dim} != patch_size**2 * channels = {patch_size**2 * channels}"
        )
    if image_size is None:
        side = math.isqrt(num)
        if side * side != num:
            raise ValueError(f"{num} patches do not form a square; pass image_size")
        image_size = (side * patch_size, side * patch_size)
    rows, cols = image_size[0] // patch_size, image_size[1] // patch_size
    if rows * cols != num:
        raise ValueError(f"image_size {image_size} needs {rows * cols} patches, got {num}")
    images = patches.reshape(batch, rows, cols, patch_size, patch_size, channels)
    images = images.permute(0, 5, 1, 3, 2, 4)
    return images.reshape(batch, channels, rows * patch_size, cols * patch_size)


def random_token_mask(
    size: tuple[int, int],
    mask_ratio: float = 0.6,
    mask_class_token: bool = False,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """Random split of token positions into kept and masked ones (MAE, He et al., 2022, Sec. 3).

    Args:
        size: ``(B, N)``: batch size and sequence length (class token at index 0 included).
        mask_ratio: Fraction of the ``N`` tokens to mask, in ``[0, 1)``; ``K = int(N * (1 -
            mask_ratio))`` are kept (at least 1 if the class token is protected).
        mask_class_token: If False, index 0 (the class token) is always kept.
        device: Device of the returned indices.
        generator: Optional torch generator for the noise.

    Returns:
        ``(idx_keep, idx_mask)`` of shapes ``(B, K)`` and ``(B, N - K)``, int64, disjoint,
        together a permutation of ``0..N-1`` per row; with the class token protected
        ``idx_keep[:, 0] == 0``.

    Raises:
        ValueError: ``mask_ratio`` outside ``[0, 1)``.
    """
    if not 0.0 <= mask_ratio < 1.0:
        raise ValueError(f"mask_ratio must be in [0, 1), got {mask_ratio}")
    batch, length = size
    num_keep = int(length * (1.0 - mask_ratio))
    gen_device = generator.device if generator is not None else device
    noise = torch.rand(batch, length, generator=generator, device=gen_device).to(device)
    if not mask_class_token and length > 0:
        noise[:, 0] = -1.0
        num_keep = max(1, num_keep)
    order = torch.argsort(noise, dim=1)
    return order[:, :num_keep], order[:, num_keep:]


def _expand_index(index: Tensor, tokens: Tensor) -> Tensor:
    return index.unsqueeze(-1).expand(-1, -1, tokens.shape[-1])


def get_at_index(tokens: Tensor, index: Tensor) -> Tensor:
    """Selects tokens by position.

    Args:
        tokens: ``(B, N, D)``.
        index: ``(B, K)`` int64 positions in ``[0, N)``.

    Returns:
        ``(B, K, D)`` with ``out[b, k] = tokens[b, index[b, k]]``.
    """
    return torch.gather(tokens, 1, _expand_index(index, tokens))


def set_at_index(tokens: Tensor, index: Tensor, value: Tensor | float) -> Tensor:
    """Returns a copy of ``tokens`` with the given positions replaced.

    Args:
        tokens: ``(B, N, D)``.
        index: ``(B, K)`` int64 positions.
        value: ``(B, K, D)`` new tokens, or a scalar.

    Returns:
        ``(B, N, D)`` with ``out[b, index[b, k]] = value[b, k]``.
    """
    return torch.scatter(tokens, 1, _expand_index(index, tokens), value)


def mask_at_index(tokens: Tensor, index: Tensor, mask_token: Tensor) -> Tensor:
    """Replaces the tokens at ``index`` by ``mask_token`` (differentiable in both).

    Args:
        tokens: ``(B, N, D)``.
        index: ``(B, K)`` int64 positions.
        mask_token: ``(1, 1, D)``.

    Returns:
        ``(B, N, D)``.
    """
    mask = set_at_index(torch.zeros_like(tokens), index, 1.0)
    return (1.0 - mask) * tokens + mask * mask_token


def repeat_token(token: Tensor, size: tuple[int, int]) -> Tensor:
    """Repeats one token into a ``(B, N, D)`` tensor.

    Args:
        token: ``(1, 1, D)``.
        size: ``(B, N)``.

    Returns:
        ``(B, N, D)``.
    """
    batch, length = size
    return token.repeat(batch, length, 1)


def prepend_class_token(tokens: Tensor, class_token: Tensor) -> Tensor:
    """Prepends a class token to every sequence.

    Args:
        tokens: ``(B, N, D)``.
        class_token: ``(1, 1, D)``.

    Returns:
        ``(B, 1 + N, D)``.
    """
    return torch.cat([class_token.expand(tokens.shape[0], -1, -1), tokens], dim=1)
