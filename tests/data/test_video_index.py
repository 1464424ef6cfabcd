from __future__ import annotations

import logging
import struct
import sys

import av
import numpy as np
import pytest

from selfsup.data.folder_index import index_image_folder
from selfsup.data.video_index import (
    VIDEO_EXTENSIONS,
    frame_filename,
    index_videos,
    parse_frame_filename,
    scan_video,
)


def _decoded_pts(path) -> list[int]:
    """Reference: the pts of every frame a full decode produces (slow, exact)."""
    return [pts for pts, _ in _decoded(path)]


def _decoded(path) -> list[tuple[int, bool]]:
    """Reference: ``(pts, is keyframe)`` of every frame a full decode produces."""
    with av.open(str(path)) as container:
        return [(frame.pts, bool(frame.key_frame)) for frame in container.decode(video=0)]


def test_frame_filename_pads_to_the_digits_of_the_frame_count():
    assert frame_filename("clip.mp4", 153, 12_345) == "clip-00153-mp4.png"
    assert frame_filename("clip.mp4", 153, 99_999) == "clip-00153-mp4.png"
    assert frame_filename("sub/clip.mov", 7, 1_000) == "sub/clip-0007-mov.png"
    assert frame_filename("a.b/x.MKV", 3, 9) == "a.b/x-3-MKV.png"
    assert frame_filename("x.webm", 9, 10) == "x-09-webm.png"
    with pytest.raises(ValueError, match="no file extension"):
        frame_filename("noext", 0, 1)


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("clip-00153-mp4.png", ("clip.mp4", 153)),
        ("sub/clip-0007-mov.png", ("sub/clip.mov", 7)),
        ("my-clip-2-01-MKV.png", ("my-clip-2.MKV", 1)),
        ("d/e-0-mpeg.png", ("d/e.mpeg", 0)),
        ("clip-0007-txt.png", None),
        ("clip-0007-mp4.jpg", None),
        ("clip-x-mp4.png", None),
        ("0007-mp4.png", None),
    ],
)
def test_parse_frame_filename(name, parsed):
    assert parse_frame_filename(name) == parsed
    if parsed is not None:
        video, frame = parsed
        width = len(name.rsplit("-", 2)[1])
        assert frame_filename(video, frame, 10 ** (width - 1)) == name


