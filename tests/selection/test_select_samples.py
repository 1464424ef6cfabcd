import numpy as np
import pytest
import torch

import selfsup.selection as selection
from selfsup.selection import (
    SELECTION_STRATEGIES,
    create_strategy,
    get_strategy,
    list_strategies,
    resolve_budget,
    select_samples,
)


def test_registry():
    assert list_strategies() == ["coreset", "dedup", "random", "typicality"]
    assert list_strategies("co*") == ["coreset"]
    assert create_strategy("coreset", metric="l2").metric == "l2"
    assert get_strategy("dedup") is SELECTION_STRATEGIES.get("dedup")
    with pytest.raises(ValueError, match="known: coreset, dedup, random, typicality"):
        get_strategy("kmeans")


def test_every_public_name_is_documented():
    for name in selection.__all__:
        obj = getattr(selection, name)
        if callable(obj):
            assert obj.__doc__, name


def test_budgets():
    assert resolve_budget(5, None, 10, optional=False) == 5
    assert resolve_budget(None, 0.25, 10, optional=False) == 2  # round(2.5) -> 2 (banker's)
    assert resolve_budget(None, 0.01, 10, optional=False) == 1
    assert resolve_budget(None, 1.0, 10, optional=False) == 10
    assert resolve_budget(None, None, 10, optional=True) is None


@pytest.mark.parametrize(
    ("n", "fraction", "match"),
    [
        (None, None, "a budget is needed"),
        (3, 0.5, "either n or fraction"),
        (11, None, "n=11 exceeds the N=10"),
        (0, None, "n must be a positive int"),
        (True, None, "n must be a positive int"),
        (None, 0.0, r"fraction must be in \(0, 1\]"),
        (None, 1.5, r"fraction must be in \(0, 1\]"),
    ],
)
def test_budget_errors(n, fraction, match):
    with pytest.raises(ValueError, match=match):
        select_samples(torch.randn(10, 3), n=n, fraction=fraction, strategy="random")


def test_input_errors():
    x = torch.randn(10, 3)
    with pytest.raises(ValueError, match=r"shape \(N, D\)"):
        select_samples(torch.randn(10), n=1)
    with pytest.raises(ValueError, match="metric"):
        select_samples(x, n=1, metric="dot")
    with pytest.raises(ValueError, match="unknown strategy 'best'"):
        select_samples(x, n=1, strategy="best")
    with pytest.raises(ValueError, match="filenames has 2 entries for N=10"):
        select_samples(x, n=1, filenames=["a", "b"])
    with pytest.raises(ValueError, match="initial indices"):
        select_samples(x, n=1, initial=[10])
    with pytest.raises(ValueError, match="n=9 exceeds the N=8"):
        select_samples(x, n=9, initial=[0, 1])


@pytest.mark.parametrize("strategy", ["coreset", "typicality", "random"])
def test_every_strategy_returns_n_distinct_named_rows(strategy):
    x = np.random.default_rng(0).normal(size=(80, 6)).astype(np.float32)
    names = [f"img_{i}.png" for i in range(80)]
    out = select_samples(x, n=12, strategy=strategy, filenames=names, initial=[3])
    assert len(set(out.indices.tolist())) == 12 and 3 not in out.indices
    assert out.filenames == [names[i] for i in out.indices]
    assert out.scores.shape == (12,) and out.scores.dtype == np.float64
    assert out.summary == {"strategy": strategy, "selected": 12}
