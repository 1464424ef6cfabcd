"""Reading what ``selfsup select`` wrote: ``selected_filenames.txt`` and ``groups.csv``."""

from __future__ import annotations

import csv
import os
from pathlib import Path

__all__ = ["read_groups_csv", "read_selected_filenames"]


def read_selected_filenames(path: str | os.PathLike[str]) -> list[str]:
    """The file names of a ``selected_filenames.txt``, one per line (blank lines skipped).

    Raises:
        ValueError: the file does not exist.
    """
    file = Path(path)
    if not file.is_file():
        raise ValueError(f"selection file {str(file)!r} does not exist")
    return [line.strip() for line in file.read_text().splitlines() if line.strip()]


def read_groups_csv(path: str | os.PathLike[str]) -> dict[int, tuple[int, list[str]]]:
    """Near-duplicate groups from a ``groups.csv`` (columns ``group,size,index,filename``).

    Returns:
        ``group id -> (size, member file names in file order)``.

    Raises:
        ValueError: a column is missing, or a group or size is not an integer (the message
            names the line).
    """
    groups: dict[int, tuple[int, list[str]]] = {}
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"group", "size", "filename"} <= set(reader.fieldnames):
            raise ValueError(f"{os.fspath(path)!r} must have the columns group,size,index,filename")
        for line, row in enumerate(reader, start=2):
            try:
                group, size = int(row["group"]), int(row["size"])
            except (TypeError, ValueError):
                raise ValueError(
                    f"{os.fspath(path)!r} line {line}: group and size must be integers"
                ) from None
            groups.setdefault(group, (size, []))[1].append(row["filename"])
    return groups
