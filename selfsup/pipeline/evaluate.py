"""``selfsup.evaluate``: kNN and linear-probe accuracy of a trained backbone on labeled folders."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import warnings
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

from selfsup.data import ImageDataset, MultiViewCollate
from selfsup.pipeline._files import write_atomically
from selfsup.pipeline.embed import _run_input_size, load_backbone
from selfsup.transforms import EvalTransform
from selfsup.utils.benchmarking import LinearClassifier, knn_predict, mean_topk_accuracy
from selfsup.utils.config import ConfigError, build_config, option
from selfsup.utils.features import extract_features

__all__ = ["EvaluateConfig", "evaluate"]

logger = logging.getLogger(__name__)

_TOPK = (1, 5)


@dataclasses.dataclass
class EvaluateConfig:
    """Options of ``selfsup evaluate`` (and keyword arguments of :func:`selfsup.evaluate`)."""

    checkpoint: str | None = option("run folder, its backbone.pt or its last.ckpt (required)")
    data: str | None = option(
        "labeled folder, one subfolder per class: kNN bank and linear-head training set (required)"
    )
    val_data: str | None = option(
        "labeled folder scored against data; classes are matched by subfolder name (required)"
    )
    out: str = option("JSON file to write the accuracies to", "evaluation.json")
    epochs: int = option("training epochs of the linear head (on cached features)", 10)
    batch_size: int = option("images per batch (embedding and linear head)", 256)
    lr: float = option("linear-head learning rate per 256 images (SGD, cosine decay)", 0.1)
    knn_k: int = option("neighbours of the weighted kNN vote", 200)
    knn_t: float = option("temperature of the weighted kNN vote", 0.1)
    input_size: int | None = option("center-crop size (default: the run's input size)")
    num_workers: int = option("DataLoader workers for decoding images", 0)
    device: str = option("torch device: cpu, cuda, cuda:1, ...", "cpu")
    seed: int = option("random seed of the linear head's initialisation and shuffling", 0)


def _lightning_device(device: str) -> tuple[str, int | list[int]]:
    """Lightning ``(accelerator, devices)`` of a torch device string such as ``cuda:1``."""
    try:
        parsed = torch.device(device)
    except RuntimeError:
        parsed = None
    if parsed is None or parsed.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"invalid value {device!r} for 'device': expected cpu, cuda, cuda:N, mps")
    if parsed.type == "cpu":
        return "cpu", 1
    if parsed.type == "cuda":
        return "gpu", 1 if parsed.index is None else [parsed.index]
    return "mps", 1


@torch.no_grad()
def _embed(
    backbone: nn.Module, dataset: ImageDataset, config: EvaluateConfig, name: str
) -> tuple[Tensor, Tensor]:
    """Features `(N, D)` float32 and targets `(N,)` of every decodable image, on the CPU."""
    loader = DataLoader(
        dataset,
        batch_size=config.batch_size,
        num_workers=config.num_workers,
        collate_fn=MultiViewCollate(),
    )
    features, targets, filenames = extract_features(backbone, loader, config.device, desc=name)
    if not filenames:
        raise ValueError(f"no image of {dataset.input_dir!r} could be decoded")
    return features, targets


def _labeled_datasets(config: EvaluateConfig, size: int) -> tuple[ImageDataset, ImageDataset]:
    transform = EvalTransform(input_size=size)
    train = ImageDataset(config.data, transform=transform, draft_size=size)
    val = ImageDataset(config.val_data, transform=transform, draft_size=size)
    if len(train.classes) < 2:
        raise ValueError(
            f"data {config.data!r} holds {len(train.classes)} class: evaluation needs labeled "
            f"images, one subfolder per class (at least two), e.g. {config.data}/cat/1.png"
        )
    missing = [name for name in val.classes if name not in train.classes]
    if missing:
        raise ValueError(
            f"classes of val_data {config.val_data!r} missing from data {config.data!r}: "
            f"{', '.join(repr(name) for name in missing)}; classes are matched by subfolder "
            f"name and data has {', '.join(repr(name) for name in train.classes)}"
        )
    return train, val


def _standardize(train: Tensor, val: Tensor) -> tuple[Tensor, Tensor]:
    """Features `(N, D)` shifted and scaled per dimension to the training set's mean 0 and std 1.

    A BatchNorm without affine parameters before the linear head, as in MAE's linear probe
    (He et al., 2022, Appendix A.2), with exact statistics since the features are cached: the
    head's learning rate then suits any backbone's feature scale. Dimensions that are constant
    on the training set carry nothing a head could learn and are set to 0.
    """
    std, mean = torch.std_mean(train, dim=0)
    constant = std <= 1e-6 * std.max()
    scale = torch.where(constant, torch.zeros_like(std), 1 / std.clamp_min(1e-30))
    return (train - mean) * scale, (val - mean) * scale


def _train_linear_head(
    train: tuple[Tensor, Tensor],
    val: tuple[Tensor, Tensor],
    num_classes: int,
    config: EvaluateConfig,
) -> dict[str, float]:
    """Trains a :class:`LinearClassifier` on cached features; returns its validation metrics."""
    accelerator, devices = _lightning_device(config.device)
    train_features, val_features = _standardize(train[0], val[0])
    classifier = LinearClassifier(
        nn.Identity(),
        config.batch_size,
        feature_dim=train[0].shape[1],
        num_classes=num_classes,
        topk=_TOPK,
        lr=config.lr,
    )
    train_loader = DataLoader(
        TensorDataset(train_features, train[1]), batch_size=config.batch_size, shuffle=True
    )
    val_loader = DataLoader(TensorDataset(val_features, val[1]), batch_size=config.batch_size)
    trainer = L.Trainer(
        max_epochs=config.epochs,
        accelerator=accelerator,
        devices=devices,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        log_every_n_steps=1,
    )
    with warnings.catch_warnings():
        # Cached features are in memory: worker processes would only slow the loaders down;
        # the frozen "model" (nn.Identity) is in eval mode on purpose; and the validation
        # features are scored once, after training.
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        warnings.filterwarnings("ignore", message=".*no `val_dataloader`.*")
        warnings.filterwarnings("ignore", message=".*module\\(s\\) in eval mode.*")
        trainer.fit(classifier, train_loader)
        (metrics,) = trainer.validate(classifier, val_loader, verbose=False)
    return {key: float(value) for key, value in metrics.items()}


def evaluate(config: EvaluateConfig | None = None, **options: Any) -> dict[str, Any]:
    """Measures how well a trained backbone's features separate labeled classes.

    Both folders are labeled by their first-level subfolders, classes being matched by NAME
    (``val_data`` may hold a subset of the classes of ``data``). The backbone is frozen, so
    every image is embedded ONCE (deterministic :class:`~selfsup.transforms.EvalTransform`
    at the run's input size) and the features are cached in memory: the linear head then
    trains on the cached features, which gives the same result as re-running the frozen
    backbone every epoch, many times faster. Two scores come from the features:

    - kNN: each ``val_data`` image is classified by the weighted vote of its ``knn_k`` most
      cosine-similar ``data`` images (Wu et al., 2018; k=200, t=0.1 as lightly's
      ``BenchmarkModule``).
    - Linear probe: a :class:`~selfsup.utils.benchmarking.LinearClassifier` head trained for
      ``epochs`` on the ``data`` features (SGD, momentum 0.9, lr ``lr * batch_size / 256``,
      cosine decay), then scored on the ``val_data`` features. The features are first
      standardised with the mean and std of the ``data`` features (a BatchNorm without
      affine parameters, as MAE's linear probe, He et al., 2022), so the learning rate
      suits any backbone's feature scale.

    Args:
        config: An :class:`EvaluateConfig`; or give its fields as keyword arguments
            (``selfsup.evaluate(checkpoint="runs/simclr", data="train/", val_data="val/")``).
        **options: Fields of :class:`EvaluateConfig`.

    Returns:
        A JSON-ready dict, also written to ``out``: ``knn_top1``, ``knn_top5``,
        ``linear_top1``, ``linear_top5`` (fractions in [0, 1], rounded to 6 decimals; top-5
        is 1 with at most five classes), ``linear_val_loss``, ``num_train``, ``num_val``, ``num_classes``,
        ``classes``, ``feature_dim``, ``skipped_files`` (undecodable images left out), the
        settings used and ``embed_seconds`` / ``linear_seconds``.

    Raises:
        ValueError: missing options, checkpoint or folders; ``data`` without at least two
            class subfolders; a class of ``val_data`` that ``data`` lacks; weights that do not
            fit the backbone.
    """
    if config is None:
        config = build_config(EvaluateConfig, options, command="selfsup evaluate")
    elif options:
        config = build_config(
            EvaluateConfig, {**dataclasses.asdict(config), **options}, command="selfsup evaluate"
        )
    missing = [key for key in ("checkpoint", "data", "val_data") if getattr(config, key) is None]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)} required: selfsup evaluate checkpoint=RUN data=DIR val_data=DIR"
        )
    for key in ("epochs", "batch_size", "knn_k"):
        if getattr(config, key) < 1:
            raise ConfigError(f"{key} must be >= 1, got {getattr(config, key)}")
    for key in ("lr", "knn_t"):
        if not getattr(config, key) > 0:
            raise ConfigError(f"{key} must be > 0, got {getattr(config, key)}")
    _lightning_device(config.device)

    backbone, _, run_config = load_backbone(config.checkpoint)
    size = config.input_size or _run_input_size(run_config)
    train_set, val_set = _labeled_datasets(config, size)
    # Files skipped while indexing are not in the datasets; undecodable ones are dropped later.
    num_files = len(train_set.skipped) + len(val_set.skipped) + len(train_set) + len(val_set)
    backbone.to(torch.device(config.device))
    start = time.perf_counter()
    train = _embed(backbone, train_set, config, "embed data")
    val_features, val_targets = _embed(backbone, val_set, config, "embed val_data")
    to_train_index = torch.tensor([train_set.classes.index(name) for name in val_set.classes])
    val = (val_features, to_train_index[val_targets])
    embed_seconds = time.perf_counter() - start
    num_classes = len(train_set.classes)

    ranking = knn_predict(
        F.normalize(val[0], dim=1),
        F.normalize(train[0], dim=1).T,
        train[1],
        num_classes,
        config.knn_k,
        config.knn_t,
    )
    knn = mean_topk_accuracy(ranking, val[1], _TOPK)

    L.seed_everything(config.seed, workers=True, verbose=False)
    start = time.perf_counter()
    metrics = _train_linear_head(train, val, num_classes, config)
    result = {
        "knn_top1": round(knn[1].item(), 6),
        "knn_top5": round(knn[5].item(), 6),
        "linear_top1": round(metrics["val_top1"], 6),
        "linear_top5": round(metrics["val_top5"], 6),
        "linear_val_loss": round(metrics["val_loss"], 6),
        "num_train": len(train[1]),
        "num_val": len(val[1]),
        "num_classes": num_classes,
        "classes": list(train_set.classes),
        "feature_dim": train[0].shape[1],
        "skipped_files": num_files - len(train[1]) - len(val[1]),
        "checkpoint": str(config.checkpoint),
        "backbone": run_config["backbone"],
        "input_size": size,
        "epochs": config.epochs,
        "knn_k": config.knn_k,
        "knn_t": config.knn_t,
        "embed_seconds": round(embed_seconds, 2),
        "linear_seconds": round(time.perf_counter() - start, 2),
    }
    text = json.dumps(result, indent=2)
    out = write_atomically(config.out, lambda tmp: tmp.write_text(text))
    logger.info(
        "kNN top-1 %.4f, linear top-1 %.4f, top-5 %.4f on %d images; wrote %s",
        result["knn_top1"],
        result["linear_top1"],
        result["linear_top5"],
        result["num_val"],
        out,
    )
    return result
