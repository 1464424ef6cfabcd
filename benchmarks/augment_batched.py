"""Batched, on-device augmentation speed: selfsup.transforms.batched vs per-sample pipelines.

The batched path makes all views of a whole uint8 batch at once (``SimCLRBatchTransform``,
``DINOBatchTransform``); the per-sample path makes the views of one image at a time, as a
DataLoader worker does. Compared in the same run, alternating turns, median over repeats:

- ``selfsup batched``: ``SimCLRBatchTransform`` / ``DINOBatchTransform`` on a uint8 batch.
- ``kornia batched``: ``kornia.augmentation`` doing the same SimCLR pipeline on the batch (uint8 ->
  float included), when kornia is installed (benchmark-only, never a selfsup dependency).
- ``selfsup per-sample``: ``SimCLRTransform`` / ``DINOTransform`` on in-memory PIL images.
- ``lightly per-sample``: lightly's transforms, when ``import lightly`` works.

Plus, on CPU, the DataLoader worker's work per image (one thread): decode a JPEG + ``DecodeResize``
(the batched path's worker) vs decode + two per-sample SimCLR views.

Images are cut at random from ``skimage.data`` pictures: 32x32 for 32 px views, 256x256 (the size a
worker's ``DecodeResize(256)`` delivers) for 224 px views and DINO, 500x375 JPEGs for the worker.

Usage::

    .venv/bin/python benchmarks/augment_batched.py                      # CPU, one thread
    .venv/bin/python benchmarks/augment_batched.py --quick
    .venv/bin/python benchmarks/augment_batched.py --write-results      # update RESULTS.md
    python3 benchmarks/augment_batched.py --device cuda [--compile]    # on a GPU
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import PIL
import skimage.data
import torch
import torchvision
from PIL import Image

from selfsup.transforms import IMAGENET_NORMALIZE, DINOTransform, SimCLRTransform
from selfsup.transforms.batched import (
    BatchViewTransform,
    DecodeResize,
    DINOBatchTransform,
    SimCLRBatchTransform,
)
from selfsup.transforms.batched import _resampling as R
from selfsup.transforms.batched._dense_color import COMPILE_ENV

__all__ = ["main"]

RESULTS = Path(__file__).with_name("RESULTS.md")
SECTION = "## Batched augmentation (benchmarks/augment_batched.py)"
DATE = "2026-11-28"
SOURCES = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry", "retina", "cat")


def _pictures(count: int, width: int, height: int, seed: int = 0) -> list[Image.Image]:
    """``count`` RGB images of ``width`` x ``height`` cut at random from skimage pictures."""
    generator = torch.Generator().manual_seed(seed)
    pictures = [Image.fromarray(getattr(skimage.data, name)()).convert("RGB") for name in SOURCES]
    images = []
    for index in range(count):
        picture = pictures[index % len(pictures)]
        crop = int(min(picture.size) * (0.4 + 0.6 * torch.rand(1, generator=generator).item()))
        left = int(torch.randint(0, picture.width - crop + 1, (1,), generator=generator))
        top = int(torch.randint(0, picture.height - crop + 1, (1,), generator=generator))
        box = (left, top, left + crop, top + int(crop * height / width))
        box = (box[0], box[1], box[2], min(box[3], picture.height))
        images.append(picture.resize((width, height), Image.Resampling.BILINEAR, box=box))
    return images


def _batch(images: list[Image.Image], count: int) -> torch.Tensor:
    """A uint8 batch ``(count, 3, S, S)`` of the images (repeated as needed)."""
    tensors = [torch.from_numpy(np.array(im)).permute(2, 0, 1) for im in images]
    return torch.stack([tensors[i % len(tensors)] for i in range(count)]).contiguous()


def _kornia_simclr(size: int) -> Callable[[torch.Tensor], list[torch.Tensor]] | None:
    if importlib.util.find_spec("kornia") is None:
        return None
    import kornia.augmentation as K

    pipeline = K.AugmentationSequential(
        K.RandomResizedCrop((size, size), scale=(0.08, 1.0)),
        K.RandomHorizontalFlip(),
        K.ColorJitter(0.8, 0.8, 0.8, 0.2, p=0.8),
        K.RandomGrayscale(p=0.2),
        K.RandomGaussianBlur((13, 13), (0.1, 2.0), p=0.5),
        K.Normalize(
            torch.tensor(IMAGENET_NORMALIZE["mean"]), torch.tensor(IMAGENET_NORMALIZE["std"])
        ),
    )

    def run(batch: torch.Tensor) -> list[torch.Tensor]:
        images = batch.float().div_(255.0)
        return [pipeline(images), pipeline(images)]

    return run


def _lightly(name: str, **kwargs: Any) -> Callable[[Any], Any] | None:
    if importlib.util.find_spec("lightly") is None:
        return None
    try:
        import lightly.transforms as lightly_transforms
    except Exception:  # lightly installed without its dependencies: skip it
        return None
    return getattr(lightly_transforms, name)(**kwargs)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _alternate(
    contenders: dict[str, tuple[Callable[[], Any], int]], repeats: int, device: torch.device
) -> dict[str, list[float]]:
    """Images per second of each contender, one timed turn each per repeat, in alternation."""
    for run, _ in contenders.values():  # warm-up (allocator, kernels, lazy imports)
        run()
    _sync(device)
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, (run, count) in contenders.items():
            _sync(device)
            start = time.perf_counter()
            run()
            _sync(device)
            rates[name].append(count / (time.perf_counter() - start))
    return rates


def _per_sample(transform: Callable[[Any], Any], images: list[Image.Image]) -> Callable[[], Any]:
    return lambda: [transform(image) for image in images]


def _rows(setting: str, rates: dict[str, list[float]], reference: str) -> list[dict[str, Any]]:
    rows = []
    for name, values in rates.items():
        ratios = [r / o for r, o in zip(rates[reference], values, strict=True)]
        rows.append(
            {
                "setting": setting,
                "pipeline": name,
                "median": statistics.median(values),
                "low": min(values),
                "high": max(values),
                "ratio": statistics.median(ratios),
            }
        )
    return rows


def _cpu_settings(args: argparse.Namespace) -> list[dict[str, Any]]:
    device = torch.device("cpu")
    quick = args.quick
    rows: list[dict[str, Any]] = []
    small = _pictures(64, 32, 32)
    large = _pictures(32, 256, 256, seed=1)
    for setting, size, images, batch_size, per_sample_count in [
        ("SimCLR 32 (2 views)", 32, small, 512, 64 if quick else 128),
        ("SimCLR 224 (2 views)", 224, large, 64 if not quick else 32, 8 if quick else 16),
    ]:
        batch = _batch(images, batch_size)
        contenders: dict[str, tuple[Callable[[], Any], int]] = {
            "selfsup batched": (
                lambda b=batch, s=size: SimCLRBatchTransform(input_size=s)(b),
                batch_size,
            )
        }
        kornia_run = _kornia_simclr(size)
        if kornia_run is not None:
            contenders["kornia batched"] = (lambda b=batch, k=kornia_run: k(b), batch_size)
        subset = images[:per_sample_count]
        contenders["selfsup per-sample"] = (
            _per_sample(SimCLRTransform(input_size=size), subset),
            len(subset),
        )
        lightly = _lightly("SimCLRTransform", input_size=size)
        if lightly is not None:
            contenders["lightly per-sample"] = (_per_sample(lightly, subset), len(subset))
        rows += _rows(setting, _alternate(contenders, args.repeats, device), "selfsup batched")
    batch = _batch(large, 64 if not quick else 16)
    subset = large[: 4 if quick else 8]
    contenders = {
        "selfsup batched": (lambda: DINOBatchTransform()(batch), batch.shape[0]),
        "selfsup per-sample": (_per_sample(DINOTransform(), subset), len(subset)),
    }
    lightly = _lightly("DINOTransform")
    if lightly is not None:
        contenders["lightly per-sample"] = (_per_sample(lightly, subset), len(subset))
    rows += _rows(
        "DINO 2x224 + 6x96", _alternate(contenders, args.repeats, device), "selfsup batched"
    )
    rows += _worker_rows(args)
    return rows


def _worker_rows(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Worker CPU work per image: decode + DecodeResize vs decode + two per-sample views."""
    device = torch.device("cpu")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        for setting, side, size, view in [
            ("worker 500x375 JPEG -> 224 views", (500, 375), 256, 224),
            ("worker 32x32 JPEG -> 32 views", (32, 32), 32, 32),
        ]:
            count = 16 if args.quick else 48
            if side[0] <= 64:
                count *= 8
            paths = []
            for index, image in enumerate(_pictures(count, *side, seed=2)):
                path = Path(folder) / f"{side[0]}_{index:04d}.jpg"
                image.save(path, quality=90)
                paths.append(path)
            resize = DecodeResize(size)
            simclr = SimCLRTransform(input_size=view)

            def decode(path: Path) -> Image.Image:
                with Image.open(path) as image:
                    return image.convert("RGB")

            contenders: dict[str, tuple[Callable[[], Any], int]] = {
                "decode + DecodeResize": (lambda r=resize, p=paths: [r(x) for x in p], count),
                "decode + 2 selfsup views": (
                    lambda t=simclr, p=paths: [t(decode(x)) for x in p],
                    count,
                ),
            }
            lightly = _lightly("SimCLRTransform", input_size=view)
            if lightly is not None:
                contenders["decode + 2 lightly views"] = (
                    lambda t=lightly, p=paths: [t(decode(x)) for x in p],
                    count,
                )
            rows += _rows(
                setting, _alternate(contenders, args.repeats, device), "decode + DecodeResize"
            )
    return rows


