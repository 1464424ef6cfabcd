import pytest
import torch
import yaml

import selfsup
from selfsup.models import get_backbone
from selfsup.pipeline.presets import PRESETS, apply_preset, list_presets
from selfsup.transforms import (
    BarlowTwinsTransform,
    BYOLTransform,
    DINOTransform,
    SimCLRTransform,
    SwaVTransform,
)
from selfsup.utils.config import ConfigError


def test_preset_fills_in_only_what_the_user_did_not_give():
    merged = apply_preset(
        "small-grayscale",
        {"data": "d", "width": 1.0, "transform": {"hf_prob": 0.0}},
        SimCLRTransform,
    )
    options = PRESETS["small-grayscale"]["options"]
    assert merged["width"] == 1.0
    assert merged["backbone"] == options["backbone"]
    assert merged["epochs"] == options["epochs"]
    assert merged["transform"]["hf_prob"] == 0.0
    assert merged["transform"]["min_scale"] == options["transform"]["min_scale"]
    assert "global_crop_scale" not in merged["transform"]
    given = {"backbone_args": {"pool_size": 1, "in_chans": 1}}
    merged = apply_preset("small-grayscale", given, SimCLRTransform)
    assert merged["backbone_args"] == {"pool_size": 1, "in_chans": 1}
    assert apply_preset("small-grayscale", {}, SimCLRTransform)["backbone_args"] == {"pool_size": 2}


def test_preset_keeps_only_the_method_transforms_arguments_and_repeats_per_view_values():
    dino = apply_preset("small-grayscale", {}, DINOTransform)["transform"]
    assert "min_scale" not in dino
    assert (
        dino["global_crop_scale"]
        == PRESETS["small-grayscale"]["options"]["transform"]["global_crop_scale"]
    )
    assert dino["gaussian_blur"] == [0.0, 0.0, 0.0]
    assert apply_preset("small-grayscale", {}, BYOLTransform)["transform"]["gaussian_blur"] == [
        0.0,
        0.0,
    ]
    DINOTransform(**dino)
    BYOLTransform(**apply_preset("small-grayscale", {}, BYOLTransform)["transform"])


def test_unknown_preset_names_the_allowed_ones(tmp_path, image_folder):
    with pytest.raises(ValueError, match="small-grayscale"):
        apply_preset("huge", {}, SimCLRTransform)
    with pytest.raises(ConfigError, match="unknown preset 'huge'"):
        selfsup.train(data=str(image_folder), preset="huge", out=str(tmp_path / "run"))
    assert list_presets() == sorted(PRESETS)


def _train_one_epoch_with_preset(folder, out, method="simclr"):
    """Trains ``method`` for one epoch with the preset at width 0.125; returns the result and
    the saved config."""
    result = selfsup.train(
        data=str(folder),
        method=method,
        preset="small-grayscale",
        epochs=1,
        batch_size=8,
        width=0.125,
        num_workers=0,
        accelerator="cpu",
        probe_size=8,
        out=str(out),
    )
    return result, yaml.safe_load((out / "config.yaml").read_text())


def _assert_two_stage_backbone(run, saved, cells):
    """``backbone.pt`` holds no third or fourth stage and loads into ``get_backbone`` with the
    saved ``backbone_args``, giving 16 channels (width 0.125) times ``cells`` grid cells, and
    its feature norm's statistics come from the training images after the one epoch."""
    weights = torch.load(run / "backbone.pt", weights_only=True)
    assert not any("layer3" in key or "layer4" in key for key in weights)
    assert weights["model.feature_norm.running_var"].shape == (16 * cells,)
    # Calibrated: no variance under the floor of 1% of the median (test_train checks the values).
    variance = weights["model.feature_norm.running_var"]
    assert variance.min() >= 0.01 * variance.median() * (1 - 1e-6)
    backbone, dim = get_backbone("resnet-9", width=0.125, **saved["backbone_args"])
    backbone.load_state_dict(weights)
    assert dim == 16 * cells
    assert backbone.eval()(torch.zeros(2, 3, 16, 16)).shape == (2, 16 * cells)


