"""DINO: multi-crop self-distillation with a momentum teacher."""

from __future__ import annotations

import pytest
import torch

from selfsup.methods import DINO


def test_teacher_sees_only_the_global_views_and_student_all(tiny, views):
    method = tiny("dino")
    shapes = {"teacher": [], "student": []}
    method.teacher_backbone.register_forward_pre_hook(
        lambda _, args: shapes["teacher"].append(tuple(args[0].shape))
    )
    method.backbone.register_forward_pre_hook(
        lambda _, args: shapes["student"].append(tuple(args[0].shape))
    )
    method.training_loss(views("dino"))
    # one forward per resolution, the crops of one resolution concatenated
    assert shapes["teacher"] == [(8, 3, 32, 32)]
    assert shapes["student"] == [(8, 3, 32, 32), (8, 3, 16, 16)]


def test_the_epoch_reaches_the_loss(tiny, views, monkeypatch):
    method = tiny("dino", warmup_teacher_temp_epochs=10)
    seen = []
    original = method.criterion.forward

    def spy(teacher_out, student_out, epoch=None, **kwargs):
        seen.append((len(teacher_out), len(student_out), epoch))
        return original(teacher_out, student_out, epoch, **kwargs)

    monkeypatch.setattr(method.criterion, "forward", spy)
    method.update_schedules(40, 100, 7, 10)
    method.training_loss(views("dino"))
    assert seen == [(2, 4, 7)]


def test_last_layer_is_frozen_during_the_first_epochs(tiny, views):
    method = tiny("dino", freeze_last_layer=2)
    last = [p for p in method.projection_head.last_layer.parameters() if p.requires_grad]
    assert last
    for epoch, frozen in [(0, True), (1, True), (2, False)]:
        method.zero_grad()
        method.training_loss(views("dino")).backward()
        assert all(p.grad is not None for p in last)
        method.after_backward(epoch)
        assert all((p.grad is None) == frozen for p in last), epoch
        other = method.projection_head.layers[0].weight
        assert other.grad is not None


def test_teacher_is_not_trained(tiny, views):
    method = tiny("dino")
    method.training_loss(views("dino")).backward()
    assert all(p.grad is None for p in method.teacher_backbone.parameters())
    assert all(p.grad is None for p in method.teacher_head.parameters())


def test_defaults():
    method = DINO("resnet-9", backbone_kwargs={"width": 0.125})
    assert method.momentum_start == 0.996
    assert method.criterion.output_dim == 2048
    assert method.projection_head.freeze_last_layer == 1
    assert method.projection_head.layers[0].out_features == 256  # 4 x 64 features
    with pytest.raises(ValueError, match="momentum_end"):
        DINO("resnet-9", backbone_kwargs={"width": 0.125}, momentum_end=-0.1)
    assert torch.equal(method.criterion.center, torch.zeros(1, 1, 2048))
