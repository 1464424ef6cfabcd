import logging

import pytest
import torch

from selfsup.data import ImageDataset, InMemoryImageDataset
from selfsup.transforms.batched import DecodeResize


@pytest.fixture
def folder(tmp_path, noise_jpeg):
    for index in range(7):
        noise_jpeg(tmp_path / "data" / ("cat" if index % 2 else "dog") / f"{index}.jpg", (20, 12))
    return tmp_path / "data"


def _source(folder, size=8):
    return ImageDataset(folder, transform=DecodeResize(size), decode_to_tensor=True)


@pytest.mark.parametrize("num_workers", [0, 1])
def test_items_are_the_source_items_in_order(folder, num_workers):
    source = _source(folder)
    cached = InMemoryImageDataset.from_dataset(source, batch_size=3, num_workers=num_workers)
    assert len(cached) == len(source) == 7
    assert cached.images.shape == (7, 3, 8, 8) and cached.nbytes == 7 * 3 * 8 * 8
    for index in range(len(source)):
        image, target, filename = cached[index]
        expected_image, expected_target, expected_filename = source[index]
        assert torch.equal(image, expected_image)
        assert (target, filename) == (expected_target, expected_filename)
    assert cached.skipped == []


def test_damaged_file_is_left_out_and_listed(folder, truncated_jpeg, caplog):
    truncated_jpeg(folder / "cat" / "cut.jpg")
    source = _source(folder)
    with caplog.at_level(logging.WARNING):
        cached = InMemoryImageDataset.from_dataset(source, batch_size=4)
    assert len(source) == 8 and len(cached) == 7
    assert "cat/cut.jpg" not in cached.filenames
    assert [name for name, _ in cached.skipped] == ["cat/cut.jpg"]
    assert "left 1 undecodable file(s) out" in caplog.text and "cat/cut.jpg" in caplog.text


def test_decode_pass_leaves_the_global_generator_alone(folder):
    state = torch.get_rng_state()
    InMemoryImageDataset.from_dataset(_source(folder), batch_size=2, num_workers=1)
    assert torch.equal(torch.get_rng_state(), state)


def test_images_that_are_not_uint8_tensors_are_a_type_error(folder):
    with pytest.raises(TypeError, match=r"gave JpegImageFile for 'cat/1.jpg'.*DecodeResize"):
        InMemoryImageDataset.from_dataset(ImageDataset(folder))


def test_images_of_different_shapes_are_a_value_error(folder, noise_jpeg):
    noise_jpeg(folder / "dog" / "8.jpg", (30, 30))
    unresized = ImageDataset(folder, decode_to_tensor=True)
    with pytest.raises(ValueError, match=r"'dog/8.jpg' decodes to shape \(3, 30, 30\)"):
        InMemoryImageDataset.from_dataset(unresized, batch_size=100)
    with pytest.raises(ValueError, match=r"'dog/8.jpg' decodes to shape \(3, 30, 30\)"):
        InMemoryImageDataset.from_dataset(unresized, batch_size=1)


def test_a_folder_of_damaged_files_is_a_value_error(tmp_path, truncated_jpeg):
    truncated_jpeg(tmp_path / "bad" / "a.jpg")
    with pytest.raises(ValueError, match="none of the 1 images could be decoded"):
        InMemoryImageDataset.from_dataset(_source(tmp_path / "bad"))


@pytest.mark.parametrize(
    ("images", "targets", "filenames", "message"),
    [
        (torch.zeros(2, 3, 4, 4), torch.zeros(2), ["a", "b"], "uint8 tensor"),
        (torch.zeros(2, 4, 4, dtype=torch.uint8), torch.zeros(2), ["a", "b"], "uint8 tensor"),
        (torch.zeros(2, 3, 4, 4, dtype=torch.uint8), torch.zeros(3), ["a", "b"], "2, 3, 2"),
    ],
)
def test_constructor_checks_its_tensors(images, targets, filenames, message):
    with pytest.raises(ValueError, match=message):
        InMemoryImageDataset(images, targets, filenames)
