import csv
import logging
import types

import pytest
import torch
from torch import nn

from selfsup.models import get_backbone
from selfsup.training.callbacks import (
    CollapseMonitor,
    FeatureNormCalibration,
    KNNMonitor,
    MetricsWriter,
    calibrate_feature_norm,
)


class _Method(nn.Module):
    """embed: identity on flattened images; project: a fixed linear map."""

    def __init__(self, projection: torch.Tensor):
        super().__init__()
        self.register_buffer("projection", projection)

    def embed(self, images):
        return images.flatten(1)

    def project(self, images):
        return self.embed(images) @ self.projection


class _Module:
    def __init__(self, method):
        self.method = method
        self.device = torch.device("cpu")
        self.logged = {}

    def log(self, key, value, **kwargs):
        self.logged[key] = value

    def epoch_loss(self):
        return 1.5

    def epoch_seconds(self):
        return 2.0


def _trainer(epoch=0, max_epochs=3):
    optimizer = types.SimpleNamespace(param_groups=[{"lr": 0.1}])
    return types.SimpleNamespace(
        current_epoch=epoch,
        max_epochs=max_epochs,
        should_stop=False,
        callback_metrics={},
        optimizers=[optimizer],
        is_global_zero=True,
    )


def _loader(points, targets):
    """Batches as MultiViewCollate makes them: ([images (B, C, H, W)], targets, filenames)."""
    images = torch.as_tensor(points, dtype=torch.float32)[:, :, None, None]
    names = [f"{i}.png" for i in range(len(images))]
    return [
        ([images[:2]], torch.tensor(targets[:2]), names[:2]),
        ([images[2:]], torch.tensor(targets[2:]), names[2:]),
    ]


def test_knn_monitor_hand_checkable_case():
    bank = _loader([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], [0, 0, 1, 1])
    # the first query is nearest class 0, the second class 1, the third class 0 but labeled 1
    val = _loader([[1, 0.05], [0.05, 1], [0.95, 0.0]], [0, 1, 1])
    module = _Module(_Method(torch.eye(2)))
    KNNMonitor(bank, val, num_classes=2, knn_k=2).on_train_epoch_end(_trainer(), module)
    assert module.logged["knn_top1"] == pytest.approx(2 / 3)


def _normed_backbone():
    """A two-stage resnet-9 (width 0.125, 2x2 grid: 128 features) ending in a feature norm whose
    running statistics one training batch has moved away from their start."""
    torch.manual_seed(0)
    backbone, _ = get_backbone(
        "resnet-9", width=0.125, num_stages=2, pool_size=2, feature_norm=True
    )
    backbone(torch.randn(4, 3, 16, 16) * 3)
    return backbone


