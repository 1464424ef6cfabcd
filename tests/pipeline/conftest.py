import numpy as np
import pytest
from PIL import Image


def write_class_folder(root, n_per_class=12, size=24, seed=0):
    """Two classes that differ in a way a tiny model can pick up: bright vs dark stripes."""
    rng = np.random.default_rng(seed)
    for label, name in enumerate(["dark", "light"]):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(n_per_class):
            base = 40 + 160 * label
            pixels = rng.normal(base, 25, (size, size, 3)).clip(0, 255).astype(np.uint8)
            pixels[:: 2 + label] = 255 - base
            Image.fromarray(pixels).save(folder / f"{name}{index:02d}.png")
    return root


@pytest.fixture
def image_folder(tmp_path):
    return write_class_folder(tmp_path / "train")


@pytest.fixture
def val_folder(tmp_path):
    return write_class_folder(tmp_path / "val", n_per_class=4, seed=1)
