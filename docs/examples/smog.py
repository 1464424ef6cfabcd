"""SMoG (Pang et al., 2022) on a folder of images: selfsup's building blocks in a plain
PyTorch loop, then the same training through ``selfsup.train``.

Contrast between instances and groups: the momentum encoder's embedding of one view picks its
nearest group; the online prediction of the other view is classified against all groups.
Groups follow their members by momentum, and every ``reset_interval`` steps they are reset by
k-means on a memory bank of recent embeddings (and the momentum encoder to the online one).

Run: ``python docs/examples/smog.py /path/to/images --epochs 10``
"""

from __future__ import annotations

import argparse
import copy
import inspect

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader

import selfsup
from selfsup.data import ImageDataset, MultiViewCollate
from selfsup.models import ResNetGenerator
from selfsup.models.modules import (
    MemoryBankModule,
    SMoGPredictionHead,
    SMoGProjectionHead,
    SMoGPrototypes,
)
from selfsup.models.utils import deactivate_requires_grad, update_momentum
from selfsup.transforms import SMoGTransform

__all__ = ["SMoG", "main", "spherical_kmeans"]


class SMoG(nn.Module):
    """Online encoder + predictor, momentum encoder and group features (embeddings 128-d)."""

    def __init__(self, backbone: nn.Module, num_features: int, n_groups: int = 300) -> None:
        super().__init__()
        self.backbone = backbone
        self.projection_head = SMoGProjectionHead(num_features, 4 * num_features, 128)
        self.prediction_head = SMoGPredictionHead(128, 4 * num_features, 128)
        self.backbone_momentum = copy.deepcopy(self.backbone)
        self.projection_head_momentum = copy.deepcopy(self.projection_head)
        deactivate_requires_grad(self.backbone_momentum)
        deactivate_requires_grad(self.projection_head_momentum)
        groups = F.normalize(torch.rand(n_groups, 128), dim=1)
        self.smog = SMoGPrototypes(group_features=groups, beta=0.99)  # Sec. 4.1

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        z = self.projection_head(self.backbone(x).flatten(start_dim=1))
        return z, self.prediction_head(z)

    @torch.no_grad()
    def forward_momentum(self, x: Tensor) -> Tensor:
        return self.projection_head_momentum(self.backbone_momentum(x).flatten(start_dim=1))


@torch.no_grad()
def spherical_kmeans(points: Tensor, k: int, iterations: int = 10) -> Tensor:
    """``k`` unit-norm centres `(k, D)` of the rows of ``points`` `(N, D)` by cosine k-means."""
    points = F.normalize(points, dim=1)
    centres = points[torch.randperm(len(points), device=points.device)[:k]]
    for _ in range(iterations):
        assignments = (points @ centres.t()).argmax(dim=1)
        sums = torch.zeros_like(centres).index_add_(0, assignments, points)
        has_members = torch.bincount(assignments, minlength=k)[:, None] > 0
        centres = torch.where(has_members, F.normalize(sums, dim=1), centres)
    return centres


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
    out: str = "runs/smog",
) -> float:
    """Trains SMoG twice (plain loop, then ``selfsup.train``); returns the loop's last loss."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    resnet = ResNetGenerator(backbone, width=width)
    encoder = nn.Sequential(*list(resnet.children())[:-1], nn.AdaptiveAvgPool2d(1))
    model = SMoG(encoder, resnet.num_features).to(device)
    memory_bank = MemoryBankModule(size=(10000, 128)).to(device)
    reset_interval = 300

    # two full-size views with different blur/solarisation probabilities (lightly's example)
    views = {
        "crop_sizes": (input_size, input_size),
        "crop_counts": (1, 1),
        "crop_min_scales": (0.2, 0.2),
        "crop_max_scales": (1.0, 1.0),
    }
    loader = DataLoader(
        ImageDataset(data_dir, transform=SMoGTransform(**views)),
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=num_workers,
        collate_fn=MultiViewCollate(),
    )
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.01 * batch_size / 256, momentum=0.9, weight_decay=1e-6
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * len(loader))

    step = 0
    for epoch in range(epochs):
        for (x0, x1), _, _ in loader:
            if step > 0 and step % reset_interval == 0:
                model.smog.set_group_features(spherical_kmeans(memory_bank.bank, 300))
                model.backbone_momentum.load_state_dict(model.backbone.state_dict())
                model.projection_head_momentum.load_state_dict(model.projection_head.state_dict())
            else:
                update_momentum(model.backbone, model.backbone_momentum, m=0.99)
                update_momentum(model.projection_head, model.projection_head_momentum, m=0.99)
            if step % 2:  # the views swap roles every other step
                x0, x1 = x1, x0
            z0, p0 = model(x0.to(device))
            assignments = model.smog.assign_groups(model.forward_momentum(x1.to(device)))
            groups = model.smog.get_updated_group_features(z0.detach())
            logits = model.smog(p0, groups, temperature=0.1)
            model.smog.set_group_features(groups)
            memory_bank(z0.detach(), update=True)
            loss = criterion(logits, assignments)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
        print(f"epoch {epoch}: loss {loss.item():.4f}")

    selfsup.train(
        data=data_dir,
        method="smog",
        backbone=backbone,
        width=width,
        epochs=epochs,
        batch_size=batch_size,
        transform=views,
        method_args={"n_groups": 300, "memory_bank_size": 10000, "reset_interval": 300},
        num_workers=num_workers,
        accelerator="gpu" if device.startswith("cuda") else "cpu",
        out=out,
    )
    return loss.item()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="SMoG on a folder of images")
    parser.add_argument("data_dir")
    for name, param in inspect.signature(main).parameters.items():
        if param.kind is param.KEYWORD_ONLY:  # --epochs, --batch_size, ..., --device
            kind = str if param.default is None else type(param.default)
            parser.add_argument(f"--{name}", type=kind, default=param.default)
    main(**vars(parser.parse_args()))
