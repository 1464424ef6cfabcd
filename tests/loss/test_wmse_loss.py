import numpy as np
import pytest
import torch

from selfsup.loss import WMSELoss, whiten


def _numpy_whiten(x):
    centered = x - x.mean(axis=0)
    cov = centered.T @ centered / (len(x) - 1)
    lower = np.linalg.cholesky(cov)
    return centered @ np.linalg.inv(lower).T


def _reference(x, num_pos, groups):
    """W-MSE: whiten each view of each sub-batch, then 2 - 2 cos averaged over pairs."""
    batch = len(x) // num_pos
    views = [x[v * batch : (v + 1) * batch] for v in range(num_pos)]
    whitened = [np.zeros_like(view) for view in views]
    for idx in groups:
        for v in range(num_pos):
            whitened[v][idx] = _numpy_whiten(views[v][idx])
    total, pairs = 0.0, 0
    for i in range(num_pos):
        for j in range(i + 1, num_pos):
            cos = [
                whitened[i][k]
                @ whitened[j][k]
                / (np.linalg.norm(whitened[i][k]) * np.linalg.norm(whitened[j][k]))
                for k in range(batch)
            ]
            total += 2 - 2 * np.mean(cos)
            pairs += 1
    return total / pairs


def test_whiten_gives_identity_covariance():
    x = torch.randn(2, 12, 3, dtype=torch.float64) * torch.tensor([1.0, 5.0, 0.1]) + 2
    w = whiten(x)
    for group in w:
        centered = group - group.mean(dim=0)
        cov = centered.t() @ centered / (len(group) - 1)
        assert torch.allclose(cov, torch.eye(3, dtype=torch.float64), atol=1e-10)
    assert np.allclose(w[0].numpy(), _numpy_whiten(x[0].numpy()))


@pytest.mark.parametrize("num_pos", [2, 3])
def test_whole_batch_matches_reference(num_pos):
    x = torch.randn(num_pos * 10, 4, dtype=torch.float64)
    loss = WMSELoss(embedding_dim=4, num_pos=num_pos)(x)
    expected = _reference(x.numpy(), num_pos, [np.arange(10)])
    assert loss.item() == pytest.approx(expected, rel=1e-9)


def test_sub_batches_follow_randperm():
    x = torch.randn(2 * 16, 3, dtype=torch.float64)
    torch.manual_seed(7)
    loss = WMSELoss(embedding_dim=3, w_size=8)(x)
    torch.manual_seed(7)
    groups = torch.randperm(16).view(-1, 8).numpy()
    assert loss.item() == pytest.approx(_reference(x.numpy(), 2, groups), rel=1e-9)


def test_w_iter_averages_iterations():
    x = torch.randn(2 * 8, 2, dtype=torch.float64)
    torch.manual_seed(3)
    loss = WMSELoss(embedding_dim=2, w_iter=2, w_size=4)(x)
    torch.manual_seed(3)
    first = torch.randperm(8).view(-1, 4).numpy()
    second = torch.randperm(8).view(-1, 4).numpy()
    expected = (_reference(x.numpy(), 2, first) + _reference(x.numpy(), 2, second)) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-9)


def test_gradients_flow_and_are_finite():
    x = torch.randn(2 * 8, 4, requires_grad=True)
    WMSELoss(embedding_dim=4)(x).backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"w_size must be >= 2 \* embedding_dim = 8"):
        WMSELoss(embedding_dim=4, w_size=6)
    with pytest.raises(ValueError, match="num_pos"):
        WMSELoss(num_pos=1)
    with pytest.raises(ValueError, match="w_iter"):
        WMSELoss(w_iter=0)
    with pytest.raises(ValueError, match="eps"):
        WMSELoss(eps=1.0)
    criterion = WMSELoss(embedding_dim=4)
    with pytest.raises(ValueError, match=r"embedding_dim=4.*\(16, 5\)"):
        criterion(torch.randn(16, 5))
    with pytest.raises(ValueError, match=r"num_pos \* B rows.*\(15, 4\)"):
        criterion(torch.randn(15, 4))
    with pytest.raises(ValueError, match=r"B=6.*w_size=6.*= 8"):
        criterion(torch.randn(12, 4))
    with pytest.raises(ValueError, match=r"B=12.*w_size=8"):
        WMSELoss(embedding_dim=4, w_size=8)(torch.randn(24, 4))
