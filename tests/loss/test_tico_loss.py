import numpy as np
import pytest
import torch

from selfsup.loss import TiCoLoss


def _normalize(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _reference_step(z_a, z_b, previous, beta, rho):
    """TiCo Algorithm 1: C = beta C_prev + (1 - beta) z_a^T z_a / N, then the loss."""
    a, b = _normalize(z_a), _normalize(z_b)
    n, d = a.shape
    batch_cov = np.zeros((d, d))
    for i in range(n):
        batch_cov += np.outer(a[i], a[i]) / n
    cov = beta * previous + (1 - beta) * batch_cov
    invariance = 1 - sum(a[i] @ b[i] for i in range(n)) / n
    contrast = sum(a[i] @ cov @ a[i] for i in range(n)) / n
    return invariance + rho * contrast, cov


def test_two_calls_update_the_covariance():
    criterion = TiCoLoss(beta=0.7, rho=3.0)
    cov = np.zeros((5, 5))
    for _ in range(2):
        z_a = torch.randn(6, 5, dtype=torch.float64)
        z_b = torch.randn(6, 5, dtype=torch.float64)
        loss = criterion(z_a, z_b)
        expected, cov = _reference_step(z_a.numpy(), z_b.numpy(), cov, 0.7, 3.0)
        assert loss.item() == pytest.approx(expected, rel=1e-10)
        assert np.allclose(criterion.C.numpy(), cov, atol=1e-12)
        assert not criterion.C.requires_grad


def test_no_update_keeps_covariance():
    criterion = TiCoLoss()
    criterion(torch.randn(4, 3), torch.randn(4, 3))
    stored = criterion.C.clone()
    criterion(torch.randn(4, 3), torch.randn(4, 3), update_covariance_matrix=False)
    assert torch.equal(criterion.C, stored)


def test_covariance_round_trips_through_state_dict():
    criterion = TiCoLoss()
    criterion(torch.randn(4, 3), torch.randn(4, 3))
    restored = TiCoLoss()
    restored.load_state_dict(criterion.state_dict())
    assert torch.equal(restored.C, criterion.C)
    z_a, z_b = torch.randn(4, 3), torch.randn(4, 3)
    assert torch.equal(restored(z_a, z_b), criterion(z_a, z_b))


def test_gradients_flow_and_are_finite():
    z_a = torch.randn(4, 6, requires_grad=True)
    z_b = torch.randn(4, 6, requires_grad=True)
    TiCoLoss()(z_a, z_b).backward()
    for grad in (z_a.grad, z_b.grad):
        assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="beta"):
        TiCoLoss(beta=1.1)
    with pytest.raises(ValueError, match="rho"):
        TiCoLoss(rho=-1.0)
    criterion = TiCoLoss()
    with pytest.raises(ValueError, match=r">= 2 samples"):
        criterion(torch.randn(1, 3), torch.randn(1, 3))
    with pytest.raises(ValueError, match=r"same shape"):
        criterion(torch.randn(4, 3), torch.randn(4, 2))
    criterion(torch.randn(4, 3), torch.randn(4, 3))
    with pytest.raises(ValueError, match=r"4 features.*\(3, 3\)"):
        criterion(torch.randn(4, 4), torch.randn(4, 4))
