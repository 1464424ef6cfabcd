"""Training throughput of SimCLR with a ResNet-18: images/s and where the time goes.

At 32 px the backbone is selfsup's 3x3-stem ResNet-18, at 224 px torchvision's (the defaults of
``selfsup train``).

Each timed step is: wait for the next batch from the DataLoader, then (batched path) make the
two SimCLR views of the uint8 batch on the device, forward, backward and optimizer step in the
main process. Per-sample path: the workers decode and make both views with PIL; batched path
(``augment=batched``): the workers only decode and resize to uint8 (``DecodeResize``). The
data-wait share is the fraction of wall time the main process spent waiting for batches.
``--memory-format contiguous channels_last`` compares NCHW with NHWC weights and views (what
``selfsup train channels_last=...`` switches).

    .venv/bin/python benchmarks/train_speed.py              # 32 px and 224 px on the CPU
    .venv/bin/python benchmarks/train_speed.py --device cuda --sizes 224 --batch-size 256 \
        --augment per_sample batched
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader

from selfsup.data import ImageDataset, MultiViewCollate
from selfsup.methods import create_method
from selfsup.training import OptimizerConfig, build_optimizer
from selfsup.transforms import SimCLRTransform
from selfsup.transforms.batched import DecodeResize, SimCLRBatchTransform


def _write_images(folder: Path, count: int, side: int) -> None:
    rng = np.random.default_rng(0)
    suffix = ".jpg" if side > 64 else ".png"
    for index in range(count):
        base = rng.integers(0, 256, (side // 8, side // 8, 3), dtype=np.uint8)
        image = Image.fromarray(base).resize((side, side), Image.Resampling.BILINEAR)
        image.save(folder / f"{index:05d}{suffix}", quality=90)


def measure(
    size: int, augment: str, memory_format: str, args: argparse.Namespace
) -> dict[str, float]:
    """Times ``args.steps`` training steps at view size ``size`` after ``args.warmup`` steps."""
    layout = torch.channels_last if memory_format == "channels_last" else torch.contiguous_format
    source_side = 256 if size > 64 else size
    with tempfile.TemporaryDirectory() as tmp:
        _write_images(Path(tmp), args.images, source_side)
        if augment == "batched":
            stored = size if size <= 64 else round(size * 8 / 7)
            dataset = ImageDataset(
                tmp, transform=DecodeResize(stored), draft_size=stored, decode_to_tensor=True
            )
            batch_transform = SimCLRBatchTransform(input_size=size)
        else:
            transform = SimCLRTransform(input_size=size)
            dataset = ImageDataset(tmp, transform=transform, draft_size=4 * size)
            batch_transform = None
        loader = DataLoader(
            dataset,
            batch_size=args.batch_size,
            shuffle=True,
            drop_last=True,
            num_workers=args.workers,
            persistent_workers=args.workers > 0,
            collate_fn=MultiViewCollate(),
            pin_memory=args.device.startswith("cuda"),
        )
        # selfsup's 3x3-stem ResNet-18 for small images, torchvision's 7x7-stem one above 64 px
        # (what `selfsup train` picks by default).
        backbone = args.backbone or ("resnet-18" if size <= 64 else "torchvision/resnet18")
        kwargs = {} if args.width is None else {"backbone_kwargs": {"width": args.width}}
        method = create_method("simclr", backbone=backbone, **kwargs)
        method = method.to(args.device, memory_format=layout)
        optimizer = build_optimizer(method, OptimizerConfig(), args.batch_size)
        waits, computes = [], []
        batches = iter(loader)
        for step in range(args.warmup + args.steps):
            start = time.perf_counter()
            try:
                views, _, _ = next(batches)
            except StopIteration:
                batches = iter(loader)
                views, _, _ = next(batches)
            fetched = time.perf_counter()
            views = [v.to(args.device, non_blocking=True) for v in views]
            if batch_transform is not None:
                views = batch_transform(views[0])
            views = [v.contiguous(memory_format=layout) for v in views]
            loss = method.training_loss(views)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            done = time.perf_counter()
            if step >= args.warmup:
                waits.append(fetched - start)
                computes.append(done - fetched)
    total = sum(waits) + sum(computes)
    return {
        "images_per_s": args.steps * args.batch_size / total,
        "data_wait_share": sum(waits) / total,
        "median_wait_s": statistics.median(waits),
        "median_compute_s": statistics.median(computes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 224])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2, help="torch threads of the main process")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--backbone", default=None, help="default: what selfsup train picks")
    parser.add_argument("--width", type=float, default=None, help="width of selfsup's ResNets")
    parser.add_argument(
        "--memory-format",
        nargs="+",
        choices=["contiguous", "channels_last"],
        default=["contiguous", "channels_last"],
    )
    parser.add_argument(
        "--augment", nargs="+", choices=["per_sample", "batched"], default=["per_sample", "batched"]
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(
        f"torch {torch.__version__}, device {args.device}, batch {args.batch_size}, "
        f"workers {args.workers}, main-process threads {args.threads}, {args.steps} timed steps"
    )
    print(
        "| view size | augment | memory | images/s | data-wait share | median wait s "
        "| median compute s |"
    )
    print("|---:|---|---|---:|---:|---:|---:|")
    for size in args.sizes:
        for augment in args.augment:
            for memory_format in args.memory_format:
                result = measure(size, augment, memory_format, args)
                print(
                    f"| {size} | {augment} | {memory_format} | {result['images_per_s']:.1f} | "
                    f"{result['data_wait_share']:.0%} | {result['median_wait_s']:.3f} | "
                    f"{result['median_compute_s']:.3f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
