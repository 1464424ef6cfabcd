import base64
import hashlib
import io
import json
import re
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from selfsup.report import (
    _page,
    embedding_map,
    html,
    run_panel,
    selection_files,
    thumbnails,
)
from selfsup.report.embedding_map import cosine_neighbours, project_2d, subsample_indices
from selfsup.report.html import EmbeddingMap, json_for_html, render_html
from selfsup.report.run_panel import line_chart_svg, load_run_panel, read_metrics
from selfsup.report.selection_files import read_groups_csv, read_selected_filenames
from selfsup.report.thumbnails import make_thumbnails, thumbnail_jpeg

NASTY = "<img src=x onerror=alert(1)>.png"


def _data_block(page):
    match = re.search(
        r'<script type="application/json" id="selfsup-data">(.*?)</script>', page, re.S
    )
    assert match is not None
    return match.group(1)


def _map(names, k=2, thumbs=None, selected=None, groups=(), clusters=None):
    n = len(names)
    rng = np.random.default_rng(0)
    neighbours = np.stack([(np.arange(k) + i + 1) % n for i in range(n)])
    return EmbeddingMap(
        names=list(names),
        labels=np.zeros(n, dtype=np.int64),
        label_names=["</script><b>label</b>"],
        selected=np.zeros(n, dtype=bool) if selected is None else selected,
        coords=rng.random((n, 2)),
        neighbours=neighbours,
        similarities=np.full((n, k), 0.5),
        total=n,
        thumbnails=thumbs or {},
        clusters=clusters,
        num_clusters=0 if clusters is None else int(clusters.max()) + 1,
        groups=list(groups),
        has_selection=selected is not None,
    )


def test_json_for_html_escapes_markup_and_line_separators_and_round_trips():
    value = {"name": NASTY, "other": "a&b</script>\u2028\u2029 é"}
    text = json_for_html(value)
    for raw in ("<", ">", "&", "\u2028", "\u2029"):
        assert raw not in text
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in text
    assert json.loads(text) == value


def test_nasty_file_name_appears_only_escaped_in_the_page():
    page = render_html(_map(["a.png", NASTY, "b.png"]), notes=[f"missing: {NASTY}"])
    assert NASTY not in page
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in page  # the note, as HTML text
    block = _data_block(page)
    assert "<" not in block and ">" not in block
    data = json.loads(block)
    assert data["items"]["name"][1] == NASTY
    assert data["labelNames"] == ["</script><b>label</b>"]


def test_page_loads_nothing_from_the_network_and_csp_hashes_match_inline_code():
    page = render_html(_map(["a.png", "b.png", "c.png"]))
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", page)
    assert "<link" not in page and "@import" not in page
    assert "<script src" not in page
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert len(scripts) == 1 and len(styles) == 1
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert "default-src 'none'" in csp
    for code, kind in ((scripts[0], "script-src"), (styles[0], "style-src")):
        digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
        assert f"{kind} 'sha256-{digest}'" in csp


def test_page_script_never_writes_markup_from_data():
    assert "innerHTML" not in _page.PAGE_SCRIPT
    assert "outerHTML" not in _page.PAGE_SCRIPT
    assert "insertAdjacentHTML" not in _page.PAGE_SCRIPT
    assert "document.write" not in _page.PAGE_SCRIPT
    assert "textContent" in _page.PAGE_SCRIPT


def test_payload_maps_thumbnails_and_groups_to_items():
    selected = np.array([False, True, False])
    page = render_html(
        _map(
            ["a", "b", "c"], thumbs={2: "QUJD", 0: "WFla"}, selected=selected, groups=[(3, [0, 2])]
        ),
        color_by="selection",
    )
    data = json.loads(_data_block(page))
    assert data["thumbs"] == ["WFla", "QUJD"]
    assert data["items"]["thumb"] == [0, -1, 1]
    assert data["items"]["selected"] == [0, 1, 0]
    assert data["groups"] == [{"size": 3, "members": [0, 2]}]
    assert 'id="groups"' in page
    assert '<option value="selection" selected>' in page


def test_render_rejects_colour_modes_without_data():
    with pytest.raises(ValueError, match="color_by must be one of label, cluster, selection"):
        render_html(_map(["a", "b", "c"]), color_by="size")
    with pytest.raises(ValueError, match="needs a selection"):
        render_html(_map(["a", "b", "c"]), color_by="selection")
    with pytest.raises(ValueError, match="needs clusters"):
        render_html(_map(["a", "b", "c"]), color_by="cluster")


def test_embedding_map_checks_lengths():
    with pytest.raises(ValueError, match="one entry per item"):
        EmbeddingMap(
            names=["a", "b"],
            labels=np.zeros(3, dtype=np.int64),
            label_names=["x"],
            selected=np.zeros(2, dtype=bool),
            coords=np.zeros((2, 2)),
            neighbours=np.zeros((2, 1), dtype=np.int64),
            similarities=np.zeros((2, 1)),
            total=2,
        )


