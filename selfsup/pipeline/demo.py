"""``selfsup demo``: the whole chain on scikit-learn's handwritten digits, in a few minutes on a CPU."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from PIL import Image
from torch.utils.data import DataLoader

from selfsup.data import ImageDataset, MultiViewCollate
from selfsup.models import get_backbone
from selfsup.pipeline._files import write_atomically
from selfsup.pipeline.embed import embed
from selfsup.pipeline.train import train
from selfsup.transforms import EvalTransform
from selfsup.utils.config import build_config
from selfsup.utils.features import extract_features
from selfsup.utils.knn import knn_predict

__all__ = ["DemoConfig", "demo", "write_digits"]

logger = logging.getLogger(__name__)

#: Augmentations that suit 32x32 grayscale digits: no flips or rotations (a mirrored 2 is no
#: longer a 2), no hue or saturation (there is no color), moderate crops and contrast.
DIGITS_TRANSFORM: dict[str, Any] = {
    "min_scale": 0.5,
    "hf_prob": 0.0,
    "cj_prob": 0.8,
    "cj_bright": 0.4,
    "cj_contrast": 0.4,
    "cj_sat": 0.0,
    "cj_hue": 0.0,
    "random_gray_scale": 0.0,
    "gaussian_blur": 0.5,
    "sigmas": (0.1, 1.0),
}


@dataclasses.dataclass
class DemoConfig:
    """Options of ``selfsup demo``."""

    out: str = dataclasses.field(default="selfsup-demo", metadata={"help": "run folder"})
    epochs: int = dataclasses.field(default=6, metadata={"help": "training epochs"})
    seed: int = dataclasses.field(default=0, metadata={"help": "random seed"})
    num_workers: int | None = dataclasses.field(
        default=None, metadata={"help": "DataLoader workers (default: available cores)"}
    )


def write_digits(
    folder: str | Path, val_fraction: float = 0.25, seed: int = 0
) -> tuple[Path, Path]:
    """Writes scikit-learn's 1,797 digits as 32x32 PNGs into ``train/<digit>/`` and ``val/<digit>/``.

    Returns:
        The train and validation folders.
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.images))
    n_val = int(len(order) * val_fraction)
    folder = Path(folder)
    for split, indices in (("val", order[:n_val]), ("train", order[n_val:])):
        for index in indices:
            pixels = (digits.images[index] * (255 / 16)).astype(np.uint8)
            image = Image.fromarray(pixels, mode="L").resize((32, 32), Image.Resampling.BILINEAR)
            target = folder / split / str(digits.target[index])
            target.mkdir(parents=True, exist_ok=True)
            image.save(target / f"{index:04d}.png")
    return folder / "train", folder / "val"


@torch.no_grad()
def _knn_accuracy(backbone: torch.nn.Module, train_dir: Path, val_dir: Path, k: int) -> float:
    def features(folder: Path) -> tuple[torch.Tensor, torch.Tensor]:
        dataset = ImageDataset(folder, transform=EvalTransform(input_size=32))
        loader = DataLoader(dataset, batch_size=256, collate_fn=MultiViewCollate())
        embeddings, targets, _ = extract_features(backbone, loader)
        return F.normalize(embeddings, dim=1), targets

    backbone.eval()
    bank, bank_targets = features(train_dir)
    queries, query_targets = features(val_dir)
    ranking = knn_predict(queries, bank.T, bank_targets, num_classes=10, knn_k=k, knn_t=0.1)
    return (ranking[:, 0] == query_targets).float().mean().item()


def _plot_embeddings(embeddings: np.ndarray, labels: list[int], path: Path) -> None:
    centered = embeddings - embeddings.mean(axis=0)
    _, _, components = np.linalg.svd(centered, full_matrices=False)
    points = centered @ components[:2].T
    figure = Figure(figsize=(5, 5), layout="constrained")
    ax = figure.subplots()
    scatter = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=6)
    figure.colorbar(scatter, ax=ax, label="digit")
    ax.set_title("validation embeddings (PCA)")
    write_atomically(path, lambda tmp: figure.savefig(tmp, format="png", dpi=90))


def demo(config: DemoConfig | None = None, **options: Any) -> dict[str, Any]:
    """Trains SimCLR on the digits, monitors kNN accuracy and collapse, embeds and plots.

    Writes into ``out``: ``data/`` (the digits as PNGs), ``run/`` (checkpoint, backbone,
    metrics.csv/png, summary.json), ``embeddings.csv`` / ``.npy`` of the validation digits,
    ``embeddings.png`` (a PCA map) and ``demo.json`` with the headline figures.

    Returns:
        The headline figures: kNN top-1 of a randomly initialised backbone and of the trained one.
    """
    if config is None:
        config = build_config(DemoConfig, options, command="selfsup demo")
    out = Path(config.out)
    train_dir, val_dir = write_digits(out / "data", seed=config.seed)
    torch.manual_seed(config.seed)
    random_backbone, _ = get_backbone("resnet-9", width=0.25)
    random_knn = _knn_accuracy(random_backbone, train_dir, val_dir, k=20)
    logger.info("kNN top-1 of a randomly initialised backbone: %.3f", random_knn)
    result = train(
        data=str(train_dir),
        val_data=str(val_dir),
        method="simclr",
        backbone="resnet-9",
        width=0.25,
        epochs=config.epochs,
        batch_size=128,
        input_size=32,
        transform=dict(DIGITS_TRANSFORM),
        method_args={"temperature": 0.2},
        optimizer={"name": "sgd", "lr": 0.3, "warmup_epochs": 1},
        knn_k=20,
        num_workers=config.num_workers,
        seed=config.seed,
        out=str(out / "run"),
        accelerator="cpu",
    )
    embedded = embed(
        checkpoint=str(out / "run"), data=str(val_dir), out=str(out / "embeddings.csv")
    )
    _plot_embeddings(embedded.embeddings, embedded.labels, out / "embeddings.png")
    figures = {
        "random_init_knn_top1": round(random_knn, 4),
        "trained_knn_top1": result.summary["best_knn_top1"],
        "final_rep_std": result.summary["final_rep_std"],
        "seconds": result.summary["seconds"],
        "files": {
            "run": str(out / "run"),
            "metrics_plot": str(out / "run" / "metrics.png"),
            "embeddings": str(out / "embeddings.csv"),
            "embeddings_plot": str(out / "embeddings.png"),
        },
    }
    write_atomically(out / "demo.json", lambda tmp: tmp.write_text(json.dumps(figures, indent=2)))
    return figures
