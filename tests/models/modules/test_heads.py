"""Tests for the projection/prediction heads: layouts from the papers, shapes, DINO head."""

from __future__ import annotations

import copy
import inspect

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from selfsup.models.modules import heads


def _layout(head: nn.Module) -> list[str]:
    """Compact description of every layer in ``head.layers``."""
    out = []
    for layer in head.layers:
        if isinstance(layer, nn.Linear):
            out.append(
                f"L{layer.in_features}-{layer.out_features}{'b' if layer.bias is not None else ''}"
            )
        elif isinstance(layer, nn.BatchNorm1d):
            out.append(f"BN{layer.num_features}{'' if layer.affine else '!'}")
        else:
            out.append(type(layer).__name__)
    return out


# (head, small kwargs, expected layout): "L8-16" = Linear without bias, "L8-16b" with bias,
# "BN16" = affine BatchNorm1d, "BN16!" = non-affine. Layouts follow the papers' text.
LAYOUTS = [
    (
        heads.SimCLRProjectionHead,
        dict(input_dim=8, hidden_dim=16, output_dim=4),
        ["L8-16", "BN16", "ReLU", "L16-4", "BN4"],
    ),
    (
        heads.SimCLRProjectionHead,
        dict(input_dim=8, hidden_dim=16, output_dim=4, num_layers=3, batch_norm=False),
        ["L8-16b", "ReLU", "L16-16b", "ReLU", "L16-4b"],
    ),
    (
        heads.MoCoProjectionHead,
        dict(input_dim=8, hidden_dim=16, output_dim=4),
        ["L8-16b", "ReLU", "L16-4b"],
    ),
    (
        heads.MoCoProjectionHead,
        dict(input_dim=8, hidden_dim=16, output_dim=4, num_layers=3, batch_norm=True),
        ["L8-16", "BN16", "ReLU", "L16-16", "BN16", "ReLU", "L16-4", "BN4"],
    ),
    (
        heads.BYOLProjectionHead,
        dict(input_dim=8, hidden_dim=16, output_dim=4),
        ["L8-16", "BN16", "ReLU", "L16-4b"],
    ),
    (
        heads.BYOLPredictionHead,
        dict(input_dim=4, hidden_dim=16, output_dim=4),
        ["L4-16", "BN16", "ReLU", "L16-4b"],
    ),
    (
        heads.SimSiamProjectionHead,
        dict(input_dim=8, hidden_dim=16, output_dim=4),
        ["L8-16", "BN16", "ReLU", "L16-16", "BN16", "ReLU", "L16-4", "BN4!"],
    ),
    (
        heads.SimSiamPredictionHead,
        dict(input_dim=4, hidden_dim=2, output_dim=4),
        ["L4-2", "BN2", "ReLU", "L2-4b"],
    ),
    (
        heads.BarlowTwinsProjectionHead,
        dict(input_dim=8, hidden_dim=16, output_dim=16),
        ["L8-16", "BN16", "ReLU", "L16-16", "BN16", "ReLU", "L16-16b"],
    ),
    (
        heads.VICRegProjectionHead,
        dict(input_dim=8, hidden_dim=16, output_dim=16),
        ["L8-16", "BN16", "ReLU", "L16-16", "BN16", "ReLU", "L16-16b"],
    ),
    (
        heads.VICRegProjectionHead,
        dict(input_dim=8, hidden_dim=16, output_dim=4, num_layers=2),
        ["L8-16", "BN16", "ReLU", "L16-4b"],
    ),
    (
        heads.NNCLRProjectionHead,
        dict(input_dim=8, hidden_dim=16, output_dim=4),
        ["L8-16", "BN16", "ReLU", "L16-16", "BN16", "ReLU", "L16-4", "BN4"],
    ),
    (
        heads.NNCLRPredictionHead,
        dict(input_dim=4, hidden_dim=16, output_dim=4),
        ["L4-16", "BN16", "ReLU", "L16-4b"],
    ),
    (
        heads.SwaVProjectionHead,
        dict(input_dim=8, hidden_dim=16, output_dim=4),
        ["L8-16", "BN16", "ReLU", "L16-4b"],
    ),
    (
        heads.TiCoProjectionHead,
        dict(input_dim=8, hidden_dim=16, output_dim=4),
        ["L8-16", "BN16", "ReLU", "L16-4b"],
    ),
    (
        heads.SMoGProjectionHead,
        dict(input_dim=8, hidden_dim=16, output_dim=4),
        ["L8-16", "BN16", "ReLU", "L16-4", "BN4!"],
    ),
    (
        heads.SMoGPredictionHead,
        dict(input_dim=4, hidden_dim=16, output_dim=4),
        ["L4-16", "BN16", "ReLU", "L16-4b"],
    ),
    (
        heads.MSNProjectionHead,
        dict(input_dim=8, hidden_dim=16, output_dim=4),
        ["L8-16", "BN16", "GELU", "L16-16", "BN16", "GELU", "L16-4b"],
    ),
    (
        heads.DINOProjectionHead,
        dict(input_dim=8, hidden_dim=16, bottleneck_dim=4, output_dim=10),
        ["L8-16b", "GELU", "L16-16b", "GELU", "L16-4b"],
    ),
    (
        heads.DINOProjectionHead,
        dict(input_dim=8, hidden_dim=16, bottleneck_dim=4, output_dim=10, batch_norm=True),
        ["L8-16", "BN16", "GELU", "L16-16", "BN16", "GELU", "L16-4b"],
    ),
]


