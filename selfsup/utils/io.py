"""Reading and writing embeddings in lightly's CSV format: ``filenames,embedding_0,...,labels``."""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["load_embeddings", "save_embeddings"]

_FORBIDDEN = (",", "\n", "\r")


def save_embeddings(
    path: str | Path,
    embeddings: np.ndarray,
    labels: Sequence[int] | np.ndarray,
    filenames: Sequence[str],
) -> None:
    """Writes embeddings to a CSV file, atomically (a temporary file renamed into place).

    Floats are written with ``repr`` precision, so :func:`load_embeddings` reads back exactly
    the same float32/float64 values.

    Args:
        path: CSV file to write.
        embeddings: Array `(N, D)`.
        labels: `(N,)` integer labels.
        filenames: `N` file names; none may contain a comma or a line break.

    Raises:
        ValueError: the lengths differ, ``embeddings`` is not 2-D, or a file name holds a comma
            or a line break (the message names it).
    """
    embeddings = np.asarray(embeddings)
    labels = np.asarray(labels)
    if embeddings.ndim != 2:
        raise ValueError(f"embeddings must have shape (N, D), got {embeddings.shape}")
    if not len(embeddings) == len(labels) == len(filenames):
        raise ValueError(
            f"embeddings ({len(embeddings)}), labels ({len(labels)}) and filenames "
            f"({len(filenames)}) must have the same length"
        )
    for name in filenames:
        if any(char in name for char in _FORBIDDEN):
            raise ValueError(f"file name {name!r} contains a comma or a line break")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as handle:
            writer = csv.writer(handle)
            dim = embeddings.shape[1]
            writer.writerow(["filenames", *(f"embedding_{i}" for i in range(dim)), "labels"])
            for name, row, label in zip(filenames, embeddings, labels, strict=True):
                writer.writerow([name, *(repr(float(v)) for v in row), int(label)])
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_embeddings(path: str | Path) -> tuple[np.ndarray, list[int], list[str]]:
    """Reads a CSV written by :func:`save_embeddings` (or by lightly).

    Returns:
        ``(embeddings (N, D) float64, labels (N,), filenames (N,))``.

    Raises:
        ValueError: the header is not ``filenames,embedding_0..embedding_{D-1},labels`` or a row
            has the wrong number of fields or a non-numeric value (the message names the row).
    """
    path = Path(path)
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None or len(header) < 3 or header[0] != "filenames" or header[-1] != "labels":
            raise ValueError(
                f"{str(path)!r} is not an embeddings CSV: the header must be "
                f"filenames,embedding_0,...,labels, got {header}"
            )
        expected = [f"embedding_{i}" for i in range(len(header) - 2)]
        if header[1:-1] != expected:
            raise ValueError(f"{str(path)!r}: embedding columns must be named {expected[:2]}...")
        filenames, rows, labels = [], [], []
        for line, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise ValueError(
                    f"{str(path)!r} line {line}: expected {len(header)} fields, got {len(row)}"
                )
            try:
                rows.append([float(value) for value in row[1:-1]])
                labels.append(int(row[-1]))
            except ValueError:
                raise ValueError(f"{str(path)!r} line {line}: non-numeric value") from None
            filenames.append(row[0])
    embeddings = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(header) - 2)
    return embeddings, labels, filenames
