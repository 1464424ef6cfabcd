import importlib
import io
import logging
import os

import numpy as np
import pytest
from PIL import Image

from selfsup.data import ImageDataset
from selfsup.pipeline.extract import (
    ExtractConfig,
    ExtractResult,
    MissingFilesError,
    extract,
)
from selfsup.utils.config import ConfigError

# The module itself (``selfsup.pipeline.extract`` as an attribute is the re-exported function).
extract_module = importlib.import_module("selfsup.pipeline.extract")


def _pixels(seed, size=(12, 10)):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)


@pytest.fixture
def data(tmp_path):
    """sub/a.png (RGB), sub/b.jpg, sub/deep/c.png (RGBA), d.png (L) in the root."""
    root = tmp_path / "data"
    (root / "sub" / "deep").mkdir(parents=True)
    Image.fromarray(_pixels(0)).save(root / "sub" / "a.png")
    Image.fromarray(_pixels(1)).save(root / "sub" / "b.jpg", quality=90)
    rgba = np.concatenate([_pixels(2), np.full((10, 12, 1), 128, np.uint8)], axis=2)
    Image.fromarray(rgba, "RGBA").save(root / "sub" / "deep" / "c.png")
    Image.fromarray(_pixels(3)[..., 0], "L").save(root / "d.png")
    return root


def _rgb(path):
    """The decoding the dataset promises: RGB, alpha composited over white."""
    with Image.open(path) as image:
        if image.mode == "RGBA":
            white = Image.new("RGBA", image.size, (255, 255, 255, 255))
            return np.asarray(Image.alpha_composite(white, image).convert("RGB"))
        return np.asarray(image.convert("RGB"))


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_writes_exactly_the_listed_images_with_equal_pixels(data, tmp_path):
    listing = tmp_path / "selected_filenames.txt"
    listing.write_text("  sub/a.png\n\nsub/b.jpg  \nsub/deep/c.png\n\n")
    out = tmp_path / "out"
    result = extract(data=str(data), filenames=str(listing), out=str(out))
    assert isinstance(result, ExtractResult)
    assert _files(out) == ["sub/a.png", "sub/b.png", "sub/deep/c.png"]
    assert result.written == [out / "sub/a.png", out / "sub/b.png", out / "sub/deep/c.png"]
    for name, written in [("sub/a.png", "sub/a.png"), ("sub/b.jpg", "sub/b.png")]:
        with Image.open(out / written) as image:
            assert image.format == "PNG" and image.mode == "RGB"
        np.testing.assert_array_equal(_rgb(out / written), _rgb(data / name))
    np.testing.assert_array_equal(_rgb(out / "sub/deep/c.png"), _rgb(data / "sub/deep/c.png"))
    assert result.summary == {
        "data": str(data),
        "out": str(out),
        "format": "png",
        "listed": 3,
        "written": 3,
        "replaced": 0,
        "skipped_identical": 0,
        "missing": 0,
        "undecodable": 0,
    }


def test_list_of_names_and_grayscale_becomes_rgb(data, tmp_path):
    out = tmp_path / "out"
    result = extract(data=data, filenames=["d.png", "d.png"], out=out)
    assert result.listed == 1 and _files(out) == ["d.png"]
    with Image.open(out / "d.png") as image:
        assert image.mode == "RGB"
    gray = np.asarray(Image.open(data / "d.png"))
    np.testing.assert_array_equal(_rgb(out / "d.png"), np.repeat(gray[..., None], 3, axis=2))


@pytest.mark.parametrize("fmt", ["jpg", "jpeg", "JPG"])
def test_jpg_format_switches_extension_and_uses_quality_95(data, tmp_path, fmt):
    out = tmp_path / "out"
    result = extract(data=data, filenames=["sub/a.png", "sub/b.jpg"], out=out, format=fmt)
    assert result.format == "jpg" and _files(out) == ["sub/a.jpg", "sub/b.jpg"]
    for name in ("sub/a.png", "sub/b.jpg"):
        reference = io.BytesIO()
        Image.fromarray(_rgb(data / name)).save(reference, format="JPEG", quality=95)
        written = (out / name).with_suffix(".jpg")
        assert written.read_bytes() == reference.getvalue()
        with Image.open(written) as image:
            assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (12, 10))
    again = extract(data=data, filenames=["sub/a.png", "sub/b.jpg"], out=out, format=fmt)
    assert again.written == [] and again.skipped == [out / "sub/a.jpg", out / "sub/b.jpg"]


