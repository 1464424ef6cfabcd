from __future__ import annotations

import logging
import pickle

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import Dataset

from selfsup.data.image_dataset import ImageDataset
from selfsup.data.undecoded import UndecodedImage


def _color(i: int) -> tuple[int, int, int]:
    return (10 * i, 255 - 10 * i, (37 * i) % 256)


@pytest.fixture
def colored_folder(tmp_path, write_image):
    """a/0.png .. a/2.png, b/3.png, b/4.png, each a distinct solid colour."""
    root = tmp_path / "images"
    for i, name in enumerate(["a/0.png", "a/1.png", "a/2.png", "b/3.png", "b/4.png"]):
        write_image(root / name, color=_color(i))
    return root


def _solid(image: Image.Image) -> tuple[int, int, int]:
    array = np.asarray(image)
    assert (array == array[0, 0]).all()
    return tuple(int(v) for v in array[0, 0])


def test_items_are_image_target_filename(colored_folder):
    dataset = ImageDataset(colored_folder)
    assert len(dataset) == 5
    assert dataset.get_filenames() == ["a/0.png", "a/1.png", "a/2.png", "b/3.png", "b/4.png"]
    assert dataset.classes == ["a", "b"]
    assert dataset.input_dir == str(colored_folder)
    for i in range(5):
        image, target, filename = dataset[i]
        assert isinstance(image, Image.Image) and image.mode == "RGB"
        assert _solid(image) == _color(i)
        assert target == (0 if i < 3 else 1)
        assert filename == dataset.get_filenames()[i]
    assert dataset[-1][2] == "b/4.png"
    with pytest.raises(IndexError, match="out of range"):
        dataset[5]
    with pytest.raises(IndexError):
        dataset[-6]


def test_from_folder_alias_and_argument_errors(colored_folder):
    assert (
        ImageDataset(from_folder=str(colored_folder)).get_filenames()
        == ImageDataset(colored_folder).get_filenames()
    )
    with pytest.raises(ValueError, match="not both"):
        ImageDataset(colored_folder, from_folder=colored_folder)
    with pytest.raises(ValueError, match="from_torch_dataset"):
        ImageDataset()
    with pytest.raises(TypeError, match="string"):
        ImageDataset(colored_folder, filenames="a/0.png")


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, (10,), (10, 0), "64"])
def test_draft_size_is_validated(colored_folder, bad):
    with pytest.raises(ValueError, match="draft_size"):
        ImageDataset(colored_folder, draft_size=bad)


def test_missing_and_empty_folders_raise_naming_the_path(tmp_path):
    with pytest.raises(ValueError, match="nowhere"):
        ImageDataset(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="empty"):
        ImageDataset(tmp_path / "empty")


def test_filenames_restricts_and_names_missing(colored_folder):
    dataset = ImageDataset(colored_folder, filenames=["b/4.png", "a/1.png"])
    assert dataset.get_filenames() == ["a/1.png", "b/4.png"]
    assert _solid(dataset[1][0]) == _color(4)
    assert dataset[1][1] == 1
    with pytest.raises(ValueError, match="ghost.png"):
        ImageDataset(colored_folder, filenames=["a/1.png", "ghost.png"])


def test_transform_is_applied_and_settable(colored_folder):
    dataset = ImageDataset(colored_folder, transform=lambda image: image.size)
    assert dataset[0][0] == (8, 8)
    dataset.transform = lambda image: _solid(image)[0]
    assert dataset[2][0] == _color(2)[0]
    dataset.transform = None
    assert isinstance(dataset[0][0], Image.Image)


def test_header_skips_do_not_shift_indices(colored_folder, caplog):
    (colored_folder / "a" / "00_empty.png").write_bytes(b"")
    (colored_folder / "a" / "1a_text.jpg").write_text("not a jpeg")
    with caplog.at_level(logging.WARNING):
        dataset = ImageDataset(colored_folder)
    assert [name for name, _ in dataset.skipped] == ["a/00_empty.png", "a/1a_text.jpg"]
    assert len(dataset) == 5
    for i in range(5):
        assert _solid(dataset[i][0]) == _color(i)
        assert dataset[i][2] == f"{'a' if i < 3 else 'b'}/{i}.png"
    assert sum("00_empty.png" in record.getMessage() for record in caplog.records) == 1


def test_body_truncated_jpeg_gives_placeholder_at_its_own_index(
    colored_folder, truncated_jpeg, caplog
):
    truncated_jpeg(colored_folder / "a" / "1b_cut.jpg")
    dataset = ImageDataset(colored_folder, transform=lambda image: "transformed")
    names = dataset.get_filenames()
    bad = names.index("a/1b_cut.jpg")
    assert dataset.skipped == []
    with caplog.at_level(logging.WARNING, logger="selfsup.data.image_dataset"):
        image, target, filename = dataset[bad]
        again = dataset[bad]
    assert isinstance(image, UndecodedImage)
    assert image.filename == filename == "a/1b_cut.jpg"
    assert "truncated" in image.reason
    assert target == 0 and again[0] == image
    assert dataset.skipped == [("a/1b_cut.jpg", image.reason)]
    assert sum("1b_cut.jpg" in record.getMessage() for record in caplog.records) == 1
    neighbours = [dataset[i][0] for i in range(len(dataset)) if i != bad]
    assert neighbours == ["transformed"] * 5


