"""``selfsup.select``: choose samples to label from embeddings, and write the choice to files."""

from __future__ import annotations

import csv
import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from selfsup.pipeline._files import write_atomically
from selfsup.selection import Selection, list_strategies, select_samples
from selfsup.utils.config import ConfigError, build_config, choices, option
from selfsup.utils.io import load_embeddings

__all__ = ["SelectConfig", "load_selection_input", "select"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class SelectConfig:
    """Options of ``selfsup select`` (and keyword arguments of :func:`selfsup.select`)."""

    embeddings: str | None = option("embeddings.csv or .npy from selfsup embed (required)")
    n: int | None = option("number of samples to select (or give fraction)")
    fraction: float | None = option("share of the samples to select, in (0, 1]")
    strategy: str = choices(list_strategies, "coreset", "selection strategy")
    initial: str | None = option("text file of already-labeled file names, one per line")
    dedup_threshold: float | None = option(
        "remove near-duplicates (cosine similarity >= this) first; threshold of strategy=dedup"
    )
    metric: str = choices(["cosine", "l2"], "cosine", "distance between embeddings")
    seed: int = option("random seed", 0)
    out: str | None = option("output folder", "selection")


def _csv_filenames(path: Path) -> list[str]:
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        return [row[0] for row in reader if row]


def load_selection_input(path: str | Path) -> tuple[np.ndarray, list[str]]:
    """Reads embeddings `(N, D)` and file names from an embeddings CSV or ``.npy``.

    For a ``.npy`` the file names come from the CSV beside it with the same stem (its first
    column) if there is one, else they are the row numbers as strings.

    Raises:
        ValueError: the file does not exist, has another suffix, or the CSV beside a ``.npy``
            has a different number of rows.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"embeddings file {str(path)!r} does not exist")
    if path.suffix == ".csv":
        embeddings, _, filenames = load_embeddings(path)
        return embeddings.astype(np.float32), filenames
    if path.suffix != ".npy":
        raise ValueError(f"embeddings must be a .csv or .npy file, got {str(path)!r}")
    embeddings = np.load(path)
    beside = path.with_suffix(".csv")
    if not beside.is_file():
        return embeddings, [str(i) for i in range(len(embeddings))]
    filenames = _csv_filenames(beside)
    if len(filenames) != len(embeddings):
        raise ValueError(
            f"{str(beside)!r} has {len(filenames)} rows but {str(path)!r} has {len(embeddings)}"
        )
    return embeddings, filenames


def _initial_indices(initial: Any, filenames: Sequence[str]) -> list[int]:
    if initial is None:
        return []
    if isinstance(initial, (str, Path)):
        path = Path(initial)
        if not path.is_file():
            raise ValueError(f"initial file {str(path)!r} does not exist")
        initial = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    values = list(initial.tolist() if isinstance(initial, (np.ndarray, torch.Tensor)) else initial)
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return [int(v) for v in values]
    position = {name: i for i, name in enumerate(filenames)}
    missing = [v for v in values if v not in position]
    if missing:
        raise ValueError(f"initial names not among the embeddings' file names: {missing[:5]}")
    return [position[v] for v in values]


def _write_outputs(selection: Selection, filenames: Sequence[str], out: Path) -> dict:
    files = {}

    def names(tmp: Path) -> None:
        tmp.write_text("".join(f"{name}\n" for name in selection.filenames))

    def scores(tmp: Path) -> None:
        with open(tmp, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["filename", "index", "rank", "score"])
            for rank, (index, name, score) in enumerate(
                zip(selection.indices, selection.filenames, selection.scores, strict=True)
            ):
                writer.writerow([name, int(index), rank, repr(float(score))])

    files["selected_filenames"] = write_atomically(out / "selected_filenames.txt", names)
    files["scores"] = write_atomically(out / "scores.csv", scores)
    if selection.groups is not None:
        groups = selection.groups
        sizes = np.bincount(groups[groups >= 0]) if (groups >= 0).any() else np.zeros(0, int)

        def group_rows(tmp: Path) -> None:
            with open(tmp, "w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["group", "size", "index", "filename"])
                for index in np.argsort(groups, kind="stable"):
                    group = int(groups[index])
                    if group >= 0 and sizes[group] > 1:
                        writer.writerow([group, int(sizes[group]), int(index), filenames[index]])

        files["groups"] = write_atomically(out / "groups.csv", group_rows)
    return files


def select(
    embeddings: str | Path | np.ndarray | torch.Tensor | None = None,
    *,
    filenames: Sequence[str] | None = None,
    config: SelectConfig | None = None,
    **options: Any,
) -> Selection:
    """Selects samples to label and writes ``selected_filenames.txt``, ``scores.csv`` (and
    ``groups.csv`` with dedup) into ``out`` (default ``selection/``), atomically.

    Example:
        >>> selfsup.select("embeddings.csv", n=1000, strategy="coreset")  # doctest: +SKIP

    Args:
        embeddings: A path (embeddings CSV or ``.npy``) or an `(N, D)` array/tensor.
        filenames: `N` names for an array input (default: the row numbers).
        config: A ready :class:`SelectConfig` (then ``options`` must be empty).
        **options: Fields of :class:`SelectConfig`: ``n``, ``fraction``, ``strategy``
            (coreset | typicality | dedup | random), ``initial`` (a file of names, or a list of
            names or indices), ``dedup_threshold``, ``metric`` (cosine | l2), ``seed``, ``out``
            (``None``: write nothing).

    Returns:
        The :class:`~selfsup.selection.Selection`; ``.files`` names what was written.

    Raises:
        ConfigError: an unknown option or a bad value.
        ValueError: missing input, a bad budget, initial names not found.
    """
    initial = options.pop("initial", None)
    if isinstance(initial, (str, Path)):
        options["initial"], initial = str(initial), None
    array = None
    if isinstance(embeddings, (str, Path)):
        options["embeddings"] = str(embeddings)
    elif embeddings is not None:
        array = embeddings
    if config is None:
        config = build_config(SelectConfig, options, command="selfsup select")
    elif set(options) - {"embeddings"}:
        raise ConfigError(f"give options either in config or as keywords, got {sorted(options)}")
    elif options:
        config = dataclasses.replace(config, embeddings=options["embeddings"])
    if array is None:
        if config.embeddings is None:
            raise ConfigError("embeddings is required: selfsup select embeddings=FILE n=100")
        array, names = load_selection_input(config.embeddings)
        if filenames is not None:
            raise ValueError("filenames is only for array input; a file brings its own")
    else:
        names = [str(i) for i in range(len(array))] if filenames is None else list(filenames)
    indices = _initial_indices(config.initial if initial is None else initial, names)
    selection = select_samples(
        array,
        n=config.n,
        fraction=config.fraction,
        strategy=config.strategy,
        filenames=names,
        initial=indices,
        dedup_threshold=config.dedup_threshold,
        metric=config.metric,
        seed=config.seed,
    )
    if config.out is not None:
        selection.files = _write_outputs(selection, names, Path(config.out))
        logger.info("selected %d samples into %s", len(selection.indices), config.out)
    return selection
