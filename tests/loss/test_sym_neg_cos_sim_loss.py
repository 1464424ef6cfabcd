import numpy as np
import pytest
import torch

from selfsup.loss import SymNegCosineSimilarityLoss


def _neg_cos(a, b):
    return -np.mean(
        [a[i] @ b[i] / (np.linalg.norm(a[i]) * np.linalg.norm(b[i])) for i in range(len(a))]
    )


def test_matches_reference():
    z0, p0, z1, p1 = (torch.randn(4, 6, dtype=torch.float64) for _ in range(4))
    loss = SymNegCosineSimilarityLoss()((z0, p0), (z1, p1))
    expected = 0.5 * _neg_cos(p0.numpy(), z1.numpy()) + 0.5 * _neg_cos(p1.numpy(), z0.numpy())
    assert loss.item() == pytest.approx(expected, rel=1e-12)


def test_stop_gradient_on_projections():
    z0, p0, z1, p1 = (torch.randn(4, 6, requires_grad=True) for _ in range(4))
    SymNegCosineSimilarityLoss()((z0, p0), (z1, p1)).backward()
    assert z0.grad is None and z1.grad is None
    assert torch.isfinite(p0.grad).all() and p0.grad.abs().sum() > 0
    assert torch.isfinite(p1.grad).all() and p1.grad.abs().sum() > 0


def test_rejects_bad_inputs():
    criterion = SymNegCosineSimilarityLoss()
    with pytest.raises(TypeError, match=r"out0 must be a pair \(z, p\)"):
        criterion(torch.randn(4, 6), (torch.randn(4, 6), torch.randn(4, 6)))
    with pytest.raises(ValueError, match="same shape"):
        criterion((torch.randn(4, 6), torch.randn(4, 5)), (torch.randn(4, 6), torch.randn(4, 6)))
