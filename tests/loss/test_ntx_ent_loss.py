import math

import numpy as np
import pytest
import torch

from selfsup.loss import NTXentLoss


def _normalize(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _simclr_reference(x0: np.ndarray, x1: np.ndarray, temperature: float) -> float:
    """SimCLR Eq. 1: every one of the 2B samples against its positive, 2B - 2 negatives."""
    z = _normalize(np.concatenate([x0, x1]))
    n = len(x0)
    total = 0.0
    for i in range(2 * n):
        positive = (i + n) % (2 * n)
        denominator = sum(
            math.exp(float(z[i] @ z[k]) / temperature) for k in range(2 * n) if k != i
        )
        total += -float(z[i] @ z[positive]) / temperature + math.log(denominator)
    return total / (2 * n)


def _moco_reference(x0: np.ndarray, x1: np.ndarray, bank: np.ndarray, temperature: float):
    """MoCo InfoNCE: query i against its key and every bank entry (bank rows are negatives)."""
    q, k = _normalize(x0), _normalize(x1)
    total = 0.0
    for i in range(len(q)):
        logits = [float(q[i] @ k[i]) / temperature]
        logits += [float(q[i] @ bank[j]) / temperature for j in range(len(bank))]
        total += -logits[0] + math.log(sum(math.exp(v) for v in logits))
    return total / len(q)


@pytest.mark.parametrize("temperature", [0.1, 0.5, 1.0])
def test_simclr_matches_reference(temperature):
    x0, x1 = torch.randn(6, 8, dtype=torch.float64), torch.randn(6, 8, dtype=torch.float64)
    loss = NTXentLoss(temperature=temperature)(x0, x1)
    expected = _simclr_reference(x0.numpy(), x1.numpy(), temperature)
    assert loss.dtype == torch.float64
    assert loss.item() == pytest.approx(expected, rel=1e-10)


def test_simclr_float32_close_to_float64():
    x0, x1 = torch.randn(5, 4), torch.randn(5, 4)
    loss = NTXentLoss(temperature=0.2)(x0, x1)
    expected = _simclr_reference(x0.double().numpy(), x1.double().numpy(), 0.2)
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_identical_orthogonal_views_give_analytic_value():
    # positives have similarity 1, all 2B - 2 negatives similarity 0
    batch, temperature = 4, 0.5
    x = torch.eye(batch, 6) * 3.0
    loss = NTXentLoss(temperature=temperature)(x, x.clone())
    expected = -1 / temperature + math.log(math.exp(1 / temperature) + 2 * batch - 2)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_collapsed_embeddings_give_log_of_candidates():
    x = torch.ones(5, 3)
    loss = NTXentLoss(temperature=0.3)(x, x)
    assert loss.item() == pytest.approx(math.log(2 * 5 - 1), rel=1e-6)


def test_gradients_flow_and_are_finite():
    x0 = torch.randn(4, 8, requires_grad=True)
    x1 = torch.randn(4, 8, requires_grad=True)
    NTXentLoss()(x0, x1).backward()
    for grad in (x0.grad, x1.grad):
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0


def test_gather_distributed_without_process_group_equals_local():
    x0, x1 = torch.randn(4, 8), torch.randn(4, 8)
    local = NTXentLoss()(x0, x1)
    gathered = NTXentLoss(gather_distributed=True)(x0, x1)
    assert torch.equal(local, gathered)


def test_memory_bank_first_call_uses_initial_bank_then_enqueues_second_view():
    size, dim, batch, temperature = 10, 8, 4, 0.2
    criterion = NTXentLoss(temperature=temperature, memory_bank_size=(size, dim))
    initial = criterion.memory_bank.bank.clone()
    x0 = torch.randn(batch, dim, requires_grad=True)
    x1 = torch.randn(batch, dim)
    loss = criterion(x0, x1)
    expected = _moco_reference(
        x0.detach().double().numpy(), x1.double().numpy(), initial.double().numpy(), temperature
    )
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    bank = criterion.memory_bank.bank
    assert torch.allclose(bank[:batch], torch.nn.functional.normalize(x1, dim=1))
    assert torch.equal(bank[batch:], initial[batch:])
    assert not bank.requires_grad

    # the second call sees the bank as it was after the first one
    before_second = bank.clone()
    y0 = torch.randn(batch, dim, requires_grad=True)
    y1 = torch.randn(batch, dim)
    loss2 = criterion(y0, y1)
    expected2 = _moco_reference(
        y0.detach().double().numpy(),
        y1.double().numpy(),
        before_second.double().numpy(),
        temperature,
    )
    assert loss2.item() == pytest.approx(expected2, rel=1e-5)
    assert torch.allclose(
        criterion.memory_bank.bank[batch : 2 * batch], y1 / y1.norm(dim=1)[:, None]
    )


def test_memory_bank_int_size_takes_dim_from_first_batch():
    size, dim, batch = 12, 6, 4
    criterion = NTXentLoss(memory_bank_size=size)
    x0, x1 = torch.randn(batch, dim, requires_grad=True), torch.randn(batch, dim)
    criterion(x0, x1)
    bank = criterion.memory_bank.bank
    assert bank.shape == (size, dim)
    assert torch.allclose(bank[:batch], torch.nn.functional.normalize(x1, dim=1))
    snapshot = bank.clone()
    y0, y1 = torch.randn(batch, dim, requires_grad=True), torch.randn(batch, dim)
    loss = criterion(y0, y1)
    expected = _moco_reference(
        y0.detach().double().numpy(), y1.double().numpy(), snapshot.double().numpy(), 0.5
    )
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_memory_bank_not_updated_without_gradient():
    criterion = NTXentLoss(memory_bank_size=(8, 4))
    before = criterion.memory_bank.bank.clone()
    with torch.no_grad():
        criterion(torch.randn(3, 4), torch.randn(3, 4))
    assert torch.equal(criterion.memory_bank.bank, before)


def test_memory_bank_gradient_reaches_queries_only_through_loss():
    criterion = NTXentLoss(memory_bank_size=(16, 4))
    x0 = torch.randn(3, 4, requires_grad=True)
    x1 = torch.randn(3, 4, requires_grad=True)
    criterion(x0, x1).backward()
    assert torch.isfinite(x0.grad).all() and x0.grad.abs().sum() > 0
    assert torch.isfinite(x1.grad).all()


def test_memory_bank_allows_batch_of_one():
    criterion = NTXentLoss(memory_bank_size=(8, 4))
    loss = criterion(torch.randn(1, 4, requires_grad=True), torch.randn(1, 4))
    assert torch.isfinite(loss)


@pytest.mark.parametrize("temperature", [0.0, -0.5, float("nan")])
def test_rejects_bad_temperature(temperature):
    with pytest.raises(ValueError, match="temperature"):
        NTXentLoss(temperature=temperature)


@pytest.mark.parametrize("size", [-1, (-1, 4), (8, 0)])
def test_rejects_bad_memory_bank_size_value(size):
    with pytest.raises(ValueError, match="memory_bank_size"):
        NTXentLoss(memory_bank_size=size)


@pytest.mark.parametrize("size", ["4096", 1.5, (8, 4, 2), True])
def test_rejects_bad_memory_bank_size_type(size):
    with pytest.raises(TypeError, match="memory_bank_size"):
        NTXentLoss(memory_bank_size=size)


def test_rejects_wrong_rank_and_mismatched_shapes():
    criterion = NTXentLoss()
    with pytest.raises(ValueError, match=r"out0 must have shape \(B, D\).*\(2, 3, 4\)"):
        criterion(torch.randn(2, 3, 4), torch.randn(2, 3, 4))
    with pytest.raises(ValueError, match=r"same shape.*\(4, 8\).*\(5, 8\)"):
        criterion(torch.randn(4, 8), torch.randn(5, 8))


def test_rejects_batch_of_one_without_bank():
    with pytest.raises(ValueError, match=">= 2 samples"):
        NTXentLoss()(torch.randn(1, 8), torch.randn(1, 8))
