import dataclasses
import json
import re

import numpy as np
import pytest
from PIL import Image

from selfsup.pipeline import select
from selfsup.pipeline.report import ReportConfig, ReportResult, report
from selfsup.utils.config import ConfigError
from selfsup.utils.io import save_embeddings

NASTY = "<img src=x onerror=alert(1)>.png"


def _dataset(root, per_class=12, dim=8):
    """Two class folders and one nasty name in the root; embeddings with one near-duplicate."""
    rng = np.random.default_rng(0)
    names, labels = [], []
    for label, cls in enumerate(["cats", "dogs"]):
        (root / "data" / cls).mkdir(parents=True)
        for i in range(per_class):
            names.append(f"{cls}/{i:02d}.png")
            labels.append(label)
    names.append(NASTY)
    labels.append(2)
    for name in names:
        pixels = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "data" / name)
    centres = rng.normal(size=(3, dim)) * 3
    x = (centres[labels] + rng.normal(size=(len(names), dim))).astype(np.float32)
    x[4] = x[2] * 1.0001
    csv_path = root / "embeddings.csv"
    save_embeddings(csv_path, x, labels, names)
    return csv_path, x, names, labels


def _data(page):
    block = re.search(r'id="selfsup-data">(.*?)</script>', page, re.S).group(1)
    return json.loads(block)


def _cosine_topk(x, query, k):
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims = unit @ unit[query]
    sims[query] = -np.inf
    return np.argsort(-sims, kind="stable")[:k]


def test_report_end_to_end_with_selection_groups_and_run(tmp_path):
    csv_path, x, names, labels = _dataset(tmp_path)
    selection = select(
        csv_path, strategy="dedup", dedup_threshold=0.9999, out=str(tmp_path / "sel")
    )
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.csv").write_text("epoch,loss,knn_top1,rep_std\n0,5.0,0.5,0.1\n1,4.0,0.6,0.1\n")
    result = report(
        csv_path,
        data=tmp_path / "data",
        selection=tmp_path / "sel" / "selected_filenames.txt",
        run=run,
        out=tmp_path / "out" / "report.html",
        neighbours=3,
        clusters=2,
    )
    assert isinstance(result, ReportResult)
    page = result.path.read_text(encoding="utf-8")
    assert NASTY not in page
    data = _data(page)
    n = len(names)
    assert data["points"] == data["total"] == n == result.summary["drawn"]
    items = data["items"]
    assert items["name"][:n] == names  # every row drawn, in order
    assert data["labelNames"] == ["cats", "dogs", "."]  # the folder's classes name the labels
    assert items["label"][:n] == labels
    assert sum(items["selected"]) == len(selection.indices) == result.summary["selected"]
    assert sorted(items["cluster"][:n]) != [0] * n and max(items["cluster"]) == 1
    for point in (0, 4, n - 1):
        got = data["neighbours"][point * 3 : point * 3 + 3]
        assert [items["name"][i] for i in got] == [names[j] for j in _cosine_topk(x, point, 3)]
    (group,) = data["groups"]
    assert group["size"] == 2
    assert sorted(items["name"][m] for m in group["members"]) == ["cats/02.png", "cats/04.png"]
    assert data["items"]["thumb"].count(-1) == 0 and len(data["thumbs"]) == n
    assert "Near-duplicate groups" in page and "training loss" in page
    assert f"Showing {n} of {n} points" in page
    assert result.summary["file_mb"] == pytest.approx(result.path.stat().st_size / 1e6, abs=1e-3)


def test_subsample_keeps_selected_and_says_so(tmp_path):
    csv_path, _, names, _ = _dataset(tmp_path)
    keep = ["dogs/05.png", NASTY, "cats/11.png"]
    (tmp_path / "chosen.txt").write_text("\n".join(keep) + "\n")
    result = report(
        csv_path,
        data=tmp_path / "data",
        selection=tmp_path / "chosen.txt",
        out=tmp_path / "r.html",
        max_points=10,
        color_by="selection",
        max_thumbnails=4,
    )
    page = result.path.read_text(encoding="utf-8")
    data = _data(page)
    drawn = data["items"]["name"][: data["points"]]
    assert data["points"] == 10 and set(keep) <= set(drawn)
    assert [data["items"]["selected"][drawn.index(name)] for name in keep] == [1, 1, 1]
    assert f"Showing 10 of {len(names)} points" in page and "all 3 selected kept" in page
    # the selected samples get thumbnails first
    assert len(data["thumbs"]) == 4
    assert all(data["items"]["thumb"][drawn.index(name)] >= 0 for name in keep)
    # neighbours that are not drawn are listed after the drawn points, with their names
    assert len(data["items"]["name"]) > 10
    seeds = [
        _data(
            report(
                csv_path, data=tmp_path / "data", out=tmp_path / f"{s}.html", max_points=10, seed=s
            ).path.read_text()
        )
        for s in (0, 0, 1)
    ]
    drawn = [d["items"]["name"][:10] for d in seeds]
    assert drawn[0] == drawn[1] and drawn[0] != drawn[2]


