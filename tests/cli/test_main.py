import numpy as np
from PIL import Image

from selfsup.cli.main import main


def _write_images(folder, count=3, size=40):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for index in range(count):
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"img{index}.png")
    return folder


def test_no_arguments_prints_usage(capsys):
    assert main([]) == 0
    assert "preview" in capsys.readouterr().out


def test_unknown_command_is_an_error(capsys):
    assert main(["trian"]) == 2
    assert "unknown command 'trian'" in capsys.readouterr().err


def test_unknown_key_names_it_and_the_allowed_keys(capsys, tmp_path):
    assert main(["preview", "blurr=0", f"out={tmp_path / 'x.png'}"]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'blurr'" in err
    assert "gaussian_blur" in err and "method" in err
    assert not (tmp_path / "x.png").exists()


def test_bad_value_names_key_and_allowed_values(capsys):
    assert main(["preview", "method=simclrr"]) == 2
    err = capsys.readouterr().err
    assert "'simclrr'" in err and "'method'" in err and "dino" in err


def test_bad_transform_value_names_key(capsys):
    assert main(["preview", "gaussian_blur=strong"]) == 2
    assert "'gaussian_blur'" in capsys.readouterr().err


def test_help_lists_every_key_with_default(capsys):
    assert main(["preview", "--help"]) == 0
    out = capsys.readouterr().out
    for key in ("data", "method", "n", "out", "seed", "gaussian_blur", "min_scale", "input_size"):
        assert f"  {key} " in out
    assert "'simclr'" in out


def test_help_follows_the_chosen_method(capsys):
    assert main(["preview", "method=dino", "--help"]) == 0
    assert "local_crop_size" in capsys.readouterr().out


def test_missing_folder_is_a_clean_error(capsys, tmp_path):
    assert main(["preview", f"data={tmp_path / 'missing'}"]) == 2
    assert str(tmp_path / "missing") in capsys.readouterr().err


def test_preview_writes_png_from_folder_and_config_file(tmp_path):
    data = _write_images(tmp_path / "images")
    config = tmp_path / "preview.yaml"
    config.write_text(f"data: {data}\nn: 3\ninput_size: 32\n")
    out = tmp_path / "grid.png"
    assert main(["preview", f"config={config}", "n=2", f"out={out}", "dpi=50"]) == 0
    with Image.open(out) as image:
        width, height = image.size
    # two rows (n=2 overrides the file's 3) of the original plus two SimCLR views, 2 inches each
    assert (width, height) == (3 * 2 * 50, 2 * 2 * 50)


def test_missing_config_file_is_an_error(capsys, tmp_path):
    assert main(["preview", f"config={tmp_path / 'none.yaml'}"]) == 2
    assert "none.yaml" in capsys.readouterr().err


def test_nan_loss_stops_with_a_clear_error(tmp_path, capsys, monkeypatch):
    import torch

    from selfsup.methods.simclr import SimCLR

    monkeypatch.setattr(SimCLR, "training_loss", lambda self, views: torch.tensor(float("nan")))
    data = _write_images(tmp_path / "images", count=8, size=16)
    args = ["train", f"data={data}", "backbone=resnet-9", "width=0.125", "batch_size=4"]
    args += ["input_size=16", "num_workers=0", "accelerator=cpu", f"out={tmp_path / 'run'}"]
    assert main(args) == 2
    assert "loss is nan at epoch 0, step 0" in capsys.readouterr().err


def test_python_dash_m_selfsup_runs_the_command_line():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "selfsup", "--help"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0
    assert "usage: selfsup <command>" in done.stdout
    for command in ("extract", "invariance", "report", "train"):
        assert command in done.stdout
