"""MAE: reconstruction of masked patches by a ViT encoder and a light decoder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from selfsup.methods import MAE
from selfsup.methods.base import random_patch_mask


def _patch(image, row, col, p):
    """Pixels of one patch, flattened in (row, col, channel) order (MAE's patchify)."""
    return image[:, row * p : (row + 1) * p, col * p : (col + 1) * p].transpose(1, 2, 0).reshape(-1)


def test_loss_is_mse_on_the_normalised_masked_patches(tiny, views):
    method = tiny("mae")
    (images,) = views("mae")
    torch.manual_seed(5)
    loss = method.training_loss([images])
    torch.manual_seed(5)  # the same mask again
    vit = method.encoder
    idx_keep, idx_mask = random_patch_mask(4, 16, 0.75)
    predictions = method.decoder(vit.encode(images, idx_keep=idx_keep), idx_keep, idx_mask)
    pixels = images.double().numpy()
    total, count = 0.0, 0
    for b in range(4):
        for m, token in enumerate(idx_mask[b].tolist()):
            assert token != 0  # the class token is never masked
            row, col = divmod(token - 1, 4)  # token t is patch t - 1, row-major on a 4x4 grid
            target = _patch(pixels[b], row, col, 8)
            target = (target - target.mean()) / np.sqrt(target.var(ddof=1) + 1e-6)
            total += np.sum((predictions[b, m].detach().double().numpy() - target) ** 2)
            count += target.size
    assert idx_mask.shape == (4, 12)  # 75 % of the 16 patches
    assert abs(loss.item() - total / count) < 1e-5


def test_raw_pixel_targets(tiny, views):
    method = tiny("mae", norm_pix_loss=False)
    (images,) = views("mae")
    torch.manual_seed(2)
    predictions, targets = method(images)
    torch.manual_seed(2)
    _, idx_mask = random_patch_mask(4, 16, 0.75)
    first = idx_mask[0, 0].item() - 1
    expected = _patch(images[0].numpy(), first // 4, first % 4, 8)
    np.testing.assert_allclose(targets[0, 0].numpy(), expected)
    assert predictions.shape == targets.shape == (4, 12, 8 * 8 * 3)


def test_wrong_image_size_is_an_error(tiny):
    with pytest.raises(ValueError, match="MAE images must be 32x32 .* got \\(16, 16\\)"):
        tiny("mae").training_loss([torch.randn(2, 3, 16, 16)])


def test_a_preset_backbone_and_defaults():
    method = MAE("vit-tiny", image_size=32)
    assert method.encoder.patch_size == 4 and method.encoder.image_size == 32
    assert method.num_features == 192 and method.mask_ratio == 0.75
    assert method.decoder.prediction_head.out_features == 4 * 4 * 3
    assert len(method.decoder.encoder.layers) == 1
    assert method.optimizer_defaults.betas == (0.9, 0.95)


def test_errors():
    with pytest.raises(ValueError, match="needs a ViT backbone"):
        MAE("resnet-18")
    with pytest.raises(ValueError, match="mask_ratio must be a finite number in \\(0.0, 1.0\\)"):
        MAE("vit-tiny", image_size=32, mask_ratio=1.0)
