"""Tests for the backbone registry: ours, torchvision, timm (optional) and user modules."""

from __future__ import annotations

import sys

import pytest
import torch
import torchvision
from torch import nn

from selfsup.models import (
    BACKBONES,
    FlattenedBackbone,
    ResNetGenerator,
    create_backbone,
    get_backbone,
    list_backbones,
)
from selfsup.models.backbones import measure_feature_dim


def _independent_dim(module: nn.Module, x: torch.Tensor) -> int:
    with torch.no_grad():
        return module.eval()(x).flatten(1).shape[1]


def test_our_resnet_by_name():
    backbone, dim = get_backbone("resnet-18", width=0.25)
    x = torch.randn(2, 3, 32, 32)
    reference = ResNetGenerator("resnet-18", width=0.25)
    pooled = nn.Sequential(*list(reference.children())[:-1], nn.AdaptiveAvgPool2d(1))
    assert dim == _independent_dim(pooled, x) == 128
    assert backbone.num_features == dim
    assert backbone(x).shape == (2, dim)


def test_torchvision_resnet18_classifier_removed():
    backbone, dim = get_backbone("torchvision/resnet18")
    x = torch.randn(2, 3, 64, 64)
    reference = torchvision.models.resnet18()
    assert dim == _independent_dim(nn.Sequential(*list(reference.children())[:-1]), x) == 512
    assert backbone(x).shape == (2, 512)


def test_torchvision_mobilenet_v3_small_gives_pooled_features():
    backbone, dim = get_backbone("torchvision/mobilenet_v3_small")
    x = torch.randn(2, 3, 64, 64)
    reference = torchvision.models.mobilenet_v3_small()
    features = nn.Sequential(reference.features, reference.avgpool)
    assert dim == _independent_dim(features, x) == 576
    assert backbone(x).shape == (2, 576)


def test_torchvision_in_chans_replaces_the_first_convolution():
    backbone, dim = get_backbone("torchvision/resnet18", in_chans=1)
    assert backbone.model.conv1.in_channels == 1
    assert backbone(torch.randn(2, 1, 32, 32)).shape == (2, dim)


def test_user_module_is_wrapped_to_flatten_its_output():
    module = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(2))
    backbone, dim = get_backbone(module)
    x = torch.randn(2, 3, 64, 64)
    assert dim == _independent_dim(module, x) == 16
    assert isinstance(backbone, FlattenedBackbone) and backbone.model is module
    assert backbone(x).shape == (2, 16)
    with pytest.raises(ValueError, match="cannot be applied to an existing module"):
        get_backbone(module, width=2)


def test_our_vit_uses_its_own_image_size_for_the_measurement():
    backbone, dim = get_backbone("vit-tiny", image_size=16, patch_size=8, num_layers=1)
    assert dim == 192
    assert backbone(torch.randn(2, 3, 16, 16)).shape == (2, 192)


def test_measurement_restores_training_mode_and_leaves_bn_statistics_alone():
    module = nn.Sequential(nn.Conv2d(3, 2, 1), nn.BatchNorm2d(2))
    before = module[1].running_mean.clone()
    assert measure_feature_dim(module, input_size=(4, 6)) == 2 * 4 * 6
    assert module.training
    assert torch.equal(module[1].running_mean, before)
    with pytest.raises(ValueError, match=r"dummy input of shape \(2, 3, 64, 64\)"):
        measure_feature_dim(nn.Linear(5, 2))


def test_timm_without_timm_installed_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "timm", None)  # makes `import timm` fail
    with pytest.raises(ImportError, match=r'pip install "selfsup\[timm\]"'):
        get_backbone("timm/resnet18")


def test_unknown_names_list_the_known_ones():
    with pytest.raises(
        ValueError, match="unknown backbone 'resnet-7'; known: resnet-101, .*torchvision/"
    ):
        get_backbone("resnet-7")
    with pytest.raises(
        ValueError, match="unknown torchvision classification model 'resnet7'; known: alexnet"
    ):
        get_backbone("torchvision/resnet7")
    with pytest.raises(ValueError, match="weights must be None"):
        get_backbone("torchvision/resnet18", weights="DEFAULT")
    with pytest.raises(TypeError, match="must be a str or nn.Module, got int"):
        create_backbone(3)


def test_registry_and_listing():
    assert "resnet-18" in BACKBONES
    names = list_backbones()
    assert {"resnet-9", "resnet-152", "vit-small", "torchvision/resnet18"} <= set(names)
    assert list_backbones("resnet-1*") == ["resnet-101", "resnet-152", "resnet-18"]
    with pytest.raises(ValueError, match="already registered"):
        BACKBONES.register("resnet-18")(lambda **kwargs: nn.Identity())


def test_timm_backbone_without_classifier_and_measured_dim():
    timm = pytest.importorskip("timm")  # in the dev extra; the optional path must work
    backbone, dim = get_backbone("timm/resnet18")
    features = backbone(torch.randn(2, 3, 64, 64))
    assert features.shape == (2, dim) == (2, timm.create_model("resnet18").num_features)
