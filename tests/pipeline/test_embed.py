import importlib
import io
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.distributed as torch_dist
import yaml
from PIL import Image
from torch.utils.data import DataLoader, TensorDataset

from selfsup.methods import get_method_class
from selfsup.models import get_backbone
from selfsup.pipeline.embed import _ContiguousShard, _gather_to_rank_zero, embed, load_backbone
from selfsup.utils.config import ConfigError
from selfsup.utils.features import FeatureRows, extract_features
from selfsup.utils.io import load_embeddings

# the module itself: selfsup.pipeline re-exports the function under the same name
embed_module = importlib.import_module("selfsup.pipeline.embed")

SIZE = 16
MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])


def _truncated_png(pixels):
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()[: len(buffer.getvalue()) // 2]


@pytest.fixture
def folder(tmp_path):
    """23 decodable 16x16 images in two classes and, in the middle, one truncated file."""
    rng = np.random.default_rng(0)
    pixels = {}
    for index in range(23):
        label = "a" if index < 11 else "b"
        (tmp_path / "data" / label).mkdir(parents=True, exist_ok=True)
        name = f"{label}/{index:02d}.png"
        pixels[name] = rng.integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
        Image.fromarray(pixels[name]).save(tmp_path / "data" / name)
    (tmp_path / "data" / "b" / "15x.png").write_bytes(_truncated_png(pixels["a/00.png"]))
    return tmp_path / "data", pixels


@pytest.fixture
def run(tmp_path):
    """An untrained resnet-9 run folder: config.yaml naming the backbone and backbone.pt."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    config = {"backbone": "resnet-9", "width": 0.125, "input_size": SIZE}
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    backbone, _ = get_backbone("resnet-9", width=0.125)
    torch.save(backbone.state_dict(), run_dir / "backbone.pt")
    return run_dir, backbone.eval()


def _reference(backbone, pixels, names):
    """Embeddings computed by hand: 16x16 images need no resize or crop, only normalising."""
    images = np.stack([(pixels[name] / 255.0 - MEAN) / STD for name in names])
    with torch.no_grad():
        batch = torch.from_numpy(images).permute(0, 3, 1, 2).float()
        return backbone(batch).flatten(1).numpy()


def test_contiguous_shards_cover_every_index_once_in_order():
    for n in range(0, 30):
        for world in range(1, 6):
            shards = [list(_ContiguousShard(n, rank, world)) for rank in range(world)]
            assert sum(shards, []) == list(range(n))
            assert max(map(len, shards)) - min(map(len, shards)) <= 1
            assert [len(_ContiguousShard(n, r, world)) for r in range(world)] == list(
                map(len, shards)
            )


def test_feature_rows_fill_one_preallocated_buffer():
    rows = FeatureRows(capacity=5)
    first, second = torch.randn(2, 3), torch.randn(3, 3, dtype=torch.float64)
    rows.append(first)
    pointer = rows.tensor().data_ptr()
    rows.append(second)
    assert rows.tensor().data_ptr() == pointer  # no reallocation within the capacity
    assert rows.tensor().untyped_storage().nbytes() == 5 * 3 * 4
    torch.testing.assert_close(rows.tensor(), torch.cat([first, second.float()]))
    assert len(rows) == 5 and rows.tensor().dtype == torch.float32


def test_feature_rows_grow_beyond_capacity_and_check_shapes():
    rows = FeatureRows()
    batches = [torch.randn(2, 4) for _ in range(5)]
    for batch in batches:
        rows.append(batch)
    torch.testing.assert_close(rows.tensor(), torch.cat(batches))
    assert FeatureRows().tensor().shape == (0, 0)
    with pytest.raises(ValueError, match="dimension 5, earlier batches 4"):
        rows.append(torch.randn(1, 5))
    with pytest.raises(ValueError, match=r"shape \(B, D\), got \(4,\)"):
        rows.append(torch.randn(4))
    with pytest.raises(ValueError, match="capacity must be an int >= 0, got -1"):
        FeatureRows(capacity=-1)


def test_extract_features_allocates_exactly_the_result():
    images = torch.randn(10, 3, 2, 2)
    dataset = TensorDataset(images, torch.arange(10))

    def collate(items):
        names = [f"{int(t)}.png" for _, t in items]
        return [torch.stack([x for x, _ in items])], torch.stack([t for _, t in items]), names

    loader = DataLoader(dataset, batch_size=3, collate_fn=collate)
    features, targets, names = extract_features(lambda x: x.mean(dim=(2, 3)), loader)
    torch.testing.assert_close(features, images.mean(dim=(2, 3)))
    assert features.untyped_storage().nbytes() == 10 * 3 * 4  # the (N, D) array, nothing more
    assert targets.tolist() == list(range(10)) and names[-1] == "9.png"


def test_embed_matches_a_hand_computed_reference(tmp_path, folder, run):
    data, pixels = folder
    run_dir, backbone = run
    result = embed(
        checkpoint=str(run_dir), data=str(data), out=str(tmp_path / "e.csv"), batch_size=4
    )
    names = sorted(pixels)
    assert result.filenames == names and result.global_rank == 0
    assert result.labels == [0] * 11 + [1] * 12
    np.testing.assert_allclose(result.embeddings, _reference(backbone, pixels, names), atol=1e-5)
    embeddings, labels, filenames = load_embeddings(tmp_path / "e.csv")
    assert filenames == names and labels == result.labels
    np.testing.assert_array_equal(embeddings, result.embeddings)
    np.testing.assert_array_equal(np.load(tmp_path / "e.npy"), result.embeddings)


@pytest.mark.parametrize("method_name", ["mae", "msn"])
def test_a_masked_vit_run_reloads_at_its_view_size(tmp_path, folder, method_name):
    # selfsup train builds MAE's and MSN's ViT for the view size (here 16 px: patches of 2);
    # embed must rebuild the same one, not the preset's 224 px ViT/16
    torch.manual_seed(0)
    data, pixels = folder
    method = get_method_class(method_name)(backbone="vit-tiny", image_size=SIZE)
    run_dir = tmp_path / "vit_run"
    run_dir.mkdir()
    config = {"method": method_name, "backbone": "vit-tiny", "input_size": SIZE}
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    torch.save(method.backbone.state_dict(), run_dir / "backbone.pt")
    result = embed(checkpoint=str(run_dir), data=str(data), out=str(tmp_path / "e.csv"))
    names = sorted(pixels)
    expected = _reference(method.backbone.eval(), pixels, names)
    np.testing.assert_allclose(result.embeddings, expected, atol=1e-4)


def test_lightning_predict_in_one_process_equals_the_fast_path(tmp_path, folder, run):
    data, _ = folder
    common = {"checkpoint": str(run[0]), "data": str(data), "batch_size": 4}
    fast = embed(out=str(tmp_path / "fast.csv"), **common)
    light = embed(out=str(tmp_path / "light.csv"), accelerator="cpu", devices=1, **common)
    assert light.filenames == fast.filenames and light.labels == fast.labels
    np.testing.assert_allclose(light.embeddings, fast.embeddings, rtol=1e-5, atol=1e-6)
    assert sorted(p.name for p in tmp_path.glob("light*")) == ["light.csv", "light.npy"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"devices": 2, "device": "cuda:1"}, "device='cuda:1' picks the device"),
        ({"devices": 2, "strategy": "ddp_spawn"}, "strategy='ddp_spawn' is not supported"),
        ({"batch_size": 0}, "batch_size must be >= 1, got 0"),
        ({"num_workers": -1}, "num_workers must be >= 0, got -1"),
        ({"num_nodes": 0}, "num_nodes must be >= 1, got 0"),
    ],
)
def test_bad_options_are_rejected_by_name(tmp_path, options, message):
    with pytest.raises(ConfigError, match=message):
        embed(checkpoint=str(tmp_path), data=str(tmp_path), **options)


def test_gather_puts_rows_in_index_order_across_chunks(tmp_path, monkeypatch):
    """One gloo process: the chunked gather reorders rows by dataset index, catches repeats."""
    monkeypatch.setattr(embed_module, "_GATHER_BYTES", 3 * 4 * 4)  # 3 rows of D=4 per chunk
    store = torch_dist.FileStore(str(tmp_path / "store"), 1)
    torch_dist.init_process_group("gloo", store=store, rank=0, world_size=1)
    try:
        indices = torch.tensor([4, 0, 3, 1, 2, 6, 5])
        features = torch.randn(7, 4)
        got_indices, got_targets, got_features = _gather_to_rank_zero(
            indices, indices * 10, features, torch.device("cpu")
        )
        order = np.argsort(indices.numpy())
        np.testing.assert_array_equal(got_indices, np.arange(7))
        np.testing.assert_array_equal(got_targets, np.arange(7) * 10)
        np.testing.assert_array_equal(got_features, features.numpy()[order])
        with pytest.raises(RuntimeError, match="embedded by two processes"):
            _gather_to_rank_zero(torch.tensor([1, 1]), torch.zeros(2), torch.randn(2, 4), "cpu")
    finally:
        torch_dist.destroy_process_group()


def test_two_gloo_processes_write_what_one_process_writes(tmp_path, folder, run):
    """`selfsup embed accelerator=cpu devices=2 strategy=ddp`: 23 images (one undecodable file in
    rank 1's share), each embedded once, rows in the folder's order, files written by rank 0."""
    data, _ = folder
    single = embed(
        checkpoint=str(run[0]), data=str(data), out=str(tmp_path / "one" / "e.csv"), batch_size=4
    )
    out = tmp_path / "two" / "e.csv"
    command = [
        sys.executable, "-m", "selfsup.cli", "embed", f"checkpoint={run[0]}", f"data={data}",
        f"out={out}", "batch_size=4", "accelerator=cpu", "devices=2", "strategy=ddp",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "MEMBER: 2/2" in done.stderr  # two processes ran
    assert done.stderr.count("wrote 23 embeddings of dimension 64") == 1  # only rank 0 wrote
    assert done.stdout.count(str(out)) == 1  # only rank 0 printed the path
    assert sorted(p.name for p in out.parent.iterdir()) == ["e.csv", "e.npy"]
    assert out.read_text() == (tmp_path / "one" / "e.csv").read_text()
    np.testing.assert_allclose(np.load(out.with_suffix(".npy")), single.embeddings, rtol=1e-6)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("backbone: [resnet-9\n", "is not valid YAML"),
        ("- resnet-9\n", "holds no mapping of options"),
        ("width: 0.125\n", "names no backbone"),
        ("backbone: resnet-7\n", "does not describe a backbone: unknown backbone 'resnet-7'"),
        (
            "backbone: vit-tiny\nmethod: maee\n",
            "does not describe a backbone: unknown method 'maee'",
        ),
    ],
)
def test_a_broken_run_config_is_named_in_the_error(run, text, message):
    run_dir, _ = run
    (run_dir / "config.yaml").write_text(text)
    with pytest.raises(ValueError, match=f"config.yaml'? {message}") as raised:
        load_backbone(run_dir)
    assert str(run_dir / "config.yaml") in str(raised.value)
