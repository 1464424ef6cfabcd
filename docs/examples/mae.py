"""MAE (He et al., 2022) on a folder of images: selfsup's building blocks in a plain PyTorch
loop, then the same training through ``selfsup.train``.

A Vision Transformer encodes only a random 25% of the image patches (and the class token); a
light decoder puts a shared mask token at every removed position and predicts the pixels of
the masked patches. The loss is the mean squared error on the masked patches only.

Run: ``python docs/examples/mae.py /path/to/images --epochs 10``
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
from selfsup.models import MaskedVisionTransformer
from selfsup.models.modules import MAEDecoder
from selfsup.models.utils import get_at_index, patchify, random_token_mask
from selfsup.transforms import MAETransform

__all__ = ["MAE", "main"]


class MAE(nn.Module):
    """ViT encoder and MAE decoder; ``forward`` returns ``(predictions, targets)`` of the masked
    patches, each `(B, M, patch_size**2 * 3)`."""

    def __init__(self, vit: MaskedVisionTransformer, mask_ratio: float = 0.75) -> None:
        super().__init__()
        self.mask_ratio = mask_ratio  # 75% of the patches are removed (Sec. 4, Fig. 5)
        self.backbone = vit
        width = vit.num_features
        self.decoder = MAEDecoder(
            seq_length=vit.sequence_length,
            num_layers=1,  # one decoder block suffices for fine-tuning (Table 1a)
            num_heads=vit.vit.encoder.layers[0].num_heads,
            embed_input_dim=width,
            hidden_dim=width,
            mlp_dim=4 * width,
            out_dim=vit.patch_size**2 * 3,
        )

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        batch_size = images.shape[0]
        # class token (index 0) always kept; idx_* index the sequence [class, patch 0, ...]
        idx_keep, idx_mask = random_token_mask(
            (batch_size, self.backbone.sequence_length), self.mask_ratio, device=images.device
        )
        encoded = self.backbone.encode(images, idx_keep=idx_keep)
        predictions = self.decoder(encoded, idx_keep=idx_keep, idx_mask=idx_mask)
        targets = get_at_index(patchify(images, self.backbone.patch_size), idx_mask - 1)
        # per-patch normalised pixels as targets (Table 1d)
        mean, var = targets.mean(dim=-1, keepdim=True), targets.var(dim=-1, keepdim=True)
        return predictions, (targets - mean) / (var + 1e-6).sqrt()


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
    out: str = "runs/mae",
) -> float:
    """Trains MAE twice (plain loop, then ``selfsup.train``); returns the loop's last loss.

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
    model = MAE(vit).to(device)

    loader = DataLoader(
        ImageDataset(data_dir, transform=MAETransform(input_size=input_size)),
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=num_workers,
        collate_fn=MultiViewCollate(),
    )
    # AdamW, lr 1.5e-4 per 256 images, wd 0.05, betas (0.9, 0.95) (Table 8)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=1.5e-4 * batch_size / 256, weight_decay=0.05, betas=(0.9, 0.95)
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * len(loader))

    for epoch in range(epochs):
        for (images,), _, _ in loader:  # MAE uses a single view
            predictions, targets = model(images.to(device))
            loss = F.mse_loss(predictions, targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
        print(f"epoch {epoch}: loss {loss.item():.4f}")

    selfsup.train(
        data=data_dir,
        method="mae",
        backbone="vit-tiny",  # a preset, resized by backbone_kwargs
        epochs=epochs,
        batch_size=batch_size,
        input_size=input_size,
        method_args={"patch_size": patch_size, "mask_ratio": 0.75, "backbone_kwargs": vit_size},
        num_workers=num_workers,
        accelerator="gpu" if device.startswith("cuda") else "cpu",
        out=out,
    )
    return loss.item()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="MAE on a folder of images")
    parser.add_argument("data_dir")
    for name, param in inspect.signature(main).parameters.items():
        if param.kind is param.KEYWORD_ONLY:  # --epochs, --batch_size, ..., --device
            kind = str if param.default is None else type(param.default)
            parser.add_argument(f"--{name}", type=kind, default=param.default)
    main(**vars(parser.parse_args()))
