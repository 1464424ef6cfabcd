"""Momentum encoders (MoCo, BYOL, DINO, TiCo, MSN, SMoG) move by the EMA formula."""

from __future__ import annotations

import math

import pytest
import torch

#: name -> (online modules, momentum modules, (start, end) of the cosine schedule or None)
MOMENTUM_METHODS = {
    "moco": (("backbone", "projection_head"), ("backbone_momentum", "projection_head_momentum")),
    "byol": (("backbone", "projection_head"), ("backbone_momentum", "projection_head_momentum")),
    "tico": (("backbone", "projection_head"), ("backbone_momentum", "projection_head_momentum")),
    "dino": (("backbone", "projection_head"), ("teacher_backbone", "teacher_head")),
    "msn": (("backbone", "projection_head"), ("target_backbone", "target_projection_head")),
    "smog": (("backbone", "projection_head"), ("backbone_momentum", "projection_head_momentum")),
}


def _expected_momentum(method, step: int, max_steps: int) -> float:
    if not hasattr(method, "momentum_start"):  # SMoG: constant momentum
        return 0.99
    start, end = method.momentum_start, method.momentum_end
    # BYOL, Grill et al., 2020, Sec. 3.2: tau = 1 - (1 - tau_base) (cos(pi k / K) + 1) / 2,
    # with K = max_steps - 1 so that the last step reaches the end value exactly.
    return end - (end - start) * (math.cos(math.pi * step / (max_steps - 1)) + 1) / 2


@pytest.mark.parametrize("name", sorted(MOMENTUM_METHODS))
@pytest.mark.parametrize("step", [0, 4, 9])
def test_momentum_encoder_moves_by_the_ema_formula(name, step, tiny):
    method = tiny(name)
    online_names, momentum_names = MOMENTUM_METHODS[name]
    online = [getattr(method, n) for n in online_names]
    target = [getattr(method, n) for n in momentum_names]
    with torch.no_grad():  # let the online network drift away from its copy
        for module in online:
            for param in module.parameters():
                param.add_(torch.randn_like(param))
    before = [[p.clone() for p in module.parameters()] for module in target]
    method.update_schedules(step, 10, 0, 1)
    m = _expected_momentum(method, step, 10)
    assert method.momentum == pytest.approx(m, abs=1e-12)
    for module, target_module, old in zip(online, target, before, strict=True):
        params = list(module.parameters())
        new = list(target_module.parameters())
        assert len(params) == len(new) > 0
        for p, t_new, t_old in zip(params, new, old, strict=True):
            torch.testing.assert_close(t_new, m * t_old + (1 - m) * p.detach())
            assert not t_new.requires_grad


@pytest.mark.parametrize("name", sorted(set(MOMENTUM_METHODS) - {"smog"}))
def test_momentum_reaches_the_end_value_at_the_last_step(name, tiny):
    method = tiny(name)
    method.update_schedules(9, 10, 0, 1)
    assert method.momentum == 1.0
    method.update_schedules(0, 10, 0, 1)
    assert method.momentum == method.momentum_start


@pytest.mark.parametrize("name", sorted(set(MOMENTUM_METHODS) - {"smog"}))
def test_momentum_out_of_range_is_an_error(name, tiny):
    with pytest.raises(
        ValueError, match="momentum_start must be a finite number in \\[0.0, 1.0\\]"
    ):
        tiny(name, momentum_start=1.5)