def _image_batches():
    images = torch.randn(6, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    names = [f"{i}.png" for i in range(6)]
    return images, [
        ([images[:4]], torch.zeros(4), names[:4]),
        ([images[4:]], torch.zeros(2), names[4:]),
    ]


def test_calibrate_feature_norm_takes_the_statistics_of_the_clean_features():
    backbone = _normed_backbone()
    block = backbone.model.layer2[0]
    with torch.no_grad():  # channel 0 of the last map never fires: a dead ReLU unit
        for norm in (block.bn2, block.shortcut[1]):
            norm.weight[0], norm.bias[0] = 0.0, -1.0
    images, batches = _image_batches()
    assert calibrate_feature_norm(backbone, batches) == 6
    assert backbone.training  # the mode is restored
    network = backbone.model.eval()
    with torch.no_grad():
        # Reference: the 2x2 grid of the second stage's map, before the norm.
        pooled = nn.functional.adaptive_avg_pool2d(network.forward_features(images), 2)
        pooled = pooled.flatten(1)
        norm = network.feature_norm
        torch.testing.assert_close(norm.running_mean, pooled.mean(0))
        variance = pooled.var(0)
        floor = 0.01 * variance.median()
        # The dead channel's four grid cells get the floor, not 0 (which would scale them up
        # 300-fold: 1 / sqrt(eps)).
        assert (variance < floor).nonzero().flatten().tolist() == [0, 1, 2, 3]
        variance = torch.where(variance < floor, floor, variance)
        torch.testing.assert_close(norm.running_var, variance)
        expected = (pooled - pooled.mean(0)) / (variance + norm.eps).sqrt()
        torch.testing.assert_close(backbone.eval()(images), expected)


def test_calibrate_feature_norm_leaves_other_backbones_alone():
    torch.manual_seed(0)
    backbone, _ = get_backbone("resnet-9", width=0.125, num_stages=2)
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    assert calibrate_feature_norm(backbone, _image_batches()[1]) == 0
    for key, value in backbone.state_dict().items():
        torch.testing.assert_close(value, before[key], rtol=0, atol=0)


@pytest.mark.parametrize(
    ("every", "epoch", "stop", "calibrated"),
    [
        (None, 0, False, False),
        (None, 2, False, True),
        (None, 0, True, True),  # the collapse monitor stops the run
        (2, 1, False, True),
        (2, 0, False, False),
        (1, 0, False, True),
    ],
)
def test_feature_norm_calibration_runs_on_the_monitor_epochs_and_the_last(
    every, epoch, stop, calibrated
):
    backbone = _normed_backbone()
    mean = backbone.model.feature_norm.running_mean.clone()
    module = _Module(types.SimpleNamespace(backbone=backbone))
    callback = FeatureNormCalibration(_image_batches()[1], every_n_epochs=every)
    trainer = _trainer(epoch=epoch, max_epochs=3)
    trainer.should_stop = stop
    callback.on_train_epoch_end(trainer, module)
    assert not torch.equal(backbone.model.feature_norm.running_mean, mean) == calibrated


def test_feature_norm_calibration_checks_its_interval():
    with pytest.raises(ValueError, match="every_n_epochs must be >= 1, got 0"):
        FeatureNormCalibration([], every_n_epochs=0)


def test_collapse_monitor_warns_and_stops_on_collapsed_projections(caplog):
    points = torch.rand(8, 4) + 0.1
    collapsed = _Method(torch.ones(4, 16))  # every projection points the same way
    module, trainer = _Module(collapsed), _trainer(epoch=1)
    monitor = CollapseMonitor(_loader(points, [0] * 8), stop_on_collapse=True)
    with caplog.at_level(logging.WARNING):
        monitor.on_train_epoch_end(trainer, module)
    assert module.logged["rep_std"] < 1e-6
    assert monitor.collapsed_epochs == [1] and trainer.should_stop
    assert "representation collapse at epoch 1" in caplog.text


def test_collapse_monitor_quiet_on_spread_projections_and_in_grace_epoch(caplog):
    points = torch.randn(64, 16)
    spread, collapsed = _Method(torch.eye(16)), _Method(torch.ones(16, 16))
    with caplog.at_level(logging.WARNING):
        CollapseMonitor(_loader(points, [0] * 64)).on_train_epoch_end(_trainer(1), _Module(spread))
        CollapseMonitor(_loader(points, [0] * 64)).on_train_epoch_end(
            _trainer(0), _Module(collapsed)
        )
    assert "collapse" not in caplog.text


def test_metrics_writer_writes_csv_rows_and_plot(tmp_path):
    writer = MetricsWriter(tmp_path)
    module = _Module(_Method(torch.eye(2)))
    for epoch in range(2):
        trainer = _trainer(epoch)
        trainer.callback_metrics = {
            "knn_top1": torch.tensor(0.5 + epoch / 10),
            "rep_std": torch.tensor(0.08),
        }
        writer.on_train_epoch_end(trainer, module)
    with open(tmp_path / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["epoch"] for row in rows] == ["0", "1"]
    assert float(rows[1]["knn_top1"]) == pytest.approx(0.6) and float(rows[0]["loss"]) == 1.5
    assert (tmp_path / "metrics.png").read_bytes()[:4] == b"\x89PNG"
    resumed = MetricsWriter(tmp_path)
    resumed.load_existing()
    assert [row["epoch"] for row in resumed.rows] == [0.0, 1.0]
