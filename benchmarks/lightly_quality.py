"""The ``small-grayscale`` SimCLR or Barlow Twins recipe run with lightly's own components.

Trains lightly 1.6's building blocks (``LightlyDataset``, ``SimCLRTransform``, its ResNet-9, and
``SimCLRProjectionHead`` with ``NTXentLoss`` or ``BarlowTwinsProjectionHead`` with
``BarlowTwinsLoss``) in a plain PyTorch loop with the options of selfsup's
``preset=small-grayscale`` (16 px views, crops of 25-100%, flips, brightness and contrast jitter
0.8, batch 256, features the last map pooled to a 2x2 grid, or ``--num-stages 2 --pool-size
4`` for the second stage's map over a 4x4 grid; SimCLR: temperature 0.1, SGD lr 0.06
with cosine decay; Barlow Twins: a 1024-wide projector, AdamW lr 0.001, wd 1e-5, one warm-up
epoch, then cosine), then scores weighted kNN (lightly's ``knn_predict``, k=20, t=0.1) of the
10,000 Fashion-MNIST test images against the 60,000 training images, as
``benchmarks/quality.py`` does. Prints one JSON line with the accuracy, wall seconds and
CPU-seconds (this process and its DataLoader workers). lightly is never a dependency of selfsup;
this script exits cleanly without it.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/lightly_quality.py --epochs 8 --workers 1
    # 8 epochs fill the 30-CPU-minute budget on 2 cores (with the 2x2 grid of all four stages)
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/lightly_quality.py --num-stages 2 --pool-size 4
    # the preset's SimCLR backbone now: two stages, the second's map as a 4x4 grid
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/lightly_quality.py --num-stages 2 --pool-size 8 \
        --hidden-dim 512 --feature-norm --epochs 11   # the preset's SimCLR of session 11
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/lightly_quality.py --method barlowtwins --epochs 12
    .venv/bin/python benchmarks/lightly_quality.py --limit 2000 --epochs 1           # smoke
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import torch
from fashion_mnist import find_root, write_folders
from torch import nn
from torchvision import transforms as T

__all__ = ["main"]


def _cpu_seconds() -> float:
    """User + system CPU-seconds of this process and its reaped children (DataLoader workers)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _backbone(pool_size: int, num_stages: int, feature_norm: bool) -> tuple[nn.Module, int]:
    """lightly's ResNet-9 at width 0.25 up to stage ``num_stages``, without its classifier, and
    its feature size ``16 * 2**(num_stages - 1) * pool_size**2``; with ``feature_norm`` it ends
    in a ``BatchNorm1d`` without affine parameters, as selfsup's ``backbone_args.feature_norm``."""
    from lightly.models import ResNetGenerator

    resnet = ResNetGenerator("resnet-9", width=0.25)
    stages = [resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4][:num_stages]
    backbone = nn.Sequential(
        resnet.conv1,
        resnet.bn1,
        nn.ReLU(inplace=True),
        *stages,
        nn.AdaptiveAvgPool2d(pool_size),
        nn.Flatten(),
    )
    num_features = 16 * 2 ** (num_stages - 1) * pool_size**2
    if feature_norm:
        # Named as selfsup's, so that selfsup's calibrate_feature_norm finds it.
        backbone.add_module("feature_norm", nn.BatchNorm1d(num_features, affine=False))
    return backbone, num_features


@torch.no_grad()
def _features(backbone: nn.Module, loader) -> tuple[torch.Tensor, torch.Tensor]:
    """L2-normalised features `(N, D)` and labels `(N,)` of every image ``loader`` yields."""
    features, labels = [], []
    for images, targets, _ in loader:
        features.append(nn.functional.normalize(backbone(images), dim=1))
        labels.append(targets)
    return torch.cat(features), torch.cat(labels)


