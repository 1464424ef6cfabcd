"""The Lightning module that trains any registered SSL method."""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections.abc import Callable
from typing import Any

import lightning as L
import torch
from torch import Tensor

from selfsup.methods.base import SSLMethod
from selfsup.models.utils import CosineWarmupScheduler
from selfsup.training.lars import LARS

__all__ = ["OptimizerConfig", "SSLTrainingModule", "build_optimizer"]

_OPTIMIZERS = ("auto", "sgd", "adamw", "lars")


@dataclasses.dataclass
class OptimizerConfig:
    """Optimizer and learning-rate schedule; ``None`` and ``"auto"`` take the method's defaults.

    The learning rate is given for a batch of 256 and scaled linearly to the actual batch size
    (Goyal et al., 2017), unless ``scale_lr`` is false.
    """

    name: str = dataclasses.field(
        default="auto", metadata={"help": "optimizer", "choices": _OPTIMIZERS}
    )
    lr: float | None = dataclasses.field(
        default=None, metadata={"help": "learning rate per 256 images (default: the method's)"}
    )
    weight_decay: float | None = dataclasses.field(
        default=None, metadata={"help": "weight decay (default: the method's)"}
    )
    momentum: float | None = dataclasses.field(
        default=None, metadata={"help": "SGD/LARS momentum (default: the method's)"}
    )
    scale_lr: bool = dataclasses.field(
        default=True, metadata={"help": "scale lr linearly with batch_size / 256"}
    )
    warmup_epochs: int = dataclasses.field(
        default=0, metadata={"help": "linear learning-rate warm-up epochs before the cosine"}
    )


def build_optimizer(
    method: SSLMethod, config: OptimizerConfig, batch_size: int
) -> torch.optim.Optimizer:
    """The optimizer over the trainable parameters of ``method`` (momentum encoders excluded).

    Raises:
        ValueError: an unknown optimizer name or a non-positive learning rate.
    """
    defaults = method.optimizer_defaults
    name = defaults.name if config.name == "auto" else config.name
    lr = defaults.lr if config.lr is None else config.lr
    if config.scale_lr:
        lr = lr * batch_size / 256
    if lr <= 0:
        raise ValueError(f"optimizer.lr must be > 0, got {lr}")
    weight_decay = defaults.weight_decay if config.weight_decay is None else config.weight_decay
    momentum = defaults.momentum if config.momentum is None else config.momentum
    params = method.trainable_parameters()
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, betas=defaults.betas)
    if name == "lars":
        return LARS(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; allowed: {', '.join(_OPTIMIZERS[1:])}")


def _to_channels_last(view: Tensor) -> Tensor:
    return view.contiguous(memory_format=torch.channels_last) if view.dim() == 4 else view


class SSLTrainingModule(L.LightningModule):
    """Trains an :class:`~selfsup.methods.base.SSLMethod` on batches of views.

    A batch is ``(views, targets, filenames)`` with ``views`` a list of `(B, C, H, W)` tensors,
    as :class:`~selfsup.data.MultiViewCollate` makes them; a batch left with fewer than two
    images (its files were undecodable) is skipped. Each step calls the method's
    ``update_schedules``, ``training_loss`` and, after the backward pass, ``after_backward``;
    the learning rate follows a per-step linear warm-up and cosine decay.

    With ``batch_transform`` (the batched augmentation path), a batch holds a single uint8 view
    batch `(B, C, H, W)` as the workers decoded it, and the transform makes the method's views
    from it on the training device, after the transfer.

    Args:
        method: The method to train.
        optimizer: Optimizer settings.
        batch_size: Images per batch (per process), used to scale the learning rate.
        batch_transform: Optional batched view transform (uint8 `(B, C, H, W)` -> list of view
            batches), e.g. :class:`~selfsup.transforms.batched.SimCLRBatchTransform`.
        channels_last: Keep the method's 4-D weights and the views in channels-last (NHWC)
            memory, which convolutions run faster on (``benchmarks/train_speed.py``).
    """

    def __init__(
        self,
        method: SSLMethod,
        optimizer: OptimizerConfig,
        batch_size: int,
        batch_transform: Callable[[Tensor], list[Tensor]] | None = None,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        self.channels_last = channels_last
        self.method = method.to(memory_format=torch.channels_last) if channels_last else method
        self.batch_transform = batch_transform
        self.optimizer_config = optimizer
        self.batch_size = batch_size
        self._loss_sum = 0.0
        self._loss_count = 0
        self._epoch_start = time.perf_counter()

    def on_train_epoch_start(self) -> None:
        self._loss_sum, self._loss_count = 0.0, 0
        self._epoch_start = time.perf_counter()

    def epoch_loss(self) -> float:
        """Mean training loss of the current epoch so far (NaN before the first step)."""
        return self._loss_sum / self._loss_count if self._loss_count else float("nan")

    def epoch_seconds(self) -> float:
        """Wall time since the current epoch started."""
        return time.perf_counter() - self._epoch_start

    def training_step(
        self, batch: tuple[list[Tensor], Tensor, list[str]], batch_idx: int
    ) -> Tensor | None:
        views, _, filenames = batch
        if len(filenames) < 2:
            return None
        if self.batch_transform is not None:
            with torch.no_grad():
                views = list(self.batch_transform(views[0]))
        if self.channels_last:
            views = [_to_channels_last(v) for v in views]
        self.method.update_schedules(
            step=self.global_step,
            max_steps=int(self.trainer.estimated_stepping_batches),
            epoch=self.current_epoch,
            max_epochs=int(self.trainer.max_epochs or 1),
        )
        loss = self.method.training_loss(views)
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"the {type(self.method).__name__} loss is {loss.item()} at epoch "
                f"{self.current_epoch}, step {self.global_step}: lower optimizer.lr or check the data"
            )
        self._loss_sum += loss.item()
        self._loss_count += 1
        self.log("loss", loss, prog_bar=True, batch_size=len(views[0]))
        return loss

    def on_after_backward(self) -> None:
        self.method.after_backward(self.current_epoch)

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["rng_states"] = {
            "torch": torch.get_rng_state(),
            "python": random.getstate(),
        }
        if torch.cuda.is_available():
            checkpoint["rng_states"]["cuda"] = torch.cuda.get_rng_state_all()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        states = checkpoint.get("rng_states")
        if states is not None:
            torch.set_rng_state(states["torch"])
            random.setstate(states["python"])
            if "cuda" in states and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(states["cuda"])

    def configure_optimizers(self):
        optimizer = build_optimizer(self.method, self.optimizer_config, self.batch_size)
        max_steps = max(1, int(self.trainer.estimated_stepping_batches))
        steps_per_epoch = max(1, math.ceil(max_steps / max(1, self.trainer.max_epochs or 1)))
        warmup_steps = min(max_steps, self.optimizer_config.warmup_epochs * steps_per_epoch)
        scheduler = CosineWarmupScheduler(optimizer, warmup_steps, max_steps)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }
