"""VICReg (Bardes et al., 2022) on a folder of images: selfsup's building blocks in a plain
PyTorch loop, then the same training through ``selfsup.train``.

A backbone and a 3-layer expander embed both views. The loss has three terms: the mean squared
distance of the two embeddings (invariance), a hinge keeping every dimension's standard
deviation above 1 (variance) and the squared off-diagonal covariances (covariance).

Run: ``python docs/examples/vicreg.py /path/to/images --epochs 10``
"""

from __future__ import annotations

import argparse
import inspect

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

import selfsup
from selfsup.data import ImageDataset, MultiViewCollate
from selfsup.loss import VICRegLoss
from selfsup.models import ResNetGenerator
from selfsup.models.modules import VICRegProjectionHead
from selfsup.training import LARS
from selfsup.transforms import VICRegTransform

__all__ = ["VICReg", "main"]


class VICReg(nn.Module):
    """Backbone and expander: images `(B, 3, H, W)` -> embeddings `(B, 4 F)`."""

    def __init__(self, backbone: nn.Module, num_features: int) -> None:
        super().__init__()
        self.backbone = backbone
        dim = 4 * num_features  # 8192 for a ResNet-50 (Sec. 4.2)
        self.projection_head = VICRegProjectionHead(num_features, dim, dim, num_layers=3)

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
    out: str = "runs/vicreg",
) -> float:
    """Trains VICReg twice (plain loop, then ``selfsup.train``); returns the loop's last loss."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    resnet = ResNetGenerator(backbone, width=width)
    encoder = nn.Sequential(*list(resnet.children())[:-1], nn.AdaptiveAvgPool2d(1))
    model = VICReg(encoder, resnet.num_features).to(device)

    dataset = ImageDataset(data_dir, transform=VICRegTransform(input_size=input_size))
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=num_workers,
        collate_fn=MultiViewCollate(),
    )
    # invariance, variance and covariance weights 25, 25, 1 (Sec. 4.1)
    criterion = VICRegLoss(lambda_param=25.0, mu_param=25.0, nu_param=1.0)
    # VICReg needs LARS (lightly's benchmark: plain SGD diverges), lr 0.3 per 256 images
    optimizer = LARS(model.parameters(), lr=0.3 * batch_size / 256, weight_decay=1e-4)
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
        method="vicreg",
        backbone=backbone,
        width=width,
        epochs=epochs,
        batch_size=batch_size,
        input_size=input_size,
        optimizer={"name": "lars", "lr": 0.3, "weight_decay": 1e-4},
        num_workers=num_workers,
        accelerator="gpu" if device.startswith("cuda") else "cpu",
        out=out,
    )
    return loss.item()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="VICReg on a folder of images")
    parser.add_argument("data_dir")
    for name, param in inspect.signature(main).parameters.items():
        if param.kind is param.KEYWORD_ONLY:  # --epochs, --batch_size, ..., --device
            kind = str if param.default is None else type(param.default)
            parser.add_argument(f"--{name}", type=kind, default=param.default)
    main(**vars(parser.parse_args()))
