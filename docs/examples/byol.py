"""BYOL (Grill et al., 2020) on a folder of images: selfsup's building blocks in a plain
PyTorch loop, then the same training through ``selfsup.train``.

An online network (backbone, projector, predictor) predicts the projection that a target
network, an exponential moving average of the online one, makes of the other view. No
negatives: the predictor and the stop-gradient on the target prevent collapse.

Run: ``python docs/examples/byol.py /path/to/images --epochs 10``
"""

from __future__ import annotations

import argparse
import copy
import inspect

import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader

import selfsup
from selfsup.data import ImageDataset, MultiViewCollate
from selfsup.loss import NegativeCosineSimilarity
from selfsup.models import ResNetGenerator
from selfsup.models.modules import BYOLPredictionHead, BYOLProjectionHead
from selfsup.models.utils import cosine_schedule, deactivate_requires_grad, update_momentum
from selfsup.transforms import BYOLTransform

__all__ = ["BYOL", "main"]


class BYOL(nn.Module):
    """Online network and its momentum target: images `(B, 3, H, W)` -> `(B, 256)`."""

    def __init__(self, backbone: nn.Module, num_features: int, out_dim: int = 256) -> None:
        super().__init__()
        hidden = 2 * num_features  # 4096 for a ResNet-50 (Sec. 3.3)
        self.backbone = backbone
        self.projection_head = BYOLProjectionHead(num_features, hidden, out_dim)
        self.prediction_head = BYOLPredictionHead(out_dim, hidden, out_dim)
        self.backbone_momentum = copy.deepcopy(self.backbone)
        self.projection_head_momentum = copy.deepcopy(self.projection_head)
        deactivate_requires_grad(self.backbone_momentum)
        deactivate_requires_grad(self.projection_head_momentum)

    def forward(self, x: Tensor) -> Tensor:
        z = self.projection_head(self.backbone(x).flatten(start_dim=1))
        return self.prediction_head(z)

    @torch.no_grad()  # stop-gradient: the target is not trained by the loss
    def forward_momentum(self, x: Tensor) -> Tensor:
        return self.projection_head_momentum(self.backbone_momentum(x).flatten(start_dim=1))


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
    out: str = "runs/byol",
) -> float:
    """Trains BYOL twice (plain loop, then ``selfsup.train``); returns the loop's last loss."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    resnet = ResNetGenerator(backbone, width=width)
    encoder = nn.Sequential(*list(resnet.children())[:-1], nn.AdaptiveAvgPool2d(1))
    model = BYOL(encoder, resnet.num_features).to(device)

    dataset = ImageDataset(data_dir, transform=BYOLTransform(input_size=input_size))
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
    total_steps = epochs * len(loader)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total_steps)

    step = 0
    for epoch in range(epochs):
        for (x0, x1), _, _ in loader:
            # tau rises from 0.99 to 1 over training (Sec. 3.2)
            momentum = cosine_schedule(step, total_steps, 0.99, 1.0)
            update_momentum(model.backbone, model.backbone_momentum, m=momentum)
            update_momentum(model.projection_head, model.projection_head_momentum, m=momentum)
            x0, x1 = x0.to(device), x1.to(device)
            p0, p1 = model(x0), model(x1)
            z0, z1 = model.forward_momentum(x0), model.forward_momentum(x1)
            loss = 0.5 * (criterion(p0, z1) + criterion(p1, z0))  # symmetric (Eq. 3)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
        print(f"epoch {epoch}: loss {loss.item():.4f}")

    selfsup.train(
        data=data_dir,
        method="byol",
        backbone=backbone,
        width=width,
        epochs=epochs,
        batch_size=batch_size,
        input_size=input_size,
        method_args={"momentum_start": 0.99, "output_dim": 256},
        num_workers=num_workers,
        accelerator="gpu" if device.startswith("cuda") else "cpu",
        out=out,
    )
    return loss.item()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="BYOL on a folder of images")
    parser.add_argument("data_dir")
    for name, param in inspect.signature(main).parameters.items():
        if param.kind is param.KEYWORD_ONLY:  # --epochs, --batch_size, ..., --device
            kind = str if param.default is None else type(param.default)
            parser.add_argument(f"--{name}", type=kind, default=param.default)
    main(**vars(parser.parse_args()))
