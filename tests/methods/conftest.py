"""Tiny configurations and matching views for every registered method (fast on a CPU)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import Tensor

from selfsup.methods import SSLMethod, create_method
from selfsup.models import MaskedVisionTransformer

BATCH = 4
GLOBAL = 32
LOCAL = 16

_RESNET = {"backbone": "resnet-9", "backbone_kwargs": {"width": 0.125}}

#: Method name -> keyword arguments of a tiny instance (ResNet-9 at width 1/8: 64 features).
TINY_KWARGS: dict[str, dict] = {
    "barlowtwins": {**_RESNET, "hidden_dim": 32, "output_dim": 32},
    "byol": {**_RESNET, "hidden_dim": 32, "output_dim": 16},
    "dcl": {**_RESNET, "hidden_dim": 32, "output_dim": 16},
    "dclw": {**_RESNET, "hidden_dim": 32, "output_dim": 16},
    "dino": {**_RESNET, "hidden_dim": 32, "bottleneck_dim": 16, "output_dim": 64},
    "fastsiam": {**_RESNET, "hidden_dim": 32, "output_dim": 16, "prediction_hidden_dim": 8},
    "mae": {"decoder_dim": 32, "decoder_num_heads": 2},
    "moco": {**_RESNET, "hidden_dim": 32, "output_dim": 16, "memory_bank_size": 64},
    "msn": {"hidden_dim": 32, "output_dim": 16, "n_prototypes": 8},
    "nnclr": {
        **_RESNET,
        "hidden_dim": 32,
        "output_dim": 16,
        "prediction_hidden_dim": 32,
        "memory_bank_size": 64,
    },
    "simclr": {**_RESNET, "hidden_dim": 32, "output_dim": 16},
    "simsiam": {**_RESNET, "hidden_dim": 32, "output_dim": 16, "prediction_hidden_dim": 8},
    "smog": {**_RESNET, "hidden_dim": 32, "output_dim": 16, "n_groups": 4, "memory_bank_size": 16},
    "swav": {**_RESNET, "hidden_dim": 32, "output_dim": 16, "n_prototypes": 8},
    "tico": {**_RESNET, "hidden_dim": 32, "output_dim": 16},
    "vicreg": {**_RESNET, "hidden_dim": 32, "output_dim": 32},
}

#: Method name -> side of each view its transform makes (global 32, local/focal 16).
VIEW_SIZES: dict[str, tuple[int, ...]] = {
    "barlowtwins": (GLOBAL, GLOBAL),
    "byol": (GLOBAL, GLOBAL),
    "dcl": (GLOBAL, GLOBAL),
    "dclw": (GLOBAL, GLOBAL),
    "dino": (GLOBAL, GLOBAL, LOCAL, LOCAL),
    "fastsiam": (GLOBAL,) * 4,
    "mae": (GLOBAL,),
    "moco": (GLOBAL, GLOBAL),
    "msn": (GLOBAL, GLOBAL, LOCAL, LOCAL),
    "nnclr": (GLOBAL, GLOBAL),
    "simclr": (GLOBAL, GLOBAL),
    "simsiam": (GLOBAL, GLOBAL),
    "smog": (GLOBAL, GLOBAL),
    "swav": (GLOBAL, GLOBAL, LOCAL, LOCAL),
    "tico": (GLOBAL, GLOBAL),
    "vicreg": (GLOBAL, GLOBAL),
}

_VIT_METHODS = ("mae", "msn")


def tiny_vit() -> MaskedVisionTransformer:
    """A 1-block ViT for 32x32 images with 8x8 patches (32-d tokens)."""
    return MaskedVisionTransformer(
        image_size=GLOBAL, patch_size=8, num_layers=1, num_heads=2, hidden_dim=32, mlp_dim=64
    )


def build_tiny(name: str, **overrides) -> SSLMethod:
    """A tiny instance of the method registered as ``name``."""
    kwargs = {**TINY_KWARGS[name], **overrides}
    if name in _VIT_METHODS and "backbone" not in kwargs:
        kwargs["backbone"] = tiny_vit()
    return create_method(name, **kwargs)


def make_views(name: str, batch: int = BATCH, *, seed: int = 1) -> list[Tensor]:
    """Random views `(batch, 3, s, s)` with the sizes of the method's transform."""
    generator = torch.Generator().manual_seed(seed)
    return [torch.randn(batch, 3, size, size, generator=generator) for size in VIEW_SIZES[name]]


@pytest.fixture
def tiny() -> Callable[..., SSLMethod]:
    """Factory fixture: ``tiny(name, **overrides)`` builds a tiny method."""
    return build_tiny


@pytest.fixture
def views() -> Callable[..., list[Tensor]]:
    """Factory fixture: ``views(name, batch=4, seed=1)`` makes matching random views."""
    return make_views


@pytest.fixture
def view_sizes() -> dict[str, tuple[int, ...]]:
    """Method name -> view sides of its transform (a new method must be added here)."""
    return VIEW_SIZES


def _ntxent_reference(out0: Tensor, out1: Tensor, temperature: float) -> float:
    """NT-Xent (SimCLR, Chen et al., 2020, Eq. 1) by loops in NumPy, mean over all 2B anchors."""
    import numpy as np

    a = out0.detach().double().numpy()
    b = out1.detach().double().numpy()
    samples = np.concatenate([a, b]) / np.linalg.norm(np.concatenate([a, b]), axis=1)[:, None]
    n = a.shape[0]
    total = 0.0
    for i in range(2 * n):
        positive = (i + n) % (2 * n)
        logits = [samples[i] @ samples[j] / temperature for j in range(2 * n) if j != i]
        columns = [j for j in range(2 * n) if j != i]
        log_norm = np.log(np.sum(np.exp(logits)))
        total += log_norm - logits[columns.index(positive)]
    return total / (2 * n)


@pytest.fixture
def ntxent_reference() -> Callable[[Tensor, Tensor, float], float]:
    """``ntxent_reference(out0, out1, temperature)``: loop-based NT-Xent for comparisons."""
    return _ntxent_reference
