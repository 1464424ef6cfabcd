"""TiCo (Zhu et al., 2022) on a folder of images: selfsup's building blocks in a plain PyTorch
loop, then the same training through ``selfsup.train``.

An online encoder and its momentum copy embed the two views. The loss pulls the online
embedding towards the momentum embedding of the other view (transformation invariance) and
penalises its energy under a running covariance of past embeddings (covariance contrast).

Run: ``python docs/examples/tico.py /path/to/images --epochs 10``
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
from selfsup.loss import TiCoLoss
from selfsup.models import ResNetGenerator
from selfsup.models.modules import TiCoProjectionHead
from selfsup.models.utils import cosine_schedule, deactivate_requires_grad, update_momentum
from selfsup.transforms import TiCoTransform

__all__ = ["TiCo", "main"]


class TiCo(nn.Module):
    """Online encoder and its momentum copy: images `(B, 3, H, W)` -> `(B, 256)`."""

    def __init__(self, backbone: nn.Module, num_features: int, out_dim: int = 256) -> None:
        super().__init__()
        self.backbone = backbone
        self.projection_head = TiCoProjectionHead(num_features, 2 * num_features, out_dim)
        self.backbone_momentum = copy.deepcopy(self.backbone)
        self.projection_head_momentum = copy.deepcopy(self.projection_head)
        deactivate_requires_grad(self.backbone_momentum)
        deactivate_requires_grad(self.projection_head_momentum)

    def forward(self, x: Tensor) -> Tensor:
        return self.projection_head(self.backbone(x).flatten(start_dim=1))

    @torch.no_grad()
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
    out: str = "runs/tico",
) -> float:
    """Trains TiCo twice (plain loop, then ``selfsup.train``); returns the loop's last loss."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    resnet = ResNetGenerator(backbone, width=width)
    encoder = nn.Sequential(*list(resnet.children())[:-1], nn.AdaptiveAvgPool2d(1))
    model = TiCo(encoder, resnet.num_features).to(device)

    dataset = ImageDataset(data_dir, transform=TiCoTransform(input_size=input_size))
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=num_workers,
        collate_fn=MultiViewCollate(),
    )
    criterion = TiCoLoss(beta=0.9, rho=8.0)  # covariance EMA and contrast weight (Sec. 4.1)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.3 * batch_size / 256, momentum=0.9, weight_decay=1e-4
    )
    total_steps = epochs * len(loader)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total_steps)

    step = 0
    for epoch in range(epochs):
        for (x0, x1), _, _ in loader:
            momentum = cosine_schedule(step, total_steps, 0.99, 1.0)
            update_momentum(model.backbone, model.backbone_momentum, m=momentum)
            update_momentum(model.projection_head, model.projection_head_momentum, m=momentum)
            loss = criterion(model(x0.to(device)), model.forward_momentum(x1.to(device)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
        print(f"epoch {epoch}: loss {loss.item():.4f}")

    selfsup.train(
        data=data_dir,
        method="tico",
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
    parser = argparse.ArgumentParser(description="TiCo on a folder of images")
    parser.add_argument("data_dir")
    for name, param in inspect.signature(main).parameters.items():
        if param.kind is param.KEYWORD_ONLY:  # --epochs, --batch_size, ..., --device
            kind = str if param.default is None else type(param.default)
            parser.add_argument(f"--{name}", type=kind, default=param.default)
    main(**vars(parser.parse_args()))
