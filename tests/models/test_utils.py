"""Tests for selfsup.models.utils against hand computations and manual loops."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from torch import nn

from selfsup.models import tokens, utils
from selfsup.utils import dist


def test_update_momentum_matches_hand_computation():
    model = nn.Linear(3, 2)
    ema = copy.deepcopy(model)
    with torch.no_grad():
        for p in ema.parameters():
            p.add_(1.0)
    expected = [
        0.9 * e.detach().clone() + 0.1 * p.detach().clone()
        for e, p in zip(ema.parameters(), model.parameters(), strict=True)
    ]
    utils.update_momentum(model, ema, m=0.9)
    for got, want in zip(ema.parameters(), expected, strict=True):
        torch.testing.assert_close(got, want)
    # m = 1 keeps the EMA model, m = 0 copies the online model.
    snapshot = [p.detach().clone() for p in ema.parameters()]
    utils.update_momentum(model, ema, m=1.0)
    for got, want in zip(ema.parameters(), snapshot, strict=True):
        torch.testing.assert_close(got, want)
    utils.update_momentum(model, ema, m=0.0)
    for got, want in zip(ema.parameters(), model.parameters(), strict=True):
        torch.testing.assert_close(got, want)


def test_update_momentum_validates_arguments():
    with pytest.raises(ValueError, match="momentum m must be in \\[0, 1\\], got 1.5"):
        utils.update_momentum(nn.Linear(2, 2), nn.Linear(2, 2), m=1.5)
    with pytest.raises(ValueError, match="model has 2 parameters but model_ema has 1"):
        utils.update_momentum(nn.Linear(2, 2), nn.Linear(2, 2, bias=False), m=0.5)


def test_deactivate_and_activate_requires_grad():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    utils.deactivate_requires_grad(model)
    assert all(not p.requires_grad for p in model.parameters())
    utils.activate_requires_grad(model)
    assert all(p.requires_grad for p in model.parameters())


def test_batch_shuffle_round_trip_and_generator_reproducibility():
    batch = torch.arange(10, dtype=torch.float32).unsqueeze(1).repeat(1, 3)
    shuffled, idx = utils.batch_shuffle(batch)
    assert sorted(idx.tolist()) == list(range(10))
    torch.testing.assert_close(shuffled, batch[idx])
    torch.testing.assert_close(utils.batch_unshuffle(shuffled, idx), batch)
    # Per-sample functions commute with the shuffle.
    torch.testing.assert_close(utils.batch_unshuffle(shuffled * 2, idx), batch * 2)
    a = utils.batch_shuffle(batch, generator=torch.Generator().manual_seed(3))[1]
    b = utils.batch_shuffle(batch, generator=torch.Generator().manual_seed(3))[1]
    assert torch.equal(a, b)
    # distributed=True without a process group is the local shuffle.
    shuffled, idx = utils.batch_shuffle(batch, distributed=True)
    torch.testing.assert_close(utils.batch_unshuffle(shuffled, idx, distributed=True), batch)


def test_reexports_gather_and_token_helpers():
    assert utils.GatherLayer is dist.GatherLayer
    assert utils.concat_all_gather is dist.concat_all_gather
    for name in tokens.__all__:
        assert getattr(utils, name) is getattr(tokens, name)
        assert name in utils.__all__


def _cosine_reference(step, max_steps, start, end):
    return end - (end - start) * (1 + math.cos(math.pi * step / (max_steps - 1))) / 2


def test_cosine_schedule_values_at_start_middle_and_end():
    assert utils.cosine_schedule(0, 11, 0.996, 1.0) == pytest.approx(0.996)
    # Middle of 11 steps (step 5): cos(pi / 2) = 0 -> halfway.
    assert utils.cosine_schedule(5, 11, 0.996, 1.0) == pytest.approx(0.998)
    assert utils.cosine_schedule(10, 11, 0.996, 1.0) == pytest.approx(1.0)
    for step in range(11):
        assert utils.cosine_schedule(step, 11, 2.0, -1.0) == pytest.approx(
            _cosine_reference(step, 11, 2.0, -1.0)
        )
    assert utils.cosine_schedule(1, 1, 0.5, 0.1) == pytest.approx(0.1)


def test_cosine_schedule_with_period_and_errors():
    # Full cycle every 4 steps: start, middle, start again.
    assert utils.cosine_schedule(0, 100, 1.0, 0.0, period=4) == pytest.approx(1.0)
    assert utils.cosine_schedule(2, 100, 1.0, 0.0, period=4) == pytest.approx(0.0)
    assert utils.cosine_schedule(4, 100, 1.0, 0.0, period=4) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="step must be >= 0, got -1"):
        utils.cosine_schedule(-1, 10, 1.0, 0.0)
    with pytest.raises(ValueError, match="period must be >= 1, got 0"):
        utils.cosine_schedule(1, 10, 1.0, 0.0, period=0)
    with pytest.warns(RuntimeWarning, match="exceeds max_steps"):
        assert utils.cosine_schedule(12, 10, 1.0, 0.0) == 0.0


def test_cosine_warmup_scheduler_lr_curve():
    param = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.5)
    scheduler = utils.CosineWarmupScheduler(optimizer, warmup_epochs=3, max_epochs=10)
    lrs = []
    for _ in range(10):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    expected = [0.5 * (e + 1) / 3 for e in range(3)]
    expected += [0.5 * _cosine_reference(e - 3, 7, 1.0, 0.001) for e in range(3, 10)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-6)
    assert lrs[2] == pytest.approx(0.5) and lrs[-1] == pytest.approx(0.5 * 0.001)
    with pytest.raises(ValueError, match="warmup_epochs must be in \\[0, max_epochs=5\\], got 6"):
        utils.CosineWarmupScheduler(optimizer, warmup_epochs=6, max_epochs=5)


def test_normalize_weight_gives_unit_rows():
    weight = torch.randn(5, 3) * 4
    direction = weight / weight.norm(dim=1, keepdim=True)
    utils.normalize_weight(weight)
    torch.testing.assert_close(weight.norm(dim=1), torch.ones(5))
    torch.testing.assert_close(weight, direction)