def _brute_force_topk(x, queries, k):
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    index, sims = [], []
    for q in queries:
        similarity = [float(unit[q] @ unit[j]) if j != q else -np.inf for j in range(len(x))]
        order = sorted(range(len(x)), key=lambda j: -similarity[j])[:k]
        index.append(order)
        sims.append([similarity[j] for j in order])
    return np.array(sims), np.array(index)


@pytest.mark.parametrize("chunk_size", [None, 3])
def test_cosine_neighbours_equal_brute_force(chunk_size):
    x = np.random.default_rng(1).normal(size=(40, 6)).astype(np.float32)
    queries = np.array([0, 5, 17, 39, 22])
    sims, index = cosine_neighbours(x, queries, 4, chunk_size=chunk_size)
    ref_sims, ref_index = _brute_force_topk(x.astype(np.float64), queries, 4)
    np.testing.assert_array_equal(index, ref_index)
    np.testing.assert_allclose(sims, ref_sims, atol=1e-5)


def test_cosine_neighbours_rejects_bad_k_and_queries():
    x = np.ones((5, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"k must be in \[1, 4\]"):
        cosine_neighbours(x, [0], 5)
    with pytest.raises(ValueError, match="queries must be rows"):
        cosine_neighbours(x, [7], 2)


def test_subsample_keeps_selected_rows_and_is_seeded():
    keep = [3, 500, 999]
    first = subsample_indices(1000, 50, keep=keep, generator=torch.Generator().manual_seed(4))
    again = subsample_indices(1000, 50, keep=keep, generator=torch.Generator().manual_seed(4))
    other = subsample_indices(1000, 50, keep=keep, generator=torch.Generator().manual_seed(5))
    assert len(first) == 50 and len(set(first.tolist())) == 50
    assert set(keep) <= set(first.tolist())
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert np.array_equal(subsample_indices(10, 50), np.arange(10))


def test_subsample_rejects_more_selected_than_max_points():
    with pytest.raises(ValueError, match="raise max_points to at least 3"):
        subsample_indices(10, 2, keep=[0, 1, 2])
    with pytest.raises(ValueError, match="max_points must be >= 1"):
        subsample_indices(10, 0)


def test_pca_projection_matches_numpy_svd():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 5)) * np.array([5.0, 2.0, 1.0, 0.5, 0.1]) + 3.0
    rows = np.arange(0, 60, 2)
    result = project_2d(x, rows)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    centred = unit - unit.mean(0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:2].T
    axes *= np.sign(axes[np.abs(axes).argmax(0), [0, 1]])
    scores = centred[rows] @ axes
    low, high = scores.min(0), scores.max(0)
    expected = (scores - (low + high) / 2) / (high - low).max() + 0.5
    np.testing.assert_allclose(result.coords, expected, atol=1e-5)
    variance = singular**2 / (singular**2).sum()
    np.testing.assert_allclose(result.explained, variance[:2], atol=1e-6)
    assert result.coords.min() >= 0 and result.coords.max() <= 1


def test_projection_errors():
    x = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(ValueError, match="projection must be one of pca, umap, got 'tsne'"):
        project_2d(x, [0, 1], method="tsne")


def test_umap_without_the_extra_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "umap", None)
    with pytest.raises(ImportError, match=r"selfsup\[umap\]"):
        project_2d(np.ones((10, 3)), [0, 1], method="umap")


def test_umap_projection_uses_cosine_and_the_seed(monkeypatch):
    calls = {}

    class FakeUMAP:
        def __init__(self, **kwargs):
            calls["kwargs"] = kwargs

        def fit_transform(self, x):
            calls["rows"] = x.copy()
            return np.stack([np.arange(len(x)) * 4.0, np.zeros(len(x))], 1)

    fake = type(sys)("umap")
    fake.UMAP = FakeUMAP
    monkeypatch.setitem(sys.modules, "umap", fake)
    x = np.random.default_rng(0).normal(size=(10, 3))
    result = project_2d(x, [1, 4, 6], method="umap", seed=7)
    assert calls["kwargs"] == {"n_components": 2, "metric": "cosine", "random_state": 7}
    unit = x[[1, 4, 6]] / np.linalg.norm(x[[1, 4, 6]], axis=1, keepdims=True)
    np.testing.assert_allclose(calls["rows"], unit, atol=1e-6)
    np.testing.assert_allclose(result.coords, [[0, 0.5], [0.5, 0.5], [1, 0.5]])
    assert result.method == "umap" and result.explained == ()


