"""DCLW (Yeh et al., 2022) on a folder of images: selfsup's building blocks in a plain PyTorch
loop, then the same training through ``selfsup.train``.

DCL with weighted positives: as DCL, the positive pair is left out of the InfoNCE denominator,
and each positive pair is weighted by a von Mises-Fisher kernel (Sec. 3.3): pairs whose views
are far apart get a larger weight.

Run: ``python docs/examples/dclw.py /path/to/images --epochs 10``
"""

from __future__ import annotations

import argparse
import inspect

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

import selfsup
from selfsup.data import ImageDataset, MultiViewCollate
from selfsup.loss import DCLWLoss
from selfsup.models import ResNetGenerator
from selfsup.models.modules import SimCLRProjectionHead
from selfsup.transforms import SimCLRTransform

__all__ = ["DCLW", "main"]


class DCLW(nn.Module):
    """Backbone and SimCLR's projection head: images `(B, 3, H, W)` -> `(B, 128)`."""

    def __init__(self, backbone: nn.Module, num_features: int, out_dim: int = 128) -> None:
        super().__init__()
        self.backbone = backbone
        self.projection_head = SimCLRProjectionHead(num_features, num_features, out_dim)

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
    out: str = "runs/dclw",
) -> float:
    """Trains DCLW twice (plain loop, then ``selfsup.train``); returns the loop's last loss."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    resnet = ResNetGenerator(backbone, width=width)
    encoder = nn.Sequential(*list(resnet.children())[:-1], nn.AdaptiveAvgPool2d(1))
    model = DCLW(encoder, resnet.num_features).to(device)

    dataset = ImageDataset(data_dir, transform=SimCLRTransform(input_size=input_size))
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=num_workers,
        collate_fn=MultiViewCollate(),
    )
    criterion = DCLWLoss(temperature=0.1, sigma=0.5)  # Sec. 4 and 3.3
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
        method="dclw",
        backbone=backbone,
        width=width,
        epochs=epochs,
        batch_size=batch_size,
        input_size=input_size,
        method_args={"temperature": 0.1, "sigma": 0.5},
        num_workers=num_workers,
        accelerator="gpu" if device.startswith("cuda") else "cpu",
        out=out,
    )
    return loss.item()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="DCLW on a folder of images")
    parser.add_argument("data_dir")
    for name, param in inspect.signature(main).parameters.items():
        if param.kind is param.KEYWORD_ONLY:  # --epochs, --batch_size, ..., --device
            kind = str if param.default is None else type(param.default)
            parser.add_argument(f"--{name}", type=kind, default=param.default)
    main(**vars(parser.parse_args()))
