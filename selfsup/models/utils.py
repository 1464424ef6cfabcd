"""Utilities for self-supervised models: momentum encoders, batch shuffling, schedules.

The token helpers of :mod:`selfsup.models.tokens` and the gather helpers of
:mod:`selfsup.utils.dist` are re-exported here, at lightly's ``lightly.models.utils`` paths.
"""

from __future__ import annotations

import math
import warnings

import torch
import torch.distributed as torch_dist
from torch import Tensor, nn

from selfsup.models.tokens import (
    get_at_index,
    mask_at_index,
    patchify,
    prepend_class_token,
    random_token_mask,
    repeat_token,
    set_at_index,
    unpatchify,
)
from selfsup.utils import dist
from selfsup.utils.dist import GatherLayer, concat_all_gather

__all__ = [
    "CosineWarmupScheduler",
    "GatherLayer",
    "activate_requires_grad",
    "batch_shuffle",
    "batch_unshuffle",
    "concat_all_gather",
    "cosine_schedule",
    "cosine_warmup_schedule",
    "deactivate_requires_grad",
    "get_at_index",
    "mask_at_index",
    "normalize_weight",
    "patchify",
    "prepend_class_token",
    "random_token_mask",
    "repeat_token",
    "set_at_index",
    "unpatchify",
    "update_momentum",
]


@torch.no_grad()
def update_momentum(model: nn.Module, model_ema: nn.Module, m: float) -> None:
    """Exponential moving average of parameters: ``ema = m * ema + (1 - m) * model``, in place.

    Used by the momentum encoders of MoCo (He et al., 2020, Eq. 2) and BYOL (Grill et al.,
    2020, Sec. 3.1). Only parameters are averaged (buffers such as BN statistics are not).

    Args:
        model: The online model.
        model_ema: The momentum model; same architecture as ``model``.
        m: Momentum in ``[0, 1]``; ``1`` keeps ``model_ema`` unchanged.

    Raises:
        ValueError: ``m`` outside ``[0, 1]`` or models with a different number of parameters.
    """
    if not 0.0 <= m <= 1.0:
        raise ValueError(f"momentum m must be in [0, 1], got {m}")
    ema_params = list(model_ema.parameters())
    params = list(model.parameters())
    if len(ema_params) != len(params):
        raise ValueError(f"model has {len(params)} parameters but model_ema has {len(ema_params)}")
    for ema, param in zip(ema_params, params, strict=True):
        ema.mul_(m).add_(param.detach(), alpha=1.0 - m)


def deactivate_requires_grad(model: nn.Module) -> None:
    """Sets ``requires_grad = False`` on every parameter of ``model`` (e.g. a momentum encoder)."""
    for param in model.parameters():
        param.requires_grad = False


def activate_requires_grad(model: nn.Module) -> None:
    """Sets ``requires_grad = True`` on every parameter of ``model``."""
    for param in model.parameters():
        param.requires_grad = True


