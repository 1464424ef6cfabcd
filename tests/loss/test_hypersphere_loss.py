import math

import numpy as np
import pytest
import torch

from selfsup.loss import HypersphereLoss


def _normalize(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _log_mean_exp(values):
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values) / len(values))


def _reference(z_a, z_b, t=1.0, lam=1.0, alpha=2.0):
    """Wang & Isola 2020: alignment + lam * mean of the two uniformities, with loops."""
    x, y = _normalize(z_a), _normalize(z_b)
    n = len(x)
    alignment = sum(np.linalg.norm(x[i] - y[i]) ** alpha for i in range(n)) / n

    def uniformity(z):
        values = [-t * np.linalg.norm(z[i] - z[j]) ** 2 for i in range(n) for j in range(i + 1, n)]
        return _log_mean_exp(values)

    return alignment + lam * (uniformity(x) + uniformity(y)) / 2


@pytest.mark.parametrize("t, lam, alpha", [(1.0, 1.0, 2.0), (2.0, 0.5, 1.0)])
def test_matches_reference(t, lam, alpha):
    z_a, z_b = torch.randn(6, 4, dtype=torch.float64), torch.randn(6, 4, dtype=torch.float64)
    loss = HypersphereLoss(t=t, lam=lam, alpha=alpha)(z_a, z_b)
    assert loss.item() == pytest.approx(
        _reference(z_a.numpy(), z_b.numpy(), t, lam, alpha), rel=1e-10
    )


def test_large_t_does_not_underflow():
    z_a, z_b = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)
    loss = HypersphereLoss(t=2000.0)(z_a, z_b)
    assert torch.isfinite(loss)
    assert loss.item() == pytest.approx(_reference(z_a.numpy(), z_b.numpy(), t=2000.0), rel=1e-9)


def test_gradients_flow_and_are_finite_even_for_duplicates():
    z_a = torch.randn(4, 3).repeat(2, 1).requires_grad_()
    z_b = torch.randn(8, 3, requires_grad=True)
    HypersphereLoss()(z_a, z_b).backward()
    for grad in (z_a.grad, z_b.grad):
        assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="t must"):
        HypersphereLoss(t=0.0)
    with pytest.raises(ValueError, match="lam"):
        HypersphereLoss(lam=-1.0)
    with pytest.raises(ValueError, match="alpha"):
        HypersphereLoss(alpha=0.0)
    with pytest.raises(ValueError, match=">= 2 samples"):
        HypersphereLoss()(torch.randn(1, 3), torch.randn(1, 3))
    with pytest.raises(ValueError, match="same shape"):
        HypersphereLoss()(torch.randn(2, 3), torch.randn(3, 3))
