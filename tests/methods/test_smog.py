"""SMoG: group assignments of momentum embeddings, momentum grouping, k-means resets."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from selfsup.methods import SMoG


@pytest.mark.parametrize("step", [0, 1])
def test_loss_is_cross_entropy_against_momentum_group_assignments(tiny, views, step):
    method = tiny("smog", temperature=0.1)
    x0, x1 = views("smog")
    method.update_schedules(step, 10, 0, 1)
    groups = method.smog.group_features.detach().clone()
    loss = method.training_loss([x0, x1])
    if step % 2:  # the views swap roles every other step
        x0, x1 = x1, x0
    encoded, predicted = method(x0)
    target = method.forward_momentum(x1)
    assignments = (F.normalize(target, dim=1) @ F.normalize(groups, dim=1).t()).argmax(1)
    # the groups move towards the mean online embedding of their members (Eq. 5)
    members = (F.normalize(encoded, dim=1) @ F.normalize(groups, dim=1).t()).argmax(1)
    updated = groups.clone()
    for g in range(groups.shape[0]):
        if (members == g).any():
            updated[g] = 0.99 * groups[g] + 0.01 * encoded[members == g].mean(0)
    torch.testing.assert_close(method.smog.group_features, updated.detach())
    logits = F.normalize(predicted, dim=1) @ F.normalize(updated, dim=1).t() / 0.1
    expected = F.cross_entropy(logits, assignments)
    assert abs(loss.item() - expected.item()) < 1e-5


def test_memory_bank_receives_online_embeddings(tiny, views):
    method = tiny("smog")
    x0, x1 = views("smog")
    method.training_loss([x0, x1])
    encoded, _ = method(x0)
    torch.testing.assert_close(method.memory_bank.bank[:4], encoded.detach())


def test_views_swap_roles_on_odd_steps(tiny):
    method = tiny("smog")
    method.update_schedules(1, 10, 0, 1)
    assert method.swap_views
    method.update_schedules(2, 10, 0, 1)
    assert not method.swap_views


def test_reset_copies_weights_and_clusters_the_memory_bank(tiny):
    method = tiny("smog", reset_interval=5)
    directions = F.normalize(torch.randn(4, 16), dim=1)
    bank = directions.repeat_interleave(4, dim=0) + 0.01 * torch.randn(16, 16)
    method.memory_bank.bank.copy_(bank)
    with torch.no_grad():
        for p in method.backbone.parameters():
            p.add_(1.0)
    method.update_schedules(5, 10, 0, 1)
    for p, q in zip(
        method.backbone.parameters(), method.backbone_momentum.parameters(), strict=True
    ):
        assert torch.equal(p, q) and not q.requires_grad
    centres = method.smog.group_features
    # every direction is recovered by exactly one centre
    similarity = centres @ directions.t()
    assert sorted(similarity.argmax(dim=1).tolist()) == [0, 1, 2, 3]
    assert similarity.max(dim=1).values.min() > 0.99


def test_memory_bank_must_hold_the_groups():
    with pytest.raises(ValueError, match="memory_bank_size must be an int >= 300, got 100"):
        SMoG("resnet-9", backbone_kwargs={"width": 0.125}, memory_bank_size=100)
