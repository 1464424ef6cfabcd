"""Benchmarking of learned representations: weighted kNN classification and the linear probe.

The names of lightly's ``lightly.utils.benchmarking``:

- :func:`knn_predict`: the weighted kNN vote of Wu et al. (2018), Sec. 3.4.
- :class:`BenchmarkModule`: a Lightning module base that measures the kNN accuracy of
  ``self.backbone`` in every validation epoch (k=200, t=0.1 by default, as lightly).
- :class:`LinearClassifier`: a linear head on a frozen model, trained with cross-entropy (the
  linear evaluation protocol; settings after SimCLR, Chen et al., 2020, as lightly's).
- :func:`mean_topk_accuracy`: top-k accuracies of ranked class predictions.

Batches may be ``(images, targets, ...)`` or, as :class:`~selfsup.data.MultiViewCollate`
makes them, ``([images, ...], targets, filenames)`` (the first view is used); a batch left
empty because all its files were undecodable is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from selfsup.utils.knn import knn_predict

__all__ = ["BenchmarkModule", "LinearClassifier", "knn_predict", "mean_topk_accuracy"]


def _batch_images(batch: Sequence[Any]) -> Tensor | None:
    """Images `(B, ...)` of a batch ``(images, targets, ...)`` or ``([images, ...], targets,
    ...)``; None for an empty batch."""
    images = batch[0]
    if isinstance(images, (list, tuple)):
        if not images:
            return None
        images = images[0]
    if not isinstance(images, Tensor):
        raise TypeError(
            f"the first element of a batch must be a tensor of images or a list of them, "
            f"got {type(images).__name__}"
        )
    return images if len(images) else None


def _check_positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def mean_topk_accuracy(
    predicted_classes: Tensor, targets: Tensor, k: Sequence[int]
) -> dict[int, Tensor]:
    """Fraction of samples whose target is among the first ``k`` predicted classes.

    Args:
        predicted_classes: Class indices ranked best first, `(B, K)` integers (e.g. the
            output of :func:`knn_predict` or ``logits.topk(K).indices``).
        targets: True class indices `(B,)`.
        k: The values of k. A k larger than ``K`` uses all ``K`` columns: when every class
            is ranked (``K`` = number of classes), its accuracy is 1.

    Returns:
        ``{k: accuracy}``, each a float32 scalar tensor in [0, 1] on the device of
        ``predicted_classes`` (NaN for an empty batch).

    Raises:
        ValueError: shapes that do not match, or a k that is not a positive int.
    """
    if predicted_classes.ndim != 2 or targets.shape != predicted_classes.shape[:1]:
        raise ValueError(
            f"predicted_classes must be (B, K) and targets (B,), got "
            f"{tuple(predicted_classes.shape)} and {tuple(targets.shape)}"
        )
    for value in k:
        _check_positive_int("k", value)
    hits = predicted_classes == targets.to(predicted_classes.device).unsqueeze(1)
    return {value: hits[:, :value].any(dim=1).float().mean() for value in k}


class BenchmarkModule(L.LightningModule):
    """A Lightning module base that measures the weighted kNN accuracy of ``self.backbone``.

    At the start of every validation epoch the labeled ``dataloader_kNN`` (e.g. the training
    images with their labels) is embedded by ``self.backbone`` into an L2-normalised feature
    bank. Every validation batch is classified against it with :func:`knn_predict`
    (Wu et al., 2018, Sec. 3.4), and at the end of the epoch the top-1 accuracy is logged as
    ``kNN_accuracy`` in percent, as lightly logs it; ``max_accuracy`` keeps the best
    accuracy so far as a fraction in [0, 1] (the sanity-check epoch Lightning runs before
    training does not count). With several processes the counts of all of them are summed;
    each process embeds the whole bank.

    A subclass sets ``self.backbone`` (mapping images `(B, C, H, W)` to features `(B, D)` or
    `(B, D, 1, 1)`) and defines ``training_step`` and ``configure_optimizers``; validation
    comes from this class. Batches are ``(images, targets, filenames)`` or
    ``([images, ...], targets, filenames)``.

    Args:
        dataloader_kNN: Labeled loader of the kNN bank; targets are class indices in
            ``[0, num_classes)``.
        num_classes: Number of classes.
        knn_k: Neighbours per vote (200, Wu et al., 2018, as lightly).
        knn_t: Temperature of the vote weights (0.1, ibid.).

    Attributes:
        backbone: The feature extractor; set it in the subclass.
        max_accuracy: Best kNN top-1 accuracy so far, in [0, 1].

    Raises:
        ValueError: ``num_classes`` or ``knn_k`` is not a positive int, or ``knn_t <= 0``.

    Example:
        >>> class SimCLRBenchmark(BenchmarkModule):
        ...     def __init__(self, dataloader_kNN, num_classes):
        ...         super().__init__(dataloader_kNN, num_classes)
        ...         self.backbone, dim = get_backbone("resnet-18")
        ...         ...
        >>> model = SimCLRBenchmark(dataloader_train_knn, num_classes=10)
        >>> L.Trainer(max_epochs=100).fit(model, dataloader_train_ssl, dataloader_test)
        >>> model.max_accuracy
    """

    def __init__(
        self,
        dataloader_kNN: Iterable[Any],
        num_classes: int,
        knn_k: int = 200,
        knn_t: float = 0.1,
    ) -> None:
        super().__init__()
        _check_positive_int("num_classes", num_classes)
        _check_positive_int("knn_k", knn_k)
        if not knn_t > 0:
            raise ValueError(f"knn_t must be > 0, got {knn_t!r}")
        self.backbone: nn.Module = nn.Module()
        self.max_accuracy = 0.0
        self.dataloader_kNN = dataloader_kNN
        self.num_classes = num_classes
        self.knn_k = knn_k
        self.knn_t = knn_t
        self._bank: Tensor | None = None
        self._bank_targets: Tensor | None = None
        self._counts: Tensor | None = None

    def _normalized_features(self, images: Tensor) -> Tensor:
        return F.normalize(self.backbone(images.to(self.device)).flatten(1), dim=1)

    def on_validation_epoch_start(self) -> None:
        """Embeds ``dataloader_kNN`` into the feature bank `(D, N)` and resets the counts."""
        if type(self.backbone) is nn.Module:
            raise RuntimeError(
                f"{type(self).__name__} must set self.backbone (a module mapping images to "
                f"features) after calling BenchmarkModule.__init__"
            )
        features, targets = [], []
        with torch.no_grad():
            for batch in self.dataloader_kNN:
                images = _batch_images(batch)
                if images is None:
                    continue
                features.append(self._normalized_features(images))
                targets.append(torch.as_tensor(batch[1], device=self.device))
        if not features:
            raise ValueError("dataloader_kNN yielded no images: the kNN feature bank is empty")
        self._bank = torch.cat(features).T.contiguous()
        self._bank_targets = torch.cat(targets)
        self._counts = torch.zeros(2, dtype=torch.long, device=self.device)

    def validation_step(self, batch: Sequence[Any], batch_idx: int) -> None:
        """Classifies the batch against the bank and counts the correct top-1 predictions."""
        images = _batch_images(batch)
        if images is None or self._bank is None or self._counts is None:
            return
        targets = torch.as_tensor(batch[1], device=self.device)
        ranking = knn_predict(
            self._normalized_features(images),
            self._bank,
            self._bank_targets,
            self.num_classes,
            self.knn_k,
            self.knn_t,
        )
        self._counts[0] += (ranking[:, 0] == targets).sum()
        self._counts[1] += len(targets)

    def on_validation_epoch_end(self) -> None:
        """Logs ``kNN_accuracy`` (percent), updates ``max_accuracy`` and frees the bank."""
        counts = self._counts
        self._bank = self._bank_targets = self._counts = None
        if counts is None:
            return
        correct, total = self.trainer.strategy.reduce(counts, reduce_op="sum").tolist()
        if total == 0:
            return
        accuracy = correct / total
        self.log("kNN_accuracy", accuracy * 100.0, prog_bar=True, sync_dist=True)
        if not self.trainer.sanity_checking:
            self.max_accuracy = max(self.max_accuracy, accuracy)


class LinearClassifier(L.LightningModule):
    """A linear classification head on a (by default frozen) model: the linear probe.

    ``forward`` maps images to logits: ``model(images).flatten(1)`` gives features `(B, D)`,
    ``classification_head`` (``nn.Linear(feature_dim, num_classes)``) logits
    `(B, num_classes)`. Training minimises cross-entropy with SGD (momentum 0.9, no weight
    decay, learning rate ``lr * batch_size_per_device * world_size / 256``) and a per-step
    cosine decay to 0, the settings of lightly's ``LinearClassifier`` (after SimCLR,
    Chen et al., 2020). Logs ``train_loss``, ``train_top{k}``, ``val_loss`` and
    ``val_top{k}`` (fractions in [0, 1]) for every k of ``topk``.

    With ``freeze_model`` (the linear evaluation protocol) the model runs without gradients,
    is left out of the optimizer and stays in eval mode whatever ``train()`` is called with,
    so neither its weights nor its batch-norm statistics change. Without it the whole model
    is fine-tuned.

    Args:
        model: Maps a batch of inputs (images `(B, C, H, W)`, or cached features with
            ``nn.Identity()``) to features `(B, feature_dim)` or `(B, feature_dim, 1, 1)`.
        batch_size_per_device: Batch size of each process, to scale the learning rate.
        feature_dim: Size D of the model's features.
        num_classes: Number of classes.
        topk: The k of the top-k accuracies; a k above ``num_classes`` gives accuracy 1.
        freeze_model: Train only the head (True, unlike lightly's default False).
        lr: Learning rate per 256 samples (0.1 as lightly).

    Raises:
        ValueError: a size, a k or ``lr`` that is not positive, or an empty ``topk``.

    Example:
        >>> backbone, dim = get_backbone("resnet-18")
        >>> classifier = LinearClassifier(backbone, 256, feature_dim=dim, num_classes=10)
        >>> L.Trainer(max_epochs=90).fit(classifier, train_loader, val_loader)
    """

    def __init__(
        self,
        model: nn.Module,
        batch_size_per_device: int,
        feature_dim: int = 2048,
        num_classes: int = 1000,
        topk: Sequence[int] = (1, 5),
        freeze_model: bool = True,
        *,
        lr: float = 0.1,
    ) -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        _check_positive_int("batch_size_per_device", batch_size_per_device)
        _check_positive_int("feature_dim", feature_dim)
        _check_positive_int("num_classes", num_classes)
        topk = tuple(topk)
        if not topk:
            raise ValueError("topk must name at least one k, got ()")
        for k in topk:
            _check_positive_int("every k in topk", k)
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        self.save_hyperparameters(ignore=["model"])
        self.model = model
        self.batch_size_per_device = batch_size_per_device
        self.feature_dim = feature_dim
        self.num_classes = num_classes
        self.topk = topk
        self.freeze_model = freeze_model
        self.lr = lr
        self.classification_head = nn.Linear(feature_dim, num_classes)
        self.criterion = nn.CrossEntropyLoss()
        if freeze_model:
            model.eval()

    def train(self, mode: bool = True) -> LinearClassifier:
        """Sets the training mode; a frozen model stays in eval mode."""
        super().train(mode)
        if self.freeze_model:
            self.model.eval()
        return self

    def forward(self, images: Tensor) -> Tensor:
        """Logits `(B, num_classes)` of a batch of model inputs, e.g. images `(B, C, H, W)`."""
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze_model):
            features = self.model(images).flatten(1)
        return self.classification_head(features)

    def shared_step(self, batch: Sequence[Any], batch_idx: int) -> tuple[Tensor, dict[int, Tensor]]:
        """Cross-entropy loss and ``{k: top-k accuracy}`` of one non-empty batch."""
        images = _batch_images(batch)
        targets = torch.as_tensor(batch[1], device=self.device)
        logits = self(images)
        loss = self.criterion(logits, targets)
        ranked = logits.topk(min(max(self.topk), self.num_classes), dim=1).indices
        return loss, mean_topk_accuracy(ranked, targets, self.topk)

    def _step(self, batch: Sequence[Any], batch_idx: int, stage: str) -> Tensor | None:
        if _batch_images(batch) is None:
            return None
        loss, topk = self.shared_step(batch, batch_idx)
        size = len(batch[1])
        self.log(f"{stage}_loss", loss, prog_bar=True, sync_dist=True, batch_size=size)
        self.log_dict(
            {f"{stage}_top{k}": accuracy for k, accuracy in topk.items()},
            prog_bar=stage == "val",
            sync_dist=True,
            batch_size=size,
        )
        return loss

    def training_step(self, batch: Sequence[Any], batch_idx: int) -> Tensor | None:
        """Loss of one batch (None, so Lightning skips it, for an empty batch)."""
        return self._step(batch, batch_idx, "train")

    def validation_step(self, batch: Sequence[Any], batch_idx: int) -> Tensor | None:
        """Logs ``val_loss`` and ``val_top{k}`` of one batch."""
        return self._step(batch, batch_idx, "val")

    def configure_optimizers(self) -> dict[str, Any]:
        """SGD over the head (and the model when not frozen) with a per-step cosine decay."""
        parameters = list(self.classification_head.parameters())
        if not self.freeze_model:
            parameters += list(self.model.parameters())
        lr = self.lr * self.batch_size_per_device * self.trainer.world_size / 256
        optimizer = torch.optim.SGD(parameters, lr=lr, momentum=0.9, weight_decay=0.0)
        max_steps = max(1, int(self.trainer.estimated_stepping_batches))
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max_steps)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }
