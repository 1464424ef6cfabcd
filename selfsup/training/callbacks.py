"""Lightning callbacks of a selfsup run: quality monitors, metrics file, atomic checkpoints."""

from __future__ import annotations

import csv
import io
import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.data import DataLoader

from selfsup.utils.debug import std_of_l2_normalized
from selfsup.utils.features import extract_features
from selfsup.utils.knn import knn_predict

__all__ = [
    "AtomicCheckpoint",
    "CollapseMonitor",
    "FeatureNormCalibration",
    "KNNMonitor",
    "MetricsWriter",
    "calibrate_feature_norm",
    "embed_loader",
]

logger = logging.getLogger(__name__)


@torch.no_grad()
def embed_loader(
    pl_module: L.LightningModule, loader: DataLoader, *, project: bool = False
) -> tuple[Tensor, Tensor]:
    """Backbone features (or, with ``project``, the method's projections) and targets of every
    batch of ``loader``: `(N, F)` and `(N,)`.

    The batches are ``([images (B, C, H, W)], targets (B,), filenames)`` as
    :class:`~selfsup.data.MultiViewCollate` makes them (batches whose every file was undecodable
    are empty and skipped); the model is put in eval mode for the pass and back afterwards.
    """
    method = pl_module.method
    was_training = method.training
    method.eval()
    encode = method.project if project else method.embed
    features, targets, _ = extract_features(encode, loader, pl_module.device)
    method.train(was_training)
    return features, targets


# The smallest variance calibrate_feature_norm sets, as a fraction of the median feature's.
_VARIANCE_FLOOR = 0.01


def _feature_norm(backbone: nn.Module) -> _BatchNorm | None:
    """The batch norm a backbone built with ``feature_norm=True`` ends in, or None."""
    for name, module in backbone.named_modules():
        if name.rsplit(".", 1)[-1] == "feature_norm" and isinstance(module, _BatchNorm):
            return module
    return None


@torch.no_grad()
def calibrate_feature_norm(
    backbone: nn.Module, loader: DataLoader, device: torch.device | str = "cpu"
) -> int:
    """Sets the running statistics of the backbone's feature norm from clean images.

    In training the norm's running mean and variance follow the augmented views; the images
    embedded later are not augmented. This replaces them by the mean and (unbiased) variance of
    the norm's input over ``loader``'s images, computed in eval mode ("precise BN", Wu and
    Johnson, 2021). A variance is taken as at least 1% of the median feature's: a feature that
    never fires on these images (a dead ReLU unit) would otherwise be scaled up about 300-fold
    and, when it does fire on an unusual image, outweigh all the others in its embedding. A
    backbone without a feature norm is left as it is.

    Args:
        backbone: Maps images `(B, C, H, W)` to features; its module named ``feature_norm``
            (see :class:`~selfsup.models.ResNet`) is calibrated.
        loader: Batches ``([images (B, C, H, W)], targets, filenames)`` with deterministic
            preprocessing, as :class:`~selfsup.data.MultiViewCollate` makes them.
        device: Where the images go.

    Returns:
        The number of images the statistics come from (0: nothing was changed).
    """
    norm = _feature_norm(backbone)
    if norm is None:
        return 0
    captured: list[Tensor] = []

    def pooled(images: Tensor) -> Tensor:
        handle = norm.register_forward_hook(lambda _m, inputs, _o: captured.append(inputs[0]))
        try:
            backbone(images)
        finally:
            handle.remove()
        return captured.pop()

    was_training = backbone.training
    backbone.eval()
    features, _, _ = extract_features(pooled, loader, device)
    backbone.train(was_training)
    if len(features) < 2:
        return 0
    features = features.double()
    variance = features.var(dim=0)
    norm.running_mean.copy_(features.mean(dim=0))
    norm.running_var.copy_(variance.clamp_min(_VARIANCE_FLOOR * variance.median()))
    return len(features)


