import json

import numpy as np
from PIL import Image

from selfsup.cli.main import main


def _folder(root, per_class=12, size=32):
    rng = np.random.default_rng(0)
    for label in ("cats", "dogs"):
        (root / label).mkdir(parents=True)
        for index in range(per_class):
            pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            pixels[:, : size // 2] //= 4 if label == "cats" else 1
            Image.fromarray(pixels).save(root / label / f"{index:02d}.png")
    return root


def _summary(printed):
    return json.loads(printed[printed.index("{") : printed.rindex("}") + 1])


def test_train_embed_select_extract_through_the_command_line(tmp_path, capsys):
    data = _folder(tmp_path / "data")
    run, embeddings, selection, out = (tmp_path / n for n in ("run", "emb.csv", "sel", "out"))
    tiny = ["backbone=resnet-9", "width=0.125", "batch_size=8", "input_size=16", "num_workers=0"]
    assert main(["train", f"data={data}", "epochs=1", f"out={run}", "accelerator=cpu", *tiny]) == 0
    assert main(["embed", f"checkpoint={run}", f"data={data}", f"out={embeddings}"]) == 0
    assert main(["select", f"embeddings={embeddings}", "n=5", f"out={selection}"]) == 0
    capsys.readouterr()

    listing = selection / "selected_filenames.txt"
    names = listing.read_text().split()
    assert len(names) == 5 and len(set(names)) == 5
    assert main(["extract", f"data={data}", f"filenames={listing}", f"out={out}"]) == 0
    summary = _summary(capsys.readouterr().out)
    assert summary["written"] == 5 and summary["missing"] == 0 and summary["listed"] == 5
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == sorted(names)
    for name in names:
        with Image.open(out / name) as copy, Image.open(data / name) as original:
            np.testing.assert_array_equal(np.asarray(copy), np.asarray(original))

    assert main(["extract", f"data={data}", f"filenames={listing}", f"out={out}"]) == 0
    again = _summary(capsys.readouterr().out)
    assert again["written"] == 0 and again["skipped_identical"] == 5

    page = tmp_path / "report.html"
    report = ["report", f"embeddings={embeddings}", f"data={data}", f"selection={listing}"]
    assert main([*report, f"run={run}", f"out={page}"]) == 0
    assert _summary(capsys.readouterr().out)["selected"] == 5
    html = page.read_text()
    assert all(name in html for name in names)
    assert "<h3>preview.png</h3>" in html and "no augmentation preview" not in html

    invariance = tmp_path / "invariance"
    assert main(["invariance", f"checkpoint={run}", f"data={data}", f"out={invariance}"]) == 0
    scores = json.loads((invariance / "invariance.json").read_text())
    assert "grayscale" in json.dumps(scores) and (invariance / "invariance.png").is_file()


def test_extract_names_missing_files_and_exits_2(tmp_path, capsys):
    data = _folder(tmp_path / "data", per_class=2)
    listing = tmp_path / "names.txt"
    listing.write_text("cats/00.png\ncats/nope.png\ndogs/01.png\n")
    out = tmp_path / "out"
    code = main(["extract", f"data={data}", f"filenames={listing}", f"out={out}", "format=jpg"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("selfsup extract: error:") and "'cats/nope.png'" in err
    assert len(err.splitlines()) == 1
    assert sorted(p.name for p in out.rglob("*.jpg")) == ["00.jpg", "01.jpg"]


def test_extract_rejects_a_bad_format_and_lists_its_options(tmp_path, capsys):
    assert main(["extract", f"data={tmp_path}", "filenames=x.txt", "out=o", "format=gif"]) == 2
    assert "allowed: png, jpg, jpeg" in capsys.readouterr().err
    assert main(["extract", "--help"]) == 0
    printed = capsys.readouterr().out
    for key in ("data", "filenames", "out", "format", "overwrite"):
        assert f"  {key} " in printed
