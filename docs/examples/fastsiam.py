"""FastSiam (Pototzky et al., 2022) on a folder of images: selfsup's building blocks in a
plain PyTorch loop, then the same training through ``selfsup.train``.

SimSiam with four views: each view's prediction regresses the mean projection of the other
three (detached). The averaged target is more stable, so small batches on one GPU suffice.

Run: ``python docs/examples/fastsiam.py /path/to/images --epochs 10``
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
from selfsup.transforms import FastSiamTransform

__all__ = ["FastSiam", "main"]


class FastSiam(nn.Module):
    """SimSiam's encoder and predictor: ``(z, p)`` of images `(B, 3, H, W)`, each `(B, F)`."""

    def __init__(self, backbone: nn.Module, num_features: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.projection_head = SimSiamProjectionHead(num_features, num_features, num_features)
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
    out: str = "runs/fastsiam",
) -> float:
    """Trains FastSiam twice (plain loop, then ``selfsup.train``); returns the last loss."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    resnet = ResNetGenerator(backbone, width=width)
    encoder = nn.Sequential(*list(resnet.children())[:-1], nn.AdaptiveAvgPool2d(1))
    model = FastSiam(encoder, resnet.num_features).to(device)

    # K = 3 targets per prediction: 4 views of each image (Sec. 3)
    dataset = ImageDataset(data_dir, transform=FastSiamTransform(K=3, input_size=input_size))
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
        for views, _, _ in loader:
            outputs = [model(view.to(device)) for view in views]
            targets = torch.stack([z.detach() for z, _ in outputs])  # (K + 1, B, F)
            losses = []
            for i, (_, p) in enumerate(outputs):
                others = (targets.sum(dim=0) - targets[i]) / (len(views) - 1)
                losses.append(criterion(p, others))
            loss = torch.stack(losses).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
        print(f"epoch {epoch}: loss {loss.item():.4f}")

    selfsup.train(
        data=data_dir,
        method="fastsiam",
        backbone=backbone,
        width=width,
        epochs=epochs,
        batch_size=batch_size,
        input_size=input_size,
        transform={"K": 3},
        num_workers=num_workers,
        accelerator="gpu" if device.startswith("cuda") else "cpu",
        out=out,
    )
    return loss.item()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="FastSiam on a folder of images")
    parser.add_argument("data_dir")
    for name, param in inspect.signature(main).parameters.items():
        if param.kind is param.KEYWORD_ONLY:  # --epochs, --batch_size, ..., --device
            kind = str if param.default is None else type(param.default)
            parser.add_argument(f"--{name}", type=kind, default=param.default)
    main(**vars(parser.parse_args()))
