"""NNCLR: nearest neighbours from a support set as positives."""

from __future__ import annotations

import numpy as np
import torch

from selfsup.methods import NNCLR


def _nearest(z, bank):
    z = z.detach().double().numpy()
    bank = bank.double().numpy()
    sims = (z / np.linalg.norm(z, axis=1, keepdims=True)) @ (
        bank / np.linalg.norm(bank, axis=1, keepdims=True)
    ).T
    return torch.from_numpy(bank[sims.argmax(axis=1)])


def test_loss_uses_nearest_neighbours_of_the_projections(tiny, views, ntxent_reference):
    method = tiny("nnclr", temperature=0.1)
    x0, x1 = views("nnclr")
    support = method.memory_bank.bank.clone()
    loss = method.training_loss([x0, x1])
    (z0, p0), (z1, p1) = method(x0), method(x1)
    nn0, nn1 = _nearest(z0, support), _nearest(z1, support)
    expected = 0.5 * (ntxent_reference(nn0, p1, 0.1) + ntxent_reference(nn1, p0, 0.1))
    assert abs(loss.item() - expected) < 1e-4


def test_support_set_receives_the_second_views_projections(tiny, views):
    method = tiny("nnclr")
    x0, x1 = views("nnclr")
    method.training_loss([x0, x1])
    z1, _ = method(x1)
    torch.testing.assert_close(method.memory_bank.bank[:4], z1.detach())
    assert int(method.memory_bank.bank_ptr) == 4


def test_defaults():
    method = NNCLR("resnet-9", backbone_kwargs={"width": 0.125})
    assert method.memory_bank.size == (4096, 256)
    assert method.criterion.temperature == 0.1
    assert method.prediction_head.layers[0].out_features == 128  # 2 x 64 features
    assert method.transform_name == "simclr"
