"""Tests for MAEDecoder: visible tokens + mask tokens -> patch predictions."""

from __future__ import annotations

import pytest
import torch

from selfsup.models import MaskedVisionTransformer
from selfsup.models.modules import MAEDecoder
from selfsup.models.utils import patchify, random_token_mask


def _decoder() -> MAEDecoder:
    return MAEDecoder(
        seq_length=17,
        num_layers=1,
        num_heads=2,
        embed_input_dim=16,
        hidden_dim=8,
        mlp_dim=16,
        out_dim=4 * 4 * 3,
    ).eval()


def test_reconstruction_of_masked_patches_matches_manual_composition():
    decoder = _decoder()
    encoded = torch.randn(2, 5, 16)
    idx_keep = torch.tensor([[0, 4, 2, 9, 16], [0, 1, 3, 5, 7]])
    idx_mask = torch.tensor([[1, 3], [2, 16]])
    with torch.no_grad():
        pred = decoder(encoded, idx_keep, idx_mask)
        full = decoder.mask_token.expand(2, 17, 8).clone()
        embedded = decoder.embed(encoded)
        for b in range(2):
            for k in range(5):
                full[b, idx_keep[b, k]] = embedded[b, k]
        decoded = decoder.decode(full)
        expected = torch.stack([decoder.predict(decoded[b, idx_mask[b]]) for b in range(2)])
    assert pred.shape == (2, 2, 48)
    torch.testing.assert_close(pred, expected)


def test_full_sequence_and_end_to_end_with_the_encoder():
    decoder = _decoder()
    assert decoder(torch.randn(2, 17, 16)).shape == (2, 17, 48)
    vit = MaskedVisionTransformer(
        image_size=16, patch_size=4, num_layers=1, num_heads=2, hidden_dim=16, mlp_dim=32
    )
    images = torch.randn(2, 3, 16, 16)
    idx_keep, idx_mask = random_token_mask((2, 17), mask_ratio=0.75)
    pred = decoder(vit.encode(images, idx_keep=idx_keep), idx_keep, idx_mask)
    # Token t is patch t - 1; the MAE target has the same shape.
    target = torch.stack([patchify(images, 4)[b, idx_mask[b] - 1] for b in range(2)])
    assert pred.shape == target.shape == (2, 13, 48)
    loss = (pred - target).pow(2).mean()
    loss.backward()
    assert decoder.mask_token.grad is not None and vit.vit.conv_proj.weight.grad is not None


def test_positional_embedding_is_sine_cosine_initialised_and_validation():
    decoder = _decoder()
    pos = decoder.encoder.pos_embedding
    assert torch.equal(pos[0, 0], torch.zeros(8))
    # Patch (0, 0): sin(0) = 0 and cos(0) = 1 in each half.
    torch.testing.assert_close(pos[0, 1], torch.tensor([0.0, 0, 1, 1, 0, 0, 1, 1]))
    with pytest.raises(ValueError, match="hidden_dim=8 must be a multiple of num_heads=3"):
        MAEDecoder(seq_length=17, num_heads=3, hidden_dim=8)
    with pytest.raises(ValueError, match="seq_length must be >= 1, got 0"):
        MAEDecoder(seq_length=0)
