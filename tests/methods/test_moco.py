"""MoCo: InfoNCE of queries against momentum keys and a queue of earlier keys."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from selfsup.methods import MoCo


def _keys_without_shuffle(method, images):
    with torch.no_grad():
        return method.projection_head_momentum(method.backbone_momentum(images).flatten(1))


def test_loss_matches_infonce_against_the_queue(tiny, views):
    method = tiny("moco", symmetric=False, temperature=0.2)
    x0, x1 = views("moco")
    queue = method.criterion.memory_bank.bank.clone()  # negatives: the queue before the batch
    loss = method.training_loss([x0, x1])
    q = F.normalize(method(x0), dim=1).detach().double().numpy()
    k = F.normalize(_keys_without_shuffle(method, x1), dim=1).double().numpy()
    negatives = queue.double().numpy()
    expected = 0.0
    for i in range(q.shape[0]):
        logits = np.concatenate([[q[i] @ k[i]], negatives @ q[i]]) / 0.2
        expected += np.log(np.sum(np.exp(logits))) - logits[0]
    assert abs(loss.item() - expected / q.shape[0]) < 1e-4


def test_keys_are_unshuffled_and_enqueued(tiny, views):
    method = tiny("moco", symmetric=False)
    x0, x1 = views("moco")
    method.training_loss([x0, x1])
    bank = method.criterion.memory_bank
    expected = F.normalize(_keys_without_shuffle(method, x1), dim=1)
    torch.testing.assert_close(bank.bank[: x1.shape[0]], expected, atol=1e-5, rtol=1e-4)
    assert int(bank.bank_ptr) == x1.shape[0]


def test_symmetric_loss_uses_both_directions(tiny, views):
    method = tiny("moco")
    method.training_loss(views("moco"))
    assert int(method.criterion.memory_bank.bank_ptr) == 2 * views("moco")[0].shape[0]


def test_defaults():
    method = MoCo("resnet-9", backbone_kwargs={"width": 0.125})
    assert method.criterion.memory_bank.size == (4096, 128)
    assert method.criterion.temperature == 0.2 and method.momentum_start == 0.99
    assert method.transform_name == "moco"
