import numpy as np
import pytest
import torch

from selfsup.loss import SwaVLoss, sinkhorn


def numpy_sinkhorn(scores: np.ndarray, iterations: int) -> np.ndarray:
    """SwaV Algorithm 1 on exp(scores / epsilon), shape (B, K), in float64."""
    q = scores.T.copy()
    k, b = q.shape
    q /= q.sum()
    for _ in range(iterations):
        q /= q.sum(axis=1, keepdims=True)
        q /= k
        q /= q.sum(axis=0, keepdims=True)
        q /= b
    q *= b
    return q.T


def _log_softmax(x):
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _reference(high, low, temperature, iterations, epsilon, queue=None):
    """SwaV multi-crop loss with loops: codes of each high-res crop, predicted by the others."""
    crops = high + low
    total = 0.0
    for i, scores in enumerate(high):
        extended = scores if queue is None else np.concatenate([scores, queue[i]])
        q = numpy_sinkhorn(np.exp(extended / epsilon), iterations)[: len(scores)]
        subloss = 0.0
        for v, z in enumerate(crops):
            if v == i:
                continue
            subloss += -(q * _log_softmax(z / temperature)).sum(axis=1).mean()
        total += subloss / (len(crops) - 1)
    return total / len(high)


def _crops(num, batch=4, prototypes=5):
    # cosine-like scores in [-1, 1], as with normalised features and prototypes
    return [torch.rand(batch, prototypes, dtype=torch.float64) * 2 - 1 for _ in range(num)]


def test_sinkhorn_matches_numpy():
    scores = _crops(1)[0]
    codes = sinkhorn(scores, iterations=3, epsilon=0.05)
    expected = numpy_sinkhorn(np.exp(scores.numpy() / 0.05), 3)
    assert np.allclose(codes.numpy(), expected, rtol=1e-10)


def test_sinkhorn_is_stable_for_large_scores():
    # 100 * x with epsilon 5 equals x with epsilon 0.05, but exp(100 * x / 0.05) would overflow
    scores = _crops(1)[0].float()
    codes = sinkhorn(scores * 100, iterations=3, epsilon=5.0)
    assert torch.isfinite(codes).all()
    assert torch.allclose(codes, sinkhorn(scores, iterations=3, epsilon=0.05), atol=1e-5)


@pytest.mark.parametrize("num_high, num_low", [(2, 0), (2, 3), (1, 2)])
def test_matches_reference(num_high, num_low):
    high, low = _crops(num_high), _crops(num_low)
    loss = SwaVLoss()(high, low)
    expected = _reference([h.numpy() for h in high], [lo.numpy() for lo in low], 0.1, 3, 0.05)
    assert loss.dim() == 0
    assert loss.item() == pytest.approx(expected, rel=1e-10)


def test_matches_reference_with_queue():
    high, low, queue = _crops(2), _crops(2), _crops(2, batch=7)
    criterion = SwaVLoss(temperature=0.2, sinkhorn_iterations=5, sinkhorn_epsilon=0.1)
    loss = criterion(high, low, queue)
    expected = _reference(
        [h.numpy() for h in high],
        [lo.numpy() for lo in low],
        0.2,
        5,
        0.1,
        queue=[q.numpy() for q in queue],
    )
    assert loss.item() == pytest.approx(expected, rel=1e-10)


def test_gradients_flow_through_predictions_only_as_codes_are_detached():
    high = [torch.randn(4, 5, requires_grad=True) for _ in range(2)]
    low = [torch.randn(4, 5, requires_grad=True)]
    SwaVLoss()(high, low).backward()
    for crop in high + low:
        assert torch.isfinite(crop.grad).all() and crop.grad.abs().sum() > 0


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"temperature": 0.0}, "temperature"),
        ({"sinkhorn_iterations": -1}, "sinkhorn_iterations"),
        ({"sinkhorn_epsilon": -0.1}, "sinkhorn_epsilon"),
    ],
)
def test_rejects_bad_hyper_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        SwaVLoss(**kwargs)


def test_rejects_bad_inputs():
    criterion = SwaVLoss()
    with pytest.raises(ValueError, match="at least 2 crops"):
        criterion([torch.randn(4, 5)], [])
    with pytest.raises(ValueError, match="at least 1 view"):
        criterion([], [torch.randn(4, 5)] * 2)
    with pytest.raises(ValueError, match=r"low_resolution_outputs.*\(4, 5\).*\(3, 5\)"):
        criterion([torch.randn(4, 5)], [torch.randn(3, 5)])
    with pytest.raises(ValueError, match="queue_outputs must hold one"):
        criterion([torch.randn(4, 5)] * 2, [], [torch.randn(6, 5)])
    with pytest.raises(ValueError, match=r"must have shape \(B, D\)"):
        criterion([torch.randn(4, 5, 1)] * 2, [])