def test_missing_names_are_listed_after_the_rest_is_written(data, tmp_path):
    out = tmp_path / "out"
    absent = [f"gone{i:02d}.png" for i in range(23)]
    with pytest.raises(MissingFilesError, match=r"23 not found in .*'gone00.png'") as info:
        extract(data=data, filenames=["sub/a.png", *absent, "d.png"], out=out)
    error = info.value
    assert isinstance(error, ValueError)
    assert "'gone19.png'" in str(error) and "'gone20.png'" not in str(error)
    assert "and 3 more" in str(error) and "\n" not in str(error)
    assert error.missing == absent and error.undecodable == []
    assert _files(out) == ["d.png", "sub/a.png"]
    assert error.result.written == [out / "d.png", out / "sub/a.png"]
    assert error.result.summary["missing"] == 23 and error.result.summary["written"] == 2


def test_undecodable_files_are_named_with_their_reason(data, tmp_path):
    (data / "text.png").write_text("not an image at all, just text")
    whole = (data / "sub" / "a.png").read_bytes()
    (data / "sub" / "cut.png").write_bytes(whole[: len(whole) // 2])
    out = tmp_path / "out"
    with pytest.raises(MissingFilesError, match="2 could not be decoded") as info:
        extract(data=data, filenames=["text.png", "sub/cut.png", "d.png"], out=out)
    named = dict(info.value.undecodable)
    assert set(named) == {"text.png", "sub/cut.png"} and all(named.values())
    assert info.value.missing == []
    assert _files(out) == ["d.png"]


def test_only_listed_files_are_header_checked(data, tmp_path, caplog):
    (data / "broken.png").write_text("text")
    with caplog.at_level(logging.WARNING):
        extract(data=data, filenames=["d.png"], out=tmp_path / "out")
    assert "broken.png" not in caplog.text


def test_identical_existing_files_are_skipped_untouched(data, tmp_path):
    out = tmp_path / "out"
    names = ["sub/a.png", "d.png"]
    extract(data=data, filenames=names, out=out)
    stamps = {name: os.stat(out / name).st_mtime_ns for name in names}
    # Same pixels, other bytes: still identical.
    Image.open(out / "d.png").save(out / "d.png", compress_level=0)
    recompressed = (out / "d.png").read_bytes()
    result = extract(data=data, filenames=names, out=out)
    assert result.written == [] and result.skipped == [out / "d.png", out / "sub/a.png"]
    assert result.summary["skipped_identical"] == 2
    assert os.stat(out / "sub/a.png").st_mtime_ns == stamps["sub/a.png"]
    assert (out / "d.png").read_bytes() == recompressed


def test_a_different_existing_file_stops_before_anything_is_written(data, tmp_path):
    out = tmp_path / "out"
    names = ["sub/a.png", "sub/b.jpg", "d.png"]
    extract(data=data, filenames=names, out=out)
    Image.fromarray(_pixels(9)).save(out / "sub/b.png")
    changed = (out / "sub/b.png").read_bytes()
    (out / "d.png").unlink()
    with pytest.raises(FileExistsError, match=r"sub/b\.png.*nothing was written"):
        extract(data=data, filenames=names, out=out)
    assert (out / "sub/b.png").read_bytes() == changed
    assert not (out / "d.png").exists()

    result = extract(data=data, filenames=names, out=out, overwrite=True)
    assert result.written == [out / "d.png", out / "sub/b.png"]
    assert result.replaced == [out / "sub/b.png"] and result.skipped == [out / "sub/a.png"]
    np.testing.assert_array_equal(_rgb(out / "sub/b.png"), _rgb(data / "sub/b.jpg"))


def test_a_folder_in_the_way_is_an_error(data, tmp_path):
    out = tmp_path / "out"
    (out / "d.png").mkdir(parents=True)
    with pytest.raises(FileExistsError, match="d.png"):
        extract(data=data, filenames=["d.png"], out=out, overwrite=True)


def test_names_colliding_after_the_extension_switch(data, tmp_path):
    Image.fromarray(_pixels(5)).save(data / "sub" / "a.jpg")
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=r"'sub/a\.png' and 'sub/a\.jpg'.*nothing was written"):
        extract(data=data, filenames=["sub/a.png", "d.png", "sub/a.jpg"], out=out)
    assert not out.exists()
    result = extract(data=data, filenames=["sub/a.png", "d.png"], out=out, format="jpg")
    assert _files(out) == ["d.jpg", "sub/a.jpg"] and len(result.written) == 2


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"format": "gif"}, ConfigError, "allowed: png, jpg, jpeg"),
        ({"out": None}, ConfigError, "data, filenames and out are required"),
        ({"filenames": None}, ConfigError, "data, filenames and out are required"),
        ({"quality": 80}, ConfigError, "unknown key 'quality'"),
        ({"data": "nowhere"}, ValueError, "data folder 'nowhere' does not exist"),
        ({"filenames": "absent.txt"}, ValueError, "filenames file 'absent.txt' does not exist"),
        ({"filenames": ["", "  "]}, ValueError, "lists no names"),
        ({"filenames": ["../d.png"]}, ValueError, "'../d.png' is not a relative path"),
        ({"filenames": ["/etc/d.png"]}, ValueError, "'/etc/d.png' is not a relative path"),
        ({"filenames": [3]}, TypeError, "filenames must hold strings"),
    ],
)
def test_bad_options_are_rejected(data, tmp_path, options, error, match):
    kwargs = {"data": str(data), "filenames": ["d.png"], "out": str(tmp_path / "out"), **options}
    with pytest.raises(error, match=match):
        extract(**kwargs)
    assert not (tmp_path / "out").exists()


