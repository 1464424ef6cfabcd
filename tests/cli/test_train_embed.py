import json

import numpy as np
from PIL import Image

from selfsup.cli.main import main
from selfsup.utils.io import load_embeddings


def _folder(root, per_class=8, size=16):
    rng = np.random.default_rng(0)
    for label in ("a", "b"):
        (root / label).mkdir(parents=True)
        for index in range(per_class):
            pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / label / f"{index}.png")
    return root


def test_train_then_embed_through_the_command_line(tmp_path, capsys):
    data = _folder(tmp_path / "data")
    run = tmp_path / "run"
    tiny = ["backbone=resnet-9", "width=0.125", "batch_size=8", "input_size=16", "num_workers=0"]
    code = main(["train", f"data={data}", "epochs=1", f"out={run}", "accelerator=cpu", *tiny])
    assert code == 0
    printed = capsys.readouterr().out
    summary = json.loads(printed[printed.index("{") :])
    assert summary["epochs"] == 1 and summary["files"]["backbone"] == str(run / "backbone.pt")
    for name in ("last.ckpt", "backbone.pt", "metrics.csv", "metrics.png", "config.yaml"):
        assert (run / name).is_file()

    out = tmp_path / "emb.csv"
    assert main(["embed", f"checkpoint={run}", f"data={data}", f"out={out}"]) == 0
    embeddings, labels, filenames = load_embeddings(out)
    assert embeddings.shape[0] == 16 and labels == [0] * 8 + [1] * 8
    assert filenames[0] == "a/0.png"
    np.testing.assert_allclose(np.load(tmp_path / "emb.npy"), embeddings, rtol=1e-6)

    again = tmp_path / "again.csv"
    assert main(["embed", f"checkpoint={run / 'last.ckpt'}", f"data={data}", f"out={again}"]) == 0
    np.testing.assert_array_equal(load_embeddings(again)[0], embeddings)  # deterministic


def test_embed_errors_name_the_missing_thing(tmp_path, capsys):
    assert main(["embed", f"checkpoint={tmp_path / 'nope'}", f"data={tmp_path}"]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["embed", f"data={tmp_path}"]) == 2
    assert "checkpoint and data are required" in capsys.readouterr().err
