import math

import numpy as np
import pytest
import torch

from selfsup.loss import DINOLoss


def _softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()


def _reference(teacher, student, center, teacher_temp, student_temp):
    """Cross entropy over every (teacher view, student view) pair except the same view."""
    total, count = 0.0, 0
    batch = teacher[0].shape[0]
    for t, t_out in enumerate(teacher):
        for s, s_out in enumerate(student):
            if t == s:
                continue
            for b in range(batch):
                p_t = _softmax((t_out[b] - center) / teacher_temp)
                log_p_s = np.log(_softmax(s_out[b] / student_temp))
                total += -(p_t * log_p_s).sum()
            count += 1
    return total / (count * batch)


def _views(num, batch=3, dim=6):
    return [torch.randn(batch, dim, dtype=torch.float64) for _ in range(num)]


@pytest.mark.parametrize("num_teacher, num_student", [(2, 5), (1, 3), (2, 1), (3, 4)])
def test_matches_reference_with_multi_crop(num_teacher, num_student):
    teacher, student = _views(num_teacher), _views(num_student)
    criterion = DINOLoss(output_dim=6, teacher_temp=0.07, warmup_teacher_temp=0.07).double()
    loss = criterion(teacher, student)
    expected = _reference(
        [t.numpy() for t in teacher], [s.numpy() for s in student], np.zeros(6), 0.07, 0.1
    )
    assert loss.dtype == torch.float64
    assert loss.item() == pytest.approx(expected, rel=1e-10)


def test_center_update_and_its_use_in_the_next_call():
    teacher, student = _views(2), _views(4)
    criterion = DINOLoss(output_dim=6, center_momentum=0.8).double()
    criterion(teacher, student)
    batch_mean = torch.cat(teacher).mean(dim=0).numpy()
    expected_center = 0.8 * np.zeros(6) + 0.2 * batch_mean
    assert np.allclose(criterion.center.view(-1).numpy(), expected_center, atol=1e-12)

    teacher2, student2 = _views(2), _views(4)
    loss2 = criterion(teacher2, student2)
    expected2 = _reference(
        [t.numpy() for t in teacher2], [s.numpy() for s in student2], expected_center, 0.04, 0.1
    )
    assert loss2.item() == pytest.approx(expected2, rel=1e-10)
    expected_center = 0.8 * expected_center + 0.2 * torch.cat(teacher2).mean(dim=0).numpy()
    assert np.allclose(criterion.center.view(-1).numpy(), expected_center, atol=1e-12)


def test_teacher_temperature_warm_up_is_linear_then_constant():
    criterion = DINOLoss(
        output_dim=4, warmup_teacher_temp=0.04, teacher_temp=0.07, warmup_teacher_temp_epochs=4
    )
    schedule = np.linspace(0.04, 0.07, 4)
    for epoch in range(4):
        assert criterion.teacher_temperature(epoch) == pytest.approx(schedule[epoch])
    assert criterion.teacher_temperature(4) == pytest.approx(0.07)
    assert criterion.teacher_temperature(100) == pytest.approx(0.07)
    assert criterion.teacher_temperature(None) == pytest.approx(0.07)


def test_loss_uses_scheduled_temperature():
    teacher, student = _views(2, dim=4), _views(3, dim=4)
    criterion = DINOLoss(
        output_dim=4, warmup_teacher_temp=0.02, teacher_temp=0.08, warmup_teacher_temp_epochs=3
    ).double()
    loss = criterion(teacher, student, 1)  # positional epoch, center still zero
    expected = _reference(
        [t.numpy() for t in teacher], [s.numpy() for s in student], np.zeros(4), 0.05, 0.1
    )
    assert loss.item() == pytest.approx(expected, rel=1e-10)


def test_teacher_temp_keyword_overrides_schedule():
    teacher, student = _views(2, dim=4), _views(2, dim=4)
    criterion = DINOLoss(output_dim=4).double()
    loss = criterion(teacher, student, epoch=0, teacher_temp=0.5)
    expected = _reference(
        [t.numpy() for t in teacher], [s.numpy() for s in student], np.zeros(4), 0.5, 0.1
    )
    assert loss.item() == pytest.approx(expected, rel=1e-10)


def test_uniform_outputs_give_log_dim():
    # constant outputs: both distributions are uniform, cross entropy = log(D)
    teacher = [torch.zeros(2, 8) for _ in range(2)]
    student = [torch.zeros(2, 8) for _ in range(3)]
    loss = DINOLoss(output_dim=8)(teacher, student)
    assert loss.item() == pytest.approx(math.log(8), rel=1e-6)


def test_gradient_reaches_student_only():
    teacher = [torch.randn(3, 5, requires_grad=True) for _ in range(2)]
    student = [torch.randn(3, 5, requires_grad=True) for _ in range(4)]
    DINOLoss(output_dim=5)(teacher, student).backward()
    assert all(t.grad is None for t in teacher)
    for s in student:
        assert torch.isfinite(s.grad).all() and s.grad.abs().sum() > 0


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"output_dim": 0}, "output_dim"),
        ({"teacher_temp": 0.0}, "teacher_temp"),
        ({"warmup_teacher_temp": -1.0}, "warmup_teacher_temp"),
        ({"student_temp": 0.0}, "student_temp"),
        ({"center_momentum": 1.5}, "center_momentum"),
        ({"warmup_teacher_temp_epochs": -1}, "warmup_teacher_temp_epochs"),
    ],
)
def test_rejects_bad_hyper_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        DINOLoss(**kwargs)


def test_rejects_bad_inputs():
    criterion = DINOLoss(output_dim=4)
    with pytest.raises(ValueError, match="at least two distinct views"):
        criterion([torch.randn(2, 4)], [torch.randn(2, 4)])
    with pytest.raises(ValueError, match=r"output_dim=4.*\(2, 5\)"):
        criterion([torch.randn(2, 5)], [torch.randn(2, 5)] * 2)
    with pytest.raises(ValueError, match=r"same shape"):
        criterion([torch.randn(2, 4)], [torch.randn(2, 4), torch.randn(3, 4)])
    with pytest.raises(ValueError, match=r"teacher_out\[0\] must have shape \(B, D\)"):
        criterion([torch.randn(2, 2, 4)], [torch.randn(2, 4)] * 2)
    with pytest.raises(ValueError, match="at least 1 view"):
        criterion([], [torch.randn(2, 4)])
    with pytest.raises(ValueError, match="epoch"):
        criterion([torch.randn(2, 4)], [torch.randn(2, 4)] * 2, epoch=-1)
