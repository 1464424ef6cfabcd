"""Times indexing a large image folder against a bare ``os.walk`` listing of it.

lightly's dataset indexed folders about 10x slower than listing them (lightly-ai/lightly#384).
This script writes ``--count`` copies of one tiny valid PNG (zero-padded names, spread over
``--classes`` subfolders) unless the folder already holds them, then reports, best of
``--repeat`` runs each:

- ``os.walk``: listing every file (the floor any indexer pays);
- ``os.walk`` plus building the sorted relative names (what every indexer must output);
- ``index_image_folder(verify_headers=False)``: the scandir walk, filter and sort;
- ``ImageDataset(...)``: the default path, including the 32-byte header check per file.

Usage:
    python benchmarks/indexing.py --dir /tmp/selfsup_index_bench --count 100000
"""

from __future__ import annotations

import argparse
import io
import os
import time
from collections.abc import Callable

from PIL import Image

from selfsup.data import ImageDataset, index_image_folder

__all__ = ["main"]


def _populate(root: str, count: int, classes: int) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (12, 34, 56)).save(buffer, format="PNG")
    payload = buffer.getvalue()
    width = len(str(count - 1))
    for index in range(count):
        folder = os.path.join(root, f"class_{index % classes:03d}")
        if index < classes:
            os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"{index:0{width}d}.png"), "wb") as handle:
            handle.write(payload)


def _count_files(root: str) -> int:
    return sum(len(files) for _, _, files in os.walk(root))


def _list_relative_sorted(root: str) -> int:
    names: list[str] = []
    for directory, _, files in os.walk(root):
        relative = os.path.relpath(directory, root)
        prefix = "" if relative == "." else relative.replace(os.sep, "/") + "/"
        names.extend(prefix + name for name in files)
    names.sort()
    return len(names)


def _best_of(repeat: int, run: Callable[[], int]) -> tuple[float, int]:
    best, result = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    """Parses the command line, prepares the folder and prints the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="/tmp/selfsup_index_bench")
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    if not os.path.isdir(args.dir) or _count_files(args.dir) != args.count:
        print(f"writing {args.count} PNG files to {args.dir} ...")
        _populate(args.dir, args.count, args.classes)

    timings = {
        "os.walk listing": lambda: _count_files(args.dir),
        "os.walk + relative names + sort": lambda: _list_relative_sorted(args.dir),
        "index_image_folder(verify_headers=False)": lambda: len(
            index_image_folder(args.dir, verify_headers=False).filenames
        ),
        "ImageDataset (header check on)": lambda: len(ImageDataset(args.dir)),
    }
    for name, run in timings.items():
        seconds, found = _best_of(args.repeat, run)
        print(f"{name:45s} {seconds:7.3f} s  ({found} files)")


if __name__ == "__main__":
    main()
