"""DINO: self-distillation between a centred, sharpened teacher and a student."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from selfsup.loss._checks import check_int, check_number, check_views
from selfsup.loss._gather import all_reduce_sum
from selfsup.utils import dist

__all__ = ["DINOLoss"]


class DINOLoss(nn.Module):
    """DINO loss (Caron et al., 2021, "Emerging Properties in Self-Supervised Vision
    Transformers", Algorithm 1 and Sec. 3.1).

    The teacher outputs are centred (``center`` is an EMA of their batch mean), sharpened with
    the teacher temperature and detached (stop-gradient); the student outputs go through a
    log-softmax with the student temperature. The loss is the cross entropy ``-sum p_t log p_s``
    averaged over the batch and over every (teacher view, student view) pair except the pairs
    of a view with itself (teacher view ``i`` is student view ``i``: the global crops come
    first in ``student_out``).

    The teacher temperature rises linearly from ``warmup_teacher_temp`` at epoch 0 to
    ``teacher_temp`` at epoch ``warmup_teacher_temp_epochs - 1`` and stays there (as the
    authors' ``np.linspace`` schedule). After the loss, the centre is updated with
    ``center = center_momentum * center + (1 - center_momentum) * mean(teacher_out)``, the mean
    taken over all teacher views, samples and (when ``torch.distributed`` is initialised)
    ranks.

    Args:
        output_dim: Output dimension ``D`` of the heads. Default 65536 (paper, Sec. 3.1).
        warmup_teacher_temp: Teacher temperature at epoch 0. Default 0.04 (paper, Appendix:
            the teacher temperature starts at 0.04).
        teacher_temp: Teacher temperature after the warm-up. Default 0.04 as in lightly (the
            paper warms up to 0.07 for its ViT runs).
        warmup_teacher_temp_epochs: Length of the warm-up in epochs. Default 30 (paper's
            warm-up of the teacher temperature).
        student_temp: Student temperature. Default 0.1 (paper, Sec. 3.1).
        center_momentum: EMA momentum of the centre, in [0, 1]. Default 0.9 (paper, Sec. 3.1).

    Raises:
        ValueError: A temperature <= 0, ``output_dim < 1``, ``warmup_teacher_temp_epochs < 0``
            or ``center_momentum`` outside [0, 1].
    """

    center: Tensor

    def __init__(
        self,
        output_dim: int = 65536,
        warmup_teacher_temp: float = 0.04,
        teacher_temp: float = 0.04,
        warmup_teacher_temp_epochs: int = 30,
        student_temp: float = 0.1,
        center_momentum: float = 0.9,
    ) -> None:
        super().__init__()
        self.output_dim = check_int("output_dim", output_dim, low=1)
        self.warmup_teacher_temp = check_number(
            "warmup_teacher_temp", warmup_teacher_temp, low=0.0, low_open=True
        )
        self.teacher_temp = check_number("teacher_temp", teacher_temp, low=0.0, low_open=True)
        self.warmup_teacher_temp_epochs = check_int(
            "warmup_teacher_temp_epochs", warmup_teacher_temp_epochs, low=0
        )
        self.student_temp = check_number("student_temp", student_temp, low=0.0, low_open=True)
        self.center_momentum = check_number("center_momentum", center_momentum, low=0.0, high=1.0)
        self.register_buffer("center", torch.zeros(1, 1, output_dim))

    def teacher_temperature(self, epoch: int | None) -> float:
        """Teacher temperature at ``epoch`` (``teacher_temp`` when ``epoch`` is None).

        Raises:
            ValueError: ``epoch`` is negative.
        """
        if epoch is None:
            return self.teacher_temp
        epoch = check_int("epoch", epoch, low=0)
        steps = self.warmup_teacher_temp_epochs
        if epoch >= steps:
            return self.teacher_temp
        if steps == 1:
            return self.warmup_teacher_temp
        fraction = epoch / (steps - 1)
        return self.warmup_teacher_temp + fraction * (self.teacher_temp - self.warmup_teacher_temp)

    def forward(
        self,
        teacher_out: Sequence[Tensor],
        student_out: Sequence[Tensor],
        epoch: int | None = None,
        *,
        teacher_temp: float | None = None,
    ) -> Tensor:
        """Computes the loss, then updates the centre.

        Args:
            teacher_out: One ``(B, D)`` tensor per teacher view (usually the 2 global crops).
            student_out: One ``(B, D)`` tensor per student view; the first ``len(teacher_out)``
                are the same crops as the teacher's, then the local crops.
            epoch: Current epoch for the temperature warm-up; None uses ``teacher_temp``.
            teacher_temp: Overrides the scheduled teacher temperature (keyword only, as
                lightly's ``teacher_temp`` argument).

        Returns:
            Scalar loss (0-dim tensor).

        Raises:
            ValueError: Empty view lists, views that are not ``(B, D)`` with ``D == output_dim``
                and one common ``B``, or only one view in total (no pair of distinct views).
        """
        teacher = check_views("teacher_out", teacher_out)
        student = check_views("student_out", student_out)
        if teacher[0].shape != student[0].shape or teacher[0].shape[1] != self.output_dim:
            raise ValueError(
                f"teacher_out and student_out views must all have shape (B, output_dim="
                f"{self.output_dim}), got {tuple(teacher[0].shape)} and "
                f"{tuple(student[0].shape)}"
            )
        num_teacher, num_student = len(teacher), len(student)
        num_pairs = num_teacher * num_student - min(num_teacher, num_student)
        if num_pairs == 0:
            raise ValueError(
                "DINOLoss needs at least two distinct views (one teacher and one student view "
                f"of different crops), got {num_teacher} teacher and {num_student} student views"
            )
        if teacher_temp is None:
            temperature = self.teacher_temperature(epoch)
        else:
            temperature = check_number("teacher_temp", teacher_temp, low=0.0, low_open=True)

        center = self.center.to(teacher[0].dtype).view(1, -1)
        teacher_probs = [F.softmax((t.detach() - center) / temperature, dim=-1) for t in teacher]
        all_teachers = (
            teacher_probs[0] if num_teacher == 1 else sum(teacher_probs[1:], teacher_probs[0])
        )
        # per student view: cross entropy against the summed probabilities of the teacher
        # views of other crops (no (T, S, B, D) intermediate, no stacking of the views)
        loss = teacher[0].new_zeros(())
        for index, view in enumerate(student):
            if index >= num_teacher:
                targets = all_teachers
            else:
                others = [p for t, p in enumerate(teacher_probs) if t != index]
                if not others:
                    continue
                targets = others[0] if len(others) == 1 else sum(others[1:], others[0])
            log_probs = F.log_softmax(view / self.student_temp, dim=-1)
            loss = loss - (targets * log_probs).sum()
        loss = loss / (num_pairs * teacher[0].shape[0])
        teacher_sum = torch.stack([t.detach().sum(dim=0) for t in teacher]).sum(dim=0)
        self._update_center(teacher_sum, num_teacher * teacher[0].shape[0])
        return loss

    @torch.no_grad()
    def update_center(self, teacher_out: Tensor) -> None:
        """EMA update of the centre with the mean teacher output (over all ranks if any).

        Args:
            teacher_out: Teacher outputs, shape ``(T, B, D)`` or ``(N, D)``.
        """
        flat = teacher_out.detach().reshape(-1, self.output_dim)
        self._update_center(flat.sum(dim=0), flat.shape[0])

    @torch.no_grad()
    def _update_center(self, local_sum: Tensor, local_count: int) -> None:
        """EMA step with the teacher mean ``local_sum / local_count``, all-reduced across ranks."""
        distributed = dist.world_size() > 1
        total = all_reduce_sum(local_sum, distributed)
        batch_center = total / (local_count * dist.world_size())
        batch_center = batch_center.to(self.center.dtype).view(1, 1, -1)
        self.center.mul_(self.center_momentum).add_(batch_center, alpha=1 - self.center_momentum)

    def extra_repr(self) -> str:
        return (
            f"output_dim={self.output_dim}, warmup_teacher_temp={self.warmup_teacher_temp}, "
            f"teacher_temp={self.teacher_temp}, "
            f"warmup_teacher_temp_epochs={self.warmup_teacher_temp_epochs}, "
            f"student_temp={self.student_temp}, center_momentum={self.center_momentum}"
        )
