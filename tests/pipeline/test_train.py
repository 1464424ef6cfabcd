import csv
import json
import sys

import pytest
import torch
import yaml

import selfsup
from selfsup.models import get_backbone
from selfsup.training import SSLTrainingModule
from selfsup.utils.config import ConfigError
from selfsup.utils.io import load_embeddings

TINY = dict(
    backbone="resnet-9",
    width=0.125,
    batch_size=8,
    input_size=16,
    num_workers=0,
    accelerator="cpu",
    probe_size=16,
    knn_k=5,
)


def test_one_epoch_writes_every_file(tmp_path, image_folder, val_folder):
    result = selfsup.train(
        data=str(image_folder),
        val_data=str(val_folder),
        epochs=1,
        out=str(tmp_path / "run"),
        **TINY,
    )
    out = tmp_path / "run"
    for name in (
        "last.ckpt",
        "backbone.pt",
        "metrics.csv",
        "metrics.png",
        "preview.png",
        "config.yaml",
        "summary.json",
    ):
        assert (out / name).is_file(), name
    with open(out / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1 and rows[0]["epoch"] == "0"
    assert 0.0 <= float(rows[0]["knn_top1"]) <= 1.0
    assert float(rows[0]["rep_std"]) > 0 and float(rows[0]["loss"]) > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary == result.summary and summary["epochs"] == 1
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["method"] == "simclr" and config["input_size"] == 16
    backbone, _ = get_backbone("resnet-9", width=0.125)
    backbone.load_state_dict(torch.load(out / "backbone.pt", weights_only=True))


def _run(tmp_path, name, **options):
    selfsup.train(
        data=str(tmp_path / "train"), epochs=2, out=str(tmp_path / name), **TINY, **options
    )
    return torch.load(tmp_path / name / "backbone.pt", weights_only=True)


def test_resume_after_crash_matches_uninterrupted_run(tmp_path, image_folder, monkeypatch):
    uninterrupted = _run(tmp_path, "full")
    original_step = SSLTrainingModule.training_step

    def crash_in_second_epoch(self, batch, batch_idx):
        if self.current_epoch == 1 and batch_idx == 1:
            raise RuntimeError("simulated crash")
        return original_step(self, batch, batch_idx)

    monkeypatch.setattr(SSLTrainingModule, "training_step", crash_in_second_epoch)
    with pytest.raises(RuntimeError, match="simulated crash"):
        _run(tmp_path, "crashed")
    monkeypatch.setattr(SSLTrainingModule, "training_step", original_step)
    resumed = _run(tmp_path, "crashed", resume=True)
    assert uninterrupted.keys() == resumed.keys()
    for key in uninterrupted:
        torch.testing.assert_close(resumed[key], uninterrupted[key], rtol=0, atol=0, msg=key)
    with open(tmp_path / "crashed" / "metrics.csv") as handle:
        assert [row["epoch"] for row in csv.DictReader(handle)] == ["0", "1"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"methd": "simclr"}, "unknown key 'methd'"),
        ({"method": "simclrr"}, "allowed: barlowtwins"),
        ({"epochs": 0}, "epochs must be >= 1"),
        ({"transform": {"blur": 0}}, "unknown key 'blur'"),
        ({"optimizer": {"name": "adam"}}, "allowed: auto, sgd, adamw, lars"),
        ({"backbone_args": {"pool": 2}}, "unknown key 'pool' for backbone 'resnet-9'.*pool_size"),
        ({"backbone_args": {"pool_size": "two"}}, "pool_size"),
        ({"backbone_args": {"width": 0.5}}, "width is given twice"),
        (
            {
                "backbone_args": {"pool_size": 2},
                "method_args": {"backbone_kwargs": {"pool_size": 1}},
            },
            "pool_size is given twice: method_args.backbone_kwargs.pool_size=1 and "
            "backbone_args.pool_size=2",
        ),
    ],
)
def test_config_errors(tmp_path, image_folder, options, message):
    with pytest.raises(ConfigError, match=message):
        selfsup.train(data=str(image_folder), out=str(tmp_path / "run"), **{**TINY, **options})


def test_batch_larger_than_data_set_is_an_error(tmp_path, image_folder):
    with pytest.raises(ValueError, match="batch_size 100 is larger than the data set"):
        selfsup.train(
            data=str(image_folder), out=str(tmp_path / "r"), **{**TINY, "batch_size": 100}
        )


def test_resume_without_checkpoint_is_an_error(tmp_path, image_folder):
    with pytest.raises(ValueError, match="does not exist"):
        selfsup.train(data=str(image_folder), out=str(tmp_path / "r"), resume=True, **TINY)


def test_knn_monitor_needs_class_subfolders_in_data(tmp_path, image_folder, val_folder):
    flat = tmp_path / "flat"
    flat.mkdir()
    for path in sorted(image_folder.rglob("*.png"))[:8]:
        (flat / path.name).write_bytes(path.read_bytes())
    with pytest.raises(ValueError, match="must hold one subfolder per class"):
        selfsup.train(data=str(flat), val_data=str(val_folder), out=str(tmp_path / "r"), **TINY)