def test_draft_size_reaches_the_decoder(tmp_path, noise_jpeg):
    noise_jpeg(tmp_path / "big.jpg", (256, 256))
    assert ImageDataset(tmp_path)[0][0].size == (256, 256)
    assert ImageDataset(tmp_path, draft_size=64)[0][0].size == (64, 64)
    assert ImageDataset(tmp_path, draft_size=(64, 100))[0][0].size == (128, 128)


def test_dataset_pickles_for_spawned_workers(colored_folder):
    dataset = ImageDataset(colored_folder)
    clone = pickle.loads(pickle.dumps(dataset))
    assert clone.get_filenames() == dataset.get_filenames()
    assert _solid(clone[3][0]) == _color(3)


class _Pairs(Dataset):
    """A torch dataset of (image, target): gray PIL images or tensors."""

    def __init__(self, count: int, kind: str = "pil") -> None:
        self.count, self.kind = count, kind
        self.classes = ["even", "odd"]

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int):
        if self.kind == "pil":
            return Image.new("L", (4, 4), index), index % 2
        if self.kind == "tensor":
            return torch.full((1, 2, 2), float(index)), torch.tensor(index % 2)
        return Image.new("L", (4, 4)), "label"


def test_from_torch_dataset_applies_the_transform():
    calls = []

    def transform(image):
        calls.append(image)
        return int(np.asarray(image)[0, 0, 0]) + 1000

    dataset = ImageDataset.from_torch_dataset(_Pairs(3), transform=transform)
    assert [dataset[i][0] for i in range(3)] == [1000, 1001, 1002]
    assert all(image.mode == "RGB" for image in calls)
    assert [dataset[i][1] for i in range(3)] == [0, 1, 0]
    assert dataset.get_filenames() == ["00000.png", "00001.png", "00002.png"]
    assert dataset[2][2] == "00002.png"
    assert dataset.classes == ["even", "odd"]
    assert dataset.input_dir is None and dataset.skipped == []
    dataset.transform = None
    assert isinstance(dataset[0][0], Image.Image)


def test_from_torch_dataset_tensors_pass_through_and_targets_become_int():
    dataset = ImageDataset.from_torch_dataset(_Pairs(2, kind="tensor"))
    image, target, _ = dataset[1]
    assert torch.equal(image, torch.full((1, 2, 2), 1.0))
    assert target == 1 and type(target) is int


def test_from_torch_dataset_pads_names_to_the_dataset_size():
    names = ImageDataset.from_torch_dataset(_Pairs(123456)).get_filenames()
    assert names[0] == "000000.png" and names[-1] == "123455.png"
    assert names == sorted(names)


def test_from_torch_dataset_rejects_bad_inputs():
    with pytest.raises(TypeError, match="map-style"):
        ImageDataset.from_torch_dataset(iter([]))
    dataset = ImageDataset.from_torch_dataset(_Pairs(1, kind="bad-target"))
    with pytest.raises(TypeError, match="target 'label'"):
        dataset[0]


def test_decode_to_tensor_gives_uint8_tensors_of_the_same_pixels(colored_folder, truncated_jpeg):
    Image.new("RGB", (20, 12), (200, 30, 90)).save(colored_folder / "b" / "5.jpg", quality=95)
    truncated_jpeg(colored_folder / "b" / "6_cut.jpg")
    as_pil = ImageDataset(colored_folder)
    as_tensor = ImageDataset(colored_folder, decode_to_tensor=True)
    assert as_tensor.get_filenames() == as_pil.get_filenames()
    for index, name in enumerate(as_pil.get_filenames()):
        tensor, target, filename = as_tensor[index]
        image = as_pil[index][0]
        assert (filename, target) == (name, as_pil[index][1])
        if name.endswith("_cut.jpg"):
            assert isinstance(tensor, UndecodedImage) and isinstance(image, UndecodedImage)
            continue
        expected = torch.from_numpy(np.array(image)).permute(2, 0, 1)
        assert tensor.dtype == torch.uint8 and tensor.shape == expected.shape
        # PNGs decode identically; the JPEG through libjpeg-turbo within a level or two
        assert (tensor.int() - expected.int()).abs().max() <= (0 if name.endswith(".png") else 2)


def test_decode_to_tensor_feeds_decode_resize(colored_folder):
    from selfsup.transforms.batched import DecodeResize

    dataset = ImageDataset(colored_folder, transform=DecodeResize(4), decode_to_tensor=True)
    image, _, _ = dataset[3]
    assert image.shape == (3, 4, 4) and torch.all(image == torch.tensor(_color(3)).view(3, 1, 1))
