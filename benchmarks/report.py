"""Build time and file size of ``selfsup report`` on 50,000 images (and the page's load time).

For each image kind a folder of ``--rows`` images and an embeddings CSV are made once (cached in
``--workdir``), a selection with near-duplicate groups is made with ``selfsup.select``, then the
report is built in a fresh subprocess (wall time, peak memory) with the default caps
(``max_points`` 20,000, ``max_thumbnails`` 10,000, ``max_thumbnail_mb`` 20, 64 px JPEG q70) and,
with ``--browser``, opened in headless Chromium (time until the map is drawn). Image kinds:

- ``fmnist``: the first ``--rows`` Fashion-MNIST images (28x28 grey PNGs in class folders),
  embeddings = their pixels PCA'd to 128 dimensions plus noise (needs the Debian package
  ``dataset-fashion-mnist``; skipped when absent);
- ``photos``: 96x96 JPEG crops of scikit-image's sample photographs (64 px thumbnails),
  embeddings = a 128-dimensional Gaussian mixture.

Usage:
    python benchmarks/report.py --rows 50000 --kinds fmnist photos --threads 1 --browser
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from select_speed import fashion_mnist_pixels, make_embeddings  # noqa: E402

__all__ = ["main", "make_folder"]

_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry")


def _photo_sources() -> list[np.ndarray]:
    from skimage import data

    return [np.asarray(getattr(data, name)())[..., :3] for name in _PHOTOS]


def make_folder(kind: str, rows: int, root: Path) -> tuple[Path, Path]:
    """Writes ``rows`` images under ``root/data`` and ``root/embeddings.csv`` (once; cached).

    Returns:
        ``(data folder, embeddings CSV)``.
    """
    from selfsup.utils.io import save_embeddings

    folder, csv_path = root / "data", root / "embeddings.csv"
    if csv_path.is_file():
        return folder, csv_path
    generator = torch.Generator().manual_seed(0)
    names, labels = [], []
    if kind == "fmnist":
        loaded = fashion_mnist_pixels()
        if loaded is None:
            raise FileNotFoundError("dataset-fashion-mnist is not installed")
        pixels, targets = loaded
        for i in range(rows):
            label = int(targets[i])
            names.append(f"class_{label}/{i:05d}.png")
            labels.append(label)
            path = folder / names[-1]
            path.parent.mkdir(parents=True, exist_ok=True)
            image = (pixels[i].reshape(28, 28) * 255).round().astype(np.uint8)
            Image.fromarray(image).save(path)
        x = make_embeddings("fmnist", rows)
    elif kind == "photos":
        sources = _photo_sources()
        for i in range(rows):
            label = i % len(sources)
            source = sources[label]
            top = int(torch.randint(source.shape[0] - 96, (1,), generator=generator))
            left = int(torch.randint(source.shape[1] - 96, (1,), generator=generator))
            names.append(f"{_PHOTOS[label]}/{i:05d}.jpg")
            labels.append(label)
            path = folder / names[-1]
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(source[top : top + 96, left : left + 96]).save(path, quality=90)
        x = make_embeddings("mixture", rows)
    else:
        raise ValueError(f"unknown kind {kind!r}; use fmnist or photos")
    save_embeddings(csv_path, x, labels, names)
    return folder, csv_path


def _build(args: argparse.Namespace) -> dict:
    from selfsup.pipeline.report import report

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    result = report(
        args.csv, data=args.data, selection=args.selection, out=args.out, projection=args.projection
    )
    summary = dict(result.summary)
    summary["wall_seconds"] = round(time.perf_counter() - start, 1)
    summary["peak_mb"] = _peak_mb()
    return summary


def _peak_mb() -> int:
    """Peak resident memory of this process (VmHWM: unlike ``ru_maxrss`` it starts afresh at
    ``exec``, so the parent's memory is not counted)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _browser_seconds(page: Path) -> dict:
    """Seconds until the page's map is drawn, and for one full redraw, in headless Chromium."""
    import shutil

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        start = time.perf_counter()
        driver.get(page.as_uri())
        driver.execute_script("return window.selfsupReport.ready")
        load = time.perf_counter() - start
        redraw_ms = driver.execute_script(
            "var t = performance.now(); window.selfsupReport.setColorBy('cluster');"
            "return performance.now() - t;"
        )
    finally:
        driver.quit()
    return {"load_seconds": round(load, 2), "redraw_ms": round(redraw_ms, 1)}


def main() -> None:
    """Prepares the folders, builds each report in a subprocess and prints a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--kinds", nargs="+", default=["fmnist", "photos"])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/selfsup-report-bench"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--projection", default="pca")
    parser.add_argument("--browser", action="store_true", help="time the page in Chromium")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    for hidden in ("--csv", "--data", "--selection", "--out"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_build(args)))
        return
    from selfsup.pipeline import select

    rows = []
    for kind in args.kinds:
        if kind == "fmnist" and fashion_mnist_pixels() is None:
            print(f"{kind}: skipped, dataset-fashion-mnist is not installed")
            continue
        root = args.workdir / f"{kind}-{args.rows}"
        start = time.perf_counter()
        data, csv_path = make_folder(kind, args.rows, root)
        prepared = time.perf_counter() - start
        start = time.perf_counter()
        selection = select(
            csv_path, n=1000, strategy="random", dedup_threshold=0.98, out=str(root / "sel")
        )
        selected_seconds = time.perf_counter() - start
        out = root / "report.html"
        cmd = [sys.executable, __file__, "--one", "--threads", str(args.threads)]
        cmd += ["--csv", str(csv_path), "--data", str(data), "--out", str(out)]
        cmd += ["--selection", str(root / "sel" / "selected_filenames.txt")]
        cmd += ["--projection", args.projection]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{kind}: failed: {done.stderr.strip().splitlines()[-1]}")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result.update(kind=kind, prepare_seconds=round(prepared, 1))
        result.update(select_seconds=round(selected_seconds, 1))
        result["groups_found"] = selection.summary.get("num_groups")
        if args.browser:
            result.update(_browser_seconds(out))
        print(json.dumps(result), flush=True)
        rows.append(result)
    print(
        "| images | N | drawn | thumbnails | thumbnails MB | file MB | build s | peak MB |"
        " load s (Chromium) | redraw ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['kind']} | {r['points']:,} | {r['drawn']:,} | {r['thumbnails']:,} | "
            f"{r['thumbnail_mb']:.1f} | {r['file_mb']:.1f} | {r['wall_seconds']} | "
            f"{r['peak_mb']:,} | {r.get('load_seconds', '-')} | {r.get('redraw_ms', '-')} |"
        )


if __name__ == "__main__":
    main()
