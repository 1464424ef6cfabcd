"""DCL and DCLW: SimCLR with the decoupled contrastive losses."""

from __future__ import annotations

import numpy as np

from selfsup.loss import DCLLoss, DCLWLoss
from selfsup.methods import DCL, DCLW


def _dcl_reference(out0, out1, temperature):
    """Decoupled loss (Yeh et al., 2022, Eq. 6) by loops, both directions averaged."""
    a = out0.detach().double().numpy()
    b = out1.detach().double().numpy()
    a /= np.linalg.norm(a, axis=1, keepdims=True)
    b /= np.linalg.norm(b, axis=1, keepdims=True)
    total = 0.0
    for u, v in ((a, b), (b, a)):
        for i in range(len(u)):
            negatives = [u[j] for j in range(len(u)) if j != i] + [
                v[j] for j in range(len(v)) if j != i
            ]
            log_sum = np.log(np.sum([np.exp(u[i] @ n / temperature) for n in negatives]))
            total += log_sum - u[i] @ v[i] / temperature
    return total / (2 * len(a))


def test_dcl_loss_matches_the_decoupled_formula(tiny, views):
    method = tiny("dcl", temperature=0.2)
    x0, x1 = views("dcl")
    loss = method.training_loss([x0, x1])
    assert abs(loss.item() - _dcl_reference(method(x0), method(x1), 0.2)) < 1e-5


def test_losses_and_transform():
    kwargs = {"backbone": "resnet-9", "backbone_kwargs": {"width": 0.125}}
    dcl, dclw = DCL(**kwargs), DCLW(**kwargs, sigma=0.3)
    assert type(dcl.criterion) is DCLLoss and dcl.criterion.temperature == 0.1
    assert isinstance(dclw.criterion, DCLWLoss) and dclw.criterion.sigma == 0.3
    assert dcl.transform_name == dclw.transform_name == "simclr"
