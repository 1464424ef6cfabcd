import numpy as np
import pytest
import torch

from selfsup.loss import MMCRLoss


def _reference(online, momentum, lmda):
    """Yerxa et al. 2023: -||centroids||_* + lmda * mean_i ||Z_i||_*."""
    z = np.concatenate([online, momentum], axis=1)
    centroids = np.stack([z[i].mean(axis=0) for i in range(len(z))])
    per_sample = sum(np.linalg.svd(z[i], compute_uv=False).sum() for i in range(len(z))) / len(z)
    return -np.linalg.svd(centroids, compute_uv=False).sum() + lmda * per_sample


@pytest.mark.parametrize("lmda", [5e-3, 1.0])
def test_matches_reference(lmda):
    online = torch.nn.functional.normalize(torch.randn(6, 2, 5, dtype=torch.float64), dim=-1)
    momentum = torch.nn.functional.normalize(torch.randn(6, 2, 5, dtype=torch.float64), dim=-1)
    loss = MMCRLoss(lmda=lmda)(online, momentum)
    assert loss.item() == pytest.approx(
        _reference(online.numpy(), momentum.numpy(), lmda), rel=1e-10
    )


def test_identical_views_of_orthogonal_samples():
    # centroids are the orthonormal rows themselves: nuclear norm B; each Z_i has rank 1
    online = torch.eye(3, 4).unsqueeze(1).repeat(1, 2, 1)
    loss = MMCRLoss(lmda=0.0)(online, online.clone())
    assert loss.item() == pytest.approx(-3.0, rel=1e-6)


def test_gradients_flow_and_are_finite():
    online = torch.randn(4, 2, 6, requires_grad=True)
    momentum = torch.randn(4, 2, 6)
    MMCRLoss()(online, momentum).backward()
    assert torch.isfinite(online.grad).all() and online.grad.abs().sum() > 0


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="lmda"):
        MMCRLoss(lmda=-1.0)
    with pytest.raises(ValueError, match=r"online must have shape \(B, k, D\).*\(4, 6\)"):
        MMCRLoss()(torch.randn(4, 6), torch.randn(4, 6))
    with pytest.raises(ValueError, match="same shape"):
        MMCRLoss()(torch.randn(4, 2, 6), torch.randn(4, 3, 6))
