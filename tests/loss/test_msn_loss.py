import math

import numpy as np
import pytest
import torch

from selfsup.loss import MSNLoss, power_law_distribution


def _normalize(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _softmax_rows(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _numpy_sinkhorn(p, iterations):
    q = p.T.copy()
    k, b = q.shape
    q /= q.sum()
    for _ in range(iterations):
        q /= q.sum(axis=1, keepdims=True)
        q /= k
        q /= q.sum(axis=0, keepdims=True)
        q /= b
    q *= b
    return q.T


def _reference(
    anchors,
    targets,
    prototypes,
    *,
    temperature=0.1,
    sharpen=0.25,
    iterations=0,
    weight=1.0,
    prior="power_law",
    exponent=0.25,
):
    a, t, p = _normalize(anchors), _normalize(targets), _normalize(prototypes)
    anchor_probs = _softmax_rows(a @ p.T / temperature)
    target_probs = _softmax_rows(t @ p.T / temperature) ** (1 / sharpen)
    target_probs /= target_probs.sum(axis=1, keepdims=True)
    if iterations:
        target_probs = _numpy_sinkhorn(target_probs, iterations)
    views = len(a) // len(t)
    target_probs = np.concatenate([target_probs] * views)
    loss = 0.0
    for i in range(len(a)):
        loss += -sum(target_probs[i, k] * math.log(anchor_probs[i, k]) for k in range(len(p)))
    loss /= len(a)
    mean = anchor_probs.mean(axis=0)
    k = len(mean)
    if isinstance(prior, str) and prior == "uniform":
        regularizer = math.log(k) + sum(m * math.log(m) for m in mean)
    else:
        if isinstance(prior, str):
            pi = np.arange(1, k + 1, dtype=np.float64) ** (-exponent)
        else:
            pi = prior
        pi = pi / pi.sum()
        regularizer = sum(pi[j] * math.log(pi[j] / mean[j]) for j in range(k))
    return loss + weight * regularizer


def _inputs(views=2, batch=4, dim=6, prototypes=5):
    return (
        torch.randn(views * batch, dim, dtype=torch.float64),
        torch.randn(batch, dim, dtype=torch.float64),
        torch.randn(prototypes, dim, dtype=torch.float64),
    )


def test_default_power_law_matches_reference():
    anchors, targets, prototypes = _inputs()
    loss = MSNLoss()(anchors, targets, prototypes)
    expected = _reference(anchors.numpy(), targets.numpy(), prototypes.numpy())
    assert loss.item() == pytest.approx(expected, rel=1e-10)


def test_uniform_prior_with_sinkhorn_matches_reference():
    anchors, targets, prototypes = _inputs(views=3)
    criterion = MSNLoss(
        temperature=0.2,
        sinkhorn_iterations=3,
        regularization_weight=0.5,
        target_distribution="uniform",
    )
    loss = criterion(anchors, targets, prototypes, target_sharpen_temperature=0.5)
    expected = _reference(
        anchors.numpy(),
        targets.numpy(),
        prototypes.numpy(),
        temperature=0.2,
        sharpen=0.5,
        iterations=3,
        weight=0.5,
        prior="uniform",
    )
    assert loss.item() == pytest.approx(expected, rel=1e-10)


def test_callable_prior_and_disabled_regularisation():
    anchors, targets, prototypes = _inputs()
    prior = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    criterion = MSNLoss(target_distribution=lambda mean: torch.tensor(prior / prior.sum()))
    loss = criterion(anchors, targets, prototypes)
    expected = _reference(anchors.numpy(), targets.numpy(), prototypes.numpy(), prior=prior)
    assert loss.item() == pytest.approx(expected, rel=1e-10)
    unregularised = MSNLoss(regularization_weight=0.0)(anchors, targets, prototypes)
    expected0 = _reference(anchors.numpy(), targets.numpy(), prototypes.numpy(), weight=0.0)
    assert unregularised.item() == pytest.approx(expected0, rel=1e-10)


def test_power_law_distribution():
    dist = power_law_distribution(4, 0.5)
    expected = np.arange(1, 5) ** -0.5
    assert np.allclose(dist.numpy(), expected / expected.sum())


def test_gradients_reach_anchors_and_prototypes_but_not_targets():
    anchors = torch.randn(8, 6, requires_grad=True)
    targets = torch.randn(4, 6, requires_grad=True)
    prototypes = torch.randn(5, 6, requires_grad=True)
    MSNLoss()(anchors, targets, prototypes).backward()
    assert targets.grad is None
    for grad in (anchors.grad, prototypes.grad):
        assert torch.isfinite(grad).all() and grad.abs().sum() > 0


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"temperature": 0.0}, "temperature"),
        ({"sinkhorn_iterations": -1}, "sinkhorn_iterations"),
        ({"regularization_weight": -1.0}, "regularization_weight"),
        ({"target_distribution": "gauss"}, "target_distribution"),
        ({"power_law_exponent": -0.5}, "power_law_exponent"),
    ],
)
def test_rejects_bad_hyper_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        MSNLoss(**kwargs)


def test_rejects_bad_inputs():
    criterion = MSNLoss()
    with pytest.raises(ValueError, match=r"V \* B rows.*B=3.*\(8, 6\)"):
        criterion(torch.randn(8, 6), torch.randn(3, 6), torch.randn(5, 6))
    with pytest.raises(ValueError, match=r"share the feature dim"):
        criterion(torch.randn(8, 6), torch.randn(4, 6), torch.randn(5, 7))
    with pytest.raises(ValueError, match=r"prototypes must have shape \(B, D\)"):
        criterion(torch.randn(8, 6), torch.randn(4, 6), torch.randn(5))
    with pytest.raises(ValueError, match="target_sharpen_temperature"):
        criterion(torch.randn(8, 6), torch.randn(4, 6), torch.randn(5, 6), 0.0)
