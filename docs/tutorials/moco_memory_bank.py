"""Tutorial: MoCo with a memory bank on a folder of images (read ``moco-memory-bank.md``).

Trains MoCo v2 (He et al., 2020; Chen et al., 2020) with ``NTXentLoss(memory_bank_size=4096)``,
prints the loss and the representation std after every epoch, then embeds every image with the
trained backbone into ``<out>/embeddings.csv`` and shows each image's nearest neighbour.

Run: ``python docs/tutorials/moco_memory_bank.py /path/to/images --epochs 50``
"""

from __future__ import annotations

import argparse
import copy
import inspect
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader

from selfsup.data import ImageDataset, MultiViewCollate, SimCLRCollateFunction
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
from selfsup.transforms import EvalTransform
from selfsup.utils.debug import std_of_l2_normalized
from selfsup.utils.io import save_embeddings

__all__ = ["MoCo", "embed_folder", "main"]


class MoCo(nn.Module):
    """Query encoder (trained) and key encoder (its momentum copy); outputs `(B, 128)`."""

    def __init__(self, backbone: nn.Module, num_features: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.projection_head = MoCoProjectionHead(num_features, num_features, 128)
        self.backbone_momentum = copy.deepcopy(self.backbone)
        self.projection_head_momentum = copy.deepcopy(self.projection_head)
        deactivate_requires_grad(self.backbone_momentum)
        deactivate_requires_grad(self.projection_head_momentum)

    def forward(self, x: Tensor) -> Tensor:
        return self.projection_head(self.backbone(x).flatten(start_dim=1))

    @torch.no_grad()
    def forward_momentum(self, x: Tensor) -> Tensor:
        x, order = batch_shuffle(x)
        key = self.projection_head_momentum(self.backbone_momentum(x).flatten(start_dim=1))
        return batch_unshuffle(key, order)


@torch.no_grad()
def embed_folder(
    backbone: nn.Module, data_dir: str, input_size: int, batch_size: int, device: str
) -> tuple[Tensor, list[int], list[str]]:
    """Backbone features `(N, F)` of every image (resized, center-cropped), labels, filenames."""
    dataset = ImageDataset(data_dir, transform=EvalTransform(input_size=input_size))
    loader = DataLoader(dataset, batch_size=batch_size, collate_fn=MultiViewCollate())
    backbone.eval()
    features, labels, filenames = [], [], []
    for (images,), targets, names in loader:
        features.append(backbone(images.to(device)).flatten(start_dim=1).cpu())
        labels += targets.tolist()
        filenames += names
    return torch.cat(features), labels, filenames


def main(
    data_dir: str,
    *,
    epochs: int = 50,
    batch_size: int = 128,
    input_size: int = 32,
    backbone: str = "resnet-18",
    width: float = 1.0,
    memory_bank_size: int = 4096,
    device: str | None = None,
    num_workers: int = 2,
    out: str = "runs/moco-tutorial",
) -> dict:
    """Trains MoCo and embeds the folder.

    Returns:
        ``{"loss": last loss, "rep_std": [std per epoch], "embeddings": CSV path,
        "same_class": fraction of images whose nearest neighbour has the same label}``.
    """
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    resnet = ResNetGenerator(backbone, width=width)
    encoder = nn.Sequential(*list(resnet.children())[:-1], nn.AdaptiveAvgPool2d(1))
    model = MoCo(encoder, resnet.num_features).to(device)

    # the seed's way: a dataset of plain images and a collate function that makes two views
    dataset = ImageDataset(data_dir)
    collate_fn = SimCLRCollateFunction(input_size=input_size, gaussian_blur=0.0)
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=num_workers,
        collate_fn=collate_fn,
    )

    # to create a NTXentLoss with a memory bank (like for MoCo) set memory_bank_size > 0
    criterion = NTXentLoss(temperature=0.2, memory_bank_size=memory_bank_size)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.06 * batch_size / 256, momentum=0.9, weight_decay=5e-4
    )
    total_steps = epochs * len(loader)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total_steps)

    step, rep_std = 0, []
    for epoch in range(epochs):
        losses, stds = [], []
        for (x_query, x_key), _, _ in loader:
            momentum = cosine_schedule(step, total_steps, 0.99, 1.0)
            update_momentum(model.backbone, model.backbone_momentum, m=momentum)
            update_momentum(model.projection_head, model.projection_head_momentum, m=momentum)
            query = model(x_query.to(device))
            key = model.forward_momentum(x_key.to(device))
            # the memory bank is used automatically for every forward pass
            loss = criterion(query, key)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
            losses.append(loss.item())
            stds.append(std_of_l2_normalized(query.detach()).item())
        rep_std.append(sum(stds) / len(stds))
        print(
            f"epoch: {epoch:02d}, loss: {sum(losses) / len(losses):.5f}, "
            f"representation std: {rep_std[-1]:.5f}"
        )

    features, labels, names = embed_folder(model.backbone, data_dir, input_size, batch_size, device)
    csv = Path(out) / "embeddings.csv"
    csv.parent.mkdir(parents=True, exist_ok=True)
    save_embeddings(csv, features.numpy(), labels, names)
    unit = F.normalize(features, dim=1)
    similarity = (unit @ unit.t()).fill_diagonal_(-2.0)  # an image is not its own neighbour
    nearest = similarity.argmax(dim=1).tolist()
    for index in range(min(3, len(names))):
        print(f"{names[index]} -> nearest: {names[nearest[index]]}")
    # with labels (class subfolders), how often the nearest neighbour is of the same class
    same = sum(labels[i] == labels[j] for i, j in enumerate(nearest)) / len(labels)
    print(f"nearest neighbour of the same class: {same:.1%} of {len(labels)} images")
    return {"loss": losses[-1], "rep_std": rep_std, "embeddings": csv, "same_class": same}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="MoCo with a memory bank on a folder of images")
    parser.add_argument("data_dir")
    for name, param in inspect.signature(main).parameters.items():
        if param.kind is param.KEYWORD_ONLY:  # --epochs, --batch_size, ..., --device
            kind = str if param.default is None else type(param.default)
            parser.add_argument(f"--{name}", type=kind, default=param.default)
    main(**vars(parser.parse_args()))
