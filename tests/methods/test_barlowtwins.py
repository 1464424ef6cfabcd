"""Barlow Twins: cross-correlation loss on the projector outputs."""

from __future__ import annotations

import numpy as np

from selfsup.methods import BarlowTwins


def _barlow_reference(z_a, z_b, lam):
    a = z_a.detach().double().numpy()
    b = z_b.detach().double().numpy()
    a = (a - a.mean(0)) / np.sqrt(a.var(0) + 1e-5)
    b = (b - b.mean(0)) / np.sqrt(b.var(0) + 1e-5)
    c = a.T @ b / a.shape[0]
    off = c - np.diag(np.diag(c))
    return np.sum((1 - np.diag(c)) ** 2) + lam * np.sum(off**2)


def test_loss_matches_equation_1(tiny, views):
    method = tiny("barlowtwins")
    x0, x1 = views("barlowtwins")
    loss = method.training_loss([x0, x1])
    expected = _barlow_reference(method(x0), method(x1), 5e-3)
    assert abs(loss.item() - expected) < 1e-3 * max(1.0, abs(expected))


def test_default_projector_is_four_times_the_features():
    method = BarlowTwins("resnet-9", backbone_kwargs={"width": 0.125})
    assert method.projection_head.layers[-1].out_features == 256
    assert method.criterion.lambda_param == 5e-3
