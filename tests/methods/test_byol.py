"""BYOL: symmetric negative cosine similarity between predictions and target projections."""

from __future__ import annotations

import numpy as np
import torch

from selfsup.methods import BYOL


def _neg_cos(a, b):
    a, b = a.detach().double().numpy(), b.detach().double().numpy()
    cos = [x @ y / (np.linalg.norm(x) * np.linalg.norm(y)) for x, y in zip(a, b, strict=True)]
    return -float(np.mean(cos))


def test_loss_is_symmetric_negative_cosine_similarity(tiny, views):
    method = tiny("byol")
    x0, x1 = views("byol")
    loss = method.training_loss([x0, x1])
    p0, p1 = method(x0), method(x1)
    z0, z1 = method.forward_momentum(x0), method.forward_momentum(x1)
    assert not z0.requires_grad
    expected = 0.5 * (_neg_cos(p0, z1) + _neg_cos(p1, z0))
    assert abs(loss.item() - expected) < 1e-5


def test_default_heads_follow_the_backbone():
    method = BYOL("resnet-9", backbone_kwargs={"width": 0.125})
    sizes = [
        (m.in_features, m.out_features)
        for m in [*method.projection_head.modules(), *method.prediction_head.modules()]
        if isinstance(m, torch.nn.Linear)
    ]
    assert sizes == [(64, 128), (128, 256), (256, 128), (128, 256)]
    assert method.momentum_start == 0.99 and method.transform_name == "byol"
