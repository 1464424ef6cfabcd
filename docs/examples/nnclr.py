"""NNCLR (Dwibedi et al., 2021) on a folder of images: selfsup's building blocks in a plain
PyTorch loop, then the same training through ``selfsup.train``.

SimCLR with nearest neighbours as positives: each view's projection is replaced by its nearest
neighbour in a support set (a memory bank of projections from earlier batches) and contrasted
with the prediction of the other view.

Run: ``python docs/examples/nnclr.py /path/to/images --epochs 10``
"""

from __future__ import annotations

import argparse
import inspect

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

import selfsup
from selfsup.data import ImageDataset, MultiViewCollate
from selfsup.loss import NTXentLoss
from selfsup.models import ResNetGenerator
from selfsup.models.modules import NNCLRPredictionHead, NNCLRProjectionHead, NNMemoryBankModule
from selfsup.transforms import SimCLRTransform

__all__ = ["NNCLR", "main"]


class NNCLR(nn.Module):
    """Projections ``z`` and predictions ``p`` of images `(B, 3, H, W)`, each `(B, 256)`."""

    def __init__(self, backbone: nn.Module, num_features: int, out_dim: int = 256) -> None:
        super().__init__()
        self.backbone = backbone
        self.projection_head = NNCLRProjectionHead(num_features, num_features, out_dim)
        self.prediction_head = NNCLRPredictionHead(out_dim, 2 * num_features, out_dim)

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
    out: str = "runs/nnclr",
) -> float:
    """Trains NNCLR twice (plain loop, then ``selfsup.train``); returns the loop's last loss."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    resnet = ResNetGenerator(backbone, width=width)
    encoder = nn.Sequential(*list(resnet.children())[:-1], nn.AdaptiveAvgPool2d(1))
    model = NNCLR(encoder, resnet.num_features).to(device)
    # support set of 4096 projections (98304 in the paper, Sec. 4.1)
    memory_bank = NNMemoryBankModule(size=(4096, 256)).to(device)

    dataset = ImageDataset(data_dir, transform=SimCLRTransform(input_size=input_size))
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=num_workers,
        collate_fn=MultiViewCollate(),
    )
    criterion = NTXentLoss(temperature=0.1)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.06 * batch_size / 256, momentum=0.9, weight_decay=5e-4
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * len(loader))

    for epoch in range(epochs):
        for (x0, x1), _, _ in loader:
            z0, p0 = model(x0.to(device))
            z1, p1 = model(x1.to(device))
            # neighbours are looked up before this batch is stored; only z1 is enqueued
            nn0 = memory_bank(z0.detach(), update=False)
            nn1 = memory_bank(z1.detach(), update=True)
            loss = 0.5 * (criterion(nn0, p1) + criterion(nn1, p0))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
        print(f"epoch {epoch}: loss {loss.item():.4f}")

    selfsup.train(
        data=data_dir,
        method="nnclr",
        backbone=backbone,
        width=width,
        epochs=epochs,
        batch_size=batch_size,
        input_size=input_size,
        method_args={"memory_bank_size": 4096, "temperature": 0.1},
        num_workers=num_workers,
        accelerator="gpu" if device.startswith("cuda") else "cpu",
        out=out,
    )
    return loss.item()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="NNCLR on a folder of images")
    parser.add_argument("data_dir")
    for name, param in inspect.signature(main).parameters.items():
        if param.kind is param.KEYWORD_ONLY:  # --epochs, --batch_size, ..., --device
            kind = str if param.default is None else type(param.default)
            parser.add_argument(f"--{name}", type=kind, default=param.default)
    main(**vars(parser.parse_args()))