def _image_file(path, size=(100, 80), seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def test_thumbnail_is_a_small_jpeg_and_never_enlarged(tmp_path):
    big = thumbnail_jpeg(_image_file(tmp_path / "big.png"), size=64, quality=70)
    small = thumbnail_jpeg(_image_file(tmp_path / "small.png", (20, 10)), size=64)
    with Image.open(io.BytesIO(big)) as image:
        assert image.format == "JPEG" and image.size == (64, 51)
    with Image.open(io.BytesIO(small)) as image:
        assert image.size == (20, 10)
    with pytest.raises(ValueError, match="quality must be an int in"):
        thumbnail_jpeg(tmp_path / "big.png", quality=0)


def test_thumbnails_stop_at_the_caps_and_skip_broken_files(tmp_path):
    names = [f"{i}.png" for i in range(6)]
    for i, name in enumerate(names):
        _image_file(tmp_path / name, seed=i)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    wanted = [(10, "broken.png")] + list(enumerate(names))
    every = make_thumbnails(tmp_path, wanted, max_count=100, max_bytes=10**9)
    assert sorted(every.images) == list(range(6)) and every.limited_by is None
    assert [name for name, _ in every.failed] == ["broken.png"]
    sizes = [len(every.images[i]) for i in range(6)]
    assert every.total_bytes == sum(sizes)
    for text in every.images.values():
        with Image.open(io.BytesIO(base64.b64decode(text))) as image:
            assert image.format == "JPEG" and max(image.size) <= 64
    capped = make_thumbnails(tmp_path, wanted, max_bytes=sum(sizes[:3]) + 1)
    assert sorted(capped.images) == [0, 1, 2] and capped.limited_by == "max_bytes"
    assert capped.total_bytes <= sum(sizes[:3]) + 1
    counted = make_thumbnails(tmp_path, wanted, max_count=2)
    assert sorted(counted.images) == [0, 1] and counted.limited_by == "max_count"


def _write_run(folder):
    folder.mkdir()
    (folder / "metrics.csv").write_text(
        "epoch,loss,knn_top1,rep_std,lr,seconds\n"
        "0,6.0,0.30,0.05,0.1,1.0\n1,5.5,,0.06,0.1,1.0\n2,5.0,0.45,0.07,0.1,1.0\n"
    )
    (folder / "summary.json").write_text(
        json.dumps({"method": "<simclr>", "final_loss": 5.0, "files": {"a": "b"}})
    )
    _image_file(folder / "preview.png", (30, 20))
    return folder


def test_run_panel_has_curves_preview_and_summary(tmp_path):
    run = load_run_panel(_write_run(tmp_path / "run"))
    series = read_metrics(tmp_path / "run" / "metrics.csv")
    assert series["knn_top1"] == [(0.0, 0.30), (2.0, 0.45)]
    assert [title for title, _ in run.charts] == [title for _, title in run_panel.CURVES]
    assert [name for name, _ in run.previews] == ["preview.png"]
    assert run.summary == {"method": "<simclr>", "final_loss": 5.0}
    page = render_html(_map(["a", "b", "c"]), run=run)
    assert page.count("<svg") == 3 and "training loss" in page and "kNN top-1 accuracy" in page
    assert "data:image/png;base64," in page and "&lt;simclr&gt;" in page


def test_run_panel_errors_and_notes(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_run_panel(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no metrics.csv"):
        load_run_panel(tmp_path / "empty")
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "metrics.csv").write_text("epoch,loss\n0,1.0\n")
    panel = load_run_panel(tmp_path / "only")
    assert len(panel.charts) == 1 and any("selfsup preview" in note for note in panel.notes)


def test_line_chart_svg_draws_every_point_and_escapes_the_title():
    svg = line_chart_svg([(0, 1.0), (1, 0.5), (2, 0.25)], "<loss>")
    points = re.search(r'<polyline points="([^"]+)"', svg).group(1).split()
    assert len(points) == 3
    ys = [float(p.split(",")[1]) for p in points]
    assert ys[0] < ys[1] < ys[2]  # a falling curve: screen y grows downwards
    assert "&lt;loss&gt;" in svg and "<loss>" not in svg and "style=" not in svg
    with pytest.raises(ValueError, match="at least one point"):
        line_chart_svg([], "x")


def test_modules_declare_their_public_names():
    for module in (embedding_map, html, run_panel, selection_files, thumbnails, _page):
        for name in module.__all__:
            assert getattr(module, name) is not None
            if callable(getattr(module, name)):
                assert getattr(module, name).__doc__


def test_selection_files_read_back_what_select_writes(tmp_path):
    (tmp_path / "selected_filenames.txt").write_text("a.png\n\n b.png \n")
    assert read_selected_filenames(tmp_path / "selected_filenames.txt") == ["a.png", "b.png"]
    with pytest.raises(ValueError, match="does not exist"):
        read_selected_filenames(tmp_path / "none.txt")
    (tmp_path / "groups.csv").write_text(
        "group,size,index,filename\n4,2,0,a.png\n4,2,3,d.png\n1,3,1,b.png\n1,3,2,c.png\n"
    )
    groups = read_groups_csv(tmp_path / "groups.csv")
    assert groups == {4: (2, ["a.png", "d.png"]), 1: (3, ["b.png", "c.png"])}
    (tmp_path / "bad.csv").write_text("group,size,index,filename\nx,2,0,a.png\n")
    with pytest.raises(ValueError, match="line 2: group and size must be integers"):
        read_groups_csv(tmp_path / "bad.csv")
    (tmp_path / "cols.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="must have the columns group,size,index,filename"):
        read_groups_csv(tmp_path / "cols.csv")
