import numpy as np
import pytest

from selfsup.utils.io import load_embeddings, save_embeddings


def test_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(0)
    embeddings = rng.standard_normal((5, 3)).astype(np.float32)
    labels = [0, 1, 2, 1, 0]
    names = ["a.png", "sub/b.jpg", "c d.png", "ü.png", "e-mp4-001.png"]
    path = tmp_path / "emb.csv"
    save_embeddings(path, embeddings, labels, names)
    loaded, loaded_labels, loaded_names = load_embeddings(path)
    np.testing.assert_array_equal(loaded.astype(np.float32), embeddings)
    assert loaded_labels == labels and loaded_names == names
    header = path.read_text().splitlines()[0]
    assert header == "filenames,embedding_0,embedding_1,embedding_2,labels"


@pytest.mark.parametrize("bad", ["a,b.png", "line\nbreak.png"])
def test_rejects_unsafe_filenames_and_writes_nothing(tmp_path, bad):
    path = tmp_path / "emb.csv"
    with pytest.raises(ValueError, match="comma or a line break"):
        save_embeddings(path, np.zeros((1, 2)), [0], [bad])
    assert list(tmp_path.iterdir()) == []


def test_rejects_length_mismatch(tmp_path):
    with pytest.raises(ValueError, match="same length"):
        save_embeddings(tmp_path / "e.csv", np.zeros((2, 2)), [0], ["a", "b"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("filenames,x,labels\na,1,0\n", "embedding columns"),
        ("filenames,embedding_0,labels\na,1\n", "line 2: expected 3 fields"),
        ("filenames,embedding_0,labels\na,abc,0\n", "line 2: non-numeric"),
        ("", "not an embeddings CSV"),
    ],
)
def test_load_rejects_malformed_files(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_embeddings(path)
