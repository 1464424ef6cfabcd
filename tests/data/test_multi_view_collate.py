from __future__ import annotations

import logging
import pickle

import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader
from torchvision.transforms.functional import pil_to_tensor

from selfsup.data.image_dataset import ImageDataset
from selfsup.data.multi_view_collate import MultiViewCollate
from selfsup.data.undecoded import UndecodedImage


def _item(i: int):
    views = [torch.full((3, 4, 4), float(i)), torch.full((3, 2, 2), float(-i))]
    return views, i % 2, f"img_{i}.png"


def test_stacks_view_i_of_every_item_into_batch_i():
    batch = [_item(i) for i in range(3)]
    views, targets, filenames = MultiViewCollate()(batch)
    assert [tuple(v.shape) for v in views] == [(3, 3, 4, 4), (3, 3, 2, 2)]
    for i, (item_views, _, _) in enumerate(batch):
        assert torch.equal(views[0][i], item_views[0])
        assert torch.equal(views[1][i], item_views[1])
    assert targets.dtype == torch.long and targets.tolist() == [0, 1, 0]
    assert filenames == ["img_0.png", "img_1.png", "img_2.png"]


def test_a_single_tensor_is_one_view():
    views, _, _ = MultiViewCollate()(
        [(torch.ones(1, 2, 2), 0, "a"), (torch.zeros(1, 2, 2), 0, "b")]
    )
    assert len(views) == 1 and views[0].shape == (2, 1, 2, 2)
    assert views[0][0].sum() == 4 and views[0][1].sum() == 0


def test_undecodable_items_are_dropped_counted_and_warned_once(caplog):
    collate = MultiViewCollate()
    broken = (UndecodedImage("bad.jpg", "image file is truncated"), 1, "bad.jpg")
    with caplog.at_level(logging.WARNING, logger="selfsup.data.multi_view_collate"):
        views, targets, filenames = collate([_item(0), broken, _item(2)])
        collate([broken, _item(3)])
    assert filenames == ["img_0.png", "img_2.png"]
    assert views[0].shape[0] == 2 and targets.tolist() == [0, 0]
    assert collate.dropped == [("bad.jpg", "image file is truncated")]
    messages = [r.getMessage() for r in caplog.records if "bad.jpg" in r.getMessage()]
    assert len(messages) == 1 and "truncated" in messages[0]


def test_a_batch_of_only_undecodable_items_is_empty():
    broken = (UndecodedImage("bad.jpg", "truncated"), 0, "bad.jpg")
    views, targets, filenames = MultiViewCollate()([broken])
    assert views == [] and filenames == [] and targets.shape == (0,)


def test_inconsistent_views_raise_clear_errors():
    with pytest.raises(ValueError, match="'b' has 1 views"):
        MultiViewCollate()([([torch.zeros(1), torch.zeros(1)], 0, "a"), ([torch.zeros(1)], 0, "b")])
    with pytest.raises(TypeError, match="view 0 of 'a' is a Image"):
        MultiViewCollate()([([Image.new("RGB", (2, 2))], 0, "a")])
    with pytest.raises(ValueError, match="different shapes"):
        MultiViewCollate()([([torch.zeros(3, 2, 2)], 0, "a"), ([torch.zeros(3, 4, 4)], 0, "b")])


def test_pickle_round_trip_keeps_behaviour():
    collate = pickle.loads(pickle.dumps(MultiViewCollate()))
    views, _, _ = collate([_item(1)])
    assert torch.equal(views[0][0], _item(1)[0][0])


def _two_uint8_views(image: Image.Image) -> list[torch.Tensor]:
    tensor = pil_to_tensor(image)
    return [tensor, tensor.flip(-1)]


def test_dataloader_with_workers_survives_a_truncated_jpeg(tmp_path, write_image, truncated_jpeg):
    for i in range(7):
        write_image(tmp_path / f"{i}.png", color=(i, i, i))
    truncated_jpeg(tmp_path / "3b_cut.jpg")
    dataset = ImageDataset(tmp_path, transform=_two_uint8_views)
    assert len(dataset) == 8  # the header is intact: only decoding finds the damage
    loader = DataLoader(dataset, batch_size=3, num_workers=2, collate_fn=MultiViewCollate())
    seen = []
    for (view_0, view_1), targets, filenames in loader:
        assert targets.tolist() == [0] * len(filenames)
        assert view_0.shape == (len(filenames), 3, 8, 8) and torch.equal(view_1, view_0.flip(-1))
        for row, name in zip(view_0, filenames, strict=True):
            assert int(row[0, 0, 0]) == int(name.split(".")[0])  # each file's own pixels
        seen += filenames
    assert seen == [f"{i}.png" for i in range(7)]
    assert len(dataset) - len(seen) == 1
