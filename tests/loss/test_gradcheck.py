"""Finite-difference gradient checks (float64) of every loss: autograd through the exact
reformulations (Gram matrices, masked logits, log-sum-exp) must match numeric derivatives.

Inputs that also feed a stop-gradient path (SwaV's codes, MSN's targets, TiCo's covariance
update, DCLW's weights) are held constant, since there the analytic gradient deliberately
differs from the numeric one."""

import pytest
import torch

from selfsup.loss import (
    BarlowTwinsLoss,
    DCLLoss,
    DINOLoss,
    HypersphereLoss,
    KoLeoLoss,
    MMCRLoss,
    MSNLoss,
    NegativeCosineSimilarity,
    NTXentLoss,
    SwaVLoss,
    TiCoLoss,
    VICRegLoss,
    WMSELoss,
)


def _randn(*shape):
    return torch.randn(*shape, dtype=torch.float64, requires_grad=True)


def _constant(*shape):
    return torch.randn(*shape, dtype=torch.float64)


def _tico():
    criterion = TiCoLoss()
    criterion(_constant(5, 4), _constant(5, 4))
    z_a = _constant(5, 4)  # feeds the detached covariance update
    return lambda z_b: criterion(z_a, z_b, update_covariance_matrix=False)


def _msn():
    criterion = MSNLoss(sinkhorn_iterations=2)
    targets, prototypes = _constant(3, 4), _constant(5, 4)  # targets are computed without grad
    return lambda anchors: criterion(anchors, targets, prototypes)


def _swav():
    criterion = SwaVLoss()
    high = [_constant(3, 4), _constant(3, 4)]  # their codes are detached
    return lambda low0, low1: criterion(high, [low0, low1])


def _dclw_with_fixed_weights():
    weights = _constant(3).abs() + 0.5
    return DCLLoss(0.5, weight_fn=lambda a, b: weights)


def _ntxent_bank():
    criterion = NTXentLoss(memory_bank_size=(6, 4)).double()
    query = torch.randn(3, 4, dtype=torch.float64)  # no grad: the bank stays fixed
    return lambda key: criterion(query, key)


CASES = {
    "ntxent": (lambda: NTXentLoss(0.3), [(3, 4), (3, 4)]),
    "ntxent_bank": (_ntxent_bank, [(3, 4)]),
    "barlow_gram": (lambda: BarlowTwinsLoss(0.1), [(3, 5), (3, 5)]),
    "barlow_direct": (lambda: BarlowTwinsLoss(0.1), [(5, 3), (5, 3)]),
    "vicreg_gram": (lambda: VICRegLoss(eps=1e-2), [(3, 5), (3, 5)]),
    "vicreg_direct": (lambda: VICRegLoss(eps=1e-2), [(6, 3), (6, 3)]),
    "dcl": (lambda: DCLLoss(0.5), [(3, 4), (3, 4)]),
    "dcl_weighted": (_dclw_with_fixed_weights, [(3, 4), (3, 4)]),
    "tico": (_tico, [(5, 4)]),
    "hypersphere": (lambda: HypersphereLoss(), [(4, 3), (4, 3)]),
    "koleo": (lambda: KoLeoLoss(), [(5, 3)]),
    "mmcr": (lambda: MMCRLoss(lmda=0.1), [(4, 2, 3), (4, 2, 3)]),
    "wmse": (lambda: WMSELoss(embedding_dim=2), [(2 * 6, 2)]),
    "negcos": (lambda: NegativeCosineSimilarity(), [(3, 4), (3, 4)]),
    "msn": (_msn, [(6, 4)]),
    "swav": (_swav, [(3, 4), (3, 4)]),
    "dino": (
        lambda: (
            lambda s0, s1, s2: DINOLoss(output_dim=4, center_momentum=1.0)(
                [torch.ones(2, 4, dtype=torch.float64), torch.zeros(2, 4, dtype=torch.float64)],
                [s0, s1, s2],
            )
        ),
        [(2, 4), (2, 4), (2, 4)],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradients_match_finite_differences(name):
    factory, shapes = CASES[name]
    criterion = factory()
    inputs = [_randn(*shape) for shape in shapes]
    assert torch.autograd.gradcheck(criterion, inputs, eps=1e-6, atol=1e-5, rtol=1e-4)
