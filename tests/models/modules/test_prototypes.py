"""Tests for SwaVPrototypes and SMoGPrototypes against brute-force references."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from selfsup.models.modules import SMoGPrototypes, SwaVPrototypes


def test_swav_prototypes_are_unit_norm_and_score_by_dot_product():
    prototypes = SwaVPrototypes(input_dim=6, n_prototypes=10)
    weight = prototypes.heads[0].weight
    assert prototypes.heads[0].bias is None
    torch.testing.assert_close(weight.norm(dim=1), torch.ones(10))
    x = F.normalize(torch.randn(4, 6), dim=1)
    torch.testing.assert_close(prototypes(x), x @ weight.t())
    with torch.no_grad():
        weight.mul_(3.0)
    prototypes.normalize()
    torch.testing.assert_close(weight.norm(dim=1), torch.ones(10))


def test_swav_multiple_prototype_heads():
    prototypes = SwaVPrototypes(input_dim=4, n_prototypes=[3, 5])
    out = prototypes(torch.randn(2, 4))
    assert isinstance(out, list) and [o.shape for o in out] == [(2, 3), (2, 5)]


def test_swav_prototypes_frozen_for_the_first_steps():
    prototypes = SwaVPrototypes(input_dim=4, n_prototypes=3, n_steps_frozen_prototypes=2)
    x = torch.randn(2, 4, requires_grad=True)
    for step, frozen in [(0, True), (1, True), (2, False), (5, False)]:
        prototypes.zero_grad(set_to_none=True)
        prototypes(x, step=step).sum().backward()
        grad = prototypes.heads[0].weight.grad
        assert (grad is None) == frozen
    with pytest.raises(ValueError, match="pass the current step"):
        prototypes(x)


def test_swav_validation():
    with pytest.raises(ValueError, match="n_steps_frozen_prototypes must be >= 0, got -1"):
        SwaVPrototypes(4, 3, n_steps_frozen_prototypes=-1)
    with pytest.raises(ValueError, match="must be >= 1"):
        SwaVPrototypes(4, 0)


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_smog_assignment_and_momentum_update_match_loops():
    groups = torch.randn(4, 3, dtype=torch.float64)
    smog = SMoGPrototypes(groups, beta=0.9)
    x = torch.randn(10, 3, dtype=torch.float64)
    assignments = smog.assign_groups(x)
    g, xn = groups.numpy(), x.numpy()
    expected_assign = [int(np.argmax([_cosine(row, grp) for grp in g])) for row in xn]
    assert assignments.tolist() == expected_assign
    updated = smog.get_updated_group_features(x).numpy()
    for k in range(4):
        members = [xn[i] for i in range(10) if expected_assign[i] == k]
        want = g[k] if not members else 0.9 * g[k] + 0.1 * np.mean(members, axis=0)
        np.testing.assert_allclose(updated[k], want)
    # The module itself is unchanged until set_group_features.
    torch.testing.assert_close(smog.group_features.data, groups)
    smog.set_group_features(torch.from_numpy(updated))
    np.testing.assert_allclose(smog.group_features.detach().numpy(), updated)
    assert not smog.group_features.requires_grad


def test_smog_logits_are_scaled_cosine_similarities():
    smog = SMoGPrototypes(torch.randn(3, 5), beta=0.99)
    x = torch.randn(2, 5)
    logits = smog(x, smog.group_features, temperature=0.5)
    for i in range(2):
        for k in range(3):
            expected = _cosine(x[i].numpy(), smog.group_features[k].detach().numpy()) / 0.5
            assert logits[i, k].item() == pytest.approx(expected, rel=1e-5)


def test_smog_validation():
    with pytest.raises(ValueError, match="beta must be in \\[0, 1\\], got 1.5"):
        SMoGPrototypes(torch.randn(3, 2), beta=1.5)
    with pytest.raises(ValueError, match="group_features must be \\(n_groups, D\\)"):
        SMoGPrototypes(torch.randn(3), beta=0.5)
