"""Memory of ``selfsup.embed`` over a large folder: flat apart from the `(N, D)` embeddings.

Makes a folder of N small JPEGs (default 100,000 of 64x64 px in 100 class subfolders: one random
base picture, each file re-encoded with its own index drawn into a corner, written by a process
pool), builds an untrained run folder (``resnet-9`` width 0.25, ``backbone.pt`` + ``config.yaml``)
and runs :func:`selfsup.embed` on it in this process, while a thread reads the resident set size
(``VmRSS`` of ``/proc/self/status``) every 0.5 s. Images processed are counted by the
preprocessing transform (``num_workers=0``: the transform runs in this process).

Reported: RSS before embedding, at 10k / 50k / 100k images processed (the first sample at or
after each mark), the peak while embedding and while writing the CSV and ``.npy``, and the same
figures less the embedding rows filled so far (``images x D x 4`` bytes): that difference staying
flat shows the embeddings are the only thing that grows. The CSV is written row by row by
``selfsup.utils.io.save_embeddings``; its peak is reported separately.

Usage::

    .venv/bin/python benchmarks/embed_memory.py                  # 100,000 images (minutes)
    .venv/bin/python benchmarks/embed_memory.py --n 20000 --marks 5000 10000 20000
    .venv/bin/python benchmarks/embed_memory.py --write-results  # also update RESULTS.md
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from PIL import Image

import selfsup
from selfsup.models import get_backbone
from selfsup.transforms import EvalTransform

__all__ = ["main"]

RESULTS = Path(__file__).with_name("RESULTS.md")
SECTION = "## Embedding memory (benchmarks/embed_memory.py)"
DATE = "2026-11-28"
CLASSES = 100
MiB = 2**20

# the module, not the function that selfsup.pipeline re-exports under the same name
embed_module = importlib.import_module("selfsup.pipeline.embed")


def _write_chunk(args: tuple[str, int, int, int, int]) -> None:
    """Writes images ``start..stop-1``: the base picture with the index drawn as 16 bits."""
    root, start, stop, side, seed = args
    generator = torch.Generator().manual_seed(seed)
    base = torch.randint(0, 256, (side, side, 3), generator=generator, dtype=torch.uint8).numpy()
    for index in range(start, stop):
        pixels = base.copy()
        bits = np.array([(index >> b) & 1 for b in range(16)], dtype=np.uint8) * 255
        pixels[:4, :16] = bits[None, :, None]
        folder = Path(root) / f"c{index % CLASSES:03d}"
        Image.fromarray(pixels).save(folder / f"{index:06d}.jpg", quality=90)


def make_folder(root: Path, n: int, side: int, processes: int = 2) -> float:
    """Writes ``n`` JPEGs of ``side`` x ``side`` under ``root``; returns the seconds it took."""
    start = time.perf_counter()
    for label in range(CLASSES):
        (root / f"c{label:03d}").mkdir(parents=True, exist_ok=True)
    step = 2000
    chunks = [(str(root), a, min(a + step, n), side, 0) for a in range(0, n, step)]
    with multiprocessing.Pool(processes) as pool:
        pool.map(_write_chunk, chunks)
    return time.perf_counter() - start


def make_run(root: Path, input_size: int) -> Path:
    """An untrained run folder: resnet-9 width 0.25 (D = 128)."""
    root.mkdir(parents=True, exist_ok=True)
    config = {"backbone": "resnet-9", "width": 0.25, "input_size": input_size}
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    backbone, _ = get_backbone("resnet-9", width=0.25)
    torch.save(backbone.state_dict(), root / "backbone.pt")
    return root


def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS line in /proc/self/status")


class _Progress:
    """Counts images preprocessed and the phase (index, embed, write) the run is in."""

    def __init__(self) -> None:
        self.images = 0
        self.phase = "index"


class _CountingTransform(EvalTransform):
    progress = _Progress()

    def __call__(self, image: Any) -> torch.Tensor:
        self.progress.phase = "embed"
        self.progress.images += 1
        return super().__call__(image)


class _Sampler(threading.Thread):
    """Samples ``(seconds, phase, images, rss)`` every ``interval`` seconds."""

    def __init__(self, progress: _Progress, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.progress, self.interval = progress, interval
        self.samples: list[tuple[float, str, int, int]] = []
        self.stop = threading.Event()
        self.start_time = time.perf_counter()

    def sample(self) -> None:
        now = time.perf_counter() - self.start_time
        self.samples.append((now, self.progress.phase, self.progress.images, _rss_bytes()))

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.sample()


def measure(data: Path, run: Path, out: Path, batch_size: int, dim: int) -> dict[str, Any]:
    """Runs selfsup.embed on ``data`` with the RSS sampler; returns the samples and timings."""
    progress = _CountingTransform.progress
    original_save = embed_module.save_embeddings

    def save_with_phase(*args: Any, **kwargs: Any) -> None:
        progress.phase = "write"
        original_save(*args, **kwargs)

    embed_module.EvalTransform = _CountingTransform
    embed_module.save_embeddings = save_with_phase
    sampler = _Sampler(progress)
    sampler.sample()
    sampler.start()
    start = time.perf_counter()
    try:
        result = selfsup.embed(
            checkpoint=str(run), data=str(data), out=str(out), batch_size=batch_size
        )
    finally:
        sampler.stop.set()
        sampler.join()
        embed_module.EvalTransform = EvalTransform
        embed_module.save_embeddings = original_save
    sampler.sample()
    seconds = time.perf_counter() - start
    if result.embeddings.shape[1] != dim:
        raise RuntimeError(f"expected D={dim}, got {result.embeddings.shape}")
    return {"samples": sampler.samples, "seconds": seconds, "rows": len(result.embeddings)}


def summarise(measured: dict[str, Any], marks: list[int], dim: int) -> list[dict[str, Any]]:
    """Rows of the table: RSS at the marks and the peaks, with and without the embeddings."""
    samples = measured["samples"]
    base = samples[0][3]
    rows = []

    def row(label: str, images: int, rss: int) -> None:
        grown = (rss - base) / MiB
        rows.append(
            {
                "point": label,
                "images": images,
                "rss_mib": rss / MiB,
                "grown_mib": grown,
                "embeddings_mib": images * dim * 4 / MiB,
                "other_mib": grown - images * dim * 4 / MiB,
            }
        )

    embedding = [s for s in samples if s[1] == "embed"]
    before = [s for s in samples if s[1] == "index"]
    row("after indexing (start of embedding)", 0, before[-1][3] if before else base)
    for mark in marks:
        reached = [s for s in embedding if s[2] >= mark]
        if reached:
            row(f"{mark:,} images embedded", reached[0][2], reached[0][3])
    if embedding:
        peak = max(embedding, key=lambda s: s[3])
        row("peak while embedding", peak[2], peak[3])
    writing = [s for s in samples if s[1] == "write"]
    if writing:
        peak = max(writing, key=lambda s: s[3])
        row("peak while writing CSV + .npy", measured["rows"], peak[3])
    return rows


def windows(
    measured: dict[str, Any], n: int, dim: int, count: int = 10
) -> list[tuple[int, int, float, float]]:
    """``(low, high, median, max)`` of the RSS growth less the embedding rows filled so far,
    over the samples taken while ``low <= images < high``, for ``count`` windows of ``n``."""
    base = measured["samples"][0][3]
    out = []
    for k in range(count):
        low, high = n * k // count, n * (k + 1) // count
        other = [
            (rss - base - images * dim * 4) / MiB
            for _, phase, images, rss in measured["samples"]
            if phase == "embed" and low <= images < high
        ]
        if other:
            out.append((low, high, float(np.median(other)), max(other)))
    return out


def _table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| point | images | RSS MiB | grown MiB | of which embeddings (N x D x 4) | other MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['point']} | {r['images']:,} | {r['rss_mib']:.1f} | {r['grown_mib']:.1f} | "
            f"{r['embeddings_mib']:.1f} | {r['other_mib']:.1f} |"
        )
    return "\n".join(lines)


def _write_results(text: str) -> None:
    content = RESULTS.read_text() if RESULTS.is_file() else "# Benchmark results\n"
    if SECTION in content:
        head, _, tail = content.partition(SECTION)
        following = tail.find("\n## ")
        tail = tail[following + 1 :] if following >= 0 else ""
        content = head + text + ("\n" + tail if tail else "")
    else:
        content = content.rstrip("\n") + "\n\n" + text
    RESULTS.write_text(content)


def main(argv: list[str] | None = None) -> None:
    """Runs the benchmark and prints (optionally records) the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="images in the folder")
    parser.add_argument("--side", type=int, default=64, help="side of the JPEGs")
    parser.add_argument("--input-size", type=int, default=32, help="center-crop size embedded")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--marks", type=int, nargs="+", default=[10_000, 50_000, 100_000])
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--folder", type=Path, help="reuse (or create) the images here")
    parser.add_argument("--write-results", action="store_true")
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        data = args.folder or tmp_path / "images"
        existing = sum(1 for _ in data.glob("*/*.jpg")) if data.is_dir() else 0
        if existing != args.n:
            print(f"writing {args.n:,} JPEGs of {args.side}x{args.side} to {data} ...")
            print(f"  {make_folder(data, args.n, args.side):.1f} s")
        run = make_run(tmp_path / "run", args.input_size)
        out = tmp_path / "embeddings.csv"
        dim = 128
        measured = measure(data, run, out, args.batch_size, dim)
        rows = summarise(measured, args.marks, dim)
        csv_mib = out.stat().st_size / MiB
    table = _table(rows)
    timeline = "; ".join(
        f"{low // 1000}-{high // 1000}k: {median:.0f} / {peak:.0f}"
        for low, high, median, peak in windows(measured, args.n, dim)
    )
    text = (
        f"{SECTION}\n\n"
        f"Date: {DATE}. Command: "
        f"`{' '.join(['.venv/bin/python', 'benchmarks/embed_memory.py', *argv])}` "
        f"({args.n:,} JPEGs of {args.side}x{args.side} px in {CLASSES} class folders, "
        f"embedded at {args.input_size} px by an untrained resnet-9 width 0.25, D = {dim}, "
        f"batch {args.batch_size}, num_workers 0, {args.threads} torch threads). "
        f"{platform.machine()} with 2 cores shared with other jobs; torch {torch.__version__}. "
        f"RSS is VmRSS of the process, sampled every 0.5 s. Embedding + writing took "
        f"{measured['seconds']:.0f} s ({measured['rows'] / measured['seconds']:.0f} images/s "
        f"end to end); the CSV is {csv_mib:.0f} MiB.\n\n"
        f"{table}\n\n"
        f"RSS less the embedding rows filled so far, per window of images embedded "
        f"(median / max MiB above the start): {timeline}.\n"
    )
    print(text)
    if args.write_results:
        _write_results(text)


if __name__ == "__main__":
    main()
