"""Tests for MemoryBankModule and NNMemoryBankModule against a loop-based FIFO reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from selfsup.models.modules import MemoryBankModule, NNMemoryBankModule


def _reference_enqueue(bank: np.ndarray, ptr: int, batch: np.ndarray) -> tuple[np.ndarray, int]:
    """Writes the rows one by one at ptr, ptr+1, ... modulo the bank size."""
    bank = bank.copy()
    for row in batch:
        bank[ptr] = row
        ptr = (ptr + 1) % len(bank)
    return bank, ptr


def test_returns_bank_before_enqueue_and_follows_fifo_order_with_wrap_around():
    bank_module = MemoryBankModule(size=(5, 2))
    reference = bank_module.bank.numpy().copy()
    ptr = 0
    for step, batch_size in enumerate([2, 2, 2, 3, 1]):
        batch = torch.arange(batch_size * 2, dtype=torch.float32).reshape(batch_size, 2) + 10 * step
        out, bank = bank_module(batch)
        assert out is batch
        np.testing.assert_allclose(bank.numpy(), reference)  # state BEFORE this batch
        reference, ptr = _reference_enqueue(reference, ptr, batch.numpy())
        np.testing.assert_allclose(bank_module.bank.numpy(), reference)
        assert int(bank_module.bank_ptr) == ptr
    # The third batch wrapped: its rows went to positions 4 and 0.
    assert ptr == (2 + 2 + 2 + 3 + 1) % 5


def test_batch_larger_than_bank_keeps_the_last_rows_at_their_positions():
    bank_module = MemoryBankModule(size=(3, 1))
    bank_module(torch.zeros(1, 1))  # pointer now at 1
    batch = torch.arange(7, dtype=torch.float32).unsqueeze(1)
    bank_module(batch)
    expected, ptr = _reference_enqueue(np.zeros((3, 1), dtype=np.float32), 1, batch.numpy())
    np.testing.assert_allclose(bank_module.bank.numpy(), expected)
    assert int(bank_module.bank_ptr) == ptr == (1 + 7) % 3


def test_returned_bank_is_a_detached_clone_and_output_keeps_its_graph():
    bank_module = MemoryBankModule(size=(4, 3))
    output = torch.randn(2, 3, requires_grad=True)
    out, bank = bank_module(output)
    assert out.requires_grad and out is output
    assert not bank.requires_grad
    before = bank_module.bank.clone()
    bank.zero_()
    assert torch.equal(bank_module.bank, before)
    assert not bank_module.bank.requires_grad


def test_tuple_size_creates_unit_norm_random_bank_at_init():
    bank_module = MemoryBankModule(size=(6, 4))
    assert bank_module.bank.shape == (6, 4)
    torch.testing.assert_close(bank_module.bank.norm(dim=1), torch.ones(6))
    assert "bank" in bank_module.state_dict() and "bank_ptr" in bank_module.state_dict()


def test_int_size_infers_feature_dim_from_first_batch_then_rejects_another_dim():
    bank_module = MemoryBankModule(size=4)
    assert not bank_module.is_initialized
    _, bank = bank_module(torch.randn(2, 7, dtype=torch.float64))
    assert bank.shape == (4, 7) and bank.dtype == torch.float64
    torch.testing.assert_close(bank.norm(dim=1), torch.ones(4, dtype=torch.float64))
    with pytest.raises(ValueError, match="output feature dim 5 does not match .* feature dim 7"):
        bank_module(torch.randn(2, 5, dtype=torch.float64))


def test_feature_dim_first_returns_transposed_bank():
    bank_module = MemoryBankModule(size=(5, 3), feature_dim_first=True)
    _, bank = bank_module(torch.randn(2, 3))
    assert bank.shape == (3, 5)
    # The stored bank is still (N, D); the new rows are at positions 0 and 1.
    assert bank_module.bank.shape == (5, 3)


def test_update_false_leaves_bank_unchanged():
    bank_module = MemoryBankModule(size=(5, 3))
    before = bank_module.bank.clone()
    bank_module(torch.randn(2, 3), update=False)
    assert torch.equal(bank_module.bank, before)
    assert int(bank_module.bank_ptr) == 0


def test_size_zero_disables_the_bank():
    bank_module = MemoryBankModule(size=0)
    output = torch.randn(3, 4)
    out, bank = bank_module(output)
    assert out is output and bank is None


@pytest.mark.parametrize(
    ("size", "error", "match"),
    [
        (-1, ValueError, "size entries must be >= 0, got -1"),
        ((4, -2), ValueError, r"size entries must be >= 0, got \(4, -2\)"),
        ((4, 0), ValueError, "feature dimension D"),
        ((1, 2, 3), TypeError, "sequence \\(N, D\\) of ints"),
        ("16", TypeError, "sequence \\(N, D\\) of ints"),
        (2.5, TypeError, "got 2.5 \\(float\\)"),
        (True, TypeError, "got True"),
    ],
)
def test_invalid_sizes_are_rejected(size, error, match):
    with pytest.raises(error, match=match):
        MemoryBankModule(size=size)


def test_non_2d_output_is_rejected():
    with pytest.raises(ValueError, match=r"output must have shape \(B, D\), got \(2, 3, 4\)"):
        MemoryBankModule(size=(5, 3))(torch.randn(2, 3, 4))


def test_state_dict_round_trip_for_fixed_and_lazily_sized_banks():
    for size in [(5, 3), 5]:
        source = MemoryBankModule(size=size)
        for _ in range(3):
            source(torch.randn(2, 3))
        target = MemoryBankModule(size=size)
        target.load_state_dict(source.state_dict())
        assert torch.equal(target.bank, source.bank)
        assert int(target.bank_ptr) == int(source.bank_ptr) == 1
        # Both continue identically.
        batch = torch.randn(2, 3)
        _, bank_a = source(batch)
        _, bank_b = target(batch)
        assert torch.equal(bank_a, bank_b)
        assert torch.equal(source.bank, target.bank)


def test_bank_moves_with_module_dtype_conversion():
    bank_module = MemoryBankModule(size=(4, 2)).double()
    assert bank_module.bank.dtype == torch.float64
    _, bank = bank_module(torch.randn(1, 2, dtype=torch.float64))
    assert bank.dtype == torch.float64


def _brute_force_nearest(queries: np.ndarray, bank: np.ndarray) -> np.ndarray:
    result = []
    for query in queries:
        best, best_sim = -1, -np.inf
        for j, row in enumerate(bank):
            sim = float(query @ row) / (np.linalg.norm(query) * np.linalg.norm(row))
            if sim > best_sim:
                best, best_sim = j, sim
        result.append(bank[best])
    return np.stack(result)


def test_nn_memory_bank_returns_true_nearest_neighbours():
    nn_bank = NNMemoryBankModule(size=(16, 5))
    stored = torch.randn(16, 5)
    nn_bank(stored, update=True)  # fill the whole bank
    assert torch.equal(nn_bank.bank, stored)
    queries = torch.randn(6, 5)
    neighbours = nn_bank(queries)
    np.testing.assert_allclose(
        neighbours.numpy(), _brute_force_nearest(queries.numpy(), stored.numpy())
    )
    assert torch.equal(nn_bank.bank, stored)  # update=False by default


def test_nn_memory_bank_looks_up_before_enqueueing():
    nn_bank = NNMemoryBankModule(size=(4, 3))
    stored = torch.tensor([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [-1.0, 0, 0]])
    nn_bank(stored, update=True)
    query = torch.tensor([[0.1, 0.9, 0.0]])
    neighbour = nn_bank(query, update=True)
    # The query itself is more similar to itself, but it was not in the bank yet.
    torch.testing.assert_close(neighbour, stored[1:2])
    torch.testing.assert_close(nn_bank.bank[0], query[0])


def test_nn_memory_bank_needs_a_positive_size():
    with pytest.raises(ValueError, match="NNMemoryBankModule needs size N > 0, got 0"):
        NNMemoryBankModule(size=0)
