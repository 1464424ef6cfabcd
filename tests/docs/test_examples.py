"""Every ``docs/examples/<method>.py`` trains on a tiny generated folder, through its plain
PyTorch loop and through ``selfsup.train``; the MoCo tutorial runs end to end."""

from __future__ import annotations

import importlib.util
import inspect
import json
import math
import re
import runpy
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from selfsup.cli.main import main as cli_main
from selfsup.methods import list_methods
from selfsup.utils.io import load_embeddings

from ._pages import DOCS, TINY_TRAIN, code_blocks, selfsup_commands, write_labeled

EXAMPLES = sorted((DOCS / "examples").glob("*.py"))
TUTORIAL_SCRIPT = DOCS / "tutorials" / "moco_memory_bank.py"
TUTORIAL_PAGE = DOCS / "tutorials" / "moco-memory-bank.md"

#: One epoch of one batch of 8 images at 16 pixels on a CPU.
COMMON = {"epochs": 1, "batch_size": 8, "input_size": 16, "device": "cpu", "num_workers": 0}
TINY_RESNET = {"backbone": "resnet-9", "width": 0.125}
TINY_VIT = {"num_layers": 1, "num_heads": 2, "hidden_dim": 32}


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"docs_{path.parent.name}_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tiny_size(module: ModuleType) -> dict:
    """ViT examples take the ViT's size, ResNet examples a backbone name and width."""
    return TINY_VIT if "num_layers" in inspect.signature(module.main).parameters else TINY_RESNET


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory) -> Path:
    """8 noisy 32x32 RGB images in two class subfolders (bright and dark): one batch."""
    root = tmp_path_factory.mktemp("images")
    write_labeled(root, 4, seed=0, size=32)
    return root


def test_every_registered_method_has_exactly_one_example():
    assert [path.stem for path in EXAMPLES] == sorted(list_methods())


def test_examples_index_links_every_script():
    index = (DOCS / "examples" / "README.md").read_text()
    linked = re.findall(r"\| \[(\w+)\.py\]\((\w+)\.py\) \|", index)
    assert [name for name, target in linked if name == target] == [p.stem for p in EXAMPLES]


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_example_trains_with_plain_loop_and_selfsup_train(path, image_folder, tmp_path):
    module = _load(path)
    size = _tiny_size(module)
    loss = module.main(str(image_folder), out=str(tmp_path / "run"), **COMMON, **size)
    assert isinstance(loss, float) and math.isfinite(loss)
    # the selfsup.train half ran the same method with the example's backbone and sizes
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["method"] == path.stem and summary["epochs"] == 1
    assert math.isfinite(summary["final_loss"])
    expected_backbone = "vit-tiny" if size is TINY_VIT else "resnet-9"
    assert summary["backbone"] == expected_backbone
    config = (tmp_path / "run" / "config.yaml").read_text()
    assert re.search(r"^batch_size: 8$", config, flags=re.M)


@pytest.mark.parametrize("name", ["simclr", "mae"])
def test_example_runs_from_the_command_line(name, image_folder, tmp_path, monkeypatch, capsys):
    path = DOCS / "examples" / f"{name}.py"
    options = {**COMMON, **(TINY_VIT if name == "mae" else TINY_RESNET), "out": tmp_path / "run"}
    argv = [str(path), str(image_folder)]
    for key, value in options.items():
        argv += [f"--{key}", str(value)]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(path), run_name="__main__")
    assert "epoch 0: loss" in capsys.readouterr().out
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["method"] == name


def test_smog_spherical_kmeans_is_a_fixed_point_of_lloyds_algorithm():
    spherical_kmeans = _load(DOCS / "examples" / "smog.py").spherical_kmeans
    directions = torch.eye(3)
    points = (directions.repeat_interleave(20, dim=0) + 0.05 * torch.randn(60, 3)).abs()
    centres = spherical_kmeans(points, k=3, iterations=20)
    torch.testing.assert_close(centres.norm(dim=1), torch.ones(3))
    # converged: each centre is the normalised sum of the unit points closest to it (NumPy)
    unit = points.numpy() / np.linalg.norm(points.numpy(), axis=1, keepdims=True)
    closest = np.argmax(unit @ centres.numpy().T, axis=1)
    for index in np.unique(closest):
        total = unit[closest == index].sum(axis=0)
        np.testing.assert_allclose(centres[index].numpy(), total / np.linalg.norm(total), atol=1e-5)
    # one centre: the normalised mean direction of all points
    single = spherical_kmeans(points, k=1)
    mean = unit.sum(axis=0) / np.linalg.norm(unit.sum(axis=0))
    np.testing.assert_allclose(single[0].numpy(), mean, atol=1e-5)


def test_tutorial_trains_monitors_and_embeds(image_folder, tmp_path, capsys):
    tutorial = _load(TUTORIAL_SCRIPT)
    options = {**COMMON, "epochs": 2}
    result = tutorial.main(str(image_folder), out=str(tmp_path), **options, **TINY_RESNET)
    assert math.isfinite(result["loss"])
    assert len(result["rep_std"]) == 2 and all(0.0 < std < 1.0 for std in result["rep_std"])
    printed = capsys.readouterr().out
    assert re.search(r"epoch: 01, loss: [\d.]+, representation std: [\d.]+", printed)
    embeddings, labels, filenames = load_embeddings(result["embeddings"])
    assert embeddings.shape == (8, 64) and np.isfinite(embeddings).all()
    assert filenames == [
        f"{name}/{index:02d}.png" for name in ("bright", "dark") for index in range(4)
    ]
    assert labels == [0] * 4 + [1] * 4
    # the printed agreement is the fraction of nearest neighbours (cosine) of the same class
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -2.0)
    nearest = similarity.argmax(axis=1)
    expected = np.mean([labels[i] == labels[j] for i, j in enumerate(nearest)])
    assert result["same_class"] == pytest.approx(expected)


def test_tutorial_page_shows_the_script_and_its_snippet_runs():
    script = TUTORIAL_SCRIPT.read_text()
    standalone, excerpts = [], 0
    for block in code_blocks(TUTORIAL_PAGE, "python"):
        if block.startswith("import "):
            standalone.append(block)
            continue
        # every other block is a verbatim piece of the script (at its own indentation)
        assert any(textwrap.indent(block, pad) in script for pad in ("", " " * 4, " " * 8)), block
        excerpts += 1
    assert excerpts >= 6 and len(standalone) == 1
    namespace: dict = {}
    exec(compile(standalone[0], str(TUTORIAL_PAGE), "exec"), namespace)
    assert namespace["enqueued"] is True and namespace["same_loss"] is True
    assert int(namespace["bank"].bank_ptr) == 0


def test_tutorial_selfsup_commands_run(tmp_path, monkeypatch, capsys):
    write_labeled(tmp_path / "digits" / "train", 4, seed=0)
    write_labeled(tmp_path / "digits" / "val", 2, seed=2)
    monkeypatch.chdir(tmp_path)
    commands = selfsup_commands(TUTORIAL_PAGE)
    assert [args[0] for args in commands] == ["train", "embed"]
    for args in commands:
        args = [*args, *TINY_TRAIN] if args[0] == "train" else args
        assert cli_main(args) == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "runs/moco-lib/summary.json").read_text())
    assert summary["method"] == "moco" and summary["best_knn_top1"] is not None
    assert load_embeddings(tmp_path / "runs/moco-lib/embeddings.csv")[0].shape == (8, 64)