def test_video_extensions_are_the_documented_ones():
    assert VIDEO_EXTENSIONS == {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"}


@pytest.mark.parametrize(
    ("name", "codec", "bframes"),
    [
        ("a.mp4", "libx264", 3),
        ("b.mkv", "libx264", 3),
        ("c.webm", "libvpx", 0),
        ("d.avi", "mpeg4", 2),
        ("e.mpg", "mpeg1video", 0),
    ],
)
def test_scan_matches_a_full_decode(tmp_path, write_video, name, codec, bframes):
    write_video(tmp_path / name, 37, codec=codec, gop=8, bframes=bframes)
    info = scan_video(str(tmp_path), name)
    reference = _decoded(tmp_path / name)
    assert info.frame_count == len(reference) == 37
    assert info.seekable
    assert info.pts.tolist() == [pts for pts, _ in reference]
    keyframes = [index for index, (_, key) in enumerate(reference) if key]
    assert info.keyframes.tolist() == keyframes
    assert len(keyframes) >= 4 and keyframes[0] == 0
    assert info.frame_name(5) == f"{name.rsplit('.', 1)[0]}-05-{name.rsplit('.', 1)[1]}.png"


def test_metadata_counts_are_recorded_but_not_trusted(tmp_path, write_video):
    write_video(tmp_path / "ok.mp4", 21)
    write_video(tmp_path / "none.mkv", 21)
    assert scan_video(str(tmp_path), "ok.mp4").metadata_frames == 21
    assert scan_video(str(tmp_path), "none.mkv").metadata_frames == 0
    assert scan_video(str(tmp_path), "none.mkv").frame_count == 21
    # An AVI header says 500 frames (main header and stream header patched); 21 exist.
    data = bytearray(write_video(tmp_path / "lies.avi", 21, codec="mpeg4").read_bytes())
    main, stream = data.index(b"avih"), data.index(b"strh")
    data[main + 24 : main + 28] = struct.pack("<I", 500)
    data[stream + 40 : stream + 44] = struct.pack("<I", 500)
    (tmp_path / "lies.avi").write_bytes(bytes(data))
    with av.open(str(tmp_path / "lies.avi")) as container:
        assert container.streams.video[0].frames == 500
    info = scan_video(str(tmp_path), "lies.avi")
    assert info.metadata_frames == 500
    assert info.frame_count == 21 == len(_decoded_pts(tmp_path / "lies.avi"))


def test_unreadable_and_empty_videos_raise_with_a_reason(tmp_path):
    (tmp_path / "garbage.mp4").write_bytes(b"\x00not a video at all" * 50)
    (tmp_path / "zero.mkv").write_bytes(b"")
    with av.open(str(tmp_path / "no_frames.mp4"), "w") as container:
        stream = container.add_stream("mpeg4", rate=30)
        stream.width, stream.height = 64, 48
        container.start_encoding()
    for name in ("garbage.mp4", "zero.mkv"):
        with pytest.raises(ValueError, match="unreadable video"):
            scan_video(str(tmp_path), name)
    with pytest.raises(ValueError, match="no video stream|no video frames"):
        scan_video(str(tmp_path), "no_frames.mp4")


def test_index_videos_keeps_order_skips_and_warns(tmp_path, write_video, caplog):
    names = [f"v{i}.mp4" for i in range(5)]
    for i, name in enumerate(names):
        write_video(tmp_path / name, 5 + i, gop=4)
    (tmp_path / "bad.mp4").write_bytes(b"garbage")
    with caplog.at_level(logging.WARNING, logger="selfsup.data.video_index"):
        infos, skipped = index_videos(tmp_path, [*names[:2], "bad.mp4", *names[2:]])
    assert [None if info is None else info.frame_count for info in infos] == [5, 6, None, 7, 8, 9]
    assert [name for name, _ in skipped] == ["bad.mp4"]
    assert [r.getMessage() for r in caplog.records if "bad.mp4" in r.getMessage()]
    serial, _ = index_videos(tmp_path, names, max_workers=1)
    assert all(
        np.array_equal(a.pts, b.pts) for a, b in zip(serial, [i for i in infos if i], strict=True)
    )
    assert index_videos(tmp_path, []) == ([], [])
    with pytest.raises(ValueError, match="max_workers"):
        index_videos(tmp_path, names, max_workers=0)


def test_missing_pyav_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(ImportError, match=r'pip install "selfsup\[video\]"'):
        index_videos(tmp_path, ["a.mp4"])


def test_folder_index_lists_videos_as_classes_after_the_images(tmp_path, write_image):
    for name in ("b/1.png", "a/2.png", "3.png"):
        write_image(tmp_path / name)
    for name in ("z.MP4", "a/clip.mkv", "a/.hidden.mp4", "b/c.webm"):
        (tmp_path / name).write_bytes(b"not opened while listing")
    (tmp_path / "dead.avi").symlink_to(tmp_path / "missing.avi")
    plain = index_image_folder(tmp_path)
    assert plain.videos == [] and plain.classes == ["a", "b", "."]
    index = index_image_folder(tmp_path, videos=True)
    assert index.filenames == plain.filenames and index.targets == plain.targets
    assert index.videos == ["a/clip.mkv", "b/c.webm", "z.MP4"]
    assert index.classes == ["a", "b", ".", "a/clip.mkv", "b/c.webm", "z.MP4"]
    assert index.video_targets == [3, 4, 5]
    assert index.skipped == [("dead.avi", "broken link or not a regular file")]
    assert index.video_frames == {}


def test_folder_index_sorts_requested_frame_names_by_video(tmp_path, write_image):
    write_image(tmp_path / "img.png")
    (tmp_path / "v.mp4").write_bytes(b"")
    (tmp_path / "w.mov").write_bytes(b"")
    wanted = ["v-10-mp4.png", "img.png", "v-02-mp4.png", "v-2-mp4.png"]
    index = index_image_folder(tmp_path, filenames=wanted, videos=True)
    assert index.filenames == ["img.png"]
    assert index.videos == ["v.mp4"] and index.video_targets == [1]
    assert index.classes == [".", "v.mp4", "w.mov"]
    assert index.video_frames == {
        "v.mp4": [(2, "v-02-mp4.png"), (2, "v-2-mp4.png"), (10, "v-10-mp4.png")]
    }
    with pytest.raises(ValueError, match="x-01-mp4.png"):
        index_image_folder(tmp_path, filenames=["x-01-mp4.png"], videos=True)
    with pytest.raises(ValueError, match="v-01-mp4.png"):
        index_image_folder(tmp_path, filenames=["img.png", "v-01-mp4.png"])


def test_folder_of_videos_only(tmp_path):
    (tmp_path / "v.mp4").write_bytes(b"")
    with pytest.raises(ValueError, match="no image files"):
        index_image_folder(tmp_path)
    assert index_image_folder(tmp_path, videos=True).videos == ["v.mp4"]
    (tmp_path / "v.mp4").unlink()
    with pytest.raises(ValueError, match="no image or video files"):
        index_image_folder(tmp_path, videos=True)
