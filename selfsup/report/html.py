"""The self-contained HTML page of the embedding report.

One file that opens without a network: style and script are inlined (and allowed by a
Content-Security-Policy that names their hashes and forbids everything else, except ``data:``
images), thumbnails are ``data:`` URIs, the data sit in a JSON block. Every file name and label is
escaped: in HTML text with :func:`html.escape`, in the JSON with ``<``, ``>``, ``&``, U+2028 and
U+2029 written as ``\\u`` escapes (:func:`json_for_html`), and the page's script shows them with
``textContent`` only.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from selfsup.report._page import PAGE_SCRIPT, PAGE_STYLE
from selfsup.report.run_panel import RunPanel

__all__ = ["COLOR_MODES", "EmbeddingMap", "json_for_html", "render_html"]

COLOR_MODES = ("label", "cluster", "selection")

_JSON_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def json_for_html(value: Any) -> str:
    """JSON text safe inside a ``<script>`` element: ``<``, ``>``, ``&``, U+2028 and U+2029 are
    written as ``\\u003c``, ``\\u003e``, ``\\u0026``, ``\\u2028``, ``\\u2029`` (still the same JSON).

    Raises:
        ValueError: ``value`` holds NaN or infinity (not JSON).
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_JSON_ESCAPES)


def _display(name: str) -> str:
    """A file name as valid Unicode text: undecodable bytes (surrogate escapes) become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@dataclasses.dataclass
class EmbeddingMap:
    """Everything the map, the neighbour panel and the group list show.

    *Items* are the samples the page refers to: the first ``len(coords)`` are the drawn points,
    the rest are neighbours or group members that are not drawn.

    Attributes:
        names: File name of each item.
        labels: `(items,)` int, index into ``label_names``; ``-1`` for no label.
        label_names: Names of the labels.
        selected: `(items,)` bool, in the selection.
        coords: `(points, 2)` float in the unit square (x right, y up).
        neighbours: `(points, k)` int, items nearest to each drawn point, nearest first.
        similarities: `(points, k)` float, their cosine similarities.
        total: Rows of the embeddings (the page says "showing points of total").
        thumbnails: Item -> base64 JPEG.
        clusters: `(items,)` int k-means cluster, ``-1`` unknown; or None.
        num_clusters: Number of clusters.
        groups: Near-duplicate groups shown: ``(size, member items)``; members may be fewer
            than the size.
        has_selection: Whether a selection was given (enables "colour by selection").
    """

    names: list[str]
    labels: np.ndarray
    label_names: list[str]
    selected: np.ndarray
    coords: np.ndarray
    neighbours: np.ndarray
    similarities: np.ndarray
    total: int
    thumbnails: dict[int, str] = dataclasses.field(default_factory=dict)
    clusters: np.ndarray | None = None
    num_clusters: int = 0
    groups: list[tuple[int, list[int]]] = dataclasses.field(default_factory=list)
    has_selection: bool = False

    def __post_init__(self) -> None:
        items, points = len(self.names), len(self.coords)
        if points > items or self.coords.shape[1:] != (2,):
            raise ValueError(
                f"coords must have shape (points, 2) with points <= {items} items, "
                f"got {self.coords.shape}"
            )
        for name in ("labels", "selected") + (("clusters",) if self.clusters is not None else ()):
            if len(getattr(self, name)) != items:
                raise ValueError(f"{name} must have one entry per item ({items})")
        if self.neighbours.shape != self.similarities.shape or len(self.neighbours) != points:
            raise ValueError(
                f"neighbours {self.neighbours.shape} and similarities "
                f"{self.similarities.shape} must both be (points={points}, k)"
            )

    def payload(self) -> dict[str, Any]:
        """The JSON-ready data the page's script reads."""
        keys = sorted(self.thumbnails)
        thumb = np.full(len(self.names), -1, dtype=np.int64)
        thumb[keys] = np.arange(len(keys))
        k = self.neighbours.shape[1] if self.neighbours.ndim == 2 else 0
        return {
            "total": int(self.total),
            "points": len(self.coords),
            "k": int(k),
            "x": np.round(self.coords[:, 0], 4).tolist(),
            "y": np.round(self.coords[:, 1], 4).tolist(),
            "neighbours": self.neighbours.reshape(-1).astype(int).tolist(),
            "similarity": np.round(self.similarities.reshape(-1).astype(float), 3).tolist(),
            "labelNames": [_display(name) for name in self.label_names],
            "numClusters": int(self.num_clusters),
            "items": {
                "name": [_display(name) for name in self.names],
                "label": np.asarray(self.labels).astype(int).tolist(),
                "cluster": None
                if self.clusters is None
                else np.asarray(self.clusters).astype(int).tolist(),
                "selected": np.asarray(self.selected).astype(int).tolist(),
                "thumb": thumb.tolist(),
            },
            "thumbs": [self.thumbnails[key] for key in keys],
            "groups": [{"size": int(s), "members": [int(m) for m in ms]} for s, ms in self.groups],
        }


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def _run_section(run: RunPanel) -> str:
    parts = ['<section id="run-section"><h2>Training run</h2>']
    parts.append(f'<p class="stats">{html.escape(_display(str(run.run_dir)))}</p>')
    if run.summary:
        rows = "".join(
            f"<tr><td>{html.escape(_display(key))}</td><td>{html.escape(_display(str(value)))}"
            "</td></tr>"
            for key, value in run.summary.items()
        )
        parts.append(f'<table class="summary">{rows}</table>')
    if run.charts:
        parts.append('<div class="charts">' + "".join(svg for _, svg in run.charts) + "</div>")
    for name, encoded in run.previews:
        parts.append(
            f'<div class="previews"><h3>{html.escape(_display(name))}</h3>'
            f'<img alt="{html.escape(_display(name))}" src="data:image/png;base64,{encoded}">'
            "</div>"
        )
    if run.notes:
        parts.append(
            '<ul class="notes">'
            + "".join(f"<li>{html.escape(_display(note))}</li>" for note in run.notes)
            + "</ul>"
        )
    parts.append("</section>")
    return "".join(parts)


