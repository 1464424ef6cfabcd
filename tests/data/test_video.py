from __future__ import annotations

import dataclasses
import gc
import logging
import multiprocessing
import pickle
import struct
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from selfsup.data.image_dataset import ImageDataset
from selfsup.data.undecoded import UndecodedImage, is_undecoded
from selfsup.data.video import VideoFrameReader
from selfsup.data.video_index import parse_frame_filename, scan_video

# name -> (frames, mark, codec, B-frames); sorted order: a.mp4, b.mkv, c.avi, sub/d.webm
_VIDEOS = {
    "b.mkv": (23, 2, "libx264", 3),
    "a.mp4": (31, 1, "libx264", 3),
    "sub/d.webm": (12, 4, "libvpx", 0),
    "c.avi": (17, 3, "mpeg4", 2),
}


@pytest.fixture
def video_folder(tmp_path, write_video):
    root = tmp_path / "videos"
    for name, (frames, mark, codec, bframes) in _VIDEOS.items():
        write_video(root / name, frames, mark=mark, codec=codec, gop=6, bframes=bframes)
    return root


def _expected(names: list[str]) -> list[tuple[int, int]]:
    """(frame index, video mark) each item must show, from its filename alone."""
    marks = {}
    for name, (_, mark, _, _) in _VIDEOS.items():
        marks[name] = mark
    return [(frame, marks[video]) for video, frame in map(parse_frame_filename, names)]


def _reader(dataset: ImageDataset) -> VideoFrameReader:
    readers = {id(source.reader): source.reader for source in dataset._sources}
    assert len(readers) == 1
    return next(iter(readers.values()))


def test_every_frame_is_an_item_named_and_targeted_by_its_video(video_folder):
    dataset = ImageDataset(video_folder)
    assert len(dataset) == sum(frames for frames, *_ in _VIDEOS.values()) == 83
    names = dataset.get_filenames()
    assert names[:2] == ["a-00-mp4.png", "a-01-mp4.png"]
    assert names[30:33] == ["a-30-mp4.png", "b-00-mkv.png", "b-01-mkv.png"]
    assert names[-1] == "sub/d-11-webm.png"
    expected_names = [
        f"{video.rsplit('.', 1)[0]}-{frame:02d}-{video.rsplit('.', 1)[1]}.png"
        for video in sorted(_VIDEOS)
        for frame in range(_VIDEOS[video][0])
    ]
    assert names == expected_names
    assert dataset.classes == ["a.mp4", "b.mkv", "c.avi", "sub/d.webm"]
    assert dataset.skipped == []
    for i in range(len(dataset)):
        image, target, filename = dataset[i]
        assert filename == names[i]
        assert dataset.classes[target] == parse_frame_filename(filename)[0]


def test_sequential_access_is_exact_and_never_seeks(video_folder, read_marks):
    dataset = ImageDataset(video_folder)
    images = [dataset[i][0] for i in range(len(dataset))]
    assert all(isinstance(image, Image.Image) and image.mode == "RGB" for image in images)
    assert images[0].size == (64, 48)
    assert [read_marks(image) for image in images] == _expected(dataset.get_filenames())
    reader = _reader(dataset)
    assert reader.seeks == 0
    assert reader.opens == len(_VIDEOS)


def test_random_access_is_exact(video_folder, read_marks):
    dataset = ImageDataset(video_folder)
    order = torch.randperm(len(dataset)).tolist()
    shown = {i: read_marks(dataset[i][0]) for i in order}
    expected = _expected(dataset.get_filenames())
    assert [shown[i] for i in range(len(dataset))] == expected
    assert _reader(dataset).seeks > 0


def test_seeks_only_where_a_jump_passes_a_keyframe(tmp_path, write_video, read_marks):
    write_video(tmp_path / "v.mp4", 40, gop=10)
    dataset = ImageDataset(tmp_path)
    reader = _reader(dataset)
    assert dataset._sources[0].info.keyframes.tolist() == [0, 10, 20, 30]

    def read(i):
        return read_marks(dataset[i][0])[0]

    assert [read(i) for i in (0, 1, 2, 5, 9)] == [0, 1, 2, 5, 9]
    assert reader.seeks == 0
    assert read(25) == 25 and reader.seeks == 1
    assert read(29) == 29 and reader.seeks == 1
    assert read(31) == 31 and reader.seeks == 1
    assert read(3) == 3 and reader.seeks == 2
    assert [read(i) for i in range(4, 40)] == list(range(4, 40))
    assert reader.seeks == 2 and reader.opens == 1


