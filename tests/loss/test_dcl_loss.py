import math

import numpy as np
import pytest
import torch

from selfsup.loss import DCLLoss, DCLWLoss, negative_mises_fisher_weights


def _normalize(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _vmf_weights(u, v, sigma):
    similarity = np.array([u[i] @ v[i] for i in range(len(u))]) / sigma
    softmax = np.exp(similarity) / np.exp(similarity).sum()
    return 2 - len(u) * softmax


def _reference(x0, x1, temperature, weights=None):
    """DCL Eq. 6: positive term (optionally weighted), negatives without the positive."""
    u, v = _normalize(x0), _normalize(x1)
    n = len(u)

    def direction(a, b):
        w = np.ones(n) if weights is None else weights(a, b)
        total = 0.0
        for i in range(n):
            negatives = [a[k] for k in range(n) if k != i] + [b[k] for k in range(n) if k != i]
            denominator = sum(math.exp(float(a[i] @ x) / temperature) for x in negatives)
            total += -w[i] * float(a[i] @ b[i]) / temperature + math.log(denominator)
        return total / n

    return 0.5 * (direction(u, v) + direction(v, u))


def _inputs():
    x0 = torch.randn(5, 6, dtype=torch.float64)
    return x0, x0 + 0.5 * torch.randn(5, 6, dtype=torch.float64)


@pytest.mark.parametrize("temperature", [0.1, 0.5])
def test_dcl_matches_reference(temperature):
    x0, x1 = _inputs()
    loss = DCLLoss(temperature=temperature)(x0, x1)
    assert loss.item() == pytest.approx(_reference(x0.numpy(), x1.numpy(), temperature), rel=1e-10)


def test_dclw_matches_reference():
    x0, x1 = _inputs()
    loss = DCLWLoss(temperature=0.2, sigma=0.3)(x0, x1)
    expected = _reference(x0.numpy(), x1.numpy(), 0.2, weights=lambda a, b: _vmf_weights(a, b, 0.3))
    assert loss.item() == pytest.approx(expected, rel=1e-10)


def test_weights_function_matches_reference_and_has_mean_one():
    u = torch.nn.functional.normalize(torch.randn(6, 4, dtype=torch.float64), dim=1)
    v = torch.nn.functional.normalize(torch.randn(6, 4, dtype=torch.float64), dim=1)
    weights = negative_mises_fisher_weights(u, v, sigma=0.5)
    assert np.allclose(weights.numpy(), _vmf_weights(u.numpy(), v.numpy(), 0.5))
    assert weights.mean().item() == pytest.approx(1.0)


def test_custom_weight_function():
    x0, x1 = _inputs()
    loss = DCLLoss(temperature=0.1, weight_fn=lambda a, b: 3 * torch.ones(len(a)).to(a))(x0, x1)
    expected = _reference(x0.numpy(), x1.numpy(), 0.1, weights=lambda a, b: 3 * np.ones(len(a)))
    assert loss.item() == pytest.approx(expected, rel=1e-10)


def test_positive_not_in_denominator_unlike_ntxent():
    # identical orthogonal views: the negatives are all orthogonal, loss = -1/t + log(2B - 2)
    batch, temperature = 4, 0.5
    x = torch.eye(batch, 5)
    loss = DCLLoss(temperature=temperature)(x, x.clone())
    assert loss.item() == pytest.approx(-1 / temperature + math.log(2 * batch - 2), rel=1e-6)


def test_gradients_flow_and_are_finite():
    x0 = torch.randn(4, 6, requires_grad=True)
    x1 = torch.randn(4, 6, requires_grad=True)
    DCLWLoss()(x0, x1).backward()
    for grad in (x0.grad, x1.grad):
        assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="temperature"):
        DCLLoss(temperature=0.0)
    with pytest.raises(ValueError, match="sigma"):
        DCLWLoss(sigma=-1.0)
    with pytest.raises(TypeError, match="weight_fn"):
        DCLLoss(weight_fn=3)
    with pytest.raises(ValueError, match=r"same shape.*\(4, 6\).*\(4, 5\)"):
        DCLLoss()(torch.randn(4, 6), torch.randn(4, 5))
    with pytest.raises(ValueError, match=r">= 2 samples"):
        DCLLoss()(torch.randn(1, 6), torch.randn(1, 6))
    with pytest.raises(ValueError, match=r"weight_fn must return a tensor of shape \(4,\)"):
        DCLLoss(weight_fn=lambda a, b: torch.ones(3))(torch.randn(4, 6), torch.randn(4, 6))
