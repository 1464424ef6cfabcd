import json
import shutil
import sys

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from selfsup.models import get_backbone
from selfsup.pipeline.evaluate import EvaluateConfig, evaluate
from selfsup.utils.config import ConfigError

from .conftest import write_class_folder

# selfsup.pipeline re-exports the function evaluate(), which shadows the module's name there.
evaluate_module = sys.modules["selfsup.pipeline.evaluate"]


@pytest.fixture
def run_dir(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    config = {"backbone": "resnet-9", "width": 0.125, "input_size": 16, "method": "simclr"}
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    backbone, _ = get_backbone("resnet-9", width=0.125)
    torch.save(backbone.state_dict(), run / "backbone.pt")
    return run


def _options(tmp_path, run_dir, **extra):
    options = dict(
        checkpoint=str(run_dir),
        data=str(tmp_path / "train"),
        val_data=str(tmp_path / "val"),
        out=str(tmp_path / "evaluation.json"),
        epochs=5,
        batch_size=8,
        lr=1.0,
        knn_k=5,
    )
    options.update(extra)
    return options


def test_separable_classes_are_classified_perfectly(tmp_path, run_dir, image_folder, val_folder):
    result = evaluate(**_options(tmp_path, run_dir))
    assert result["linear_top1"] == 1.0 and result["knn_top1"] == 1.0
    assert result["linear_top5"] == 1.0 and result["knn_top5"] == 1.0
    assert result["linear_val_loss"] < 0.5
    _, dim = get_backbone("resnet-9", width=0.125)
    assert result["num_train"] == 24 and result["num_val"] == 8
    assert result["num_classes"] == 2 and result["classes"] == ["dark", "light"]
    assert result["feature_dim"] == dim and result["input_size"] == 16
    assert result["skipped_files"] == 0 and result["backbone"] == "resnet-9"
    assert json.loads((tmp_path / "evaluation.json").read_text()) == result
    assert not list(tmp_path.glob(".evaluation.json*"))


def test_classes_are_matched_by_name_not_index(tmp_path, run_dir, image_folder, val_folder):
    # With only "light" in val_data, its local index is 0, which is "dark" in data.
    shutil.rmtree(val_folder / "dark")
    result = evaluate(**_options(tmp_path, run_dir))
    assert result["num_val"] == 4
    assert result["linear_top1"] == 1.0 and result["knn_top1"] == 1.0


def test_knn_matches_a_hand_computation_on_the_features(
    tmp_path, run_dir, image_folder, val_folder, monkeypatch
):
    # Replace the images by their precomputed features to check the kNN vote end to end.
    calls = []

    def fake_embed(backbone, dataset, config, name):
        generator = torch.Generator().manual_seed(len(calls))
        calls.append(name)
        features = torch.randn(len(dataset), 4, generator=generator)
        targets = torch.tensor([dataset[i][1] for i in range(len(dataset))])
        return features, targets

    monkeypatch.setattr(evaluate_module, "_embed", fake_embed)
    result = evaluate(**_options(tmp_path, run_dir, knn_k=3, knn_t=0.5, epochs=1))
    bank = torch.randn(24, 4, generator=torch.Generator().manual_seed(0)).numpy()
    queries = torch.randn(8, 4, generator=torch.Generator().manual_seed(1)).numpy()
    bank_labels = np.repeat([0, 1], 12)
    query_labels = np.repeat([0, 1], 4)
    bank /= np.linalg.norm(bank, axis=1, keepdims=True)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    correct = 0
    for query, label in zip(queries, query_labels, strict=True):
        similarity = bank @ query
        votes = np.zeros(2)
        for index in np.argsort(-similarity)[:3]:
            votes[bank_labels[index]] += np.exp(similarity[index] / 0.5)
        correct += int(np.argmax(votes) == label)
    assert result["knn_top1"] == pytest.approx(correct / 8)
    assert result["feature_dim"] == 4


def test_same_seed_gives_the_same_result(tmp_path, run_dir, image_folder, val_folder):
    first = evaluate(**_options(tmp_path, run_dir, epochs=1, lr=0.01))
    second = evaluate(**_options(tmp_path, run_dir, epochs=1, lr=0.01))
    for key in ("linear_val_loss", "linear_top1", "knn_top1"):
        assert first[key] == second[key], key


def test_config_object_is_accepted(tmp_path, run_dir, image_folder, val_folder):
    config = EvaluateConfig(**_options(tmp_path, run_dir, epochs=1))
    result = evaluate(config, out=str(tmp_path / "other.json"))
    assert json.loads((tmp_path / "other.json").read_text()) == result


def test_missing_options_are_named(tmp_path):
    with pytest.raises(ConfigError, match="data, val_data required"):
        evaluate(checkpoint=str(tmp_path))


def test_missing_checkpoint_is_named(tmp_path, image_folder, val_folder):
    missing = tmp_path / "nowhere"
    with pytest.raises(ValueError, match="nowhere"):
        evaluate(**_options(tmp_path, missing))


@pytest.mark.parametrize("key", ["data", "val_data"])
def test_missing_folder_is_named(tmp_path, run_dir, image_folder, val_folder, key):
    absent = str(tmp_path / f"absent_{key}")
    with pytest.raises(ValueError, match=f"absent_{key}.*does not exist"):
        evaluate(**_options(tmp_path, run_dir, **{key: absent}))


def test_data_without_class_subfolders_is_an_error(tmp_path, run_dir, val_folder):
    flat = tmp_path / "flat"
    flat.mkdir()
    for index in range(3):
        Image.new("RGB", (16, 16), (index * 40, 0, 0)).save(flat / f"{index}.png")
    with pytest.raises(ValueError, match="holds 1 class.*one subfolder per class"):
        evaluate(**_options(tmp_path, run_dir, data=str(flat)))


def test_val_class_missing_from_data_is_named(tmp_path, run_dir, image_folder, val_folder):
    write_class_folder(tmp_path / "extra_val", n_per_class=1)
    (tmp_path / "extra_val" / "light").rename(tmp_path / "extra_val" / "zebra")
    with pytest.raises(ValueError, match="missing from data.*'zebra'"):
        evaluate(**_options(tmp_path, run_dir, val_data=str(tmp_path / "extra_val")))
    assert not (tmp_path / "evaluation.json").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"epochs": 0}, "epochs must be >= 1, got 0"),
        ({"knn_t": 0.0}, "knn_t must be > 0"),
        ({"lr": -1.0}, "lr must be > 0"),
        ({"device": "tpu:x"}, "invalid value 'tpu:x' for 'device'"),
        ({"batchsize": 4}, "unknown key 'batchsize'"),
    ],
)
def test_bad_options_are_named(tmp_path, run_dir, extra, message):
    with pytest.raises(ConfigError, match=message):
        evaluate(**_options(tmp_path, run_dir, **extra))
