"""MoCo v2 (He et al., 2020; Chen et al., 2020) on a folder of images: selfsup's building
blocks in a plain PyTorch loop, then the same training through ``selfsup.train``.

Queries come from the trained encoder, keys from a momentum copy of it (an exponential moving
average, never trained by the optimizer) that runs on a shuffled batch ("shuffling BN"). Each
query is contrasted with its key and with a memory bank of keys from earlier batches.

Run: ``python docs/examples/moco.py /path/to/images --epochs 10``
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
from selfsup.loss import NTXentLoss
from selfsup.models import ResNetGenerator
from selfsup.models.modules import MoCoProjectionHead
from selfsup.models.utils import (
    batch_shuffle,
    batch_unshuffle,
    cosine_schedule,
    deactivate_requires_grad,
    update_momentum,
)
from selfsup.transforms import MoCoV2Transform

__all__ = ["MoCo", "main"]


class MoCo(nn.Module):
    """Query encoder and its momentum copy: images `(B, 3, H, W)` -> `(B, 128)`."""

    def __init__(self, backbone: nn.Module, num_features: int, out_dim: int = 128) -> None:
        super().__init__()
        self.backbone = backbone
        self.projection_head = MoCoProjectionHead(num_features, num_features, out_dim)
        self.backbone_momentum = copy.deepcopy(self.backbone)
        self.projection_head_momentum = copy.deepcopy(self.projection_head)
        deactivate_requires_grad(self.backbone_momentum)
        deactivate_requires_grad(self.projection_head_momentum)

    def forward(self, x: Tensor) -> Tensor:
        return self.projection_head(self.backbone(x).flatten(start_dim=1))

    @torch.no_grad()
    def forward_momentum(self, x: Tensor) -> Tensor:
        x, order = batch_shuffle(x)  # batch norm must not see which key belongs to which query
        key = self.projection_head_momentum(self.backbone_momentum(x).flatten(start_dim=1))
        return batch_unshuffle(key, order)


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
    out: str = "runs/moco",
) -> float:
    """Trains MoCo twice (plain loop, then ``selfsup.train``); returns the loop's last loss."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    resnet = ResNetGenerator(backbone, width=width)
    encoder = nn.Sequential(*list(resnet.children())[:-1], nn.AdaptiveAvgPool2d(1))
    model = MoCo(encoder, resnet.num_features).to(device)

    dataset = ImageDataset(data_dir, transform=MoCoV2Transform(input_size=input_size))
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=num_workers,
        collate_fn=MultiViewCollate(),
    )
    # InfoNCE with 4096 negatives from earlier batches (the paper's queue holds 65536)
    criterion = NTXentLoss(temperature=0.2, memory_bank_size=(4096, 128))
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.06 * batch_size / 256, momentum=0.9, weight_decay=5e-4
    )
    total_steps = epochs * len(loader)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total_steps)

    step = 0
    for epoch in range(epochs):
        for (x_query, x_key), _, _ in loader:
            momentum = cosine_schedule(step, total_steps, 0.99, 1.0)
            update_momentum(model.backbone, model.backbone_momentum, m=momentum)
            update_momentum(model.projection_head, model.projection_head_momentum, m=momentum)
            query = model(x_query.to(device))
            key = model.forward_momentum(x_key.to(device))
            loss = criterion(query, key)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
        print(f"epoch {epoch}: loss {loss.item():.4f}")

    # The same through selfsup.train (the library's default is the symmetric loss of lightly's
    # benchmarks; symmetric=False is the paper's form used above).
    selfsup.train(
        data=data_dir,
        method="moco",
        backbone=backbone,
        width=width,
        epochs=epochs,
        batch_size=batch_size,
        input_size=input_size,
        method_args={"memory_bank_size": 4096, "temperature": 0.2, "symmetric": False},
        num_workers=num_workers,
        accelerator="gpu" if device.startswith("cuda") else "cpu",
        out=out,
    )
    return loss.item()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="MoCo v2 on a folder of images")
    parser.add_argument("data_dir")
    for name, param in inspect.signature(main).parameters.items():
        if param.kind is param.KEYWORD_ONLY:  # --epochs, --batch_size, ..., --device
            kind = str if param.default is None else type(param.default)
            parser.add_argument(f"--{name}", type=kind, default=param.default)
    main(**vars(parser.parse_args()))
