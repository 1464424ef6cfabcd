"""MSN (Assran et al., 2022) on a folder of images: selfsup's building blocks in a plain
PyTorch loop, then the same training through ``selfsup.train``.

Masked anchor views are matched to an unmasked target view: the anchor network (a ViT and a
projection head) sees views with 15% of their patches dropped, the target network (its
exponential moving average) sees the full view, and both are softly assigned to learnable
prototypes. The anchors' assignments are trained towards the sharpened target assignments.

Run: ``python docs/examples/msn.py /path/to/images --epochs 10``
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
from selfsup.loss import MSNLoss
from selfsup.models import MaskedVisionTransformer
from selfsup.models.modules import MSNProjectionHead
from selfsup.models.utils import (
    cosine_schedule,
    deactivate_requires_grad,
    random_token_mask,
    update_momentum,
)
from selfsup.transforms import MSNTransform

__all__ = ["MSN", "main"]


class MSN(nn.Module):
    """Anchor network, target network and 1024 prototypes (embeddings 256-d, Sec. 5)."""

    def __init__(self, vit: MaskedVisionTransformer, mask_ratio: float = 0.15) -> None:
        super().__init__()
        self.mask_ratio = mask_ratio
        self.backbone = vit
        self.projection_head = MSNProjectionHead(vit.num_features, 4 * vit.num_features, 256)
        self.target_backbone = copy.deepcopy(vit)
        self.target_projection_head = copy.deepcopy(self.projection_head)
        deactivate_requires_grad(self.target_backbone)
        deactivate_requires_grad(self.target_projection_head)
        self.prototypes = nn.Linear(256, 1024, bias=False).weight  # (1024, 256), trained

    def forward_masked(self, images: Tensor) -> Tensor:
        """Anchor embeddings `(B, 256)` with ``mask_ratio`` of the patches dropped."""
        grid = (images.shape[-2] // self.backbone.patch_size) * (
            images.shape[-1] // self.backbone.patch_size
        )
        idx_keep, _ = random_token_mask(  # the class token (index 0) is always kept
            (images.shape[0], 1 + grid), self.mask_ratio, device=images.device
        )
        return self.projection_head(self.backbone(images, idx_keep=idx_keep))

    @torch.no_grad()
    def forward_target(self, images: Tensor) -> Tensor:
        return self.target_projection_head(self.target_backbone(images))


def main(
    data_dir: str,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    input_size: int = 32,
    num_layers: int = 12,
    num_heads: int = 3,
    hidden_dim: int = 192,
    device: str | None = None,
    num_workers: int = 2,
    out: str = "runs/msn",
) -> float:
    """Trains MSN twice (plain loop, then ``selfsup.train``); returns the loop's last loss.

    The default ViT is ViT-Tiny (12 blocks, 3 heads, 192-d); patches of ``input_size // 8``
    pixels below 128 (an 8x8 grid), 16 from 128 on.
    """
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    patch_size = 16 if input_size >= 128 else input_size // 8
    vit_size = {
        "num_layers": num_layers,
        "num_heads": num_heads,
        "hidden_dim": hidden_dim,
        "mlp_dim": 4 * hidden_dim,
    }
    vit = MaskedVisionTransformer(image_size=input_size, patch_size=patch_size, **vit_size)
    model = MSN(vit).to(device)

    # 2 random views and 10 focal views; the focal side is a whole number of patches, in the
    # paper's ratio 96 / 224 (96 px = 6 patches of 16 at 224 px)
    focal_size = patch_size * max(1, round(input_size // patch_size * 96 / 224))
    transform = MSNTransform(random_size=input_size, focal_size=focal_size)
    loader = DataLoader(
        ImageDataset(data_dir, transform=transform),
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=num_workers,
        collate_fn=MultiViewCollate(),
    )
    # mean-entropy maximisation towards a uniform use of the prototypes (Eq. 4)
    criterion = MSNLoss(temperature=0.1, target_distribution="uniform")
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=1.5e-4 * batch_size / 256, weight_decay=0.05, betas=(0.9, 0.95)
    )
    total_steps = epochs * len(loader)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total_steps)

    step = 0
    for epoch in range(epochs):
        for views, _, _ in loader:
            momentum = cosine_schedule(step, total_steps, 0.996, 1.0)  # Sec. 5
            update_momentum(model.backbone, model.target_backbone, m=momentum)
            update_momentum(model.projection_head, model.target_projection_head, m=momentum)
            views = [view.to(device) for view in views]
            targets = model.forward_target(views[0])  # the unmasked target view
            anchors = [model.forward_masked(views[1]), model.forward_masked(torch.cat(views[2:]))]
            # targets are sharpened with temperature 0.25 (0.025 / 0.1, Sec. 5)
            loss = criterion(torch.cat(anchors), targets, model.prototypes, 0.25)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            step += 1
        print(f"epoch {epoch}: loss {loss.item():.4f}")

    selfsup.train(
        data=data_dir,
        method="msn",
        backbone="vit-tiny",  # a preset, resized by backbone_kwargs
        epochs=epochs,
        batch_size=batch_size,
        input_size=input_size,
        transform={"focal_size": focal_size},
        method_args={"patch_size": patch_size, "mask_ratio": 0.15, "backbone_kwargs": vit_size},
        num_workers=num_workers,
        accelerator="gpu" if device.startswith("cuda") else "cpu",
        out=out,
    )
    return loss.item()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="MSN on a folder of images")
    parser.add_argument("data_dir")
    for name, param in inspect.signature(main).parameters.items():
        if param.kind is param.KEYWORD_ONLY:  # --epochs, --batch_size, ..., --device
            kind = str if param.default is None else type(param.default)
            parser.add_argument(f"--{name}", type=kind, default=param.default)
    main(**vars(parser.parse_args()))
