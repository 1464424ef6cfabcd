import json

import pytest
import torch
import yaml
from PIL import Image

from selfsup.data import ImageDataset
from selfsup.models import get_backbone
from selfsup.pipeline.embed import load_backbone
from selfsup.pipeline.invariance import InvarianceConfig, invariance
from selfsup.report.invariance import AUGMENTATION_FAMILIES, measure_invariance
from selfsup.transforms import EvalTransform
from selfsup.utils.config import ConfigError


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
        out=str(tmp_path / "inv"),
        n_images=6,
        batch_size=4,
    )
    options.update(extra)
    return options


def test_end_to_end_writes_json_png_and_prints_the_table(tmp_path, run_dir, image_folder, capsys):
    result = invariance(**_options(tmp_path, run_dir))
    table = capsys.readouterr().out
    for name in AUGMENTATION_FAMILIES:
        assert name in table
    assert result.n_images == 6 and list(result.families) == list(AUGMENTATION_FAMILIES)
    data = json.loads((tmp_path / "inv" / "invariance.json").read_text())
    assert data["settings"]["input_size"] == 16 and data["settings"]["backbone"] == "resnet-9"
    assert data["n_images"] == 6 and set(data["families"]) == set(AUGMENTATION_FAMILIES)
    filenames = data["per_image"]["filenames"]
    all_files = ImageDataset(str(tmp_path / "train")).get_filenames()
    assert len(set(filenames)) == 6 and filenames == sorted(filenames)
    assert set(filenames) <= set(all_files)
    assert data["families"]["crop"]["score"] == pytest.approx(result.families["crop"].score)
    with Image.open(tmp_path / "inv" / "invariance.png") as image:
        assert image.format == "PNG"
    assert result.summary["json"] == str(tmp_path / "inv" / "invariance.json")
    assert result.summary["png"] == str(tmp_path / "inv" / "invariance.png")
    assert set(result.summary["scores"]) == set(AUGMENTATION_FAMILIES)
    assert sorted(p.name for p in (tmp_path / "inv").iterdir()) == [
        "invariance.json",
        "invariance.png",
    ]


def test_scores_are_those_of_the_backbone_on_the_preprocessed_images(
    tmp_path, run_dir, image_folder
):
    result = invariance(**_options(tmp_path, run_dir, families="hflip,grayscale", seed=3))
    dataset = ImageDataset(
        str(tmp_path / "train"),
        transform=EvalTransform(input_size=16, normalize=None),
        filenames=result.filenames,
    )
    images = torch.stack([dataset[i][0] for i in range(len(dataset))])
    images = images.mul(255).round().to(torch.uint8)
    backbone, _, _ = load_backbone(run_dir)
    direct = measure_invariance(backbone, images, families=["hflip", "grayscale"], seed=3)
    assert list(result.families) == ["hflip", "grayscale"]
    for name in ("hflip", "grayscale"):
        assert result.families[name].score == pytest.approx(direct.families[name].score, abs=1e-9)


def test_same_seed_same_figures_and_all_images_when_the_folder_is_small(
    tmp_path, run_dir, image_folder
):
    options = _options(tmp_path, run_dir, families=["crop", "blur"], n_images=100, batch_size=24)
    first = invariance(**options)
    second = invariance(InvarianceConfig(**{**options, "families": "crop,blur"}))
    assert first.n_images == 24
    assert first.summary["scores"] == second.summary["scores"]


def test_bad_options_are_reported(tmp_path, run_dir, image_folder):
    with pytest.raises(ConfigError, match="unknown augmentation family 'zoom'.*allowed: crop"):
        invariance(**_options(tmp_path, run_dir, families="crop,zoom"))
    with pytest.raises(ConfigError, match="families is empty"):
        invariance(**_options(tmp_path, run_dir, families=" , "))
    with pytest.raises(ConfigError, match="checkpoint and data are required"):
        invariance(data=str(tmp_path / "train"))
    with pytest.raises(ConfigError, match="n_images must be >= 2"):
        invariance(**_options(tmp_path, run_dir, n_images=1))
    with pytest.raises(ConfigError, match="unknown key 'famlies'"):
        invariance(**_options(tmp_path, run_dir, famlies="crop"))
    with pytest.raises(ValueError, match="does not exist"):
        invariance(**_options(tmp_path, run_dir, checkpoint=str(tmp_path / "nothing.pt")))
    with pytest.raises(ValueError, match="image folder .* does not exist"):
        invariance(**_options(tmp_path, run_dir, data=str(tmp_path / "no_such_folder")))
    assert not (tmp_path / "inv").exists()
