"""``selfsup.pipeline.report`` (``selfsup report``): one self-contained HTML page to explore a data set's embeddings."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from selfsup.data import index_image_folder
from selfsup.pipeline._files import write_atomically
from selfsup.pipeline.select import load_selection_input
from selfsup.report.embedding_map import (
    PROJECTIONS,
    Projection,
    cosine_neighbours,
    project_2d,
    subsample_indices,
)
from selfsup.report.html import COLOR_MODES, EmbeddingMap, render_html
from selfsup.report.run_panel import load_run_panel
from selfsup.report.selection_files import read_groups_csv, read_selected_filenames
from selfsup.report.thumbnails import Thumbnails, make_thumbnails
from selfsup.selection._geometry import kmeans
from selfsup.utils.config import ConfigError, build_config, choices, option
from selfsup.utils.io import load_embeddings

__all__ = ["ReportConfig", "ReportResult", "report"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class ReportConfig:
    """Options of ``selfsup report`` (and keyword arguments of :func:`selfsup.pipeline.report`).

    Size of the page: at most ``max_points`` points (about 60 bytes each with their neighbour
    lists) plus thumbnails capped at ``max_thumbnails`` and ``max_thumbnail_mb``; with the
    defaults a page stays under about 25 MB (see ``benchmarks/RESULTS.md``).
    """

    embeddings: str | None = option("embeddings.csv (or .npy) from selfsup embed (required)")
    data: str | None = option("folder of the embedded images, for thumbnails (required)")
    selection: str | None = option(
        "selected_filenames.txt from selfsup select (groups.csv beside it: near-duplicates)"
    )
    run: str | None = option("run folder of selfsup train: curves, preview, summary")
    out: str = option("HTML file to write", "report.html")
    projection: str = choices(PROJECTIONS, "pca", "2-D map (umap needs selfsup[umap])")
    color_by: str = choices(COLOR_MODES, "label", "initial colouring of the map")
    clusters: int = option("k-means clusters to colour by (0: none)", 10)
    neighbours: int = option("nearest neighbours (cosine) listed per point", 8)
    max_points: int = option("most points drawn: seeded subsample, selected kept", 20_000)
    max_thumbnails: int = option("most thumbnails embedded", 10_000)
    max_thumbnail_mb: float = option("cap on the thumbnails' total size in MB", 20.0)
    thumbnail_size: int = option("longest side of a thumbnail in pixels", 64)
    thumbnail_quality: int = option("JPEG quality of the thumbnails", 70)
    max_groups: int = option("near-duplicate groups shown, largest first", 100)
    group_members: int = option("members shown per near-duplicate group", 12)
    allow_missing: bool = option(
        "draw embeddings whose file is not in data (no thumbnail) instead of failing", False
    )
    seed: int = option("random seed of the subsample, k-means and UMAP", 0)
    title: str | None = option("page title (default: from the embeddings file name)")


@dataclasses.dataclass
class ReportResult:
    """What :func:`selfsup.pipeline.report` wrote: the page's ``path`` and its headline figures."""

    path: Path
    summary: dict[str, Any]


def _check(config: ReportConfig) -> tuple[str, str]:
    """Validates the options; returns the embeddings path and the data folder."""
    if config.embeddings is None or config.data is None:
        raise ConfigError(
            "embeddings and data are required: selfsup report embeddings=FILE data=DIR"
        )
    for key, low in (
        ("clusters", 0),
        ("neighbours", 1),
        ("max_points", 1),
        ("max_thumbnails", 0),
        ("max_groups", 0),
        ("group_members", 1),
    ):
        if getattr(config, key) < low:
            raise ConfigError(f"{key} must be >= {low}, got {getattr(config, key)}")
    if config.max_thumbnail_mb < 0:
        raise ConfigError(f"max_thumbnail_mb must be >= 0, got {config.max_thumbnail_mb}")
    if config.thumbnail_size < 8:
        raise ConfigError(f"thumbnail_size must be >= 8, got {config.thumbnail_size}")
    if not 1 <= config.thumbnail_quality <= 95:
        raise ConfigError(f"thumbnail_quality must be in [1, 95], got {config.thumbnail_quality}")
    if config.color_by == "selection" and config.selection is None:
        raise ConfigError("color_by=selection needs selection=selected_filenames.txt")
    if config.color_by == "cluster" and config.clusters == 0:
        raise ConfigError("color_by=cluster needs clusters >= 1")
    return config.embeddings, config.data


