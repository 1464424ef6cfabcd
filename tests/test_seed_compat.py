"""The code of lightly's "Advanced Concepts" page, with ``lightly`` replaced by ``selfsup``."""

import numpy as np
import torch
import torchvision
from PIL import Image
from torch import nn

import selfsup
import selfsup.data
import selfsup.utils.debug
from selfsup.loss import NTXentLoss
from selfsup.models import ResNetGenerator
from selfsup.models.modules import SimCLRProjectionHead
from selfsup.utils.debug import std_of_l2_normalized


def _folder(tmp_path, count=6, size=40):
    rng = np.random.default_rng(0)
    for index in range(count):
        pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / f"{index}.jpg")
    return tmp_path


def test_collate_functions_and_dataloader(tmp_path):
    dataset = selfsup.data.ImageDataset(input_dir=str(_folder(tmp_path)))
    # create a dataset using SimCLR augmentations
    collate_fn = selfsup.data.SimCLRCollateFunction(input_size=32)
    loader = torch.utils.data.DataLoader(dataset, batch_size=4, shuffle=True, collate_fn=collate_fn)
    (x0, x1), targets, filenames = next(iter(loader))
    assert x0.shape == x1.shape == (4, 3, 32, 32) and len(filenames) == 4
    # same augmentation but without blur and resize images to 128x128
    collate_fn = selfsup.data.ImageCollateFunction(input_size=128, gaussian_blur=0.0)
    loader = torch.utils.data.DataLoader(dataset, batch_size=2, collate_fn=collate_fn)
    (x0, _), _, _ = next(iter(loader))
    assert x0.shape == (2, 3, 128, 128)


def test_previewing_augmentations(tmp_path):
    fnames = sorted(str(p) for p in _folder(tmp_path).glob("*.jpg"))
    input_images = [Image.open(fname) for fname in fnames[:2]]
    collate_fn_simclr = selfsup.data.SimCLRCollateFunction()
    fig = selfsup.utils.debug.plot_augmented_images(input_images, collate_fn_simclr)
    assert len(fig.axes) == 2 * 3
    collate_fn_simclr_no_blur = selfsup.data.SimCLRCollateFunction(gaussian_blur=0.0)
    fig = selfsup.utils.debug.plot_augmented_images(input_images, collate_fn_simclr_no_blur)
    assert len(fig.axes) == 2 * 3
    collate_fn_dino = selfsup.data.DINOCollateFunction()
    fig = selfsup.utils.debug.plot_augmented_images(input_images, collate_fn_dino)
    assert len(fig.axes) == 2 * (1 + 8)


def test_resnet_backbones_and_simclr_model():
    resnet = ResNetGenerator("resnet-18")
    resnet_torchvision = torchvision.models.resnet18()
    assert resnet_torchvision is not None
    backbone = nn.Sequential(*list(resnet.children())[:-1], nn.AdaptiveAvgPool2d(1))

    class SimCLR(torch.nn.Module):
        def __init__(self, backbone, hidden_dim, out_dim):
            super().__init__()
            self.backbone = backbone
            self.projection_head = SimCLRProjectionHead(hidden_dim, hidden_dim, out_dim)

        def forward(self, x):
            h = self.backbone(x).flatten(start_dim=1)
            return self.projection_head(h)

    resnet_simclr = SimCLR(backbone, hidden_dim=512, out_dim=128)
    assert resnet_simclr(torch.randn(2, 3, 32, 32)).shape == (2, 128)


def test_memory_bank_is_used_at_every_forward():
    criterion = NTXentLoss(memory_bank_size=4096)
    y0, y1 = torch.randn(8, 128), torch.randn(8, 128)
    first = criterion(y0.requires_grad_(), y1)
    second = criterion(y0, y1)
    assert torch.isfinite(first) and torch.isfinite(second)
    assert first.item() != second.item()  # the second call sees the first batch in the bank
    assert selfsup.loss.memory_bank.MemoryBankModule is not None


def test_std_of_l2_normalized_on_representations():
    representations = torch.randn(256, 128)
    assert abs(std_of_l2_normalized(representations).item() - 1 / 128**0.5) < 0.01
