"""SimSiam (Chen & He, 2021) on a folder of images: selfsup's building blocks in a plain
PyTorch loop, then the same training through ``selfsup.train``.

One encoder (backbone + projector) and a predictor; each view's prediction regresses the other
view's projection, which is detached (the stop-gradient is what keeps SimSiam from collapsing).

Run: ``python docs/examples/simsiam.py /path/to/images --epochs 10``
"""

from __future__ import annotations

import argparse
import inspect

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

import selfsup
from selfsup.data import ImageDataset, MultiViewCollate
from selfsup.loss import NegativeCosineSimilarity
from selfsup.models import ResNetGenerator
from selfsup.models.modules import SimSiamPredictionHead, SimSiamProjectionHead
from selfsup.transforms import SimSiamTransform

__all__ = ["SimSiam", "main"]


class SimSiam(nn.Module):
    """Projections ``z`` and predictions ``p`` of images `(B, 3, H, W)`, each `(B, F)`."""

    def __init__(self, backbone: nn.Module, num_features: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.projection_head = SimSiamProjectionHead(num_features, num_features, num_features)
        # bottleneck predictor: 2048 -> 512 -> 2048 for a ResNet-50 (Sec. 4.1)
        self.prediction_head = SimSiamPredictionHead(num_features, num_features // 4, num_features)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        z = self.projection_head(self.backbone(x).flatten(start_dim=1))
        return z, self.prediction_head(z)


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
    out: str = "runs/simsiam",
) -> float:
    """Trains SimSiam twice (plain loop, then ``selfsup.train``); returns the loop's last loss."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    resnet = ResNetGenerator(backbone, width=width)
    encoder = nn.Sequential(*list(resnet.children())[:-1], nn.AdaptiveAvgPool2d(1))
    model = SimSiam(encoder, resnet.num_features).to(device)

    dataset = ImageDataset(data_dir, transform=SimSiamTransform(input_size=input_size))
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=num_workers,
        collate_fn=MultiViewCollate(),
    )
    criterion = NegativeCosineSimilarity()
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.06 * batch_size / 256, momentum=0.9, weight_decay=5e-4
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * len(loader))

    for epoch in range(epochs):
        for (x0, x1), _, _ in loader:
            z0, p0 = model(x0.to(device))
            z1, p1 = model(x1.to(device))
            # D(p0, stopgrad(z1)) / 2 + D(p1, stopgrad(z0)) / 2 (Algorithm 1)
            loss = 0.5 * (criterion(p0, z1.detach()) + criterion(p1, z0.detach()))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
        print(f"epoch {epoch}: loss {loss.item():.4f}")

    selfsup.train(
        data=data_dir,
        method="simsiam",
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
    parser = argparse.ArgumentParser(description="SimSiam on a folder of images")
    parser.add_argument("data_dir")
    for name, param in inspect.signature(main).parameters.items():
        if param.kind is param.KEYWORD_ONLY:  # --epochs, --batch_size, ..., --device
            kind = str if param.default is None else type(param.default)
            parser.add_argument(f"--{name}", type=kind, default=param.default)
    main(**vars(parser.parse_args()))
