import numpy as np
import pytest
import torch

from selfsup.loss import NegativeCosineSimilarity


def _reference(x0, x1):
    return -np.mean(
        [x0[i] @ x1[i] / (np.linalg.norm(x0[i]) * np.linalg.norm(x1[i])) for i in range(len(x0))]
    )


def test_matches_reference():
    x0, x1 = torch.randn(5, 4, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64)
    loss = NegativeCosineSimilarity()(x0, x1)
    assert loss.item() == pytest.approx(_reference(x0.numpy(), x1.numpy()), rel=1e-12)


def test_dim_zero_and_identical_inputs():
    x0, x1 = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    loss = NegativeCosineSimilarity(dim=0)(x0, x1)
    assert loss.item() == pytest.approx(_reference(x0.t().numpy(), x1.t().numpy()), rel=1e-12)
    assert NegativeCosineSimilarity()(x0, x0).item() == pytest.approx(-1.0)


def test_gradient_flows():
    x0 = torch.randn(3, 4, requires_grad=True)
    NegativeCosineSimilarity()(x0, torch.randn(3, 4)).backward()
    assert torch.isfinite(x0.grad).all() and x0.grad.abs().sum() > 0


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="eps"):
        NegativeCosineSimilarity(eps=0.0)
    with pytest.raises(TypeError, match="dim"):
        NegativeCosineSimilarity(dim=1.0)
    with pytest.raises(ValueError, match=r"same shape.*\(3, 4\).*\(3, 5\)"):
        NegativeCosineSimilarity()(torch.randn(3, 4), torch.randn(3, 5))
    with pytest.raises(ValueError, match="dim=2 is out of range"):
        NegativeCosineSimilarity(dim=2)(torch.randn(3, 4), torch.randn(3, 4))