def test_out_must_be_a_folder(data, tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is not a folder"):
        extract(data=data, filenames=["d.png"], out=tmp_path / "file")


def test_config_object(data, tmp_path):
    config = ExtractConfig(data=str(data), filenames=None, out=str(tmp_path / "o"), format="jpg")
    result = extract(config, filenames=["d.png"])
    assert result.written == [tmp_path / "o" / "d.jpg"]
    with pytest.raises(ConfigError, match="either in config or as keywords"):
        extract(config, overwrite=True)


def test_a_failed_write_leaves_no_partial_or_temporary_file(data, tmp_path, monkeypatch):
    out = tmp_path / "out"
    real = extract_module._check_written
    calls = []

    def fail_second(path, size, fmt):
        calls.append(path)
        assert path.is_file() and path.parent == out / "sub"  # the temporary file, beside
        if len(calls) == 2:
            raise OSError("disk full")
        real(path, size, fmt)

    monkeypatch.setattr(extract_module, "_check_written", fail_second)
    with pytest.raises(OSError, match="disk full"):
        extract(data=data, filenames=["sub/a.png", "sub/b.jpg"], out=out)
    assert _files(out) == ["sub/a.png"]
    assert not any(p.name.startswith(".") for p in out.rglob("*"))


def test_the_written_file_is_checked(data, tmp_path, monkeypatch):
    monkeypatch.setattr(extract_module, "_encode", lambda image, fmt: b"\x89PNG garbage")
    with pytest.raises(OSError, match="does not re-open"):
        extract(data=data, filenames=["d.png"], out=tmp_path / "out")
    assert _files(tmp_path / "out") == []


def test_public_names_have_docstrings():
    for name in extract_module.__all__:
        assert getattr(extract_module, name).__doc__, name


def test_progress_is_logged(data, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="selfsup.pipeline.extract"):
        with pytest.raises(MissingFilesError):
            extract(data=data, filenames=["d.png", "nope.png"], out=tmp_path / "out")
    assert "1 written (0 replaced), 0 identical skipped, 1 missing, 0 undecodable" in caplog.text


def _write_video(path, frames=8, size=16):
    av = pytest.importorskip("av", reason="video frames need the video extra (PyAV)")
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for index in range(frames):
            pixels = np.full((size, size, 3), 20 * index, np.uint8)
            pixels[: size // 2, : size // 2] = 255 - 20 * index
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_video_frames_are_extracted_by_index(data, tmp_path):
    _write_video(data / "sub" / "clip.mp4")
    dataset = ImageDataset(data)
    names = dataset.get_filenames()
    frames = [name for name in names if name.startswith("sub/clip-")]
    assert frames == [f"sub/clip-{i}-mp4.png" for i in range(8)]
    wanted = [frames[6], frames[1], "sub/a.png", frames[7]]
    out = tmp_path / "out"
    result = extract(data=data, filenames=wanted, out=out)
    assert result.written == [out / name for name in ("sub/a.png", *frames[1:2], *frames[6:])]
    for name in wanted:
        expected = np.asarray(dataset[names.index(name)][0])
        np.testing.assert_array_equal(np.asarray(Image.open(out / name)), expected)
    jpg = extract(data=data, filenames=[frames[2]], out=tmp_path / "jpg", format="jpg")
    assert jpg.written == [tmp_path / "jpg" / "sub" / "clip-2-mp4.jpg"]
    with pytest.raises(MissingFilesError, match="'sub/clip-9-mp4.png'"):
        extract(data=data, filenames=["sub/clip-9-mp4.png", frames[0]], out=out)
