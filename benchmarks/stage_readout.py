"""kNN accuracy of each stage of a trained selfsup ResNet on Fashion-MNIST, at several grids.

Loads a run folder's ``config.yaml`` and ``backbone.pt`` (``selfsup train`` writes both), takes
the map of every stage the backbone has (``forward_intermediates``), averages each over a
``g x g`` grid for every ``--grids`` value the map is large enough for, and scores weighted kNN
(k=20, t=0.1) of the 10,000 test images against the 60,000 training images on each, as
``benchmarks/quality.py`` does. Images are resized with torch's antialiased bilinear resize
(``selfsup embed`` uses Pillow's, which moves these figures by about 0.1 point). Prints one
line per stage and grid: which part of a trained network holds the features that tell the
classes apart best.

    .venv/bin/python benchmarks/stage_readout.py RUN_DIR
    .venv/bin/python benchmarks/stage_readout.py RUN_DIR --grids 1 2 4 --limit 2000   # quick
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from fashion_mnist import find_root, load_split

from selfsup.models import ResNet
from selfsup.pipeline import load_backbone
from selfsup.utils.benchmarking import knn_predict

__all__ = ["main"]

_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def _prepare(images: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 images `(B, 28, 28)` -> normalised RGB `(B, 3, size, size)`."""
    x = images.float().div(255).unsqueeze(1)
    x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return (x.expand(-1, 3, -1, -1) - _MEAN) / _STD


@torch.no_grad()
def stage_features(
    resnet: ResNet, images: torch.Tensor, size: int, grids: list[int]
) -> dict[tuple[int, int], torch.Tensor]:
    """Grid-pooled stage maps of ``images``: ``{(stage, grid): (N, C_stage * grid**2)}``.

    Stages are numbered from 1 (``layer1``); a grid larger than a stage's map is left out.
    """
    parts: dict[tuple[int, int], list[torch.Tensor]] = {}
    for start in range(0, len(images), 1000):
        maps = resnet.forward_intermediates(_prepare(images[start : start + 1000], size))
        for index, stage_map in enumerate(maps):
            for grid in grids:
                if grid <= stage_map.shape[-1]:
                    pooled = F.adaptive_avg_pool2d(stage_map, grid).flatten(1)
                    parts.setdefault((index + 1, grid), []).append(pooled)
    return {key: torch.cat(chunks) for key, chunks in parts.items()}


def knn_accuracy(
    bank: torch.Tensor, bank_labels: torch.Tensor, test: torch.Tensor, labels: torch.Tensor
) -> float:
    """Weighted kNN top-1 (k=20, t=0.1) of ``test`` `(N, D)` against ``bank`` `(M, D)`."""
    ranking = knn_predict(
        F.normalize(test, dim=1), F.normalize(bank, dim=1).T, bank_labels, 10, 20, 0.1
    )
    return (ranking[:, 0] == labels).float().mean().item()


def main() -> None:
    """Prints the kNN accuracy of every stage and grid of one run's backbone."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a selfsup run folder (config.yaml, backbone.pt)")
    parser.add_argument("--grids", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--limit", type=int, help="score only the first N test images")
    args = parser.parse_args()
    if find_root() is None:
        print("dataset-fashion-mnist is not installed (apt-get install -y dataset-fashion-mnist)")
        sys.exit(0)
    torch.set_num_threads(1)
    backbone, _, run_config = load_backbone(args.run)
    resnet = backbone.model
    size = run_config["input_size"]
    train_images, train_labels = (torch.from_numpy(a.copy()) for a in load_split("train"))
    test_images, test_labels = (torch.from_numpy(a.copy()) for a in load_split("test"))
    if args.limit is not None:
        test_images, test_labels = test_images[: args.limit], test_labels[: args.limit]
    bank = stage_features(resnet, train_images, size, args.grids)
    test = stage_features(resnet, test_images, size, args.grids)
    for (stage, grid), features in bank.items():
        accuracy = knn_accuracy(features, train_labels, test[(stage, grid)], test_labels)
        print(f"stage {stage}, grid {grid}x{grid}: {features.shape[1]}-d, kNN top-1 {accuracy:.2%}")


if __name__ == "__main__":
    main()