def _load(path: str) -> tuple[np.ndarray, list[str], list[int] | None]:
    if Path(path).suffix == ".csv" and Path(path).is_file():
        embeddings, labels, names = load_embeddings(path)
        return embeddings.astype(np.float32), names, labels
    embeddings, names = load_selection_input(path)
    return np.asarray(embeddings, dtype=np.float32), names, None


def _first(names: Sequence[str], count: int = 5) -> str:
    shown = ", ".join(repr(name) for name in names[:count])
    return shown + (f" and {len(names) - count} more" if len(names) > count else "")


def _labels(
    names: list[str], csv_labels: list[int] | None, data: str, allow_missing: bool
) -> tuple[np.ndarray, list[str], set[str]]:
    """Label index per row, the label names and the set of names found under ``data``."""
    index = index_image_folder(data)
    target_of = dict(zip(index.filenames, index.targets, strict=True))
    present = set(target_of) | {name for name, _ in index.skipped}
    missing = [name for name in names if name not in present]
    if missing and not allow_missing:
        raise ValueError(
            f"{len(missing)} of {len(names)} embeddings name files that are not images under "
            f"{data!r}: {_first(missing)}; check data=, or pass allow_missing=true to draw "
            "them without thumbnails"
        )
    folder = [target_of.get(name, -1) for name in names]
    if csv_labels is None or (len(index.classes) > 1 and csv_labels == folder):
        values = np.asarray(folder, dtype=np.int64)
        return values, list(index.classes), present
    distinct = sorted(set(csv_labels))
    position = {label: i for i, label in enumerate(distinct)}
    values = np.asarray([position[label] for label in csv_labels], dtype=np.int64)
    return values, [str(label) for label in distinct], present


def _selection(path: str, row_of: dict[str, int]) -> np.ndarray:
    wanted = read_selected_filenames(path)
    unknown = [name for name in wanted if name not in row_of]
    if unknown:
        raise ValueError(
            f"{len(unknown)} of {len(wanted)} names in {path!r} are not among the embeddings' "
            f"file names: {_first(unknown)}"
        )
    return np.asarray(sorted({row_of[name] for name in wanted}), dtype=np.int64)


class _Items:
    """The samples the page refers to, drawn ones first; names not in the embeddings get no row."""

    def __init__(self, drawn: np.ndarray) -> None:
        self.rows: list[int | None] = [int(row) for row in drawn]
        self.names_extra: dict[int, str] = {}
        self.item_of_row = {row: item for item, row in enumerate(self.rows)}
        self.item_of_name: dict[str, int] = {}

    def of_row(self, row: int) -> int:
        if row not in self.item_of_row:
            self.item_of_row[row] = len(self.rows)
            self.rows.append(row)
        return self.item_of_row[row]

    def of_name(self, name: str, row_of: dict[str, int]) -> int:
        if name in row_of:
            return self.of_row(row_of[name])
        if name not in self.item_of_name:
            self.item_of_name[name] = len(self.rows)
            self.names_extra[len(self.rows)] = name
            self.rows.append(None)
        return self.item_of_name[name]


def _row_values(rows: list[int | None], values: np.ndarray, fill: Any) -> np.ndarray:
    return np.asarray([fill if row is None else values[row] for row in rows])