def test_training_with_a_preset_saves_the_resolved_options(tmp_path, image_folder):
    result, saved = _train_one_epoch_with_preset(image_folder, tmp_path / "run")
    assert saved["preset"] == "small-grayscale"
    assert saved["backbone"] == "resnet-9"
    assert saved["width"] == 0.125
    assert saved["input_size"] == 16
    assert saved["epochs"] == 1
    assert saved["transform"]["cj_hue"] == 0.0
    # SimCLR's entry: the first two stages, the second's whole 8x8 map.
    assert saved["backbone_args"] == {"pool_size": 8, "num_stages": 2, "feature_norm": True}
    assert saved["method_args"]["hidden_dim"] == 512
    assert result.summary["augment"] == "batched"
    _assert_two_stage_backbone(tmp_path / "run", saved, cells=64)


def test_preset_method_arguments_apply_to_their_method_only():
    simclr = apply_preset("small-grayscale", {}, SimCLRTransform, method="simclr")
    assert simclr["method_args"] == PRESETS["small-grayscale"]["methods"]["simclr"]["method_args"]
    assert simclr["backbone_args"] == {"pool_size": 8, "num_stages": 2, "feature_norm": True}
    assert apply_preset("small-grayscale", {}, SimCLRTransform, method="byol")["method_args"] == {}
    moco = apply_preset("small-grayscale", {}, SimCLRTransform, method="moco")
    assert moco["method_args"] == {"temperature": 0.1}
    assert moco["backbone_args"] == {"pool_size": 4, "num_stages": 2, "feature_norm": True}
    vicreg = apply_preset("small-grayscale", {}, SimCLRTransform, method="vicreg")
    assert vicreg["method_args"] == {"hidden_dim": 1024}
    assert vicreg["optimizer"]["name"] == "sgd"
    merged = apply_preset("small-grayscale", {"optimizer": {"lr": 0.1}}, SimCLRTransform, "vicreg")
    assert merged["optimizer"] == {"name": "sgd", "lr": 0.1, "weight_decay": 5e-4}
    given = {"method_args": {"temperature": 0.5}}
    merged = apply_preset("small-grayscale", given, SimCLRTransform, method="simclr")
    assert merged["method_args"]["temperature"] == 0.5
    dino = apply_preset("small-grayscale", {}, DINOTransform, method="dino")
    assert dino["epochs"] == PRESETS["small-grayscale"]["methods"]["dino"]["epochs"] < 15
    assert dino["transform"]["n_local_views"] == 2
    assert len(DINOTransform(**dino["transform"]).transforms) == 4
    swav = apply_preset("small-grayscale", {}, SwaVTransform, method="swav")
    assert swav["method_args"] == {"n_prototypes": 512, "temperature": 0.2}
    assert len(SwaVTransform(**swav["transform"]).transforms) == 4
    barlow = apply_preset("small-grayscale", {}, BarlowTwinsTransform, method="barlowtwins")
    assert barlow["optimizer"] == {
        "name": "adamw",
        "lr": 1e-3,
        "weight_decay": 1e-5,
        "warmup_epochs": 1,
    }


def test_a_presets_method_entry_sets_that_methods_epochs_and_transform(monkeypatch):
    recipe = {
        "options": {"epochs": 15, "transform": {"hf_prob": 0.25}, "method_args": {"a": 1}},
        "methods": {"dino": {"epochs": 9, "transform": {"n_local_views": 2}, "method_args": {}}},
    }
    monkeypatch.setitem(PRESETS, "recipe", recipe)
    dino = apply_preset("recipe", {}, DINOTransform, method="dino")
    assert dino["epochs"] == 9
    assert dino["transform"] == {"hf_prob": 0.25, "n_local_views": 2}
    assert dino["method_args"] == {"a": 1}
    simclr = apply_preset("recipe", {}, SimCLRTransform, method="simclr")
    assert simclr["epochs"] == 15
    assert simclr["transform"] == {"hf_prob": 0.25}
    given = {"epochs": 4, "transform": {"n_local_views": 0}}
    dino = apply_preset("recipe", given, DINOTransform, method="dino")
    assert dino["epochs"] == 4
    assert dino["transform"] == {"hf_prob": 0.25, "n_local_views": 0}
    assert recipe["methods"]["dino"]["transform"] == {"n_local_views": 2}


@pytest.mark.parametrize(
    "method", ["moco", "simsiam", "byol", "swav", "vicreg", "dino", "barlowtwins"]
)
def test_two_stage_methods_train_and_export_the_4x4_grid(tmp_path, image_folder, method):
    _, saved = _train_one_epoch_with_preset(image_folder, tmp_path / "run", method)
    assert saved["backbone_args"] == {"pool_size": 4, "num_stages": 2, "feature_norm": True}
    _assert_two_stage_backbone(tmp_path / "run", saved, cells=16)
