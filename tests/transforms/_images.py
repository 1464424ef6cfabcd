"""Small test images shared by the transform tests (generated, no downloads)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image


def rgb_array(height: int = 32, width: int = 32, seed: int = 0) -> np.ndarray:
    """A uint8 (H, W, 3) image with smooth gradients, edges and noise (not symmetric)."""
    generator = torch.Generator().manual_seed(seed)
    rows = torch.linspace(0, 1, height).view(-1, 1)
    cols = torch.linspace(0, 1, width).view(1, -1)
    red = 255 * rows * torch.ones(1, width)
    green = 255 * (cols * torch.ones(height, 1))
    blue = 255 * ((rows * 3 + cols * 5) % 1.0)
    image = torch.stack([red, green, blue], dim=-1)
    image[height // 4 : height // 2, width // 3 : width // 2] = torch.tensor([250.0, 30.0, 60.0])
    image += 20 * torch.rand(height, width, 3, generator=generator) - 10
    return image.clamp(0, 255).round().to(torch.uint8).numpy()


def rgb_image(height: int = 32, width: int = 32, seed: int = 0) -> Image.Image:
    """PIL RGB version of :func:`rgb_array`."""
    return Image.fromarray(rgb_array(height, width, seed))


def rgb_tensor(height: int = 32, width: int = 32, seed: int = 0) -> torch.Tensor:
    """uint8 tensor (3, H, W) version of :func:`rgb_array`."""
    return torch.from_numpy(rgb_array(height, width, seed)).permute(2, 0, 1).contiguous()


def mean_abs_laplacian(image: np.ndarray) -> float:
    """Mean absolute 4-neighbour Laplacian over the interior, a high-frequency energy measure."""
    x = image.astype(np.float64)
    if x.ndim == 3 and x.shape[0] in (1, 3):
        x = np.moveaxis(x, 0, -1)
    lap = 4 * x[1:-1, 1:-1] - x[:-2, 1:-1] - x[2:, 1:-1] - x[1:-1, :-2] - x[1:-1, 2:]
    return float(np.abs(lap).mean())


def line_spread(profile: np.ndarray) -> float:
    """Standard deviation (pixels) of a 1-D intensity profile around its centre index."""
    offsets = np.arange(len(profile)) - len(profile) // 2
    weights = profile.astype(np.float64)
    return float(np.sqrt((weights * offsets**2).sum() / weights.sum()))
