import math

import numpy as np
import pytest
import torch

from selfsup.loss import KoLeoLoss


def _reference(x, p=2.0, eps=1e-8):
    """DINOv2's KoLeo: nearest neighbour by cosine, -mean log(||x_i - x_nn + eps||_p + eps)."""
    z = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), eps)
    n = len(z)
    total = 0.0
    for i in range(n):
        best = max((j for j in range(n) if j != i), key=lambda j: float(z[i] @ z[j]))
        distance = (np.abs(z[i] - z[best] + eps) ** p).sum() ** (1 / p)
        total += -math.log(distance + eps)
    return total / n


@pytest.mark.parametrize("p", [2.0, 1.0])
def test_matches_reference(p):
    x = torch.randn(7, 5, dtype=torch.float64)
    loss = KoLeoLoss(p=p)(x)
    assert loss.item() == pytest.approx(_reference(x.numpy(), p=p), rel=1e-10)


def test_duplicates_give_finite_large_loss():
    x = torch.randn(3, 4).repeat(2, 1)
    loss = KoLeoLoss()(x)
    assert torch.isfinite(loss) and loss.item() > 10


def test_gradients_flow_and_are_finite():
    x = torch.randn(6, 4, requires_grad=True)
    KoLeoLoss()(x).backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="p must"):
        KoLeoLoss(p=0)
    with pytest.raises(ValueError, match="eps"):
        KoLeoLoss(eps=-1.0)
    with pytest.raises(ValueError, match=">= 2 samples"):
        KoLeoLoss()(torch.randn(1, 4))
    with pytest.raises(ValueError, match=r"x must have shape \(B, D\)"):
        KoLeoLoss()(torch.randn(2, 3, 4))
