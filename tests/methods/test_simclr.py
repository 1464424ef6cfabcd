"""SimCLR: NT-Xent between the projections of two views."""

from __future__ import annotations

from selfsup.methods import SimCLR


def test_loss_is_nt_xent_of_the_projections(tiny, views, ntxent_reference):
    method = tiny("simclr", temperature=0.3)
    x0, x1 = views("simclr")
    loss = method.training_loss([x0, x1])
    expected = ntxent_reference(method(x0), method(x1), 0.3)
    assert abs(loss.item() - expected) < 1e-5


def test_default_head_follows_the_backbone():
    method = SimCLR("resnet-9", backbone_kwargs={"width": 0.125})
    linears = [m for m in method.projection_head.modules() if m.__class__.__name__ == "Linear"]
    assert [(m.in_features, m.out_features) for m in linears] == [(64, 64), (64, 128)]
    assert method.transform_name == "simclr"
