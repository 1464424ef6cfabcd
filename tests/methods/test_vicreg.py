"""VICReg: variance-invariance-covariance loss on the expander outputs."""

from __future__ import annotations

import numpy as np

from selfsup.methods import VICReg


def _vicreg_reference(z_a, z_b):
    a = z_a.detach().double().numpy()
    b = z_b.detach().double().numpy()
    invariance = np.mean((a - b) ** 2)
    variance = cov = 0.0
    for z in (a, b):
        std = np.sqrt(z.var(0, ddof=1) + 1e-4)
        variance += np.mean(np.maximum(0, 1 - std)) / 2
        c = np.cov(z, rowvar=False)
        cov += (np.sum(c**2) - np.sum(np.diag(c) ** 2)) / z.shape[1]
    return 25 * invariance + 25 * variance + cov


def test_loss_matches_the_paper(tiny, views):
    method = tiny("vicreg")
    x0, x1 = views("vicreg")
    loss = method.training_loss([x0, x1])
    expected = _vicreg_reference(method(x0), method(x1))
    assert abs(loss.item() - expected) < 1e-4 * max(1.0, abs(expected))


def test_defaults():
    method = VICReg("resnet-9", backbone_kwargs={"width": 0.125})
    assert method.projection_head.layers[-1].out_features == 256
    assert method.optimizer_defaults.name == "lars"
