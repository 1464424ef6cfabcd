from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile

from selfsup.data import image_loading
from selfsup.data.image_loading import (
    IMAGE_EXTENSIONS,
    ImageDecodeError,
    check_image_header,
    load_image,
    load_image_tensor,
    to_rgb,
)


def _rgb(image: Image.Image) -> np.ndarray:
    assert image.mode == "RGB"
    return np.asarray(image).astype(np.int64)


def _over_white(value: float, alpha: int) -> float:
    """Reference alpha compositing of one 8-bit channel over white."""
    return value * alpha / 255 + 255 * (1 - alpha / 255)


def _sixteen_to_eight(values: np.ndarray) -> np.ndarray:
    """Reference 16 -> 8 bit scaling: round(v * 255 / 65535) in integer arithmetic."""
    return (values.astype(np.int64) * 255 + 65535 // 2) // 65535


def test_extensions_are_the_documented_lowercase_set():
    assert IMAGE_EXTENSIONS == {
        ".jpg",
        ".jpeg",
        ".png",
        ".ppm",
        ".bmp",
        ".pgm",
        ".tif",
        ".tiff",
        ".webp",
    }


def test_rgb_png_round_trips_exactly(tmp_path):
    path = tmp_path / "a.png"
    source = np.arange(4 * 5 * 3, dtype=np.uint8).reshape(4, 5, 3)
    Image.fromarray(source, mode="RGB").save(path)
    np.testing.assert_array_equal(_rgb(load_image(path)), source)


def test_mode_1_decodes_to_black_and_white(tmp_path):
    image = Image.new("1", (2, 1))
    image.putpixel((1, 0), 1)
    image.save(tmp_path / "a.png")
    decoded = load_image(tmp_path / "a.png")
    np.testing.assert_array_equal(_rgb(decoded), [[[0, 0, 0], [255, 255, 255]]])


def test_mode_l_pgm_repeats_gray_in_three_channels(tmp_path):
    Image.new("L", (3, 2), 77).save(tmp_path / "a.pgm")
    assert Image.open(tmp_path / "a.pgm").mode == "L"
    np.testing.assert_array_equal(_rgb(load_image(tmp_path / "a.pgm")), np.full((2, 3, 3), 77))


def test_mode_la_composites_alpha_over_white(tmp_path):
    image = Image.new("LA", (2, 1))
    image.putpixel((0, 0), (100, 128))
    image.putpixel((1, 0), (100, 255))
    image.save(tmp_path / "a.png")
    assert Image.open(tmp_path / "a.png").mode == "LA"
    got = _rgb(load_image(tmp_path / "a.png"))
    expected = np.array([[[_over_white(100, 128)] * 3, [100] * 3]])
    np.testing.assert_allclose(got, expected, atol=1)


def test_rgba_transparent_is_white_opaque_is_kept_half_is_blended(tmp_path):
    image = Image.new("RGBA", (3, 1))
    image.putpixel((0, 0), (10, 200, 30, 0))
    image.putpixel((1, 0), (10, 200, 30, 255))
    image.putpixel((2, 0), (10, 200, 30, 128))
    image.save(tmp_path / "a.png")
    got = _rgb(load_image(tmp_path / "a.png"))
    half = [_over_white(c, 128) for c in (10, 200, 30)]
    np.testing.assert_allclose(got, [[[255, 255, 255], [10, 200, 30], half]], atol=1)


def test_palette_without_transparency_maps_through_palette(tmp_path):
    image = Image.new("P", (2, 1))
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.putpixel((1, 0), 1)
    image.save(tmp_path / "a.png")
    np.testing.assert_array_equal(
        _rgb(load_image(tmp_path / "a.png")), [[[255, 0, 0], [0, 0, 255]]]
    )


def test_palette_with_transparent_index_becomes_white(tmp_path):
    image = Image.new("P", (2, 1))
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.putpixel((1, 0), 1)
    image.save(tmp_path / "a.png", transparency=1)
    reopened = Image.open(tmp_path / "a.png")
    assert reopened.mode == "P" and reopened.info["transparency"] == 1
    np.testing.assert_array_equal(
        _rgb(load_image(tmp_path / "a.png")), [[[255, 0, 0], [255, 255, 255]]]
    )


def test_palette_with_partial_alpha_is_blended(tmp_path):
    image = Image.new("P", (2, 1))
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.putpixel((1, 0), 1)
    image.save(tmp_path / "a.png", transparency=bytes([255, 128]))
    got = _rgb(load_image(tmp_path / "a.png"))
    blended_blue = [_over_white(0, 128), _over_white(0, 128), 255]
    np.testing.assert_allclose(got, [[[255, 0, 0], blended_blue]], atol=1)


def test_rgb_with_transparency_key_colour_becomes_white(tmp_path):
    image = Image.new("RGB", (2, 1), (1, 2, 3))
    image.putpixel((1, 0), (4, 5, 6))
    image.save(tmp_path / "a.png", transparency=(1, 2, 3))
    np.testing.assert_array_equal(
        _rgb(load_image(tmp_path / "a.png")), [[[255, 255, 255], [4, 5, 6]]]
    )


def test_cmyk_tiff_uses_multiplicative_conversion(tmp_path):
    values = [(100, 50, 0, 60), (255, 0, 0, 0), (0, 0, 0, 255), (0, 0, 0, 0)]
    image = Image.new("CMYK", (4, 1))
    for x, value in enumerate(values):
        image.putpixel((x, 0), value)
    image.save(tmp_path / "a.tif")
    assert Image.open(tmp_path / "a.tif").mode == "CMYK"
    expected = [
        [[(255 - c) * (255 - k) / 255 for c in cmyk[:3]] for cmyk in values for k in [cmyk[3]]]
    ]
    np.testing.assert_allclose(_rgb(load_image(tmp_path / "a.tif")), expected, atol=1)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_gray_is_scaled_not_clipped(tmp_path, suffix):
    values = np.array([[0, 1000, 32896, 40000, 65535]], dtype=np.uint16)
    path = tmp_path / f"a{suffix}"
    Image.fromarray(values).save(path)
    assert Image.open(path).mode.startswith("I;16")
    expected = np.repeat(_sixteen_to_eight(values)[..., None], 3, axis=2)
    np.testing.assert_array_equal(_rgb(load_image(path)), expected)
    assert expected[0, 1, 0] == 4  # clipping would have given 255


def test_sixteen_bit_pgm_opened_as_mode_i_is_scaled(tmp_path):
    values = np.array([[0, 257, 20000, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "a.pgm")
    assert Image.open(tmp_path / "a.pgm").mode == "I"
    expected = np.repeat(_sixteen_to_eight(values)[..., None], 3, axis=2)
    np.testing.assert_array_equal(_rgb(load_image(tmp_path / "a.pgm")), expected)


def test_mode_i_values_outside_sixteen_bits_are_clipped():
    values = np.array([[-5, 70000, 65535]], dtype=np.int32)
    got = _rgb(to_rgb(Image.fromarray(values, mode="I")))
    np.testing.assert_array_equal(got[0, :, 0], [0, 255, 255])


def test_float_image_in_unit_range_is_scaled_by_255(tmp_path):
    values = np.array([[0.0, 0.25, 0.5, 1.0]], dtype=np.float32)
    Image.fromarray(values, mode="F").save(tmp_path / "a.tif")
    assert Image.open(tmp_path / "a.tif").mode == "F"
    got = _rgb(load_image(tmp_path / "a.tif"))
    np.testing.assert_array_equal(got[0, :, 0], np.rint(values[0] * 255))
    np.testing.assert_array_equal(got[..., 0], got[..., 2])


def test_float_image_beyond_one_is_read_as_0_255_and_nan_is_black():
    values = np.array([[-3.0, 10.4, 200.0, 300.0, np.nan]], dtype=np.float32)
    got = _rgb(to_rgb(Image.fromarray(values, mode="F")))
    np.testing.assert_array_equal(got[0, :, 1], [0, 10, 200, 255, 0])


def test_other_alpha_modes_convert_in_memory():
    pa = Image.new("PA", (1, 1))
    pa.putpalette([0, 255, 0] + [0] * 765)
    pa.putpixel((0, 0), (0, 0))
    np.testing.assert_array_equal(_rgb(to_rgb(pa)), [[[255, 255, 255]]])
    rgb = Image.new("RGB", (1, 1), (9, 8, 7))
    assert to_rgb(rgb) is rgb


def _left_red_right_blue(width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height), (255, 0, 0))
    image.paste((0, 0, 255), (width // 2, 0, width, height))
    return image


def test_exif_orientation_6_rotates_to_portrait(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # displayed = stored rotated 90 degrees clockwise
    _left_red_right_blue(64, 32).save(tmp_path / "a.jpg", quality=95, exif=exif)
    decoded = load_image(tmp_path / "a.jpg")
    assert decoded.size == (32, 64)
    top, bottom = _rgb(decoded)[16, 16], _rgb(decoded)[48, 16]
    assert top[0] > 200 and top[2] < 60  # stored left (red) is now on top
    assert bottom[2] > 200 and bottom[0] < 60


def test_exif_orientation_3_rotates_half_turn(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 3
    _left_red_right_blue(64, 32).save(tmp_path / "a.jpg", quality=95, exif=exif)
    decoded = _rgb(load_image(tmp_path / "a.jpg"))
    assert decoded.shape == (32, 64, 3)
    assert decoded[16, 8, 2] > 200 and decoded[16, 56, 0] > 200


def test_draft_decodes_large_jpeg_smaller_but_never_below_request(tmp_path, noise_jpeg):
    path = noise_jpeg(tmp_path / "big.jpg", (512, 384))
    assert load_image(path).size == (512, 384)
    reduced = load_image(path, draft_size=100)
    assert reduced.mode == "RGB"
    assert reduced.size[0] < 512 and reduced.size[1] < 384
    for request in (10, 50, 100, 150, 200, 400, (300, 40), (40, 300)):
        width, height = (request, request) if isinstance(request, int) else request
        got = load_image(path, draft_size=request).size
        assert got[0] >= min(width, 512) and got[1] >= min(height, 384), (request, got)


def test_draft_request_follows_displayed_orientation(tmp_path, noise_jpeg):
    exif = Image.Exif()
    exif[0x0112] = 6
    path = noise_jpeg(tmp_path / "portrait.jpg", (512, 256), exif=exif)
    assert load_image(path).size == (256, 512)
    got = load_image(path, draft_size=(120, 250)).size
    assert got[0] >= 120 and got[1] >= 250
    assert got == (128, 256)  # halved; a request not swapped to stored orientation gives none


def test_draft_is_ignored_for_png(tmp_path, write_image):
    path = write_image(tmp_path / "a.png", size=(64, 48))
    assert load_image(path, draft_size=8).size == (64, 48)


def test_bad_files_raise_decode_error_naming_the_file(tmp_path, truncated_jpeg):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "notes.jpg"
    text.write_text("this is not an image\n")
    body_cut = truncated_jpeg(tmp_path / "cut.jpg")
    missing = tmp_path / "missing.png"
    for path in (empty, text, body_cut, missing):
        with pytest.raises(ImageDecodeError, match=path.name) as info:
            load_image(path)
        assert info.value.path == str(path) and info.value.reason
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "BMP", "TIFF", "WEBP", "PPM", "GIF"])
def test_header_check_accepts_real_images(tmp_path, fmt):
    path = tmp_path / "image.bin"
    Image.new("RGB", (4, 4), (1, 2, 3)).save(path, format=fmt)
    assert check_image_header(path) is None


def test_header_check_falls_back_to_pil_for_other_formats(tmp_path):
    path = tmp_path / "actually_an_icon.png"
    Image.new("RGB", (16, 16)).save(path, format="ICO")
    assert check_image_header(path) is None


def test_header_check_rejects_empty_text_and_cut_header(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    assert check_image_header(tmp_path / "empty.png") == "empty file"
    (tmp_path / "text.jpg").write_text("hello, I am text")
    assert check_image_header(tmp_path / "text.jpg").startswith("not an image")
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG")
    (tmp_path / "cut.png").write_bytes(buffer.getvalue()[:20])
    assert check_image_header(tmp_path / "cut.png") is not None
    assert check_image_header(tmp_path / "missing.png").startswith("unreadable")


def test_header_check_passes_body_truncated_jpeg(tmp_path, truncated_jpeg):
    assert check_image_header(truncated_jpeg(tmp_path / "cut.jpg")) is None


def test_big_endian_sixteen_bit_is_scaled():
    values = np.array([[0, 1000, 65535]], dtype=">u2")
    image = Image.frombytes("I;16B", (3, 1), values.tobytes())
    got = _rgb(to_rgb(image))
    np.testing.assert_array_equal(got[0, :, 0], _sixteen_to_eight(values.astype(np.uint16))[0])


def _as_tensor(image: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.array(image)).permute(2, 0, 1)


@pytest.fixture(params=["simplejpeg", "torchvision"])
def jpeg_decoder(request, monkeypatch):
    """Runs a test with each fast JPEG decoder (simplejpeg is skipped where not installed)."""
    if request.param == "simplejpeg":
        pytest.importorskip("simplejpeg")
    else:
        monkeypatch.setattr(image_loading, "_decode_jpeg_fast", lambda data: None)
    return request.param


def test_tensor_decode_of_jpeg_matches_pil_within_decoder_rounding(
    tmp_path, noise_jpeg, jpeg_decoder
):
    path = noise_jpeg(tmp_path / "a.jpg", (96, 64))
    fast = load_image_tensor(path)
    reference = _as_tensor(load_image(path))
    assert fast.dtype == torch.uint8 and fast.shape == (3, 64, 96)
    difference = (fast.int() - reference.int()).abs()
    # simplejpeg's fast IDCT: about 1 level on average; torchvision: its own build, a few levels
    assert difference.float().mean() < 1.5 and difference.max() <= 16


def test_tensor_decode_of_gray_jpeg_repeats_the_channel(tmp_path, jpeg_decoder):
    gray = Image.fromarray(np.arange(64 * 48, dtype=np.uint8).reshape(48, 64) % 251)
    gray.save(tmp_path / "g.jpg", quality=95)
    fast = load_image_tensor(tmp_path / "g.jpg")
    assert fast.shape == (3, 48, 64)
    assert torch.equal(fast[0], fast[1]) and torch.equal(fast[1], fast[2])
    reference = _as_tensor(load_image(tmp_path / "g.jpg"))
    assert (fast.int() - reference.int()).abs().max() <= 12  # fast IDCT at the wrap-around edges


def test_simplejpeg_is_used_for_jpegs_without_exif(tmp_path, noise_jpeg, monkeypatch):
    pytest.importorskip("simplejpeg")
    calls = []
    fast = image_loading._decode_jpeg_fast

    def counting(data):
        calls.append(len(data))
        return fast(data)

    monkeypatch.setattr(image_loading, "_decode_jpeg_fast", counting)
    load_image_tensor(noise_jpeg(tmp_path / "plain.jpg", (40, 30)))
    exif = Image.Exif()
    exif[0x0112] = 1
    load_image_tensor(noise_jpeg(tmp_path / "exif.jpg", (40, 30), exif=exif))
    assert len(calls) == 1  # the file with EXIF went to torchvision (orientation)


def test_tensor_decode_applies_exif_orientation(tmp_path, jpeg_decoder):
    exif = Image.Exif()
    exif[0x0112] = 6
    _left_red_right_blue(64, 32).save(tmp_path / "a.jpg", quality=95, exif=exif)
    fast = load_image_tensor(tmp_path / "a.jpg")
    assert fast.shape == (3, 64, 32)
    assert fast[0, 16, 16] > 200 and fast[2, 16, 16] < 60  # stored left (red) is now on top
    assert fast[2, 48, 16] > 200 and fast[0, 48, 16] < 60


def test_tensor_decode_of_other_files_is_load_image_exactly(tmp_path, noise_jpeg):
    rgba = Image.new("RGBA", (20, 10), (255, 0, 0, 128))
    rgba.save(tmp_path / "a.png")
    cmyk = Image.new("CMYK", (20, 10), (10, 200, 30, 40))
    cmyk.save(tmp_path / "c.jpg", quality=95)
    big = noise_jpeg(tmp_path / "big.jpg", (512, 384))
    for path, draft in ((tmp_path / "a.png", None), (tmp_path / "c.jpg", None), (big, 100)):
        expected = _as_tensor(load_image(path, draft_size=draft))
        assert torch.equal(load_image_tensor(path, draft_size=draft), expected), path.name
    assert load_image_tensor(big, draft_size=100).shape[1:] == (192, 256)  # draft, halved


def test_tensor_decode_of_bad_files_raises_naming_the_file(tmp_path, truncated_jpeg, jpeg_decoder):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    for path in (empty, truncated_jpeg(tmp_path / "cut.jpg"), tmp_path / "missing.jpg"):
        with pytest.raises(ImageDecodeError, match=path.name):
            load_image_tensor(path)
