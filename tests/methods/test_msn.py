"""MSN: masked anchors, EMA target network, prototypes."""

from __future__ import annotations

import pytest
import torch

from selfsup.methods import MSN
from selfsup.models import MaskedVisionTransformer


def test_unmasked_anchor_equals_the_plain_forward(tiny, views):
    method = tiny("msn", mask_ratio=0.0)
    images = views("msn")[0]
    torch.testing.assert_close(method.forward_masked(images), method(images))
    masked = tiny("msn", mask_ratio=0.5)
    masked.load_state_dict(method.state_dict())
    assert not torch.allclose(masked.forward_masked(images), masked(images))


def test_anchors_are_view_major_and_targets_unmasked(tiny, views, monkeypatch):
    method = tiny("msn", mask_ratio=0.0)
    batch = views("msn")
    seen = []
    original = method.criterion.forward

    def spy(anchors, targets, prototypes, target_sharpen_temperature=0.25):
        seen.append((anchors, targets, prototypes, target_sharpen_temperature))
        return original(anchors, targets, prototypes, target_sharpen_temperature)

    monkeypatch.setattr(method.criterion, "forward", spy)
    method.training_loss(batch)
    anchors, targets, prototypes, sharpen = seen[0]
    assert anchors.shape == (12, 16) and targets.shape == (4, 16)
    torch.testing.assert_close(anchors[:4], method(batch[1]))
    torch.testing.assert_close(anchors[4:], method(torch.cat(batch[2:])))
    torch.testing.assert_close(targets, method.forward_target(batch[0]))
    assert not targets.requires_grad and prototypes is method.prototypes and sharpen == 0.25


def test_prototypes_are_learned(tiny, views):
    method = tiny("msn")
    method.training_loss(views("msn")).backward()
    assert method.prototypes.grad is not None and method.prototypes.grad.abs().sum() > 0
    assert method.criterion.target_distribution == "uniform"


def test_defaults_and_errors():
    vit = MaskedVisionTransformer(
        image_size=16, patch_size=8, num_layers=1, num_heads=1, hidden_dim=8, mlp_dim=8
    )
    method = MSN(vit)
    assert method.projection_head.layers[0].out_features == 32  # 4 x 8 features
    assert method.prototypes.shape == (1024, 256)
    assert method.mask_ratio == 0.15 and method.momentum_start == 0.996
    with pytest.raises(ValueError, match="mask_ratio must be a finite number in \\[0.0, 1.0\\)"):
        MSN("vit-tiny", image_size=32, mask_ratio=1.0)