@torch.no_grad()
def batch_shuffle(
    batch: Tensor, distributed: bool = False, *, generator: torch.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """Shuffles a batch (MoCo's shuffle BN, He et al., 2020, Sec. 3.3).

    Args:
        batch: Tensor ``(B, ...)``.
        distributed: Shuffle across all ranks: the batches are gathered, rank 0 draws one
            permutation of the ``B * world_size`` samples and broadcasts it, and each rank
            keeps its slice. Without a process group this is the local shuffle.
        generator: Optional torch generator for the permutation (on rank 0 when distributed).

    Returns:
        ``(shuffled, shuffle_idx)``: ``shuffled`` has the shape of ``batch``; ``shuffle_idx``
        is the permutation applied (``(B,)``, or ``(B * world_size,)`` over the gathered
        batch when distributed), to pass to :func:`batch_unshuffle`.
    """
    if distributed and dist.is_distributed():
        gathered = concat_all_gather(batch)
        perm = _randperm(gathered.shape[0], batch.device, generator)
        torch_dist.broadcast(perm, src=0)
        local = perm.view(dist.world_size(), -1)[dist.rank()]
        return gathered[local], perm
    perm = _randperm(batch.shape[0], batch.device, generator)
    return batch[perm], perm


@torch.no_grad()
def batch_unshuffle(batch: Tensor, shuffle_idx: Tensor, distributed: bool = False) -> Tensor:
    """Undoes :func:`batch_shuffle`.

    Args:
        batch: Shuffled tensor ``(B, ...)`` (or a function of it computed per sample).
        shuffle_idx: The permutation returned by :func:`batch_shuffle`.
        distributed: Must match the ``distributed`` flag given to :func:`batch_shuffle`.

    Returns:
        Tensor ``(B, ...)`` in the original order of this rank's batch.
    """
    restore = torch.argsort(shuffle_idx.to(batch.device))
    if distributed and dist.is_distributed():
        gathered = concat_all_gather(batch)
        local = restore.view(dist.world_size(), -1)[dist.rank()]
        return gathered[local]
    return batch[restore]


def _randperm(n: int, device: torch.device, generator: torch.Generator | None) -> Tensor:
    if generator is None:
        return torch.randperm(n, device=device)
    return torch.randperm(n, generator=generator, device=generator.device).to(device)


def cosine_schedule(
    step: int, max_steps: int, start_value: float, end_value: float, period: int | None = None
) -> float:
    """Cosine decay from ``start_value`` (step 0) to ``end_value`` (step ``max_steps - 1``).

    ``value = end - (end - start) * (1 + cos(pi * step / (max_steps - 1))) / 2``, as lightly
    (so BYOL's momentum schedule, Grill et al., 2020, Sec. 3.3, ends exactly at 1). Steps
    ``>= max_steps - 1`` give ``end_value``. With ``period`` the cosine repeats every
    ``period`` steps: ``end - (end - start) * (1 + cos(2 pi step / period)) / 2``.

    Args:
        step: Current step, ``>= 0``.
        max_steps: Total number of steps, ``>= 0``.
        start_value: Value at step 0.
        end_value: Value at the last step.
        period: Optional full-cycle length in steps (``>= 1``).

    Raises:
        ValueError: Negative ``step``/``max_steps`` or ``period < 1``.
    """
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if max_steps < 0:
        raise ValueError(f"max_steps must be >= 0, got {max_steps}")
    if period is not None and period < 1:
        raise ValueError(f"period must be >= 1, got {period}")
    if period is not None:
        cos = math.cos(2.0 * math.pi * step / period)
    elif max_steps <= 1 or step >= max_steps - 1:
        if step > max_steps:
            warnings.warn(
                f"step {step} exceeds max_steps {max_steps}", RuntimeWarning, stacklevel=2
            )
        return float(end_value)
    else:
        cos = math.cos(math.pi * step / (max_steps - 1))
    return float(end_value - (end_value - start_value) * (1.0 + cos) / 2.0)


def cosine_warmup_schedule(
    step: int,
    max_steps: int,
    start_value: float,
    end_value: float,
    warmup_steps: int,
    warmup_start_value: float = 0.0,
    warmup_end_value: float | None = None,
    period: int | None = None,
) -> float:
    """Linear warm-up for ``warmup_steps`` steps, then :func:`cosine_schedule`.

    During warm-up ``value = w0 + (w1 - w0) * (step + 1) / warmup_steps`` with
    ``w0 = warmup_start_value`` and ``w1 = warmup_end_value`` (default ``start_value``), so
    the first step is already above ``w0`` (as lightly). Afterwards the cosine runs over the
    remaining ``max_steps - warmup_steps`` steps.

    Args:
        step: Current step, ``>= 0``.
        max_steps: Total number of steps.
        start_value: Value at the start of the cosine part.
        end_value: Value at the last step.
        warmup_steps: Number of warm-up steps, ``0 <= warmup_steps <= max_steps``.
        warmup_start_value: Value the warm-up starts from.
        warmup_end_value: Value the warm-up reaches; default ``start_value``.
        period: Optional cycle length of the cosine part.

    Raises:
        ValueError: ``warmup_steps`` outside ``[0, max_steps]`` or a bad ``step``.
    """
    if not 0 <= warmup_steps <= max_steps:
        raise ValueError(f"warmup_steps must be in [0, max_steps={max_steps}], got {warmup_steps}")
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if step < warmup_steps:
        top = start_value if warmup_end_value is None else warmup_end_value
        return float(warmup_start_value + (top - warmup_start_value) * (step + 1) / warmup_steps)
    return cosine_schedule(
        step - warmup_steps, max_steps - warmup_steps, start_value, end_value, period
    )


class CosineWarmupScheduler(torch.optim.lr_scheduler.LambdaLR):
    """Learning-rate scheduler: linear warm-up, then cosine decay (a ``LambdaLR``).

    Each group's learning rate is ``base_lr * cosine_warmup_schedule(epoch, ...)``; "epoch" may
    be an epoch or a step index, whichever ``scheduler.step()`` is called on. Defaults follow
    lightly (factor 1 after warm-up decaying to 0.001).

    Args:
        optimizer: The optimizer.
        warmup_epochs: Warm-up length, ``0 <= warmup_epochs <= max_epochs``.
        max_epochs: Total length.
        last_epoch: Index of the last epoch when resuming (``-1``: start).
        start_value: Factor at the end of warm-up.
        end_value: Factor at the last epoch.
        period: Optional cycle length of the cosine part.
        warmup_start_value: Factor the warm-up starts from.
        warmup_end_value: Factor reached by the warm-up; default ``start_value``.

    Raises:
        ValueError: ``warmup_epochs`` outside ``[0, max_epochs]``.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        warmup_epochs: int,
        max_epochs: int,
        last_epoch: int = -1,
        start_value: float = 1.0,
        end_value: float = 0.001,
        period: int | None = None,
        warmup_start_value: float = 0.0,
        warmup_end_value: float | None = None,
    ) -> None:
        if not 0 <= warmup_epochs <= max_epochs:
            raise ValueError(
                f"warmup_epochs must be in [0, max_epochs={max_epochs}], got {warmup_epochs}"
            )
        self.warmup_epochs = warmup_epochs
        self.max_epochs = max_epochs
        self.start_value = start_value
        self.end_value = end_value
        self.period = period
        self.warmup_start_value = warmup_start_value
        self.warmup_end_value = warmup_end_value
        super().__init__(optimizer, lr_lambda=self.scale_lr, last_epoch=last_epoch)

    def scale_lr(self, epoch: int) -> float:
        """Learning-rate factor at ``epoch``."""
        return cosine_warmup_schedule(
            epoch,
            self.max_epochs,
            self.start_value,
            self.end_value,
            self.warmup_epochs,
            self.warmup_start_value,
            self.warmup_end_value,
            self.period,
        )


@torch.no_grad()
def normalize_weight(weight: Tensor, dim: int = 1) -> None:
    """Divides ``weight`` in place by its L2 norm along ``dim`` (e.g. SwAV prototypes).

    Args:
        weight: Tensor, e.g. a linear weight ``(out, in)`` (``dim=1``: unit rows).
        dim: Dimension to normalise over.
    """
    weight.div_(torch.linalg.vector_norm(weight, dim=dim, keepdim=True))
