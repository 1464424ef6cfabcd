"""SwAV (Caron et al., 2020) on a folder of images: selfsup's building blocks in a plain
PyTorch loop, then the same training through ``selfsup.train``.

Swapped prediction with multi-crop: every crop is embedded, L2-normalised and scored against
learnable prototypes. Sinkhorn-Knopp turns the scores of the 2 high-resolution crops into
balanced cluster codes, and every other crop predicts those codes from its own scores.

Run: ``python docs/examples/swav.py /path/to/images --epochs 10``
"""

from __future__ import annotations

import argparse
import inspect

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader

import selfsup
from selfsup.data import ImageDataset, MultiViewCollate
from selfsup.loss import SwaVLoss
from selfsup.models import ResNetGenerator
from selfsup.models.modules import SwaVProjectionHead, SwaVPrototypes
from selfsup.transforms import SwaVTransform

__all__ = ["SwaV", "main"]


class SwaV(nn.Module):
    """Backbone, projector and prototypes: images `(B, 3, H, W)` -> scores `(B, 3000)`."""

    def __init__(self, backbone: nn.Module, num_features: int, n_prototypes: int = 3000) -> None:
        super().__init__()
        self.backbone = backbone
        self.projection_head = SwaVProjectionHead(num_features, num_features, 128)
        self.prototypes = SwaVPrototypes(128, n_prototypes)  # 3000 prototypes (Sec. 4)

    def forward(self, x: Tensor) -> Tensor:
        z = self.projection_head(self.backbone(x).flatten(start_dim=1))
        return self.prototypes(F.normalize(z, dim=1))


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
    out: str = "runs/swav",
) -> float:
    """Trains SwAV twice (plain loop, then ``selfsup.train``); returns the loop's last loss."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    resnet = ResNetGenerator(backbone, width=width)
    encoder = nn.Sequential(*list(resnet.children())[:-1], nn.AdaptiveAvgPool2d(1))
    model = SwaV(encoder, resnet.num_features).to(device)

    # 2 high-resolution and 6 low-resolution crops, sizes in the paper's ratio 96 / 224
    crop_sizes = (input_size, round(input_size * 96 / 224))
    transform = SwaVTransform(crop_sizes=crop_sizes, crop_counts=(2, 6))
    loader = DataLoader(
        ImageDataset(data_dir, transform=transform),
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=num_workers,
        collate_fn=MultiViewCollate(),
    )
    criterion = SwaVLoss(temperature=0.1, sinkhorn_iterations=3, sinkhorn_epsilon=0.05)
    # lightly's benchmarks train SwAV with Adam(W), lr 1e-3 per 256 images
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3 * batch_size / 256, weight_decay=1e-6)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * len(loader))

    for epoch in range(epochs):
        for views, _, _ in loader:
            model.prototypes.normalize()  # prototypes stay on the unit sphere
            scores = [model(view.to(device)) for view in views]
            loss = criterion(scores[:2], scores[2:])  # high- and low-resolution crops
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
        print(f"epoch {epoch}: loss {loss.item():.4f}")

    selfsup.train(
        data=data_dir,
        method="swav",
        backbone=backbone,
        width=width,
        epochs=epochs,
        batch_size=batch_size,
        input_size=input_size,  # sets the high-resolution crops; the low ones keep the ratio
        method_args={"n_prototypes": 3000},
        num_workers=num_workers,
        accelerator="gpu" if device.startswith("cuda") else "cpu",
        out=out,
    )
    return loss.item()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="SwAV on a folder of images")
    parser.add_argument("data_dir")
    for name, param in inspect.signature(main).parameters.items():
        if param.kind is param.KEYWORD_ONLY:  # --epochs, --batch_size, ..., --device
            kind = str if param.default is None else type(param.default)
            parser.add_argument(f"--{name}", type=kind, default=param.default)
    main(**vars(parser.parse_args()))
