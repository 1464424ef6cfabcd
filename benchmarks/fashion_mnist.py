"""Fashion-MNIST from the Debian package ``dataset-fashion-mnist``, for the benchmarks.

``apt-get install -y dataset-fashion-mnist`` puts the four IDX files under
``/usr/share/datasets/fashion-mnist``; ``SELFSUP_FASHION_MNIST=DIR`` points elsewhere (a folder
holding the same ``*-idx?-ubyte.gz`` files). Nothing is downloaded.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
from PIL import Image

__all__ = ["CLASSES", "find_root", "load_split", "write_folders"]

CLASSES = (
    "t-shirt",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle-boot",
)
_DIRS = ("/usr/share/datasets/fashion-mnist", "/usr/share/dataset-fashion-mnist")
_PREFIX = {"train": "train", "test": "t10k"}


def find_root() -> Path | None:
    """The folder holding the IDX files, or None when Fashion-MNIST is not installed."""
    candidates = [os.environ.get("SELFSUP_FASHION_MNIST", ""), *_DIRS]
    for folder in candidates:
        if folder and any(Path(folder).glob("*-idx?-ubyte.gz")):
            return Path(folder)
    return None


def _read_idx(path: Path, offset: int) -> np.ndarray:
    with gzip.open(path) as handle:
        return np.frombuffer(handle.read(), dtype=np.uint8, offset=offset)


def load_split(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images `(N, 28, 28)` uint8 and labels `(N,)` int64 of ``split`` ("train" or "test").

    Raises:
        FileNotFoundError: Fashion-MNIST is not installed.
    """
    root = find_root()
    if root is None:
        raise FileNotFoundError(
            "Fashion-MNIST not found: apt-get install -y dataset-fashion-mnist "
            "(or set SELFSUP_FASHION_MNIST to a folder of its IDX files)"
        )
    prefix = _PREFIX[split]
    images = _read_idx(root / f"{prefix}-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
    labels = _read_idx(root / f"{prefix}-labels-idx1-ubyte.gz", 8).astype(np.int64)
    return images, labels


def write_folders(out: str | Path) -> tuple[Path, Path]:
    """Writes ``out/train/<class>/<index>.png`` and ``out/test/...`` once; returns both folders.

    A folder that already holds the right number of PNGs is kept as it is.
    """
    out = Path(out)
    folders = []
    for split in ("train", "test"):
        images, labels = load_split(split)
        folder = out / split
        if sum(1 for _ in folder.glob("*/*.png")) != len(images):
            for name in CLASSES:
                (folder / name).mkdir(parents=True, exist_ok=True)
            for index, (image, label) in enumerate(zip(images, labels, strict=True)):
                Image.fromarray(image).save(folder / CLASSES[label] / f"{index:05d}.png")
        folders.append(folder)
    return folders[0], folders[1]
