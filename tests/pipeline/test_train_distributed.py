import json
import subprocess
import sys

import torch


def test_two_process_gloo_run_trains_on_split_data(tmp_path, image_folder):
    """`selfsup train devices=2 strategy=ddp` on CPU: two gloo processes, each half the data."""
    data = image_folder
    out = tmp_path / "run"
    command = [
        sys.executable, "-m", "selfsup.cli", "train", f"data={data}", "backbone=resnet-9",
        "width=0.125", "batch_size=4", "input_size=16", "num_workers=0", "accelerator=cpu",
        "devices=2", "strategy=ddp", "epochs=2", f"out={out}", "probe_size=8",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["processes"] == 2 and summary["epochs"] == 2
    assert summary["final_loss"] is not None and summary["final_loss"] > 0
    checkpoint = torch.load(out / "last.ckpt", map_location="cpu", weights_only=True)
    # 24 images split over 2 processes at batch 4: 3 steps per epoch (a single process takes 6)
    assert checkpoint["global_step"] == 2 * 3
    assert done.stdout.count('"method": "simclr"') == 1  # only rank 0 prints the summary