def main() -> None:
    """Trains, scores and prints one JSON result line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", choices=["simclr", "barlowtwins"], default="simclr")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--input-size", type=int, default=16)
    parser.add_argument("--pool-size", type=int, default=2)
    parser.add_argument("--num-stages", type=int, choices=[1, 2, 3, 4], default=4)
    parser.add_argument(
        "--feature-norm",
        action="store_true",
        help="end the backbone in a norm calibrated on 10,000 un-augmented training images",
    )
    parser.add_argument(
        "--hidden-dim", type=int, default=None, help="SimCLR head width (default: the features')"
    )
    parser.add_argument("--temperature", type=float, default=0.1)
    parser.add_argument(
        "--lr", type=float, default=None, help="per 256 images (SimCLR 0.06, Barlow Twins 0.001)"
    )
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--knn-k", type=int, default=20)
    parser.add_argument("--limit", type=int, default=None, help="train on every n-th image (smoke)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default="/tmp/selfsup_fashion_mnist")
    args = parser.parse_args()
    try:
        from lightly.data import LightlyDataset
        from lightly.loss import BarlowTwinsLoss, NTXentLoss
        from lightly.models.modules import BarlowTwinsProjectionHead, SimCLRProjectionHead
        from lightly.transforms import SimCLRTransform
        from lightly.transforms.utils import IMAGENET_NORMALIZE
        from lightly.utils.benchmarking import knn_predict
    except ImportError:
        print("lightly is not installed (pip install lightly==1.6.0); nothing to compare")
        sys.exit(0)
    if find_root() is None:
        print("dataset-fashion-mnist is not installed (apt-get install -y dataset-fashion-mnist)")
        sys.exit(0)

    torch.manual_seed(args.seed)
    train_dir, test_dir = write_folders(Path(args.data))
    transform = SimCLRTransform(
        input_size=args.input_size,
        cj_prob=0.8,
        cj_strength=1.0,
        cj_bright=0.8,
        cj_contrast=0.8,
        cj_sat=0.0,
        cj_hue=0.0,
        min_scale=0.25,
        random_gray_scale=0.0,
        gaussian_blur=0.0,
        hf_prob=0.5,
        rr_prob=0.0,
    )
    train_set = LightlyDataset(str(train_dir), transform=transform)
    if args.limit is not None:
        step = max(1, len(train_set) // args.limit)
        train_set = torch.utils.data.Subset(train_set, range(0, len(train_set), step))
    loader = torch.utils.data.DataLoader(
        train_set,
        batch_size=args.batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=args.workers,
        persistent_workers=args.workers > 0,
    )
    backbone, num_features = _backbone(args.pool_size, args.num_stages, args.feature_norm)
    steps = args.epochs * len(loader)
    if args.method == "simclr":
        hidden = args.hidden_dim or num_features
        model = nn.Sequential(backbone, SimCLRProjectionHead(num_features, hidden, 128))
        criterion = NTXentLoss(temperature=args.temperature)
        lr = (args.lr or 0.06) * args.batch_size / 256
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    else:
        model = nn.Sequential(backbone, BarlowTwinsProjectionHead(num_features, 1024, 1024))
        criterion = BarlowTwinsLoss()
        lr = (args.lr or 1e-3) * args.batch_size / 256
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-5)
        warmup = min(len(loader), steps)
        scheduler = torch.optim.lr_scheduler.SequentialLR(
            optimizer,
            [
                torch.optim.lr_scheduler.LinearLR(optimizer, 1 / warmup, 1.0, warmup),
                torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(1, steps - warmup)),
            ],
            milestones=[warmup],
        )

    started = time.perf_counter()
    model.train()
    for epoch in range(args.epochs):
        total, epoch_start = 0.0, time.perf_counter()
        for (view0, view1), _, _ in loader:
            loss = criterion(model(view0), model(view1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item()
        seconds = time.perf_counter() - epoch_start
        print(
            f"epoch {epoch}: loss {total / len(loader):.4f}, {seconds:.1f} s, "
            f"{_cpu_seconds():.1f} CPU-s so far (workers counted when they end)",
            flush=True,
        )
    del loader  # joins the workers, so their CPU time is counted

    plain = T.Compose(
        [
            T.Resize(args.input_size),
            T.CenterCrop(args.input_size),
            T.ToTensor(),
            T.Normalize(mean=IMAGENET_NORMALIZE["mean"], std=IMAGENET_NORMALIZE["std"]),
        ]
    )
    backbone.eval()
    if args.feature_norm:
        from selfsup.training import calibrate_feature_norm

        clean = LightlyDataset(str(train_dir), transform=plain)
        every = torch.utils.data.Subset(clean, range(0, len(clean), max(1, len(clean) // 10_000)))
        batches = torch.utils.data.DataLoader(every, 512)
        # selfsup's batches hold a list of views: ([images], targets, filenames).
        calibrate_feature_norm(backbone, (([x], y, n) for x, y, n in batches))
    bank, bank_labels = _features(
        backbone, torch.utils.data.DataLoader(LightlyDataset(str(train_dir), transform=plain), 512)
    )
    test, test_labels = _features(
        backbone, torch.utils.data.DataLoader(LightlyDataset(str(test_dir), transform=plain), 512)
    )
    predicted = torch.cat(
        [
            knn_predict(chunk, bank.T, bank_labels, 10, args.knn_k, 0.1)[:, 0]
            for chunk in test.split(1000)
        ]
    )
    result = {
        "library": "lightly",
        "method": args.method,
        "epochs": args.epochs,
        "num_stages": args.num_stages,
        "pool_size": args.pool_size,
        "feature_norm": args.feature_norm,
        "knn_top1": round((predicted == test_labels).float().mean().item(), 4),
        "knn_k": args.knn_k,
        "wall_s": round(time.perf_counter() - started, 1),
        "cpu_s": round(_cpu_seconds(), 1),
        "threads": torch.get_num_threads(),
        "workers": args.workers,
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