def _without_compile(run: Callable[[], Any]) -> Callable[[], Any]:
    """``run`` with the CUDA colour steps on selected samples only (SELFSUP_COMPILE_AUGMENT=0)."""

    def wrapped() -> Any:
        os.environ[COMPILE_ENV] = "0"
        try:
            return run()
        finally:
            del os.environ[COMPILE_ENV]

    return wrapped


def _cuda_settings(args: argparse.Namespace) -> list[dict[str, Any]]:
    device = torch.device("cuda")
    rows: list[dict[str, Any]] = []
    small = _pictures(64, 32, 32)
    large = _pictures(32, 256, 256, seed=1)
    cases = []
    for batch_size in (256, 512):
        cases.append(
            (
                f"SimCLR 224 (2 views), B={batch_size}",
                SimCLRBatchTransform(input_size=224),
                large,
                batch_size,
            )
        )
        cases.append(
            (f"DINO 2x224 + 6x96, B={batch_size}", DINOBatchTransform(), large, batch_size)
        )
    cases.append(("SimCLR 32 (2 views), B=512", SimCLRBatchTransform(input_size=32), small, 512))
    cases.append(("SimCLR 32 (2 views), B=4096", SimCLRBatchTransform(input_size=32), small, 4096))
    for setting, transform, images, batch_size in cases:
        # Each setting compiles afresh, as one training run (one batch shape) would: otherwise
        # torch.compile's automatic dynamic shapes would carry shape-generic kernels over.
        torch._dynamo.reset()
        batch = _batch(images, batch_size).to(device)
        contenders: dict[str, tuple[Callable[[], Any], int]] = {
            "selfsup batched": (lambda t=transform, b=batch: t(b), batch_size)
        }
        if "32" not in setting:
            contenders["selfsup batched, colour on subsets (no compile)"] = (
                _without_compile(lambda t=transform, b=batch: t(b)),
                batch_size,
            )
        if args.compile and "SimCLR 224" in setting:
            compiled = torch.compile(transform.__call__, dynamic=False)
            contenders["selfsup batched, torch.compile"] = (
                lambda c=compiled, b=batch: c(b),
                batch_size,
            )
        if "SimCLR" in setting:
            kornia_run = _kornia_simclr(224 if "224" in setting else 32)
            if kornia_run is not None:
                contenders["kornia batched"] = (lambda k=kornia_run, b=batch: k(b), batch_size)
        try:
            rates = _alternate(contenders, args.repeats, device)
        except Exception as error:  # e.g. torch.compile failing: report and keep going
            print(f"{setting}: {type(error).__name__}: {error}")
            contenders = {"selfsup batched": contenders["selfsup batched"]}
            rates = _alternate(contenders, args.repeats, device)
        rows += _rows(setting, rates, "selfsup batched")
    return rows