def test_missing_images_are_an_error_unless_allowed(tmp_path):
    csv_path, _, names, _ = _dataset(tmp_path)
    for name in names[:7]:
        (tmp_path / "data" / name).unlink()
    with pytest.raises(
        ValueError, match=r"7 of 25 embeddings name files that are not images"
    ) as info:
        report(csv_path, data=tmp_path / "data", out=tmp_path / "r.html")
    assert "'cats/00.png'" in str(info.value) and "and 2 more" in str(info.value)
    assert not (tmp_path / "r.html").exists()
    result = report(csv_path, data=tmp_path / "data", out=tmp_path / "r.html", allow_missing=True)
    assert result.summary["missing_files"] == 7
    data = _data(result.path.read_text())
    assert data["items"]["thumb"][:7] == [-1] * 7 and len(data["thumbs"]) == len(names) - 7
    assert "7 embeddings have no image under the data folder" in result.path.read_text()


def test_npy_input_takes_labels_from_the_folder(tmp_path):
    _, x, names, labels = _dataset(tmp_path)
    np.save(tmp_path / "embeddings.npy", x)
    config = ReportConfig(data=str(tmp_path / "data"), out=str(tmp_path / "n.html"))
    result = report(tmp_path / "embeddings.npy", config=config)
    data = _data(result.path.read_text())
    assert data["items"]["name"][: len(names)] == names
    assert data["items"]["label"][: len(names)] == labels


def test_bad_options_and_files_give_clear_errors(tmp_path):
    csv_path, _, _, _ = _dataset(tmp_path)
    data = tmp_path / "data"
    with pytest.raises(ConfigError, match="projection.*allowed: pca, umap"):
        report(csv_path, data=data, projection="tsne")
    with pytest.raises(ConfigError, match="unknown key 'colour'"):
        report(csv_path, data=data, colour="label")
    with pytest.raises(ConfigError, match="embeddings and data are required"):
        report(data=data)
    with pytest.raises(ConfigError, match="either in config or as keywords"):
        report(csv_path, config=ReportConfig(data=str(data)), seed=1)
    with pytest.raises(ValueError, match="does not exist"):
        report(tmp_path / "nope.csv", data=data)
    with pytest.raises(ValueError, match="does not exist"):
        report(csv_path, data=tmp_path / "nodata")
    with pytest.raises(ConfigError, match="color_by=selection needs selection"):
        report(csv_path, data=data, color_by="selection")
    with pytest.raises(ConfigError, match="neighbours must be >= 1"):
        report(csv_path, data=data, neighbours=0)
    (tmp_path / "wrong.txt").write_text("cats/00.png\nzebra.png\n")
    out = tmp_path / "kept.html"
    out.write_text("old")
    with pytest.raises(ValueError, match=r"1 of 2 names in .* are not among .*'zebra.png'"):
        report(csv_path, data=data, selection=tmp_path / "wrong.txt", out=out)
    assert out.read_text() == "old"
    (tmp_path / "two.txt").write_text("cats/00.png\ncats/01.png\n")
    with pytest.raises(ValueError, match="2 selected samples are more than max_points=1"):
        report(csv_path, data=data, selection=tmp_path / "two.txt", out=out, max_points=1)


def test_config_dataclass_documents_every_option():
    for field in dataclasses.fields(ReportConfig):
        assert field.metadata.get("help"), field.name


def test_labels_that_are_not_the_folder_classes_are_named_by_value(tmp_path):
    (tmp_path / "data").mkdir()
    names = [f"{i}.png" for i in range(4)]
    for name in names:
        Image.new("RGB", (8, 8), "red").save(tmp_path / "data" / name)
    x = np.random.default_rng(0).normal(size=(4, 3))
    save_embeddings(tmp_path / "e.csv", x, [7, 3, 7, 9], names)
    result = report(tmp_path / "e.csv", data=tmp_path / "data", out=tmp_path / "r.html")
    data = _data(result.path.read_text())
    assert data["labelNames"] == ["3", "7", "9"]
    assert data["items"]["label"][:4] == [1, 0, 1, 2]
    assert data["k"] == 3  # 8 neighbours asked, only 3 other rows exist
