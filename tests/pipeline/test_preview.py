import pytest
from PIL import Image

import selfsup
from selfsup.pipeline.preview import sample_images


def test_sample_images_ship_with_matplotlib():
    images = sample_images()
    assert len(images) >= 3
    assert all(image.mode == "RGB" for image in images)


@pytest.mark.parametrize(("method", "views"), [("simclr", 2), ("dino", 8)])
def test_preview_grid_has_one_row_per_image_and_a_column_per_view(tmp_path, method, views):
    kwargs = (
        {"input_size": 32}
        if method == "simclr"
        else {"global_crop_size": 32, "local_crop_size": 16}
    )
    out = selfsup.preview(method=method, n=2, out=tmp_path / "p.png", dpi=20, **kwargs)
    with Image.open(out) as image:
        assert image.size == ((1 + views) * 2 * 20, 2 * 2 * 20)


def test_preview_is_deterministic_under_seed(tmp_path):
    first = selfsup.preview(n=1, out=tmp_path / "a.png", seed=3, dpi=20, input_size=32)
    second = selfsup.preview(n=1, out=tmp_path / "b.png", seed=3, dpi=20, input_size=32)
    assert first.read_bytes() == second.read_bytes()


def test_preview_rejects_bad_n(tmp_path):
    with pytest.raises(ValueError, match="n must be >= 1"):
        selfsup.preview(n=0, out=tmp_path / "x.png")