def test_knn_monitor_matches_classes_by_name(tmp_path, image_folder, val_folder):
    (val_folder / "dark").rename(val_folder / "unknown")
    with pytest.raises(ValueError, match=r"classes \['unknown'\] of val_data"):
        selfsup.train(
            data=str(image_folder), val_data=str(val_folder), out=str(tmp_path / "r"), **TINY
        )


def test_resume_with_other_epochs_or_a_broken_config_is_an_error(tmp_path, image_folder):
    run = tmp_path / "run"
    selfsup.train(data=str(image_folder), epochs=1, out=str(run), **TINY)
    with pytest.raises(ValueError, match="resume with epochs=1"):
        selfsup.train(data=str(image_folder), epochs=3, resume=True, out=str(run), **TINY)
    (run / "config.yaml").write_text("epochs: [1\n")
    with pytest.raises(ValueError, match="config.yaml' is not valid YAML") as raised:
        selfsup.train(data=str(image_folder), epochs=1, resume=True, out=str(run), **TINY)
    assert str(run / "config.yaml") in str(raised.value)


def test_vit_method_crops_are_whole_patches(tmp_path, image_folder):
    options = {**TINY, "backbone": None, "width": None, "input_size": 32}
    result = selfsup.train(
        data=str(image_folder), method="msn", epochs=1, out=str(tmp_path / "m"), **options
    )
    config = yaml.safe_load((tmp_path / "m" / "config.yaml").read_text())
    assert config["backbone"] == "vit-tiny"
    assert result.summary["final_loss"] is not None


def test_default_backbone_follows_view_size():
    from selfsup.methods import get_method_class
    from selfsup.pipeline.train import _default_backbone

    simclr, mae = get_method_class("simclr"), get_method_class("mae")
    assert _default_backbone(simclr, 32) == "resnet-18"
    assert _default_backbone(simclr, 224) == "torchvision/resnet18"
    assert _default_backbone(mae, 224) == "vit-tiny"


@pytest.mark.parametrize("augment", ["batched", "per_sample"])
def test_both_augmentation_paths_train(tmp_path, image_folder, augment):
    result = selfsup.train(
        data=str(image_folder), epochs=1, augment=augment, out=str(tmp_path / "run"), **TINY
    )
    assert result.summary["augment"] == augment
    assert torch.isfinite(torch.tensor(result.summary["final_loss"]))


def test_auto_augmentation_follows_device_and_view_size():
    from selfsup.pipeline.train import TrainConfig, _use_batched

    auto = TrainConfig(augment="auto")
    assert _use_batched(auto, 32, on_gpu=False)
    assert not _use_batched(auto, 224, on_gpu=False)
    assert _use_batched(auto, 224, on_gpu=True)
    assert not _use_batched(TrainConfig(augment="per_sample"), 32, on_gpu=True)
    assert _use_batched(TrainConfig(augment="batched"), 224, on_gpu=False)


def test_batched_path_feeds_the_module_uint8_batches(tmp_path, image_folder, monkeypatch):
    seen = []
    original = SSLTrainingModule.training_step

    def spy(self, batch, batch_idx):
        seen.append((batch[0][0].dtype, self.batch_transform is not None))
        return original(self, batch, batch_idx)

    monkeypatch.setattr(SSLTrainingModule, "training_step", spy)
    selfsup.train(
        data=str(image_folder), epochs=1, augment="batched", out=str(tmp_path / "run"), **TINY
    )
    assert seen and all(dtype == torch.uint8 and has for dtype, has in seen)


