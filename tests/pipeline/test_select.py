import csv

import numpy as np
import pytest

from selfsup.pipeline.select import SelectConfig, load_selection_input, select
from selfsup.selection import select_samples
from selfsup.utils.config import ConfigError
from selfsup.utils.io import save_embeddings


def _embeddings(tmp_path, n=30):
    x = np.random.default_rng(0).normal(size=(n, 5)).astype(np.float32)
    x[7] = x[2] * 1.001  # a near-duplicate of row 2
    names = [f"img_{i:02d}.jpg" for i in range(n)]
    csv_path = tmp_path / "embeddings.csv"
    save_embeddings(csv_path, x, [0] * n, names)
    np.save(tmp_path / "embeddings.npy", x)
    return x, names, csv_path


def _read_scores(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_input_writes_files_that_read_back(tmp_path):
    x, names, csv_path = _embeddings(tmp_path)
    out = tmp_path / "sel"
    result = select(str(csv_path), n=5, strategy="coreset", out=str(out))
    expected = select_samples(x, n=5, strategy="coreset", filenames=names)
    assert result.indices.tolist() == expected.indices.tolist()
    assert (out / "selected_filenames.txt").read_text().splitlines() == result.filenames
    rows = _read_scores(out / "scores.csv")
    assert [r["filename"] for r in rows] == result.filenames
    assert [int(r["index"]) for r in rows] == result.indices.tolist()
    assert [int(r["rank"]) for r in rows] == list(range(5))
    assert [float(r["score"]) for r in rows] == result.scores.tolist()
    assert result.summary["selected_filenames"] == str(out / "selected_filenames.txt")
    assert not (out / "groups.csv").exists()


def test_npy_input_takes_names_from_the_csv_beside_it(tmp_path):
    x, names, _ = _embeddings(tmp_path)
    emb, got = load_selection_input(tmp_path / "embeddings.npy")
    assert got == names and np.array_equal(emb, x)
    alone = tmp_path / "alone.npy"
    np.save(alone, x[:4])
    assert load_selection_input(alone)[1] == ["0", "1", "2", "3"]
    result = select(tmp_path / "embeddings.npy", n=3, strategy="random", out=str(tmp_path / "o"))
    assert result.filenames == [names[i] for i in result.indices]


def test_dedup_writes_groups_and_initial_file(tmp_path):
    _, names, csv_path = _embeddings(tmp_path)
    labeled = tmp_path / "labeled.txt"
    labeled.write_text("img_00.jpg\nimg_01.jpg\n")
    out = tmp_path / "dedup"
    result = select(
        csv_path, strategy="dedup", dedup_threshold=0.999, out=str(out), initial=str(labeled)
    )
    assert len(result.indices) == 27  # 30 rows, one pair merged, two groups labeled
    assert not {0, 1} & set(result.indices.tolist())
    rows = _read_scores(out / "groups.csv")
    assert [(r["filename"], r["size"]) for r in rows] == [("img_02.jpg", "2"), ("img_07.jpg", "2")]
    assert rows[0]["group"] == rows[1]["group"]


def test_array_input_with_names_list_initial_and_no_files(tmp_path):
    x = np.random.default_rng(1).normal(size=(20, 4))
    names = [f"f{i}" for i in range(20)]
    result = select(x, filenames=names, n=4, initial=["f3", "f9"], out=None, strategy="coreset")
    assert not {3, 9} & set(result.indices.tolist()) and result.files == {}
    with pytest.raises(ValueError, match="not among"):
        select(x, filenames=names, n=4, initial=["nope"], out=None)


def test_option_errors(tmp_path):
    _, _, csv_path = _embeddings(tmp_path)
    with pytest.raises(ConfigError, match="unknown key 'budget'"):
        select(csv_path, budget=3)
    with pytest.raises(ConfigError, match="invalid value 'best' for 'strategy'"):
        select(csv_path, n=3, strategy="best")
    with pytest.raises(ConfigError, match="embeddings is required"):
        select(n=3)
    with pytest.raises(ValueError, match="does not exist"):
        select(tmp_path / "missing.csv", n=3)
    with pytest.raises(ValueError, match=r"\.csv or \.npy"):
        (tmp_path / "e.txt").write_text("x")
        select(tmp_path / "e.txt", n=3)
    with pytest.raises(ValueError, match="n=31 exceeds the N=30"):
        select(csv_path, n=31, out=None)
    with pytest.raises(ConfigError, match="either in config or as keywords"):
        select(config=SelectConfig(embeddings=str(csv_path), n=2), n=3)


def test_ready_config_with_a_path(tmp_path):
    _, names, csv_path = _embeddings(tmp_path)
    config = SelectConfig(n=2, strategy="random", out=None, seed=3)
    result = select(csv_path, config=config)
    expected = select_samples(load_selection_input(csv_path)[0], n=2, strategy="random", seed=3)
    assert result.indices.tolist() == expected.indices.tolist()