def test_lru_keeps_at_most_max_open_videos(tmp_path, write_video, read_marks):
    for mark in range(3):
        write_video(tmp_path / f"v{mark}.mp4", 4, mark=mark, gop=2)
    infos = [scan_video(str(tmp_path), f"v{mark}.mp4") for mark in range(3)]
    reader = VideoFrameReader(tmp_path, max_open=2)
    for frame in range(4):
        for mark, info in enumerate(infos):
            assert read_marks(reader.read(info, frame)) == (frame, mark)
    assert len(reader._videos) == 2
    assert reader.opens == 12
    reader = VideoFrameReader(tmp_path, max_open=3)
    for frame in range(4):
        for info in infos:
            reader.read(info, frame)
    assert reader.opens == 3 and reader.seeks == 0
    reader.close()
    assert len(reader._videos) == 0
    with pytest.raises(IndexError, match="out of range"):
        reader.read(infos[0], 4)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="max_open"):
            VideoFrameReader(tmp_path, max_open=bad)


def test_videos_without_usable_timestamps_are_counted_from_the_start(
    tmp_path, write_video, read_marks
):
    write_video(tmp_path / "v.mkv", 25, gop=5, bframes=3)
    info = scan_video(str(tmp_path), "v.mkv")
    unseekable = dataclasses.replace(info, seekable=False, pts=info.pts[:0])
    reader = VideoFrameReader(tmp_path)
    order = torch.randperm(25).tolist()
    assert [read_marks(reader.read(unseekable, i))[0] for i in order] == order
    assert reader.seeks == 0


def test_dataloader_workers_read_exact_frames(video_folder, read_marks):
    dataset = ImageDataset(video_folder, transform=read_marks)
    # The parent opens containers first: forked workers must not reuse them.
    assert dataset[40][0] == _expected([dataset.get_filenames()[40]])[0]
    loader = DataLoader(
        dataset,
        batch_size=8,
        shuffle=True,
        num_workers=2,
        collate_fn=lambda batch: batch,
        generator=torch.Generator().manual_seed(0),
    )
    seen = [(image, name) for batch in loader for image, _, name in batch]
    assert sorted(name for _, name in seen) == sorted(dataset.get_filenames())
    assert [image for image, _ in seen] == _expected([name for _, name in seen])


def test_pickled_dataset_opens_its_own_containers(video_folder, read_marks):
    dataset = ImageDataset(video_folder)
    dataset[0]
    assert len(_reader(dataset)._videos) == 1
    clone = pickle.loads(pickle.dumps(dataset))
    assert len(_reader(clone)._videos) == 0
    assert read_marks(clone[45][0]) == _expected([clone.get_filenames()[45]])[0]
    assert read_marks(dataset[1][0]) == (1, 1)


def test_images_and_videos_mixed(tmp_path, write_image, write_video, read_marks):
    for name in ("cats/1.png", "cats/2.png", "dogs/1.png", "root.png"):
        write_image(tmp_path / name)
    images_only = ImageDataset(tmp_path)
    write_video(tmp_path / "cats/clip.mp4", 3, mark=7)
    write_video(tmp_path / "zoo.mkv", 2, mark=8)
    dataset = ImageDataset(tmp_path)
    assert dataset.classes == [*images_only.classes, "cats/clip.mp4", "zoo.mkv"]
    assert images_only.classes == ["cats", "dogs", "."]
    assert dataset.get_filenames() == [
        *images_only.get_filenames(),
        "cats/clip-0-mp4.png",
        "cats/clip-1-mp4.png",
        "cats/clip-2-mp4.png",
        "zoo-0-mkv.png",
        "zoo-1-mkv.png",
    ]
    targets = [dataset[i][1] for i in range(len(dataset))]
    assert targets[:4] == [images_only[i][1] for i in range(4)] == [0, 0, 1, 2]
    assert targets[4:] == [3, 3, 3, 4, 4]
    assert [read_marks(dataset[i][0]) for i in range(4, 9)] == [
        (0, 7),
        (1, 7),
        (2, 7),
        (0, 8),
        (1, 8),
    ]


