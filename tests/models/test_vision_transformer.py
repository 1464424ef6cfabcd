"""Tests for MaskedVisionTransformer and the 2-D sine-cosine positional embedding."""

from __future__ import annotations

import math

import pytest
import torch
from torchvision.models.vision_transformer import VisionTransformer

from selfsup.models import MaskedVisionTransformer, sincos_positional_embedding_2d
from selfsup.models.utils import get_at_index, random_token_mask


def _small_vit(**kwargs) -> MaskedVisionTransformer:
    options = dict(
        image_size=16, patch_size=4, num_layers=2, num_heads=2, hidden_dim=16, mlp_dim=32
    )
    options.update(kwargs)
    return MaskedVisionTransformer(**options).eval()


def test_shapes_of_forward_and_encode():
    vit = _small_vit()
    images = torch.randn(2, 3, 16, 16)
    assert vit.sequence_length == 17 and vit.num_features == 16
    assert vit.images_to_tokens(images).shape == (2, 16, 16)
    assert vit.encode(images).shape == (2, 17, 16)
    assert vit(images).shape == (2, 16)
    idx_keep, _ = random_token_mask((2, 17), mask_ratio=0.75)
    assert vit.encode(images, idx_keep=idx_keep).shape == (2, 4, 16)
    torch.testing.assert_close(vit(images), vit.encode(images)[:, 0])


def test_positions_are_added_before_tokens_are_dropped():
    """Self-attention without masks is permutation-equivariant, so encoding a permuted subset
    equals the same subset of a full encoding only if positions were added before selection."""
    vit = _small_vit(num_layers=1)
    images = torch.randn(2, 3, 16, 16)
    perm = torch.stack([torch.randperm(17), torch.randperm(17)])
    with torch.no_grad():
        full = vit.encode(images)
        permuted = vit.encode(images, idx_keep=perm)
    torch.testing.assert_close(permuted, get_at_index(full, perm), rtol=1e-4, atol=1e-5)


def test_encode_with_idx_keep_matches_manual_composition():
    vit = _small_vit(num_layers=1)
    images = torch.randn(2, 3, 16, 16)
    idx_keep = torch.tensor([[0, 3, 9], [0, 16, 1]])
    with torch.no_grad():
        tokens = vit.vit.conv_proj(images).flatten(2).transpose(1, 2)
        tokens = torch.cat([vit.vit.class_token.expand(2, -1, -1), tokens], dim=1)
        tokens = tokens + vit.vit.encoder.pos_embedding
        kept = torch.stack([tokens[b, idx_keep[b]] for b in range(2)])
        expected = vit.vit.encoder.ln(vit.vit.encoder.layers(kept))
        torch.testing.assert_close(vit.encode(images, idx_keep=idx_keep), expected)


def test_masked_patch_content_does_not_matter():
    vit = _small_vit(mask_token=True)
    images = torch.randn(1, 3, 16, 16)
    other = images.clone()
    other[:, :, 0:4, 4:8] = 5.0  # patch 1 -> token index 2
    idx_mask = torch.tensor([[2]])
    with torch.no_grad():
        torch.testing.assert_close(
            vit.encode(images, idx_mask=idx_mask), vit.encode(other, idx_mask=idx_mask)
        )
        assert not torch.allclose(vit.encode(images), vit.encode(other))
    with pytest.raises(ValueError, match="mask_token=True"):
        _small_vit().encode(images, idx_mask=idx_mask)


def test_other_image_sizes_interpolate_positions():
    vit = _small_vit()
    assert vit.positional_embedding((4, 4)) is vit.vit.encoder.pos_embedding
    assert vit.positional_embedding((2, 3)).shape == (1, 7, 16)
    assert vit(torch.randn(2, 3, 8, 12)).shape == (2, 16)
    with pytest.raises(ValueError, match="not a multiple of patch_size=4"):
        vit(torch.randn(1, 3, 10, 10))


def test_sincos_embedding_matches_formula():
    dim, rows, cols = 8, 2, 3
    emb = sincos_positional_embedding_2d((rows, cols), dim, dtype=torch.float64)
    assert emb.shape == (1, 1 + rows * cols, dim)
    assert torch.equal(emb[0, 0], torch.zeros(dim, dtype=torch.float64))
    quarter = dim // 4
    for r in range(rows):
        for c in range(cols):
            row = emb[0, 1 + r * cols + c].tolist()
            expected = []
            for pos in (r, c):
                angles = [pos / 10000 ** (k / quarter) for k in range(quarter)]
                expected += [math.sin(a) for a in angles] + [math.cos(a) for a in angles]
            assert row == pytest.approx(expected)
    with pytest.raises(ValueError, match="multiple of 4"):
        sincos_positional_embedding_2d((2, 2), 6)


def test_wraps_an_existing_torchvision_vit_and_validates():
    base = VisionTransformer(
        image_size=8, patch_size=4, num_layers=1, num_heads=1, hidden_dim=4, mlp_dim=8
    )
    vit = MaskedVisionTransformer(base)
    assert vit.vit is base and vit.image_size == 8
    assert vit(torch.randn(1, 3, 8, 8)).shape == (1, 4)
    assert _small_vit(in_chans=1)(torch.randn(1, 1, 16, 16)).shape == (1, 16)
    with pytest.raises(TypeError, match="torchvision VisionTransformer, got Linear"):
        MaskedVisionTransformer(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="image_size=10 must be a multiple of patch_size=4"):
        _small_vit(image_size=10)
    with pytest.raises(ValueError, match="hidden_dim=16 must be a multiple of num_heads=3"):
        _small_vit(num_heads=3)
