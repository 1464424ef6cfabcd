"""TiCo: invariance to the momentum embedding plus covariance contrast."""

from __future__ import annotations

import torch

from selfsup.methods import TiCo


def test_loss_pairs_online_view0_with_momentum_view1(tiny, views, monkeypatch):
    method = tiny("tico")
    x0, x1 = views("tico")
    seen = []
    original = method.criterion.forward

    def spy(z_a, z_b, update_covariance_matrix=True):
        seen.append((z_a.requires_grad, z_b.requires_grad, z_b.clone()))
        return original(z_a, z_b, update_covariance_matrix)

    monkeypatch.setattr(method.criterion, "forward", spy)
    method.training_loss([x0, x1])
    assert [s[:2] for s in seen] == [(True, False)]
    torch.testing.assert_close(seen[0][2], method.forward_momentum(x1))
    assert method.criterion.C.shape == (16, 16)


def test_defaults():
    method = TiCo("resnet-9", backbone_kwargs={"width": 0.125})
    assert (method.criterion.beta, method.criterion.rho) == (0.9, 8.0)
    assert method.projection_head.layers[0].out_features == 128