def test_filenames_select_frames_and_images(tmp_path, write_image, write_video, read_marks):
    write_image(tmp_path / "img.png")
    write_video(tmp_path / "sub/clip-x.mov", 120, mark=3, gop=30)
    write_video(tmp_path / "other.mp4", 5, mark=4)
    wanted = ["sub/clip-x-117-mov.png", "img.png", "sub/clip-x-005-mov.png", "other-3-mp4.png"]
    dataset = ImageDataset(tmp_path, filenames=wanted)
    assert dataset.get_filenames() == [
        "img.png",
        "other-3-mp4.png",
        "sub/clip-x-005-mov.png",
        "sub/clip-x-117-mov.png",
    ]
    assert [read_marks(dataset[i][0]) for i in (1, 2, 3)] == [(3, 4), (5, 3), (117, 3)]
    assert [dataset[i][1] for i in range(4)] == [0, 1, 2, 2]
    for bad, match in [
        ("sub/clip-x-5-mov.png", "sub/clip-x-5-mov.png"),
        ("sub/clip-x-120-mov.png", "120 frames"),
        ("ghost-001-mp4.png", "ghost-001-mp4.png"),
    ]:
        with pytest.raises(ValueError, match=match):
            ImageDataset(tmp_path, filenames=["img.png", bad])


def test_bad_videos_are_skipped_with_a_warning(tmp_path, write_video, read_marks, caplog):
    write_video(tmp_path / "a.mp4", 6, mark=1)
    (tmp_path / "b.mp4").write_bytes(b"\x00garbage with a video suffix" * 40)
    (tmp_path / "c.mkv").write_bytes(b"")
    write_video(tmp_path / "d.avi", 4, mark=2, codec="mpeg4")
    with caplog.at_level(logging.WARNING):
        dataset = ImageDataset(tmp_path)
    assert [name for name, _ in dataset.skipped] == ["b.mp4", "c.mkv"]
    for name in ("b.mp4", "c.mkv"):
        assert sum(name in record.getMessage() for record in caplog.records) == 1
    assert dataset.classes == ["a.mp4", "b.mp4", "c.mkv", "d.avi"]
    assert len(dataset) == 10
    assert [dataset[i][1] for i in (0, 6)] == [0, 3]
    assert [read_marks(dataset[i][0]) for i in (5, 6, 9)] == [(5, 1), (0, 2), (3, 2)]
    (tmp_path / "a.mp4").unlink()
    (tmp_path / "d.avi").write_bytes(b"")
    with pytest.raises(ValueError, match="no usable image or video"):
        ImageDataset(tmp_path)


def test_frame_failing_at_access_gives_a_placeholder(tmp_path, write_video, read_marks, caplog):
    write_video(tmp_path / "a.mp4", 5, mark=1)
    write_video(tmp_path / "b.mp4", 5, mark=2)
    dataset = ImageDataset(tmp_path, transform=read_marks)
    (tmp_path / "a.mp4").write_bytes(b"replaced after indexing")
    with caplog.at_level(logging.WARNING, logger="selfsup.data.image_dataset"):
        image, target, filename = dataset[2]
        again = dataset[2]
    assert isinstance(image, UndecodedImage) and image == again[0]
    assert filename == image.filename == "a-2-mp4.png" and target == 0
    assert "a.mp4" in image.reason
    assert dataset.skipped == [("a-2-mp4.png", image.reason)]
    assert sum("a-2-mp4.png" in record.getMessage() for record in caplog.records) == 1
    assert dataset[7][0] == (2, 2)
    assert is_undecoded(dataset[4]) and not is_undecoded(dataset[5])


def test_get_image_ignores_the_transform(tmp_path, write_video, read_marks):
    write_video(tmp_path / "v.mp4", 3, mark=9)
    dataset = ImageDataset(tmp_path, transform=lambda image: "transformed")
    assert dataset[1][0] == "transformed"
    frame = dataset.get_image(1)
    assert isinstance(frame, Image.Image) and read_marks(frame) == (1, 9)
    dataset.transform = None
    assert np.array_equal(np.asarray(dataset[1][0]), np.asarray(frame))


def test_without_pyav_images_work_and_videos_name_the_extra(
    tmp_path, write_image, write_video, monkeypatch
):
    write_image(tmp_path / "images/a.png")
    write_video(tmp_path / "videos/v.mp4", 2)
    monkeypatch.setitem(sys.modules, "av", None)  # `import av` now raises ImportError
    assert ImageDataset(tmp_path / "images").get_filenames() == ["a.png"]
    with pytest.raises(ImportError, match=r'pip install "selfsup\[video\]"'):
        ImageDataset(tmp_path / "videos")