def report(
    embeddings: str | Path | None = None,
    *,
    config: ReportConfig | None = None,
    **options: Any,
) -> ReportResult:
    """Writes one self-contained HTML page that maps a data set's embeddings.

    The page (no network needed: script, style and JPEG thumbnails inlined) shows a 2-D map
    (PCA or UMAP) coloured by label, k-means cluster or selection, with selected samples
    outlined; hovering a point shows its thumbnail and file name, clicking it lists its nearest
    neighbours (cosine similarity of the full embeddings, among all rows). With ``selection``
    the near-duplicate groups of a ``groups.csv`` beside it are listed; with ``run`` the
    training curves, augmentation preview and summary of that run. File names and labels are
    escaped everywhere, so a file named ``<img src=x onerror=alert(1)>.png`` shows as text.

    Above ``max_points`` rows a seeded random subsample is drawn (every selected sample kept)
    and the page says "showing n of N". Embeddings whose file is not under ``data`` are an
    error unless ``allow_missing=True`` (then they are drawn without thumbnails and listed).

    Example:
        >>> selfsup.pipeline.report("embeddings.csv", data="images/", out="report.html")  # doctest: +SKIP

    Args:
        embeddings: Embeddings CSV or ``.npy`` (or give ``embeddings=`` among the options).
        config: A ready :class:`ReportConfig` (then only ``embeddings`` may be given besides).
        **options: Fields of :class:`ReportConfig`.

    Returns:
        A :class:`ReportResult`; the page is written atomically to ``out``.

    Raises:
        ConfigError: an unknown option or a bad value (e.g. ``projection=tsne``).
        ValueError: missing files or folders, names that are not found, malformed files.
        ImportError: ``projection="umap"`` without the ``umap`` extra.
    """
    start = time.perf_counter()
    if embeddings is not None:
        options["embeddings"] = embeddings
    options = {k: str(v) if isinstance(v, Path) else v for k, v in options.items()}
    if config is None:
        config = build_config(ReportConfig, options, command="selfsup report")
    elif set(options) - {"embeddings"}:
        raise ConfigError(f"give options either in config or as keywords, got {sorted(options)}")
    elif options:
        config = dataclasses.replace(config, embeddings=options["embeddings"])
    embeddings_path, data = _check(config)
    x, names, csv_labels = _load(embeddings_path)
    if len(x) == 0:
        raise ValueError(f"{embeddings_path!r} holds no embeddings")
    labels, label_names, present = _labels(names, csv_labels, data, config.allow_missing)
    row_of = {name: row for row, name in reversed(list(enumerate(names)))}
    selected_rows = np.zeros(0, dtype=np.int64)
    groups: dict[int, tuple[int, list[str]]] = {}
    if config.selection is not None:
        selected_rows = _selection(config.selection, row_of)
        groups_file = Path(config.selection).with_name("groups.csv")
        if groups_file.is_file():
            groups = read_groups_csv(groups_file)
    run_panel = load_run_panel(config.run) if config.run is not None else None

    generator = torch.Generator().manual_seed(config.seed)
    drawn = subsample_indices(len(x), config.max_points, keep=selected_rows, generator=generator)
    projection = project_2d(x, drawn, method=config.projection, seed=config.seed)
    k = min(config.neighbours, len(x) - 1)
    if k >= 1:
        similarities, neighbour_rows = cosine_neighbours(x, drawn, k)
    else:
        similarities, neighbour_rows = np.zeros((len(drawn), 0)), np.zeros((len(drawn), 0), int)
    clusters = None
    if config.clusters > 0:
        normalised = torch.nn.functional.normalize(torch.from_numpy(x), dim=1)
        clusters = kmeans(normalised, min(config.clusters, len(x)), generator=generator)[1].numpy()

    items = _Items(drawn)
    neighbours = np.vectorize(items.of_row, otypes=[np.int64])(neighbour_rows)
    by_size = sorted(groups.items(), key=lambda entry: (-entry[1][0], entry[0]))
    shown_groups = [
        (size, [items.of_name(name, row_of) for name in members[: config.group_members]])
        for _, (size, members) in by_size[: config.max_groups]
    ]
    is_selected = np.zeros(len(x), dtype=bool)
    is_selected[selected_rows] = True
    item_names = [
        items.names_extra[item] if row is None else names[row]
        for item, row in enumerate(items.rows)
    ]
    selected = _row_values(items.rows, is_selected, False).astype(bool)
    shuffled = torch.randperm(len(drawn), generator=generator).numpy()
    priority = [i for i in range(len(drawn)) if selected[i]]
    priority += [m for _, members in shown_groups for m in members]
    priority += [int(i) for i in shuffled if not selected[i]] + list(
        range(len(drawn), len(items.rows))
    )
    wanted = dict.fromkeys(i for i in priority if item_names[i] in present)
    thumbs = make_thumbnails(
        data,
        ((item, item_names[item]) for item in wanted),
        size=config.thumbnail_size,
        quality=config.thumbnail_quality,
        max_count=config.max_thumbnails,
        max_bytes=int(config.max_thumbnail_mb * 1e6),
    )
    embedding_map = EmbeddingMap(
        names=item_names,
        labels=_row_values(items.rows, labels, -1).astype(np.int64),
        label_names=label_names,
        selected=selected,
        coords=projection.coords,
        neighbours=neighbours,
        similarities=similarities,
        total=len(x),
        thumbnails=thumbs.images,
        clusters=None if clusters is None else _row_values(items.rows, clusters, -1),
        num_clusters=0 if clusters is None else int(clusters.max()) + 1,
        groups=shown_groups,
        has_selection=config.selection is not None,
    )
    missing = [name for name in names if name not in present]
    stats = _stats(config, projection, x, drawn, selected_rows, thumbs, len(items.rows), k)
    notes = []
    if missing:
        notes.append(
            f"{len(missing)} embeddings have no image under the data folder: {_first(missing)}"
        )
    if thumbs.failed:
        failed = [name for name, _ in thumbs.failed]
        notes.append(f"{len(failed)} images could not be decoded for thumbnails: {_first(failed)}")
    member_total = sum(size for size, _ in groups.values())
    groups_text = (
        f"{len(groups):,} groups of near-duplicates hold {member_total:,} images; showing the "
        f"{len(shown_groups):,} largest, up to {config.group_members} images each."
    )
    page = render_html(
        embedding_map,
        title=config.title or f"selfsup report: {Path(embeddings_path).name}",
        stats=stats,
        notes=notes,
        color_by=config.color_by,
        groups_text=groups_text,
        run=run_panel,
    )
    out = write_atomically(config.out, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    summary = {
        "out": str(out),
        "points": len(x),
        "drawn": len(drawn),
        "thumbnails": len(thumbs.images),
        "thumbnail_mb": round(thumbs.total_bytes / 1e6, 3),
        "file_mb": round(out.stat().st_size / 1e6, 3),
        "projection": config.projection,
        "selected": len(selected_rows),
        "groups": len(groups),
        "missing_files": len(missing),
        "seconds": round(time.perf_counter() - start, 2),
    }
    logger.info("wrote %s (%.1f MB, %d of %d points)", out, summary["file_mb"], len(drawn), len(x))
    return ReportResult(out, summary)


def _stats(
    config: ReportConfig,
    projection: Projection,
    x: np.ndarray,
    drawn: np.ndarray,
    selected_rows: np.ndarray,
    thumbs: Thumbnails,
    num_items: int,
    k: int,
) -> list[str]:
    lines = [f"Showing {len(drawn):,} of {len(x):,} points"]
    if len(drawn) < len(x):
        lines[0] += f" (a random subsample, seed {config.seed}"
        lines[0] += f"; all {len(selected_rows):,} selected kept)" if len(selected_rows) else ")"
    if config.selection is not None:
        lines.append(f"{len(selected_rows):,} selected samples from {config.selection}")
    if projection.method == "pca":
        shares = " + ".join(f"{100 * share:.1f}%" for share in projection.explained)
        lines.append(f"Map: PCA of the L2-normalised embeddings ({shares} of the variance)")
    else:
        lines.append("Map: UMAP of the L2-normalised embeddings (cosine metric)")
    if k:
        lines.append(
            f"Neighbours: the {k} most cosine-similar of all {len(x):,} embeddings "
            f"({x.shape[1]} dimensions)"
        )
    capped = {"max_count": " (count cap reached)", "max_bytes": " (size cap reached)"}
    lines.append(
        f"Thumbnails: {len(thumbs.images):,} of the {num_items:,} samples on the page (drawn "
        f"points, then neighbours), {thumbs.total_bytes / 1e6:.1f} MB "
        f"({config.thumbnail_size} px JPEG, quality {config.thumbnail_quality}; caps "
        f"{config.max_thumbnails:,} thumbnails, {config.max_thumbnail_mb:g} MB)"
        + capped.get(thumbs.limited_by or "", "")
    )
    return lines
