import numpy as np
import pytest
import torch

from selfsup.loss import VICRegLoss


def _reference(z_a, z_b, lam=25.0, mu=25.0, nu=1.0, eps=1e-4):
    """VICReg Eq. 1-6 with unbiased variance/covariance, written with loops."""
    n, d = z_a.shape
    invariance = sum((z_a[i, j] - z_b[i, j]) ** 2 for i in range(n) for j in range(d)) / (n * d)

    def variance_covariance(z):
        mean = z.sum(axis=0) / n
        centered = z - mean
        cov = np.zeros((d, d))
        for i in range(d):
            for j in range(d):
                cov[i, j] = sum(centered[k, i] * centered[k, j] for k in range(n)) / (n - 1)
        variance = sum(max(0.0, 1.0 - np.sqrt(cov[j, j] + eps)) for j in range(d)) / d
        covariance = sum(cov[i, j] ** 2 for i in range(d) for j in range(d) if i != j) / d
        return variance, covariance

    v_a, c_a = variance_covariance(z_a)
    v_b, c_b = variance_covariance(z_b)
    return lam * invariance + mu * (v_a + v_b) / 2 + nu * (c_a + c_b)


@pytest.mark.parametrize("shape", [(8, 4), (3, 10), (5, 5)])
def test_matches_reference(shape):
    z_a = torch.randn(*shape, dtype=torch.float64) * 0.5
    z_b = torch.randn(*shape, dtype=torch.float64) * 0.5 + z_a
    loss = VICRegLoss()(z_a, z_b)
    assert loss.item() == pytest.approx(_reference(z_a.numpy(), z_b.numpy()), rel=1e-9)


def test_custom_weights_match_reference():
    z_a, z_b = torch.randn(6, 4, dtype=torch.float64), torch.randn(6, 4, dtype=torch.float64)
    loss = VICRegLoss(lambda_param=1.0, mu_param=2.0, nu_param=3.0, eps=1e-2)(z_a, z_b)
    expected = _reference(z_a.numpy(), z_b.numpy(), 1.0, 2.0, 3.0, 1e-2)
    assert loss.item() == pytest.approx(expected, rel=1e-9)


def test_float32_close_to_reference():
    z_a, z_b = torch.randn(4, 12), torch.randn(4, 12)
    loss = VICRegLoss()(z_a, z_b)
    assert loss.item() == pytest.approx(
        _reference(z_a.double().numpy(), z_b.double().numpy()), rel=1e-5
    )


def test_gradients_flow_and_are_finite():
    z_a = torch.randn(5, 6, requires_grad=True)
    z_b = torch.randn(5, 6, requires_grad=True)
    VICRegLoss()(z_a, z_b).backward()
    for grad in (z_a.grad, z_b.grad):
        assert torch.isfinite(grad).all() and grad.abs().sum() > 0


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"lambda_param": -1}, "lambda_param"),
        ({"mu_param": -1}, "mu_param"),
        ({"nu_param": -0.1}, "nu_param"),
        ({"eps": 0.0}, "eps"),
    ],
)
def test_rejects_bad_hyper_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        VICRegLoss(**kwargs)


def test_rejects_bad_inputs():
    criterion = VICRegLoss()
    with pytest.raises(ValueError, match=r"z_a must have shape \(B, D\).*\(4,\)"):
        criterion(torch.randn(4), torch.randn(4))
    with pytest.raises(ValueError, match=r"same shape.*\(4, 3\).*\(3, 3\)"):
        criterion(torch.randn(4, 3), torch.randn(3, 3))
    with pytest.raises(ValueError, match=r">= 2 samples"):
        criterion(torch.randn(1, 3), torch.randn(1, 3))
