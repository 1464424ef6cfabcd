import numpy as np
import pytest
import torch

from selfsup.training.lars import LARS


def _reference_steps(weight, bias, grads, lr, momentum, wd, eta, eps=1e-8):
    """Two-tensor LARS written out in numpy, one step per gradient pair."""
    weight, bias = weight.copy(), bias.copy()
    buf_w = buf_b = None
    for grad_w, grad_b in grads:
        g = grad_w + wd * weight
        trust = eta * np.linalg.norm(weight) / (np.linalg.norm(g) + eps)
        g = g * trust
        buf_w = g if buf_w is None else momentum * buf_w + g
        buf_b = grad_b if buf_b is None else momentum * buf_b + grad_b
        weight = weight - lr * buf_w
        bias = bias - lr * buf_b
    return weight, bias


def test_matches_numpy_reference():
    rng = np.random.default_rng(0)
    weight0, bias0 = rng.standard_normal((3, 4)), rng.standard_normal(3)
    grads = [(rng.standard_normal((3, 4)), rng.standard_normal(3)) for _ in range(3)]
    weight = torch.nn.Parameter(torch.tensor(weight0))
    bias = torch.nn.Parameter(torch.tensor(bias0))
    optimizer = LARS(
        [weight, bias], lr=0.5, momentum=0.9, weight_decay=0.01, trust_coefficient=0.02
    )
    for grad_w, grad_b in grads:
        weight.grad, bias.grad = torch.tensor(grad_w), torch.tensor(grad_b)
        optimizer.step()
    expected_w, expected_b = _reference_steps(weight0, bias0, grads, 0.5, 0.9, 0.01, 0.02)
    np.testing.assert_allclose(weight.detach().numpy(), expected_w, rtol=1e-10)
    np.testing.assert_allclose(bias.detach().numpy(), expected_b, rtol=1e-10)


def test_zero_weight_falls_back_to_plain_sgd():
    weight = torch.nn.Parameter(torch.zeros(2, 2))
    weight.grad = torch.ones(2, 2)
    LARS([weight], lr=0.1, momentum=0.0).step()
    torch.testing.assert_close(weight.detach(), torch.full((2, 2), -0.1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"lr": 0}, "lr"), ({"momentum": 1.0}, "momentum"), ({"weight_decay": -1}, "weight_decay")],
)
def test_rejects_bad_hyper_parameters(kwargs, message):
    args = {"lr": 0.1, **kwargs}
    with pytest.raises(ValueError, match=message):
        LARS([torch.nn.Parameter(torch.zeros(1))], **args)
