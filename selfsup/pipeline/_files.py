"""File helpers shared by the pipeline functions: atomic writes, reading a run's config."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

__all__ = ["read_run_config", "write_atomically"]


def write_atomically(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Calls ``write(tmp_path)`` on a temporary file beside ``path``, then renames it to ``path``.

    A crash or an error inside ``write`` never leaves a half-written ``path`` behind.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_run_config(path: str | Path) -> dict[str, Any]:
    """The mapping in a run folder's ``config.yaml``.

    Raises:
        ValueError: the file is not valid YAML or holds no mapping (a hand-edited or truncated
            file); the message names the file.
    """
    path = Path(path)
    try:
        run_config = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ValueError(f"{str(path)!r} is not valid YAML: {error}") from None
    if not isinstance(run_config, dict):
        raise ValueError(f"{str(path)!r} holds no mapping of options")
    return run_config
