"""The method interface, the registry and the shared helpers of ``selfsup.methods.base``."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torchvision.models.vision_transformer import VisionTransformer

import selfsup.methods
from selfsup.methods import (
    METHODS,
    OptimizerDefaults,
    SimCLR,
    SSLMethod,
    create_method,
    forward_multicrop,
    get_method_class,
    list_methods,
    momentum_copy,
    register_method,
)
from selfsup.methods.base import default_patch_size, masked_vit_backbone, random_patch_mask
from selfsup.models import MaskedVisionTransformer

EXPECTED = {
    "barlowtwins", "byol", "dcl", "dclw", "dino", "fastsiam", "mae", "moco", "msn", "nnclr",
    "simclr", "simsiam", "smog", "swav", "tico", "vicreg",
}  # fmt: skip


def test_every_method_is_registered_under_its_cli_name():
    assert set(list_methods()) == EXPECTED
    assert list_methods("dcl*") == ["dcl", "dclw"]
    assert get_method_class("simclr") is SimCLR
    for name in EXPECTED:
        assert issubclass(get_method_class(name), SSLMethod)


def test_unknown_method_error_lists_the_known_names():
    with pytest.raises(ValueError, match="unknown method 'simclrr'; known: barlowtwins, byol"):
        get_method_class("simclrr")
    with pytest.raises(ValueError, match="vicreg"):
        create_method("nope")


def test_duplicate_registration_is_an_error():
    class Duplicate(SSLMethod):
        """Not registered: its name is taken."""

    with pytest.raises(ValueError, match="method 'simclr' is already registered"):
        register_method("simclr")(Duplicate)
    assert get_method_class("simclr") is SimCLR


def test_register_and_create_a_new_method():
    @register_method("_test_identity")
    class Identity(SSLMethod):
        """Mean feature as a loss."""

        def training_loss(self, views):
            return self.embed(self.check_views(views)[0]).mean()

    try:
        method = create_method("_test_identity", backbone=nn.Flatten(), backbone_kwargs=None)
        assert isinstance(method, Identity) and "_test_identity" in list_methods()
        assert method.num_features == 3 * 64 * 64
    finally:
        METHODS._entries.pop("_test_identity")


def test_create_method_passes_keyword_arguments():
    method = create_method(
        "simclr", backbone="resnet-9", backbone_kwargs={"width": 0.125}, output_dim=8
    )
    assert method.num_features == 64
    assert method(torch.randn(2, 3, 16, 16)).shape == (2, 8)


def test_public_names_have_docstrings():
    for name in selfsup.methods.__all__:
        assert getattr(selfsup.methods, name).__doc__, name


def test_optimizer_defaults_validate_their_fields():
    assert OptimizerDefaults().betas == (0.9, 0.999)
    with pytest.raises(ValueError, match="one of \\('sgd', 'adamw', 'lars'\\), got 'adam'"):
        OptimizerDefaults(name="adam")
    with pytest.raises(ValueError, match="lr=0"):
        OptimizerDefaults(lr=0)


def test_base_training_loss_is_abstract():
    method = SSLMethod(nn.Flatten())
    with pytest.raises(NotImplementedError, match="SSLMethod does not implement"):
        method.training_loss([torch.zeros(1, 3, 4, 4)] * 2)


def test_check_views_rejects_bad_views():
    method = SSLMethod(nn.Flatten())
    with pytest.raises(ValueError, match="view 1 must be a tensor \\(B, C, H, W\\)"):
        method.check_views([torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 4)])
    with pytest.raises(ValueError, match="same batch size, got sizes \\[2, 3\\]"):
        method.check_views([torch.zeros(2, 3, 4, 4), torch.zeros(3, 3, 4, 4)])
    assert len(method.check_views((torch.zeros(2, 3, 4, 4),) * 3)) == 3


def test_flattened_backbone_is_used_as_is():
    first = SimCLR("resnet-9", backbone_kwargs={"width": 0.125}, output_dim=8)
    second = SimCLR(first.backbone, output_dim=8)
    assert second.backbone is first.backbone and second.num_features == 64


def test_momentum_copy_is_frozen_and_equal():
    module = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    copy = momentum_copy(module)
    assert copy is not module
    assert all(not p.requires_grad for p in copy.parameters())
    assert all(p.requires_grad for p in module.parameters())
    for a, b in zip(module.state_dict().values(), copy.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_forward_multicrop_runs_once_per_resolution():
    calls = []

    def fn(x):
        calls.append(tuple(x.shape))
        return x.flatten(1).sum(dim=1, keepdim=True)

    views = [torch.randn(2, 3, s, s) for s in (8, 8, 4, 4, 4, 8)]
    outputs = forward_multicrop(fn, views)
    assert calls == [(4, 3, 8, 8), (6, 3, 4, 4), (2, 3, 8, 8)]
    assert len(outputs) == len(views)
    for view, out in zip(views, outputs, strict=True):
        torch.testing.assert_close(out, view.flatten(1).sum(dim=1, keepdim=True))


def test_default_patch_size():
    assert default_patch_size(224) == 16
    assert default_patch_size(128) == 16
    assert default_patch_size(32) == 4
    assert default_patch_size(96) == 12
    with pytest.raises(ValueError, match="image_size must be >= 8 for a ViT, got 4"):
        default_patch_size(4)


def test_masked_vit_backbone_from_a_preset_and_from_modules():
    backbone = masked_vit_backbone("vit-tiny", image_size=32, patch_size=None, backbone_kwargs=None)
    assert isinstance(backbone.model, MaskedVisionTransformer)
    assert backbone.model.patch_size == 4 and backbone.num_features == 192
    vit = VisionTransformer(
        image_size=16, patch_size=8, num_layers=1, num_heads=1, hidden_dim=8, mlp_dim=8
    )
    wrapped = masked_vit_backbone(vit, image_size=224, patch_size=None, backbone_kwargs=None)
    assert wrapped.model.vit is vit and wrapped.num_features == 8


def test_masked_vit_backbone_errors():
    with pytest.raises(ValueError, match="needs a ViT backbone .* got 'resnet-18'"):
        masked_vit_backbone("resnet-18", image_size=32, patch_size=None, backbone_kwargs=None)
    vit = MaskedVisionTransformer(
        image_size=16, patch_size=8, num_layers=1, num_heads=1, hidden_dim=8, mlp_dim=8
    )
    with pytest.raises(ValueError, match="backbone_kwargs \\['dropout'\\] cannot be applied"):
        masked_vit_backbone(vit, image_size=16, patch_size=None, backbone_kwargs={"dropout": 0.1})
    with pytest.raises(TypeError, match="got Linear"):
        masked_vit_backbone(nn.Linear(2, 2), image_size=16, patch_size=None, backbone_kwargs=None)


def test_random_patch_mask_keeps_the_class_token_and_counts_patches():
    idx_keep, idx_mask = random_patch_mask(3, 196, 0.75)
    assert idx_keep.shape == (3, 1 + 49) and idx_mask.shape == (3, 147)
    assert (idx_keep[:, 0] == 0).all()
    for keep, mask in zip(idx_keep.tolist(), idx_mask.tolist(), strict=True):
        assert sorted(keep + mask) == list(range(197))
    assert idx_keep.dtype == idx_mask.dtype == torch.int64