@pytest.mark.parametrize(("cls", "kwargs", "layout"), LAYOUTS)
def test_layout_and_output_shape(cls, kwargs, layout):
    head = cls(**kwargs)
    assert _layout(head) == layout
    x = torch.randn(4, kwargs["input_dim"])
    assert head(x).shape == (4, kwargs["output_dim"])
    # Every batch norm is its own module (none shared between layers).
    norms = [m for m in head.modules() if isinstance(m, nn.BatchNorm1d)]
    assert len({id(m) for m in norms}) == len(norms)


# Paper defaults (input_dim, hidden_dim, output_dim); checked on the signature so that no
# 8192-wide layer is built.
DEFAULTS = [
    (heads.SimCLRProjectionHead, (2048, 2048, 128)),
    (heads.MoCoProjectionHead, (2048, 2048, 128)),
    (heads.BYOLProjectionHead, (2048, 4096, 256)),
    (heads.BYOLPredictionHead, (256, 4096, 256)),
    (heads.SimSiamProjectionHead, (2048, 2048, 2048)),
    (heads.SimSiamPredictionHead, (2048, 512, 2048)),
    (heads.BarlowTwinsProjectionHead, (2048, 8192, 8192)),
    (heads.VICRegProjectionHead, (2048, 8192, 8192)),
    (heads.NNCLRProjectionHead, (2048, 2048, 256)),
    (heads.NNCLRPredictionHead, (256, 4096, 256)),
    (heads.SwaVProjectionHead, (2048, 2048, 128)),
    (heads.TiCoProjectionHead, (2048, 4096, 256)),
    (heads.MSNProjectionHead, (768, 2048, 256)),
    (heads.SMoGProjectionHead, (512, 2048, 128)),
    (heads.SMoGPredictionHead, (128, 2048, 128)),
    (heads.DINOProjectionHead, (2048, 2048, 65536)),
]


@pytest.mark.parametrize(("cls", "dims"), DEFAULTS)
def test_default_dimensions_follow_the_papers(cls, dims):
    params = inspect.signature(cls).parameters
    got = (params["input_dim"].default, params["hidden_dim"].default, params["output_dim"].default)
    assert got == dims


