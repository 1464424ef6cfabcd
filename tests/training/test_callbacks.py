import csv
import logging
import types

import pytest
import torch
from torch import nn

from selfsup.training.callbacks import CollapseMonitor, KNNMonitor, MetricsWriter


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