def render_html(
    embedding_map: EmbeddingMap,
    *,
    title: str = "selfsup embedding report",
    stats: Sequence[str] = (),
    notes: Sequence[str] = (),
    color_by: str = "label",
    groups_text: str = "",
    run: RunPanel | None = None,
) -> str:
    """The whole report page as one HTML string.

    Args:
        embedding_map: The map's data.
        title: Page title (plain text).
        stats: Lines under the title, e.g. ``"showing 20,000 of 50,000 points"`` (plain text).
        notes: Warnings shown under them (plain text).
        color_by: Initial colouring: ``"label"``, ``"cluster"`` or ``"selection"``.
        groups_text: Line above the near-duplicate groups (plain text); the section is shown
            when the map has groups.
        run: The training run's curves, previews and summary, or None.

    Returns:
        The HTML document.

    Raises:
        ValueError: an unknown ``color_by``, or one whose data the map lacks.
    """
    if color_by not in COLOR_MODES:
        raise ValueError(f"color_by must be one of {', '.join(COLOR_MODES)}, got {color_by!r}")
    if color_by == "cluster" and embedding_map.clusters is None:
        raise ValueError("color_by='cluster' needs clusters in the map")
    if color_by == "selection" and not embedding_map.has_selection:
        raise ValueError("color_by='selection' needs a selection")
    modes = [("label", "label")]
    if embedding_map.clusters is not None:
        modes.append(("cluster", f"cluster (k-means, {embedding_map.num_clusters})"))
    if embedding_map.has_selection:
        modes.append(("selection", "selection"))
    options = "".join(
        f'<option value="{value}"{" selected" if value == color_by else ""}>{text}</option>'
        for value, text in modes
    )
    csp = (
        "default-src 'none'; img-src data:; "
        f"style-src 'sha256-{_sha256(PAGE_STYLE)}'; script-src 'sha256-{_sha256(PAGE_SCRIPT)}'"
    )
    safe_title = html.escape(_display(title))
    stat_lines = "".join(f'<p class="stats">{html.escape(_display(s))}</p>' for s in stats)
    note_lines = (
        '<ul class="notes">'
        + "".join(f"<li>{html.escape(_display(note))}</li>" for note in notes)
        + "</ul>"
        if notes
        else ""
    )
    groups = ""
    if embedding_map.groups:
        groups = (
            '<section id="groups-section"><h2>Near-duplicate groups</h2>'
            f'<p class="stats">{html.escape(_display(groups_text))}</p>'
            '<div id="groups" class="groups"></div></section>'
        )
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{safe_title}</title><style>{PAGE_STYLE}</style></head><body>",
            f"<header><h1>{safe_title}</h1>{stat_lines}{note_lines}</header>",
            '<section id="map-section"><div id="controls"><label>Colour by ',
            f'<select id="color-by">{options}</select></label>',
            '<button id="reset-view" type="button">Reset view</button>',
            '<span class="hint">wheel: zoom, drag: pan, hover: thumbnail, click: nearest '
            "neighbours; selected samples have a black outline</span></div>",
            '<div id="legend"></div><div id="map-row"><div id="map-wrap">',
            '<canvas id="map"></canvas></div><aside id="neighbours">',
            "<h2>Nearest neighbours</h2>",
            '<p id="nb-hint" class="hint">Click a point to list the samples most similar to it '
            "(cosine similarity of the full embeddings).</p>",
            '<ul id="nb-query" class="cards-query"></ul><ol id="nb-list"></ol></aside></div>',
            '<div id="tooltip" hidden><img id="tt-img" alt=""><div id="tt-name"></div>',
            '<div id="tt-meta"></div></div>',
            "<noscript>The map needs JavaScript.</noscript></section>",
            groups,
            _run_section(run) if run is not None else "",
            '<script type="application/json" id="selfsup-data">',
            json_for_html(embedding_map.payload()),
            f"</script><script>{PAGE_SCRIPT}</script></body></html>\n",
        ]
    )
