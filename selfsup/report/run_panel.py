"""The training run's part of the report: curves from ``metrics.csv`` drawn as inline SVG, the
augmentation preview PNG and the headline figures of ``summary.json``."""

from __future__ import annotations

import base64
import csv
import dataclasses
import html
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["CURVES", "RunPanel", "line_chart_svg", "load_run_panel", "read_metrics"]

CURVES = (
    ("loss", "training loss"),
    ("knn_top1", "kNN top-1 accuracy"),
    ("rep_std", "representation std"),
)
"""Columns of ``metrics.csv`` drawn as curves, with their titles."""

_MAX_PREVIEW_BYTES = 5_000_000


@dataclasses.dataclass
class RunPanel:
    """What the report shows about a training run.

    Attributes:
        run_dir: The run folder.
        charts: ``(title, svg markup)`` per curve found in ``metrics.csv``.
        previews: ``(file name, base64 PNG)`` of each ``preview*.png`` in the folder (and of
            ``metrics.png`` when there is no ``metrics.csv``).
        summary: Scalar entries of ``summary.json`` (empty without one).
        notes: Plain-text remarks, e.g. a preview left out for its size.
    """

    run_dir: Path
    charts: list[tuple[str, str]]
    previews: list[tuple[str, str]]
    summary: dict[str, str | int | float | bool | None]
    notes: list[str]


def read_metrics(path: str | os.PathLike[str]) -> dict[str, list[tuple[float, float]]]:
    """Reads ``metrics.csv`` (as written by ``selfsup train``) into ``column -> [(epoch, value)]``.

    Empty cells and non-finite values are left out; the ``epoch`` column is the x value (the row
    number when there is none).

    Raises:
        ValueError: a value is not a number (the message names the file, line and column).
    """
    series: dict[str, list[tuple[float, float]]] = {}
    with open(path, newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                epoch = float(row["epoch"]) if row.get("epoch") else float(line - 2)
                for key, value in row.items():
                    if key == "epoch" or key is None or value in ("", None):
                        continue
                    number = float(value)
                    if math.isfinite(number):
                        series.setdefault(key, []).append((epoch, number))
            except ValueError:
                raise ValueError(f"{os.fspath(path)!r} line {line}: non-numeric value") from None
    return series


def _format(value: float) -> str:
    return f"{value:.4g}"


def line_chart_svg(
    points: Sequence[tuple[float, float]],
    title: str,
    *,
    width: int = 320,
    height: int = 190,
) -> str:
    """An SVG line chart of ``points`` (x ascending), with the y range and x range labelled.

    The markup uses presentation attributes only (no ``style``), so it passes a strict
    Content-Security-Policy; the title is HTML-escaped.

    Args:
        points: ``(x, y)`` pairs, at least one.
        title: Chart title (plain text).
        width: Width in pixels.
        height: Height in pixels.

    Returns:
        The ``<svg>`` element as a string.

    Raises:
        ValueError: ``points`` is empty.
    """
    if not points:
        raise ValueError("line_chart_svg needs at least one point")
    left, right, top, bottom = 52, 12, 26, 30
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x_low, x_high = min(xs), max(xs)
    y_low, y_high = min(ys), max(ys)
    if y_high == y_low:
        y_low, y_high = y_low - 0.5 * (abs(y_low) or 1.0), y_high + 0.5 * (abs(y_high) or 1.0)
    plot_w, plot_h = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return left + (plot_w / 2 if x_high == x_low else (x - x_low) / (x_high - x_low) * plot_w)

    def sy(y: float) -> float:
        return top + (y_high - y) / (y_high - y_low) * plot_h

    path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in points)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{html.escape(title)}">',
        f'<text x="{left}" y="16" font-size="13" font-weight="bold" fill="#222">'
        f"{html.escape(title)}</text>",
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fafafa" '
        'stroke="#ccc"/>',
        f'<polyline points="{path}" fill="none" stroke="#1f77b4" stroke-width="2"/>',
    ]
    if len(points) <= 60:
        parts += [
            f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="#1f77b4"/>' for x, y in points
        ]
    for y in (y_low, y_high):
        parts.append(
            f'<text x="{left - 4}" y="{sy(y) + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#444">{_format(y)}</text>'
        )
    for x, anchor in ((x_low, "start"), (x_high, "end")):
        parts.append(
            f'<text x="{sx(x):.1f}" y="{height - 12}" font-size="11" text-anchor="{anchor}" '
            f'fill="#444">{_format(x)}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 2}" font-size="11" '
        'text-anchor="middle" fill="#444">epoch</text></svg>'
    )
    return "".join(parts)


def _png_base64(path: Path, notes: list[str]) -> str | None:
    size = path.stat().st_size
    if size > _MAX_PREVIEW_BYTES:
        notes.append(f"{path.name} left out: {size / 1e6:.1f} MB is over the 5 MB cap")
        return None
    return base64.b64encode(path.read_bytes()).decode("ascii")


def _scalar_summary(path: Path) -> dict[str, str | int | float | bool | None]:
    try:
        loaded = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{str(path)!r} is not valid JSON: {error}") from None
    if not isinstance(loaded, dict):
        return {}
    return {
        str(key): value
        for key, value in loaded.items()
        if value is None or isinstance(value, (str, int, float, bool))
    }


def load_run_panel(run_dir: str | os.PathLike[str]) -> RunPanel:
    """Collects the curves, previews and summary of a ``selfsup train`` run folder.

    Curves: ``loss``, ``knn_top1`` and ``rep_std`` from ``metrics.csv`` (each when present).
    Previews: every ``preview*.png`` in the folder (``selfsup preview out=RUN/preview.png``
    makes one), each up to 5 MB; ``metrics.png`` stands in for the curves when there is no
    ``metrics.csv``.

    Raises:
        ValueError: the folder does not exist, or holds none of ``metrics.csv``,
            ``metrics.png``, ``summary.json`` and ``preview*.png``; or a file there is malformed.
    """
    folder = Path(run_dir)
    if not folder.is_dir():
        raise ValueError(f"run folder {str(folder)!r} does not exist")
    metrics_csv = folder / "metrics.csv"
    summary_json = folder / "summary.json"
    preview_files = sorted(folder.glob("preview*.png"))
    if not metrics_csv.is_file() and not (folder / "metrics.png").is_file():
        if not summary_json.is_file() and not preview_files:
            raise ValueError(
                f"run folder {str(folder)!r} holds no metrics.csv, metrics.png, summary.json "
                "or preview*.png: give the out folder of selfsup train"
            )
    notes: list[str] = []
    charts = []
    if metrics_csv.is_file():
        series = read_metrics(metrics_csv)
        charts = [
            (title, line_chart_svg(series[key], title)) for key, title in CURVES if series.get(key)
        ]
    elif (folder / "metrics.png").is_file():
        preview_files = [folder / "metrics.png", *preview_files]
    previews = []
    for path in preview_files:
        encoded = _png_base64(path, notes)
        if encoded is not None:
            previews.append((path.name, encoded))
    if not any(path.name.startswith("preview") for path in preview_files):
        notes.append(
            "no augmentation preview in the run folder; make one with "
            "selfsup preview data=DIR method=METHOD out=RUN/preview.png"
        )
    summary = _scalar_summary(summary_json) if summary_json.is_file() else {}
    return RunPanel(folder, charts, previews, summary, notes)
