"""SimSiam: symmetric negative cosine similarity with a stop-gradient on the projections."""

from __future__ import annotations

import numpy as np
import torch

from selfsup.methods import SimSiam


def _neg_cos(a, b):
    a, b = a.detach().double().numpy(), b.detach().double().numpy()
    return -float(np.mean(np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)))


def test_loss_matches_algorithm_1(tiny, views):
    method = tiny("simsiam")
    x0, x1 = views("simsiam")
    loss = method.training_loss([x0, x1])
    (z0, p0), (z1, p1) = method(x0), method(x1)
    assert abs(loss.item() - 0.5 * (_neg_cos(p0, z1) + _neg_cos(p1, z0))) < 1e-5


def test_targets_are_detached_and_predictions_are_not(tiny, views, monkeypatch):
    method = tiny("simsiam")
    calls = []
    original = method.criterion.forward

    def spy(x0, x1):
        calls.append((x0.requires_grad, x1.requires_grad))
        return original(x0, x1)

    monkeypatch.setattr(method.criterion, "forward", spy)
    method.training_loss(views("simsiam"))
    assert calls == [(True, False), (True, False)]


def test_default_heads_follow_the_paper_ratios():
    method = SimSiam("resnet-9", backbone_kwargs={"width": 0.125})
    sizes = [
        (m.in_features, m.out_features)
        for m in [*method.projection_head.modules(), *method.prediction_head.modules()]
        if isinstance(m, torch.nn.Linear)
    ]
    assert sizes == [(64, 64), (64, 64), (64, 64), (64, 16), (16, 64)]
