import numpy as np
import pytest
import torch

from selfsup.loss import BarlowTwinsLoss


def _reference(z_a: np.ndarray, z_b: np.ndarray, lambda_param: float) -> float:
    """Barlow Twins Eq. 1 with BatchNorm1d-style standardisation (biased var, eps 1e-5)."""
    n, d = z_a.shape

    def standardize(z):
        out = np.empty_like(z)
        for j in range(d):
            column = z[:, j]
            mean = column.sum() / n
            var = ((column - mean) ** 2).sum() / n
            out[:, j] = (column - mean) / np.sqrt(var + 1e-5)
        return out

    a, b = standardize(z_a), standardize(z_b)
    loss = 0.0
    for i in range(d):
        for j in range(d):
            c = sum(a[k, i] * b[k, j] for k in range(n)) / n
            loss += (1 - c) ** 2 if i == j else lambda_param * c**2
    return loss


@pytest.mark.parametrize("shape", [(8, 4), (4, 12), (6, 6)])
@pytest.mark.parametrize("lambda_param", [5e-3, 0.5])
def test_matches_reference(shape, lambda_param):
    z_a = torch.randn(*shape, dtype=torch.float64)
    z_b = torch.randn(*shape, dtype=torch.float64) + 0.5 * z_a
    loss = BarlowTwinsLoss(lambda_param=lambda_param)(z_a, z_b)
    expected = _reference(z_a.numpy(), z_b.numpy(), lambda_param)
    assert loss.dtype == torch.float64
    assert loss.item() == pytest.approx(expected, rel=1e-9)


def test_float32_close_to_reference():
    z_a, z_b = torch.randn(5, 16), torch.randn(5, 16)
    loss = BarlowTwinsLoss()(z_a, z_b)
    expected = _reference(z_a.double().numpy(), z_b.double().numpy(), 5e-3)
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_identical_decorrelated_views_give_near_zero_loss():
    # columns that are orthogonal and standardised: C is (almost) the identity
    z = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])
    loss = BarlowTwinsLoss()(z, z.clone())
    assert loss.item() == pytest.approx(0.0, abs=1e-4)


def test_gradients_flow_and_are_finite():
    z_a = torch.randn(6, 10, requires_grad=True)
    z_b = torch.randn(6, 10, requires_grad=True)
    BarlowTwinsLoss()(z_a, z_b).backward()
    for grad in (z_a.grad, z_b.grad):
        assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_gram_and_direct_paths_agree():
    # N < D takes the Gram-matrix path; compare with the (D, D) cross-correlation
    z_a, z_b = torch.randn(3, 7, dtype=torch.float64), torch.randn(3, 7, dtype=torch.float64)
    loss = BarlowTwinsLoss()(z_a, z_b)
    a = torch.nn.functional.batch_norm(z_a, None, None, training=True, eps=1e-5)
    b = torch.nn.functional.batch_norm(z_b, None, None, training=True, eps=1e-5)
    c = a.t() @ b / 3
    off = c - torch.diag(torch.diagonal(c))
    direct = ((torch.diagonal(c) - 1) ** 2).sum() + 5e-3 * (off**2).sum()
    assert loss.item() == pytest.approx(direct.item(), rel=1e-10)


def test_rejects_negative_lambda():
    with pytest.raises(ValueError, match="lambda_param"):
        BarlowTwinsLoss(lambda_param=-1.0)


def test_rejects_bad_inputs():
    criterion = BarlowTwinsLoss()
    with pytest.raises(ValueError, match=r"z_a must have shape \(B, D\)"):
        criterion(torch.randn(4, 2, 3), torch.randn(4, 2, 3))
    with pytest.raises(ValueError, match=r"same shape.*\(4, 3\).*\(4, 5\)"):
        criterion(torch.randn(4, 3), torch.randn(4, 5))
    with pytest.raises(ValueError, match=r">= 2 samples.*\(1, 3\)"):
        criterion(torch.randn(1, 3), torch.randn(1, 3))
    with pytest.raises(TypeError, match="floating point"):
        criterion(torch.ones(4, 3, dtype=torch.long), torch.ones(4, 3, dtype=torch.long))