class FeatureNormCalibration(L.Callback):
    """Calibrates the backbone's feature norm (:func:`calibrate_feature_norm`) on
    ``loader`` after every ``every_n_epochs``-th epoch and after the last one (also when a
    callback listed before it stops the run), before the kNN monitor and the checkpoint read the
    backbone (list it before them).

    Args:
        loader: Training images with deterministic preprocessing.
        every_n_epochs: Also calibrate after these epochs (the kNN monitor's); None: only
            after the last epoch.
    """

    def __init__(self, loader: DataLoader, every_n_epochs: int | None = None) -> None:
        if every_n_epochs is not None and every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs}")
        self.loader = loader
        self.every_n_epochs = every_n_epochs

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        epoch = trainer.current_epoch + 1
        due = self.every_n_epochs is not None and epoch % self.every_n_epochs == 0
        if due or epoch == trainer.max_epochs or trainer.should_stop:
            calibrate_feature_norm(pl_module.method.backbone, self.loader, pl_module.device)


class KNNMonitor(L.Callback):
    """Weighted kNN top-1 accuracy of the backbone features after every ``every_n_epochs``.

    The labeled ``bank_loader`` (e.g. the training images with labels from subfolders) is the
    kNN bank; ``val_loader`` is classified against it (Wu et al., 2018; k=200, t=0.1 as
    lightly's ``BenchmarkModule``). The accuracy is logged as ``knn_top1`` (in [0, 1]).
    ``val_target_map[i]`` is the bank's class index of the validation set's class ``i`` (when the
    two folders number their classes differently).
    """

    def __init__(
        self,
        bank_loader: DataLoader,
        val_loader: DataLoader,
        num_classes: int,
        knn_k: int = 200,
        knn_t: float = 0.1,
        every_n_epochs: int = 1,
        val_target_map: Sequence[int] | None = None,
    ) -> None:
        if every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be >= 1, got {every_n_epochs}")
        self.val_target_map = None if val_target_map is None else torch.tensor(val_target_map)
        self.bank_loader = bank_loader
        self.val_loader = val_loader
        self.num_classes = num_classes
        self.knn_k = knn_k
        self.knn_t = knn_t
        self.every_n_epochs = every_n_epochs

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        last = trainer.current_epoch + 1 == trainer.max_epochs
        if (trainer.current_epoch + 1) % self.every_n_epochs and not last:
            return
        bank, bank_targets = embed_loader(pl_module, self.bank_loader)
        queries, query_targets = embed_loader(pl_module, self.val_loader)
        if self.val_target_map is not None:
            query_targets = self.val_target_map[query_targets]
        ranking = knn_predict(
            F.normalize(queries, dim=1),
            F.normalize(bank, dim=1).T,
            bank_targets,
            self.num_classes,
            self.knn_k,
            self.knn_t,
        )
        accuracy = (ranking[:, 0] == query_targets).float().mean().item()
        pl_module.log("knn_top1", accuracy, prog_bar=True, sync_dist=False)


class CollapseMonitor(L.Callback):
    """Logs ``rep_std`` (:func:`~selfsup.utils.debug.std_of_l2_normalized` of the method's
    projections of ``probe_loader``, see ``SSLMethod.project``) every epoch, and warns when it
    falls below ``threshold``.

    Args:
        probe_loader: A few hundred images with deterministic preprocessing.
        threshold: Collapse threshold; default ``0.3 / sqrt(dim)`` (a non-collapsed
            representation has about ``1 / sqrt(dim)``).
        stop_on_collapse: Stop the run at the first epoch below the threshold.
        grace_epochs: Epochs at the start that are logged but never flagged: during the first
            epoch batch-norm running statistics, which the eval-mode probe uses, are not settled
            and the std reads low although nothing has collapsed.
    """

    def __init__(
        self,
        probe_loader: DataLoader,
        threshold: float | None = None,
        stop_on_collapse: bool = False,
        grace_epochs: int = 1,
    ) -> None:
        if grace_epochs < 0:
            raise ValueError(f"grace_epochs must be >= 0, got {grace_epochs}")
        self.probe_loader = probe_loader
        self.threshold = threshold
        self.stop_on_collapse = stop_on_collapse
        self.grace_epochs = grace_epochs
        self.collapsed_epochs: list[int] = []

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        features, _ = embed_loader(pl_module, self.probe_loader, project=True)
        std = std_of_l2_normalized(features).item()
        pl_module.log("rep_std", std, prog_bar=True, sync_dist=False)
        threshold = self.threshold
        if threshold is None:
            threshold = 0.3 / math.sqrt(features.shape[1])
        if std < threshold and trainer.current_epoch >= self.grace_epochs:
            self.collapsed_epochs.append(trainer.current_epoch)
            logger.warning(
                "representation collapse at epoch %d: rep_std %.5f is below %.5f "
                "(a healthy value is about 1/sqrt(dim) = %.5f)",
                trainer.current_epoch,
                std,
                threshold,
                1 / math.sqrt(features.shape[1]),
            )
            if self.stop_on_collapse:
                trainer.should_stop = True


