import numpy as np
import pytest
import torch

from selfsup.loss import sinkhorn_knopp


def numpy_sinkhorn(scores: np.ndarray, iterations: int) -> np.ndarray:
    """SwaV Algorithm 1 on a non-negative (B, K) matrix, in float64."""
    q = scores.T.copy()
    k, b = q.shape
    q /= q.sum()
    for _ in range(iterations):
        q /= q.sum(axis=1, keepdims=True)
        q /= k
        q /= q.sum(axis=0, keepdims=True)
        q /= b
    q *= b
    return q.T


@pytest.mark.parametrize("iterations", [0, 1, 3, 10])
def test_matches_numpy(iterations):
    scores = torch.rand(6, 4, dtype=torch.float64) + 0.1
    codes = sinkhorn_knopp(scores, iterations)
    assert np.allclose(codes.numpy(), numpy_sinkhorn(scores.numpy(), iterations), rtol=1e-12)


def test_rows_are_distributions_and_prototypes_balanced():
    codes = sinkhorn_knopp(torch.rand(8, 4, dtype=torch.float64), iterations=50)
    assert torch.allclose(codes.sum(dim=1), torch.ones(8, dtype=torch.float64))
    # equipartition: each prototype gets B / K samples in total
    assert torch.allclose(codes.sum(dim=0), torch.full((4,), 2.0, dtype=torch.float64), atol=1e-6)


def test_input_unmodified_and_no_gradient():
    scores = torch.rand(5, 3, requires_grad=True)
    before = scores.detach().clone()
    codes = sinkhorn_knopp(scores, 3)
    assert torch.equal(scores.detach(), before)
    assert not codes.requires_grad


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"scores must have shape \(B, K\)"):
        sinkhorn_knopp(torch.rand(2, 3, 4))
    with pytest.raises(ValueError, match="iterations"):
        sinkhorn_knopp(torch.rand(2, 3), iterations=-1)
