"""Every ``selfsup`` command and the Python block of ``docs/getting-started.md`` run as written,
in a folder holding the page's placeholders (``images/``, ``labeled/train``, ``labeled/val``),
with the training made tiny by appending :data:`TINY_TRAIN` to each ``selfsup train``."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import yaml

import selfsup
import selfsup.pipeline
from selfsup.cli.main import main

from ._pages import DOCS, TINY_TRAIN, code_blocks, selfsup_commands, write_images, write_labeled

PAGE = DOCS / "getting-started.md"


@pytest.fixture
def placeholders(tmp_path, monkeypatch):
    """A working directory with the page's folders: 8 images, and 2 labeled classes."""
    write_images(tmp_path / "images", 8, seed=0)
    write_labeled(tmp_path / "labeled" / "train", 4, seed=1)
    write_labeled(tmp_path / "labeled" / "val", 2, seed=3)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_command_of_the_page_runs(placeholders, capsys):
    yaml_blocks = code_blocks(PAGE, "yaml")
    assert len(yaml_blocks) == 1
    (placeholders / "run.yaml").write_text(yaml_blocks[0])
    commands = selfsup_commands(PAGE)
    assert {args[0] for args in commands if args[0] != "--help"} == {
        "demo",
        "preview",
        "train",
        "embed",
    }
    for args in commands:
        if args[0] == "demo":  # the full demo takes minutes: only check that it parses
            args = [*args, "--help"]
        elif args[0] == "train":
            args = [*args, *TINY_TRAIN]
        assert main(args) == 0, f"selfsup {' '.join(args)}\n{capsys.readouterr().err}"

    for png in ("preview.png", "no-blur.png", "dino.png"):
        assert (placeholders / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # resuming the finished run found nothing left to train and kept its one row
    assert [row["epoch"] for row in _rows("runs/simclr/metrics.csv")] == ["0"]
    knn = _rows("runs/simclr-knn/metrics.csv")[0]["knn_top1"]
    assert 0.0 <= float(knn) <= 1.0
    moco = yaml.safe_load((placeholders / "runs/moco/config.yaml").read_text())
    assert moco["method_args"] == {"memory_bank_size": 4096, "temperature": 0.2}
    assert moco["transform"] == {"gaussian_blur": 0} and moco["optimizer"]["warmup_epochs"] == 10
    byol = yaml.safe_load((placeholders / "runs/byol/config.yaml").read_text())
    assert byol["method"] == "byol" and byol["method_args"] == {"momentum_start": 0.996}
    embeddings = np.load(placeholders / "embeddings.npy")
    assert embeddings.shape == (8, 64)
    assert len(_rows("embeddings.csv")) == 8


def test_python_block_runs(placeholders, monkeypatch):
    real_train = selfsup.pipeline.train
    tiny = dict(arg.split("=") for arg in TINY_TRAIN)
    tiny = {key: yaml.safe_load(value) for key, value in tiny.items()}

    def tiny_train(**options):
        return real_train(**{**options, **tiny})

    monkeypatch.setattr(selfsup.pipeline, "train", tiny_train)
    (block,) = code_blocks(PAGE, "python")
    namespace: dict = {}
    exec(compile(block, str(PAGE), "exec"), namespace)
    assert (placeholders / "dino.png").is_file()
    summary = json.loads((placeholders / "runs/simclr-python/summary.json").read_text())
    assert summary == namespace["result"].summary and summary["best_knn_top1"] is not None
    assert namespace["embeddings"].shape == (8, 64) and len(namespace["filenames"]) == 8
    np.testing.assert_allclose(namespace["embeddings"], namespace["embedded"].embeddings, rtol=1e-5)
