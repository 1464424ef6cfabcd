"""Tests for SplitBatchNorm against per-split batch norm computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from selfsup.models.batchnorm import SplitBatchNorm, batch_norm_2d


def _manual_bn(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """Batch norm with biased batch statistics over (N, H, W), per channel."""
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    w = weight.reshape(1, -1, 1, 1)
    b = bias.reshape(1, -1, 1, 1)
    return (x - mean) / np.sqrt(var + eps) * w + b


def test_train_mode_normalises_each_contiguous_split_separately():
    bn = SplitBatchNorm(3, num_splits=2)
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1.0, 2.0, 0.5]))
        bn.bias.copy_(torch.tensor([0.0, -1.0, 3.0]))
    x = torch.randn(6, 3, 4, 4, dtype=torch.float64) * 3 + 1
    x[3:] += 5  # the second split has another mean
    bn = bn.double()
    out = bn(x).detach().numpy()
    xn, w, b = x.numpy(), bn.weight.detach().numpy(), bn.bias.detach().numpy()
    expected = np.concatenate([_manual_bn(xn[:3], w, b, bn.eps), _manual_bn(xn[3:], w, b, bn.eps)])
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-8)
    # Different from normal batch norm on the whole batch.
    assert not np.allclose(out, _manual_bn(xn, w, b, bn.eps))


def test_running_stats_are_the_mean_of_the_split_updates_and_eval_is_plain_bn():
    bn = SplitBatchNorm(2, num_splits=2, momentum=0.1).double()
    x = torch.randn(4, 2, 3, 3, dtype=torch.float64)
    bn(x)
    xn = x.numpy()
    means, variances = [], []
    for part in (xn[:2], xn[2:]):
        means.append(part.mean(axis=(0, 2, 3)))
        variances.append(part.var(axis=(0, 2, 3), ddof=1))  # running var is unbiased
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * np.mean(means, axis=0))
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 * 1.0 + 0.1 * np.mean(variances, axis=0))
    assert int(bn.num_batches_tracked) == 1
    plain = nn.BatchNorm2d(2).double()
    plain.load_state_dict(bn.state_dict())
    bn.eval()
    plain.eval()
    torch.testing.assert_close(bn(x), plain(x))


def test_batch_not_divisible_by_splits_and_bad_num_splits():
    bn = SplitBatchNorm(2, num_splits=4)
    with pytest.raises(ValueError, match="batch size 6 is not divisible by num_splits=4"):
        bn(torch.randn(6, 2, 2, 2))
    with pytest.raises(ValueError, match="num_splits must be an int >= 1, got 0"):
        SplitBatchNorm(2, num_splits=0)
    with pytest.raises(ValueError, match="num_splits must be >= 0, got -1"):
        batch_norm_2d(2, -1)


def test_batch_norm_2d_factory():
    assert type(batch_norm_2d(4)) is nn.BatchNorm2d
    split = batch_norm_2d(4, 2)
    assert isinstance(split, SplitBatchNorm) and split.num_splits == 2