@pytest.mark.parametrize("augment", ["batched", "per_sample"])
def test_channels_last_trains_the_same_weights_on_nhwc_views(
    tmp_path, image_folder, monkeypatch, augment
):
    from selfsup.methods import get_method_class

    simclr = get_method_class("simclr")
    formats = []
    original = simclr.training_loss

    def spy(self, views):
        formats.append(all(v.is_contiguous(memory_format=torch.channels_last) for v in views))
        return original(self, views)

    monkeypatch.setattr(simclr, "training_loss", spy)
    weights = {}
    for channels_last in (True, False):
        formats.clear()
        out = tmp_path / f"run-{channels_last}"
        selfsup.train(
            data=str(image_folder),
            epochs=1,
            augment=augment,
            channels_last=channels_last,
            out=str(out),
            **TINY,
        )
        assert formats and all(formats) == channels_last
        weights[channels_last] = torch.load(out / "backbone.pt", weights_only=True)
    for name, tensor in weights[True].items():
        assert tensor.is_contiguous(), name
        torch.testing.assert_close(tensor, weights[False][name], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize(
    "options",
    [
        {"backbone_args": {"pool_size": 2}},
        # The method's own backbone_kwargs and backbone_args are merged, not one dropped.
        {"backbone_args": {"pool_size": 2}, "method_args": {"backbone_kwargs": {"in_chans": 3}}},
        {"method_args": {"backbone_kwargs": {"pool_size": 2}}},
    ],
)
def test_backbone_args_reach_the_backbone_and_the_embeddings(tmp_path, image_folder, options):
    run = tmp_path / "run"
    selfsup.train(data=str(image_folder), epochs=1, out=str(run), **TINY, **options)
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["backbone_args"] == options.get("backbone_args", {})
    # The trained projection head takes the 2x2 grid: 64 channels x 4 cells.
    state = torch.load(run / "last.ckpt", weights_only=True)["state_dict"]
    assert state["method.projection_head.layers.0.weight"].shape[1] == 256
    out = tmp_path / "embeddings.csv"
    selfsup.embed(checkpoint=str(run), data=str(image_folder), out=str(out), num_workers=0)
    embeddings, _, _ = load_embeddings(str(out))
    # resnet-9 at width 0.125 ends with 64 channels; a 2x2 grid of them makes 256 features.
    assert embeddings.shape == (24, 256)


def test_feature_norm_exports_embeddings_standardised_over_the_training_images(
    tmp_path, image_folder
):
    run = tmp_path / "run"
    backbone_args = {"num_stages": 2, "pool_size": 2, "feature_norm": True}
    selfsup.train(
        data=str(image_folder), epochs=1, out=str(run), backbone_args=backbone_args, **TINY
    )
    weights = torch.load(run / "backbone.pt", weights_only=True)
    # Calibrated on the 24 training images after the last epoch, not left at the running
    # statistics of the augmented views.
    assert weights["model.feature_norm.num_batches_tracked"] == 6  # 3 steps x 2 views
    out = tmp_path / "embeddings.csv"
    selfsup.embed(checkpoint=str(run), data=str(image_folder), out=str(out), num_workers=0)
    embeddings, _, _ = load_embeddings(str(out))
    assert embeddings.shape == (24, 64)  # 16 channels x 4 cells at width 0.125
    variance = weights["model.feature_norm.running_var"].double()
    kept = variance > 0.01 * variance.median() * (1 + 1e-6)  # not raised to the floor
    values = torch.as_tensor(embeddings, dtype=torch.float64)[:, kept]
    assert values.shape[1] > 50
    torch.testing.assert_close(values.mean(0), torch.zeros_like(values[0]), rtol=0, atol=1e-5)
    # Each feature divided by sqrt(variance + eps) has variance variance / (variance + eps).
    expected = variance[kept] / (variance[kept] + 1e-5)
    torch.testing.assert_close(values.var(0), expected, rtol=1e-4, atol=0)


def test_images_in_memory_train_the_same_weights(tmp_path, image_folder):
    weights = {}
    for cache_images in ("always", "never"):
        out = tmp_path / cache_images
        result = selfsup.train(
            data=str(image_folder), epochs=1, cache_images=cache_images, out=str(out), **TINY
        )
        assert result.summary["images_in_memory"] == (cache_images == "always")
        weights[cache_images] = torch.load(out / "backbone.pt", weights_only=True)
    for name, tensor in weights["always"].items():
        torch.testing.assert_close(tensor, weights["never"][name], rtol=0, atol=0, msg=name)


def test_auto_keeps_images_in_memory_on_the_batched_path_up_to_the_limit(
    tmp_path, image_folder, monkeypatch
):
    train_module = sys.modules["selfsup.pipeline.train"]  # the package exports train()

    def in_memory(name, **options):
        options = {**TINY, **options}
        result = selfsup.train(
            data=str(image_folder), epochs=1, out=str(tmp_path / name), **options
        )
        return result.summary["images_in_memory"]

    assert in_memory("batched", augment="batched")
    assert not in_memory("per-sample", augment="per_sample")
    # 24 images of 3 x 16 x 16 bytes: 18,432 bytes, over a limit of 18,431
    monkeypatch.setattr(train_module, "_CACHE_LIMIT_BYTES", 24 * 3 * 16 * 16 - 1)
    assert not in_memory("over-limit", augment="batched")
    assert in_memory("forced", augment="batched", cache_images="always")


def test_images_in_memory_need_the_batched_path(tmp_path, image_folder):
    with pytest.raises(ConfigError, match="cache_images=always needs the batched path"):
        selfsup.train(
            data=str(image_folder),
            cache_images="always",
            augment="per_sample",
            out=str(tmp_path / "run"),
            **TINY,
        )
    with pytest.raises(ConfigError, match="allowed: auto, always, never"):
        selfsup.train(data=str(image_folder), cache_images="yes", out=str(tmp_path / "run"), **TINY)


def test_damaged_file_is_left_out_of_the_images_in_memory(tmp_path, image_folder):
    good = (image_folder / "dark" / "dark00.png").read_bytes()
    (image_folder / "dark" / "dark99.png").write_bytes(good[: len(good) // 2])
    result = selfsup.train(
        data=str(image_folder), epochs=1, cache_images="always", out=str(tmp_path / "r"), **TINY
    )
    assert result.summary["images_in_memory"] and result.summary["skipped_files"] == 1