class MetricsWriter(L.Callback):
    """Writes ``metrics.csv`` (one row per epoch) and ``metrics.png`` into ``out_dir``.

    Columns: ``epoch``, ``loss`` (mean training loss of the epoch), ``knn_top1`` and ``rep_std``
    when their monitors run, ``lr``, ``seconds`` (wall time of the epoch). Both files are written
    to a temporary name and renamed, so a killed run never leaves a torn file.
    """

    _COLUMNS = ("epoch", "loss", "knn_top1", "rep_std", "lr", "seconds")

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.rows: list[dict[str, float]] = []

    def load_existing(self) -> None:
        """Reads back the rows of an earlier run (used when resuming)."""
        path = self.out_dir / "metrics.csv"
        if path.is_file():
            with open(path, newline="") as handle:
                self.rows = [
                    {key: float(value) for key, value in row.items() if value != ""}
                    for row in csv.DictReader(handle)
                ]

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        metrics = trainer.callback_metrics
        row = {"epoch": float(trainer.current_epoch), "loss": pl_module.epoch_loss()}
        for key in ("knn_top1", "rep_std"):
            if key in metrics:
                row[key] = float(metrics[key])
        row["lr"] = trainer.optimizers[0].param_groups[0]["lr"]
        row["seconds"] = pl_module.epoch_seconds()
        self.rows = [r for r in self.rows if r["epoch"] < row["epoch"]] + [row]
        if trainer.is_global_zero:
            self._write_csv()
            self._write_plot()
        logger.info(
            "epoch %d: %s",
            trainer.current_epoch,
            ", ".join(f"{k} {v:.5g}" for k, v in row.items() if k != "epoch"),
        )

    def _write_csv(self) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self._COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: (int(v) if k == "epoch" else v) for k, v in row.items()})
        _replace_file(self.out_dir / "metrics.csv", buffer.getvalue().encode())

    def _write_plot(self) -> None:
        from matplotlib.figure import Figure

        keys = [k for k in ("loss", "knn_top1", "rep_std") if any(k in r for r in self.rows)]
        figure = Figure(figsize=(4 * len(keys), 3), layout="constrained")
        for ax, key in zip(figure.subplots(1, len(keys), squeeze=False)[0], keys, strict=True):
            points = [(r["epoch"], r[key]) for r in self.rows if key in r]
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o")
            ax.set_xlabel("epoch")
            ax.set_title(key)
            ax.grid(alpha=0.3)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80)
        _replace_file(self.out_dir / "metrics.png", buffer.getvalue())


class AtomicCheckpoint(L.Callback):
    """Saves ``last.ckpt`` at the end of every epoch and of the run: written to a temporary file
    in the same folder, then renamed over the previous one."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.save(trainer)

    def save(self, trainer: L.Trainer) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        trainer.save_checkpoint(tmp, weights_only=False)
        if trainer.is_global_zero:
            os.replace(tmp, self.path)


def _replace_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