def _cuda_breakdown() -> str:
    """Milliseconds per step of one SimCLR 224 view at B=512 (CUDA), and CPU-vs-CUDA agreement."""
    device = torch.device("cuda")
    torch._dynamo.reset()  # static kernels for this shape, as in one training run
    batch = _batch(_pictures(32, 256, 256, seed=1), 512).to(device)
    transform = BatchViewTransform(input_size=224)
    params = transform.make_params(512, 256, 256, device)
    x0, y0, x1, y1 = params["boxes"].unbind(1)
    taps = (
        R.axis_taps(x0, x1 - x0, 224, 256, "bilinear", None),
        R.axis_taps(y0, y1 - y0, 224, 256, "bilinear", None),
    )
    steps = {
        "all": lambda: transform.transform(batch, params),
        "crop only": lambda: BatchViewTransform(
            input_size=224,
            hf_prob=0.5,
            cj_prob=0.0,
            random_gray_scale=0.0,
            gaussian_blur=0.0,
            normalize=None,
        ).transform(batch, params),
        "crop + jitter": lambda: BatchViewTransform(
            input_size=224, random_gray_scale=0.0, gaussian_blur=0.0, normalize=None
        ).transform(batch, params),
        "crop + jitter, subsets (no compile)": _without_compile(
            lambda: BatchViewTransform(
                input_size=224, random_gray_scale=0.0, gaussian_blur=0.0, normalize=None
            ).transform(batch, params)
        ),
        "all, subsets (no compile)": _without_compile(lambda: transform.transform(batch, params)),
        "crop + blur": lambda: BatchViewTransform(
            input_size=224, cj_prob=0.0, random_gray_scale=0.0, normalize=None
        ).transform(batch, params),
        "make_params": lambda: transform.make_params(512, 256, 256, device),
        "resampling as matrix products (default on GPU)": lambda: R._resample_dense(batch, *taps),
        "resampling by gathering taps (default on CPU)": lambda: R._resample_gather(batch, *taps),
    }
    lines = []
    for name, run in steps.items():
        run()
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(5):
            run()
        torch.cuda.synchronize()
        lines.append(f"{name}: {(time.perf_counter() - start) / 5 * 1000:.2f} ms")
    small = batch[:16]
    small_params = transform.make_params(16, 256, 256, device)
    on_cuda = transform.transform(small, small_params).cpu()  # compiled colour steps
    on_cpu = transform.transform(small.cpu(), {k: v.cpu() for k, v in small_params.items()})
    lines.append(f"CPU vs CUDA max abs difference: {(on_cuda - on_cpu).abs().max().item():.2e}")
    return "; ".join(lines)


