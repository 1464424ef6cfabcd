"""Barlow Twins (Zbontar et al., 2021) on a folder of images: selfsup's building blocks in a
plain PyTorch loop, then the same training through ``selfsup.train``.

A backbone and a 3-layer projector embed both views; the loss pushes the cross-correlation
matrix of the two batch-standardised embeddings towards the identity: matching dimensions
agree across views (invariance), different dimensions are decorrelated (redundancy reduction).

Run: ``python docs/examples/barlowtwins.py /path/to/images --epochs 10``
"""

from __future__ import annotations

import argparse
import inspect

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

import selfsup
from selfsup.data import ImageDataset, MultiViewCollate
from selfsup.loss import BarlowTwinsLoss
from selfsup.models import ResNetGenerator
from selfsup.models.modules import BarlowTwinsProjectionHead
from selfsup.transforms import BarlowTwinsTransform

__all__ = ["BarlowTwins", "main"]


class BarlowTwins(nn.Module):
    """Backbone and projector: images `(B, 3, H, W)` -> embeddings `(B, 4 F)`."""

    def __init__(self, backbone: nn.Module, num_features: int) -> None:
        super().__init__()
        self.backbone = backbone
        # 8192-d for a ResNet-50 (Sec. 4); four times the feature size here
        dim = 4 * num_features
        self.projection_head = BarlowTwinsProjectionHead(num_features, dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        return self.projection_head(self.backbone(x).flatten(start_dim=1))


def main(
    data_dir: str,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    input_size: int = 32,
    backbone: str = "resnet-18",
    width: float = 1.0,
    device: str | None = None,
    num_workers: int = 2,
    out: str = "runs/barlowtwins",
) -> float:
    """Trains Barlow Twins twice (plain loop, then ``selfsup.train``); returns the last loss."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    resnet = ResNetGenerator(backbone, width=width)
    encoder = nn.Sequential(*list(resnet.children())[:-1], nn.AdaptiveAvgPool2d(1))
    model = BarlowTwins(encoder, resnet.num_features).to(device)

    dataset = ImageDataset(data_dir, transform=BarlowTwinsTransform(input_size=input_size))
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=num_workers,
        collate_fn=MultiViewCollate(),
    )
    criterion = BarlowTwinsLoss(lambda_param=5e-3)  # weight of the off-diagonal terms (Sec. 4)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.06 * batch_size / 256, momentum=0.9, weight_decay=5e-4
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * len(loader))

    for epoch in range(epochs):
        for (x0, x1), _, _ in loader:
            loss = criterion(model(x0.to(device)), model(x1.to(device)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
        print(f"epoch {epoch}: loss {loss.item():.4f}")

    selfsup.train(
        data=data_dir,
        method="barlowtwins",
        backbone=backbone,
        width=width,
        epochs=epochs,
        batch_size=batch_size,
        input_size=input_size,
        num_workers=num_workers,
        accelerator="gpu" if device.startswith("cuda") else "cpu",
        out=out,
    )
    return loss.item()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Barlow Twins on a folder of images")
    parser.add_argument("data_dir")
    for name, param in inspect.signature(main).parameters.items():
        if param.kind is param.KEYWORD_ONLY:  # --epochs, --batch_size, ..., --device
            kind = str if param.default is None else type(param.default)
            parser.add_argument(f"--{name}", type=kind, default=param.default)
    main(**vars(parser.parse_args()))
