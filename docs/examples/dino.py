"""DINO (Caron et al., 2021) on a folder of images: selfsup's building blocks in a plain
PyTorch loop, then the same training through ``selfsup.train``.

Self-distillation with multi-crop: a teacher, the exponential moving average of the student,
sees the two global crops; the student sees all crops (2 global, 6 small local ones) and is
trained to match the teacher's centred and sharpened output distribution on the other crops.

Run: ``python docs/examples/dino.py /path/to/images --epochs 10``
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
from selfsup.loss import DINOLoss
from selfsup.models import ResNetGenerator
from selfsup.models.modules import DINOProjectionHead
from selfsup.models.utils import cosine_schedule, deactivate_requires_grad, update_momentum
from selfsup.transforms import DINOTransform

__all__ = ["DINO", "main"]


class DINO(nn.Module):
    """Student and momentum teacher: images `(B, 3, H, W)` -> logits `(B, 2048)`."""

    def __init__(self, backbone: nn.Module, num_features: int, out_dim: int = 2048) -> None:
        super().__init__()
        self.student_backbone = backbone
        # MLP -> 256-d bottleneck -> weight-normalised last layer; the last layer stays
        # frozen during the first epoch (the authors' code)
        self.student_head = DINOProjectionHead(
            num_features, 4 * num_features, 256, out_dim, freeze_last_layer=1
        )
        self.teacher_backbone = copy.deepcopy(backbone)
        self.teacher_head = copy.deepcopy(self.student_head)
        deactivate_requires_grad(self.teacher_backbone)
        deactivate_requires_grad(self.teacher_head)

    def forward(self, x: Tensor) -> Tensor:
        return self.student_head(self.student_backbone(x).flatten(start_dim=1))

    @torch.no_grad()
    def forward_teacher(self, x: Tensor) -> Tensor:
        return self.teacher_head(self.teacher_backbone(x).flatten(start_dim=1))


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
    out: str = "runs/dino",
) -> float:
    """Trains DINO twice (plain loop, then ``selfsup.train``); returns the loop's last loss."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    resnet = ResNetGenerator(backbone, width=width)
    encoder = nn.Sequential(*list(resnet.children())[:-1], nn.AdaptiveAvgPool2d(1))
    model = DINO(encoder, resnet.num_features).to(device)

    # local crops keep the paper's ratio 96 / 224 of the global crop size
    local_size = round(input_size * 96 / 224)
    transform = DINOTransform(global_crop_size=input_size, local_crop_size=local_size)
    loader = DataLoader(
        ImageDataset(data_dir, transform=transform),
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=num_workers,
        collate_fn=MultiViewCollate(),
    )
    criterion = DINOLoss(output_dim=2048, warmup_teacher_temp_epochs=30).to(device)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=0.06 * batch_size / 256, momentum=0.9, weight_decay=5e-4
    )
    total_steps = epochs * len(loader)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total_steps)

    step = 0
    for epoch in range(epochs):
        for views, _, _ in loader:
            momentum = cosine_schedule(step, total_steps, 0.996, 1.0)  # Sec. 3.1
            update_momentum(model.student_backbone, model.teacher_backbone, m=momentum)
            update_momentum(model.student_head, model.teacher_head, m=momentum)
            views = [view.to(device) for view in views]
            teacher_out = [model.forward_teacher(view) for view in views[:2]]  # global only
            student_out = [model(view) for view in views]
            loss = criterion(teacher_out, student_out, epoch=epoch)
            optimizer.zero_grad()
            loss.backward()
            model.student_head.cancel_last_layer_gradients(current_epoch=epoch)
            optimizer.step()
            scheduler.step()
            step += 1
        print(f"epoch {epoch}: loss {loss.item():.4f}")

    selfsup.train(
        data=data_dir,
        method="dino",
        backbone=backbone,
        width=width,
        epochs=epochs,
        batch_size=batch_size,
        input_size=input_size,  # sets the global crops; local crops keep the 96 / 224 ratio
        method_args={"output_dim": 2048, "freeze_last_layer": 1},
        num_workers=num_workers,
        accelerator="gpu" if device.startswith("cuda") else "cpu",
        out=out,
    )
    return loss.item()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="DINO on a folder of images")
    parser.add_argument("data_dir")
    for name, param in inspect.signature(main).parameters.items():
        if param.kind is param.KEYWORD_ONLY:  # --epochs, --batch_size, ..., --device
            kind = str if param.default is None else type(param.default)
            parser.add_argument(f"--{name}", type=kind, default=param.default)
    main(**vars(parser.parse_args()))