def test_other_defaults():
    simclr = inspect.signature(heads.SimCLRProjectionHead).parameters
    assert simclr["num_layers"].default == 2 and simclr["batch_norm"].default is True
    assert inspect.signature(heads.VICRegProjectionHead).parameters["num_layers"].default == 3
    dino = inspect.signature(heads.DINOProjectionHead).parameters
    assert dino["bottleneck_dim"].default == 256
    assert dino["batch_norm"].default is False
    assert dino["freeze_last_layer"].default == -1
    assert dino["norm_last_layer"].default is True


def test_projection_head_generic_blocks_and_validation():
    head = heads.ProjectionHead([(3, 5, None, nn.Tanh(), False), (5, 2, nn.LayerNorm(2), None)])
    assert _layout(head) == ["L3-5", "Tanh", "L5-2", "LayerNorm"]
    x = torch.randn(2, 3)
    linear0, linear1, norm = head.layers[0], head.layers[2], head.layers[3]
    torch.testing.assert_close(head(x), norm(linear1(torch.tanh(linear0(x)))))
    with pytest.raises(ValueError, match="at least one block"):
        heads.ProjectionHead([])
    with pytest.raises(
        ValueError, match="block 1 has in_features=4 but the previous block outputs 5"
    ):
        heads.ProjectionHead([(3, 5, None, None), (4, 2, None, None)])
    with pytest.raises(ValueError, match="block 0 must be"):
        heads.ProjectionHead([(3, 5, None)])
    with pytest.raises(ValueError, match="num_layers must be >= 2, got 1"):
        heads.SimCLRProjectionHead(8, 8, 4, num_layers=1)


def _dino_head(**kwargs):
    return heads.DINOProjectionHead(
        input_dim=6, hidden_dim=12, bottleneck_dim=4, output_dim=9, **kwargs
    )


def test_dino_head_forward_matches_manual_weight_normalised_last_layer():
    head = _dino_head()
    x = torch.randn(5, 6)
    weight_v = head.last_layer.parametrizations.weight.original1
    magnitude = head.last_layer.parametrizations.weight.original0
    torch.testing.assert_close(magnitude, torch.ones(9, 1))
    bottleneck = F.normalize(head.layers(x), dim=1)
    expected = bottleneck @ (weight_v / weight_v.norm(dim=1, keepdim=True)).t()
    torch.testing.assert_close(head(x), expected)


def test_dino_head_norm_last_layer_fixes_g_to_one():
    head = _dino_head(norm_last_layer=True)
    magnitude = head.last_layer.parametrizations.weight.original0
    assert not magnitude.requires_grad
    optimizer = torch.optim.SGD([p for p in head.parameters() if p.requires_grad], lr=1.0)
    head(torch.randn(4, 6)).pow(2).sum().backward()
    optimizer.step()
    torch.testing.assert_close(magnitude, torch.ones(9, 1))
    assert _dino_head(
        norm_last_layer=False
    ).last_layer.parametrizations.weight.original0.requires_grad


def test_dino_head_freezes_last_layer_for_the_first_epochs():
    head = _dino_head(freeze_last_layer=2, norm_last_layer=False)
    for epoch, frozen in [(0, True), (1, True), (2, False)]:
        head.zero_grad(set_to_none=True)
        head(torch.randn(4, 6)).pow(2).sum().backward()
        head.cancel_last_layer_gradients(current_epoch=epoch)
        for param in head.last_layer.parameters():
            if frozen:
                assert param.grad is None
            else:
                assert param.grad is not None and param.grad.abs().sum() > 0
        # The MLP always keeps its gradients.
        assert head.layers[0].weight.grad.abs().sum() > 0


def test_dino_head_deep_copies_for_a_momentum_teacher():
    student = _dino_head()
    teacher = copy.deepcopy(student)
    x = torch.randn(3, 6)
    torch.testing.assert_close(teacher(x), student(x))
    with torch.no_grad():
        student.last_layer.parametrizations.weight.original1.add_(1.0)
    assert not torch.allclose(teacher(x), student(x))
