"""The CUDA colour path (every sample computed, kept with torch.where) against the subset path."""

from __future__ import annotations

import pytest
import torch

from selfsup.transforms.batched import BatchViewTransform
from selfsup.transforms.batched import _dense_color as dense
from selfsup.transforms.batched import functional as BF
from selfsup.transforms.batched.view_transform import _apply_to


def _subset_path(transform: BatchViewTransform, views: torch.Tensor, params: dict) -> torch.Tensor:
    out = views.clone()
    if transform.cj_prob > 0:
        transform._color_jitter(out, params)
    if transform.random_gray_scale > 0:
        _apply_to(out, params["grayscale"], BF.rgb_to_grayscale)
    return out


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"cj_prob": 1.0, "cj_hue": 0.5, "random_gray_scale": 0.5},
        {"cj_hue": 0.0},
        {"cj_contrast": 0.0, "cj_sat": 0.0},
        {"cj_bright": 0.0, "cj_contrast": 0.0, "cj_sat": 0.0},
        {"cj_prob": 0.0, "random_gray_scale": 0.6},
        {"random_gray_scale": 0.0},
    ],
)
def test_dense_colour_steps_equal_the_subset_path(kwargs):
    torch.manual_seed(0)
    transform = BatchViewTransform(input_size=16, **kwargs)
    views = torch.rand(64, 3, 12, 10)
    params = transform.make_params(64, 12, 10, generator=torch.Generator().manual_seed(1))
    expected = _subset_path(transform, views, params)
    got = transform._dense_color(dense.color_jitter_and_grayscale, views.clone(), params)
    assert got.shape == views.shape
    assert (got - expected).abs().max() < 1e-6
    if transform.cj_prob > 0:
        assert not torch.equal(got, views)  # something did change


def test_unselected_samples_pass_through_bit_for_bit():
    views = torch.rand(8, 3, 5, 5)
    nothing = torch.zeros(8, dtype=torch.bool)
    order = torch.arange(4).repeat(8, 1)
    factors = torch.full((8,), 1.7)
    out = dense.color_jitter_and_grayscale(
        views, nothing, order, factors, factors, factors, torch.full((8,), 0.3), nothing
    )
    assert torch.equal(out, views)


def test_compiled_only_for_cuda_and_not_when_switched_off(monkeypatch):
    fn = dense.color_jitter_and_grayscale
    assert dense.compiled_for(fn, torch.device("cpu")) is None
    monkeypatch.setenv(dense.COMPILE_ENV, "0")
    assert dense.compiled_for(fn, torch.device("cuda")) is None
    monkeypatch.setenv(dense.COMPILE_ENV, "1")
    assert isinstance(dense.compiled_for(fn, torch.device("cuda")), dense._CompiledOnce)


def test_a_failing_compile_falls_back_to_eager_once(monkeypatch, caplog):
    calls = []

    def broken_compile(fn, **kwargs):
        def run(*args):
            calls.append("compiled")
            raise RuntimeError("no triton")

        return run

    monkeypatch.setattr(torch, "compile", broken_compile)
    wrapped = dense._CompiledOnce(lambda x: x + 1)
    with caplog.at_level("WARNING"):
        assert wrapped(torch.ones(2)).tolist() == [2.0, 2.0]
        assert wrapped(torch.ones(2)).tolist() == [2.0, 2.0]
    assert calls == ["compiled"]  # not retried
    assert "torch.compile of <lambda> failed (RuntimeError: no triton)" in caplog.text