def _table(rows: list[dict[str, Any]], reference_label: str) -> str:
    lines = [
        f"| setting | pipeline | images/s (median) | min - max | {reference_label} |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row['setting']} | {row['pipeline']} | {row['median']:.1f} | "
            f"{row['low']:.1f} - {row['high']:.1f} | x{row['ratio']:.2f} |"
        )
    return "\n".join(lines)


def _write_subsection(title: str, text: str) -> None:
    content = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    start = content.find(SECTION)
    if start < 0:
        content = content.rstrip("\n") + f"\n\n{SECTION}\n"
        start = content.find(SECTION)
    end = content.find("\n## ", start + len(SECTION))
    end = len(content) if end < 0 else end
    section = content[start:end]
    sub_start = section.find(title)
    if sub_start < 0:
        section = section.rstrip("\n") + f"\n\n{text}\n"
    else:
        sub_end = section.find("\n### ", sub_start + len(title))
        sub_end = len(section) if sub_end < 0 else sub_end
        section = section[:sub_start] + text + "\n" + section[sub_end:]
    RESULTS.write_text(
        (content[:start] + section.rstrip("\n") + "\n" + content[end:]).rstrip("\n") + "\n"
    )


def main() -> None:
    """Runs the benchmark and prints (optionally records) the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer images and repeats")
    parser.add_argument(
        "--compile", action="store_true", help="also time torch.compile (cuda, SimCLR 224 only)"
    )
    parser.add_argument("--write-results", action="store_true", help="update benchmarks/RESULTS.md")
    args = parser.parse_args()
    if args.quick:
        args.repeats = min(args.repeats, 3)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    versions = f"torch {torch.__version__}, torchvision {torchvision.__version__}, Pillow {PIL.__version__}"
    for name in ("lightly", "kornia"):
        if importlib.util.find_spec(name) is not None:
            versions += f", {name} {importlib.import_module(name).__version__}"
    command = "python benchmarks/augment_batched.py " + " ".join(
        a for a in sys.argv[1:] if a != "--write-results"
    )
    if args.device == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: no CUDA device available")
        rows = _cuda_settings(args)
        title = "### CUDA"
        header = (
            f"{title} ({torch.cuda.get_device_name()})\n\nDate: {DATE}. Command: `{command.strip()}`"
            f" ({args.repeats} repeats). uint8 batches already on the GPU, "
            f"torch.cuda.synchronize around every timed call; {versions}.\n"
            f"Breakdown (one SimCLR 224 view, B=512): {_cuda_breakdown()}.\n"
        )
        reference_label = "batched / row"
    else:
        rows = _cpu_settings(args)
        title = "### CPU"
        header = (
            f"{title}\n\nDate: {DATE}. Command: `.venv/bin/{command.strip()}` ({args.repeats} "
            f"repeats, {args.threads} torch thread(s)), {platform.machine()} with "
            f"{os.cpu_count()} cores shared with other jobs; {versions}.\n"
            "Per-sample pipelines work on in-memory PIL images, batched ones on uint8 batches "
            "(32x32 for 32 px views, 256x256 for 224 px views and DINO); the last column is the "
            "median over repeats of the first row's images/s divided by the row's (for the "
            "worker rows: how many times cheaper DecodeResize is).\n"
        )
        reference_label = "first row / row"
    text = header + "\n" + _table(rows, reference_label) + "\n"
    print(text)
    if args.write_results:
        _write_subsection(title, text)


if __name__ == "__main__":
    main()
