"""Tests for the small-image ResNets (ResNetGenerator)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from selfsup.models import ResNetGenerator, SplitBatchNorm, get_backbone
from selfsup.models.resnet import BasicBlock, Bottleneck

# (name, block type, blocks per stage, feature size at width 0.25)
DEPTHS = [
    ("resnet-9", BasicBlock, (1, 1, 1, 1), 128),
    ("resnet-18", BasicBlock, (2, 2, 2, 2), 128),
    ("resnet-34", BasicBlock, (3, 4, 6, 3), 128),
    ("resnet-50", Bottleneck, (3, 4, 6, 3), 512),
    ("resnet-101", Bottleneck, (3, 4, 23, 3), 512),
    ("resnet-152", Bottleneck, (3, 8, 36, 3), 512),
]


@pytest.mark.parametrize(("name", "block", "stages", "features"), DEPTHS)
def test_output_shapes_and_architecture(name, block, stages, features):
    resnet = ResNetGenerator(name, width=0.25, num_classes=7)
    assert resnet.num_features == features
    layers = [resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4]
    assert tuple(len(layer) for layer in layers) == stages
    assert all(isinstance(b, block) for layer in layers for b in layer)
    widths = [layer[-1].bn2.num_features for layer in layers]
    assert widths == [16, 32, 64, 128]
    with torch.no_grad():
        out = resnet.eval()(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 7)


def test_stem_is_3x3_stride_1_without_max_pool():
    resnet = ResNetGenerator("resnet-18")
    assert resnet.conv1.kernel_size == (3, 3) and resnet.conv1.stride == (1, 1)
    assert not any(isinstance(m, nn.MaxPool2d) for m in resnet.modules())
    features = resnet.forward_features(torch.randn(1, 3, 32, 32))
    assert features.shape == (1, 512, 4, 4)


def test_seed_children_pattern_gives_pooled_features():
    resnet = ResNetGenerator("resnet-18", width=0.25).eval()
    names = [name for name, _ in resnet.named_children()]
    assert names[:-2] == ["conv1", "bn1", "relu", "layer1", "layer2", "layer3", "layer4"]
    assert names[-2:] == ["feature_norm", "linear"] and isinstance(resnet.feature_norm, nn.Identity)
    assert isinstance(list(resnet.children())[-1], nn.Linear)
    backbone = nn.Sequential(*list(resnet.children())[:-1], nn.AdaptiveAvgPool2d(1))
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        pooled = backbone(x)
        assert pooled.shape == (2, 128, 1, 1)
        expected = resnet.forward_head(resnet.forward_features(x), pre_logits=True)
        torch.testing.assert_close(pooled.flatten(1), expected)
        # forward = features -> pool -> flatten -> linear
        torch.testing.assert_close(resnet(x), resnet.linear(expected))


def test_forward_intermediates_returns_the_stage_maps():
    resnet = ResNetGenerator("resnet-9", width=0.25).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        maps = resnet.forward_intermediates(x)
        assert [tuple(m.shape) for m in maps] == [
            (2, 16, 32, 32),
            (2, 32, 16, 16),
            (2, 64, 8, 8),
            (2, 128, 4, 4),
        ]
        torch.testing.assert_close(maps[-1], resnet.forward_features(x))
        torch.testing.assert_close(resnet.forward_intermediates(x, out_indices=(1,))[0], maps[1])
    with pytest.raises(ValueError, match="increasing stage indices in 0..3, got \\(2, 1\\)"):
        resnet.forward_intermediates(x, out_indices=(2, 1))


def test_num_classes_zero_returns_features_and_in_chans():
    resnet = ResNetGenerator("resnet-9", width=0.25, num_classes=0, in_chans=1)
    assert isinstance(resnet.linear, nn.Identity)
    assert resnet(torch.randn(2, 1, 16, 16)).shape == (2, 128)


def test_pool_size_concatenates_the_cells_of_a_grid_average():
    torch.manual_seed(0)
    resnet = ResNetGenerator("resnet-9", width=0.25, num_classes=0, pool_size=2).eval()
    images = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        out = resnet(images)
        last = resnet.forward_features(images)  # (3, 128, 4, 4)
    assert resnet.num_features == 512 and out.shape == (3, 512)
    # Reference: the mean of each 2x2 block of the 4x4 map, cells in row-major order per channel.
    cells = last.reshape(3, 128, 2, 2, 2, 2).mean(dim=(3, 5))
    torch.testing.assert_close(out, cells.reshape(3, 512))
    classifier = ResNetGenerator("resnet-9", width=0.25, num_classes=10, pool_size=2)
    assert classifier.linear.in_features == 512 and classifier(images).shape == (3, 10)


def test_num_stages_ends_the_network_after_that_stage():
    torch.manual_seed(0)
    full = ResNetGenerator("resnet-9", width=0.25, num_classes=0).eval()
    short = ResNetGenerator("resnet-9", width=0.25, num_classes=0, pool_size=4, num_stages=3)
    short.eval()
    assert not hasattr(short, "layer4") and not any("layer4" in k for k in short.state_dict())
    short.load_state_dict({k: v for k, v in full.state_dict().items() if "layer4" not in k})
    images = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        third = full.forward_intermediates(images, out_indices=(2,))[0]  # (2, 64, 4, 4)
        out = short(images)
        torch.testing.assert_close(short.forward_features(images), third)
    assert short.num_features == 64 * 16 and out.shape == (2, 1024)
    torch.testing.assert_close(out, third.flatten(1))  # a 4x4 grid over a 4x4 map: every cell
    assert [m.shape[1] for m in short.forward_intermediates(images)] == [16, 32, 64]
    with pytest.raises(ValueError, match="increasing stage indices in 0..2, got \\(3,\\)"):
        short.forward_intermediates(images, out_indices=(3,))
    one = ResNetGenerator("resnet-18", width=0.25, num_classes=3, num_stages=1)
    assert one.num_features == 16 and one(images).shape == (2, 3)
    backbone, dim = get_backbone("resnet-9", width=0.25, num_stages=2, pool_size=2)
    assert dim == 128 and backbone(images).shape == (2, 128)


def test_feature_norm_standardises_the_pooled_features():
    torch.manual_seed(0)
    plain = ResNetGenerator("resnet-9", width=0.25, num_classes=0, pool_size=2, num_stages=2)
    normed = ResNetGenerator(
        "resnet-9", width=0.25, num_classes=0, pool_size=2, num_stages=2, feature_norm=True
    )
    assert not any("feature_norm" in key for key in plain.state_dict())
    normed.load_state_dict(plain.state_dict(), strict=False)
    images = torch.randn(8, 3, 16, 16)
    with torch.no_grad():
        pooled = plain(images)  # (8, 128), all >= 0 after the last ReLU
        train_out = normed(images)
        mean, var = pooled.mean(0), pooled.var(0, unbiased=False)
        torch.testing.assert_close(train_out, (pooled - mean) / (var + 1e-5).sqrt())
        # One training batch moved the running statistics 10% of the way from (0, 1).
        running_mean = 0.1 * mean
        running_var = 0.9 + 0.1 * pooled.var(0, unbiased=True)
        # Both networks' other batch norms saw the same batch, so their eval features agree.
        pooled_eval = plain.eval()(images)
        eval_out = normed.eval()(images)
        expected = (pooled_eval - running_mean) / (running_var + 1e-5).sqrt()
        torch.testing.assert_close(eval_out, expected)
    assert pooled.min() >= 0 and train_out.mean(0).abs().max() < 1e-5
    assert set(normed.state_dict()) - set(plain.state_dict()) == {
        "feature_norm.running_mean",
        "feature_norm.running_var",
        "feature_norm.num_batches_tracked",
    }
    backbone, dim = get_backbone("resnet-9", width=0.25, num_stages=2, feature_norm=True)
    assert dim == 32 and isinstance(backbone.model.feature_norm, nn.BatchNorm1d)
    assert not backbone.model.feature_norm.affine


def test_num_splits_uses_split_batch_norm_everywhere():
    resnet = ResNetGenerator("resnet-9", width=0.25, num_splits=2)
    norms = [m for m in resnet.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(isinstance(m, SplitBatchNorm) for m in norms)
    assert resnet(torch.randn(4, 3, 8, 8)).shape == (4, 10)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="unknown ResNet 'resnet-10'; known: resnet-9, resnet-18"):
        ResNetGenerator("resnet-10")
    with pytest.raises(ValueError, match="width must be > 0 .* got 0.001"):
        ResNetGenerator("resnet-9", width=0.001)
    with pytest.raises(ValueError, match="num_classes must be >= 0 .* got -1"):
        ResNetGenerator("resnet-9", num_classes=-1)
    with pytest.raises(ValueError, match="num_splits must be >= 0, got -2"):
        ResNetGenerator("resnet-9", num_splits=-2)
    with pytest.raises(ValueError, match="pool_size must be >= 1, got 0"):
        ResNetGenerator("resnet-9", pool_size=0)
    for num_stages in (0, 5):
        with pytest.raises(ValueError, match=f"num_stages must be in 1..4, got {num_stages}"):
            ResNetGenerator("resnet-9", num_stages=num_stages)