def test_threads_share_a_dataset_safely(video_folder, read_marks):
    dataset = ImageDataset(video_folder, transform=read_marks)
    order = torch.randperm(len(dataset)).tolist()
    with ThreadPoolExecutor(max_workers=4) as pool:
        shown = list(pool.map(lambda i: dataset[i][0], order))
    assert shown == _expected([dataset.get_filenames()[i] for i in order])


def test_forked_child_can_collect_decoders_opened_by_its_parent(video_folder):
    # A decoder with codec threads, freed in a forked child, waits forever for threads
    # that only exist in the parent; the reader's decoders are single-threaded.
    gc.disable()
    try:
        dataset = ImageDataset(video_folder)
        for i in (0, 40, 80):
            dataset[i]
        dataset.cycle = dataset  # only the garbage collector frees it
        del dataset
        child = multiprocessing.get_context("fork").Process(target=gc.collect)
        child.start()
        child.join(timeout=20)
    finally:
        gc.enable()
    if child.is_alive():
        child.kill()
    assert child.exitcode == 0


def test_a_seek_that_lands_late_is_retried(tmp_path, write_video, read_marks, monkeypatch):
    write_video(tmp_path / "v.mkv", 40, gop=10, bframes=2)
    info = scan_video(str(tmp_path), "v.mkv")
    assert info.keyframes.tolist() == [0, 10, 20, 30]
    original = VideoFrameReader._seek
    landed = []

    def late_seek(self, video, info, keyframe):
        # The container lands on the next keyframe, as inexact seeks (MPEG-PS) can.
        later = min(keyframe + 10, 30) if len(landed) < late_seeks else keyframe
        landed.append(later)
        original(self, video, info, later)

    monkeypatch.setattr(VideoFrameReader, "_seek", late_seek)
    late_seeks = 1
    reader = VideoFrameReader(tmp_path)
    reader.read(info, 0)
    assert read_marks(reader.read(info, 12)) == (12, 0)
    assert landed == [20, 0] and reader.seeks == 2 and reader.opens == 1
    late_seeks = 10  # every seek lands late: decode from the start of the file
    landed.clear()
    assert read_marks(reader.read(info, 2)) == (2, 0)
    assert reader.opens == 2 and landed == [10]
    assert read_marks(reader.read(info, 3)) == (3, 0)
    assert reader.opens == 2 and reader.seeks == 3
    assert read_marks(reader.read(info, 25)) == (25, 0)
    assert landed == [10, 30, 20]


@pytest.mark.parametrize(("rotation", "undo"), [(90, 270), (-90, 90), (180, 180)])
def test_display_rotation_is_applied(tmp_path, write_video, read_marks, rotation, undo):
    write_video(tmp_path / "phone.mp4", 3, mark=6, rotation=rotation)
    frame = ImageDataset(tmp_path)[2][0]
    assert frame.size == ((48, 64) if rotation % 180 else (64, 48))
    assert read_marks(frame.rotate(undo, expand=True)) == (2, 6)


def test_a_video_whose_header_lies_maps_every_index_right(tmp_path, write_video, read_marks):
    path = write_video(tmp_path / "a.avi", 21, mark=1, codec="mpeg4", gop=5)
    data = bytearray(path.read_bytes())
    main, stream = data.index(b"avih"), data.index(b"strh")
    data[main + 24 : main + 28] = struct.pack("<I", 500)  # total frames in the main header
    data[stream + 40 : stream + 44] = struct.pack("<I", 500)  # length in the stream header
    path.write_bytes(bytes(data))
    write_video(tmp_path / "b.mkv", 9, mark=2, gop=4)  # Matroska stores no frame count
    dataset = ImageDataset(tmp_path)
    infos = [source.info for source in dataset._sources]
    assert [(info.metadata_frames, info.frame_count) for info in infos] == [(500, 21), (0, 9)]
    assert len(dataset) == 30
    order = torch.randperm(30).tolist()
    shown = {i: read_marks(dataset[i][0]) for i in order}
    assert [shown[i] for i in range(30)] == [(i, 1) for i in range(21)] + [(i, 2) for i in range(9)]
    assert dataset.get_filenames()[20:22] == ["a-20-avi.png", "b-0-mkv.png"]
