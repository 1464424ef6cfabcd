"""MSN / PMSN: prototype matching of masked anchors to sharpened targets, with a prior."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from selfsup.loss._checks import (
    check_embeddings,
    check_gather_available,
    check_int,
    check_number,
)
from selfsup.loss._gather import gather_batch
from selfsup.loss.sinkhorn import sinkhorn_knopp

__all__ = ["MSNLoss", "power_law_distribution"]

_TARGET_DISTRIBUTIONS = ("uniform", "power_law")


def power_law_distribution(size: int, exponent: float, *, like: Tensor | None = None) -> Tensor:
    """Power-law prior ``pi_k proportional to k^(-exponent)``, ``k = 1..size``, summing to 1.

    Args:
        size: Number of prototypes ``K``.
        exponent: Power-law exponent (PMSN uses 0.25).
        like: Tensor whose device and dtype the result takes (float32 on CPU if None).

    Returns:
        Tensor of shape ``(K,)``.
    """
    device = None if like is None else like.device
    dtype = torch.float32 if like is None else like.dtype
    ranks = torch.arange(1, size + 1, device=device, dtype=dtype)
    weights = ranks.pow(-exponent)
    return weights / weights.sum()


class MSNLoss(nn.Module):
    """MSN loss (Assran et al., 2022, "Masked Siamese Networks for Label-Efficient Learning",
    Eq. 3-4) with PMSN's prior matching (Assran et al., 2023, "The Hidden Uniform Cluster
    Prior in Self-Supervised Learning", Sec. 5).

    Anchors, targets and prototypes are L2-normalised. ``p = softmax(anchor @ prototypes^T /
    temperature)``; the targets' probabilities are computed without gradient, sharpened with
    ``target_sharpen_temperature`` and, if ``sinkhorn_iterations > 0``, balanced with
    Sinkhorn-Knopp. The loss is the cross entropy ``-sum_k target_k log p_k`` averaged over the
    anchors, plus ``regularization_weight`` times a prior term on the mean anchor prediction
    ``p_mean``:

    - ``"uniform"`` (MSN's mean-entropy maximisation): ``log K - H(p_mean)
      = KL(p_mean || uniform)``;
    - ``"power_law"`` or a callable ``f(p_mean) -> pi`` (PMSN): ``KL(pi || p_mean)`` (the
      direction lightly's ``PMSNLoss`` uses), ``pi_k ~ k^(-power_law_exponent)``.

    Args:
        temperature: Temperature of the prototype softmax; > 0. Default 0.1 (MSN, Sec. 4).
        sinkhorn_iterations: Sinkhorn iterations on the targets (0 disables it). Default 0.
        regularization_weight: Weight of the prior term; >= 0 (0 disables it). Default 1.0
            (MSN, Sec. 4).
        target_distribution: ``"uniform"``, ``"power_law"`` or a callable returning a ``(K,)``
            distribution for ``p_mean``. Default ``"power_law"`` (PMSN).
        power_law_exponent: Exponent of the power-law prior; >= 0. Default 0.25 (PMSN, Sec. 5).
        gather_distributed: Compute Sinkhorn and ``p_mean`` over the samples of all ranks.

    Raises:
        ValueError: A hyper-parameter is out of range or ``target_distribution`` is unknown.
    """

    def __init__(
        self,
        temperature: float = 0.1,
        sinkhorn_iterations: int = 0,
        regularization_weight: float = 1.0,
        target_distribution: str | Callable[[Tensor], Tensor] = "power_law",
        power_law_exponent: float = 0.25,
        gather_distributed: bool = False,
    ) -> None:
        super().__init__()
        self.temperature = check_number("temperature", temperature, low=0.0, low_open=True)
        self.sinkhorn_iterations = check_int("sinkhorn_iterations", sinkhorn_iterations, low=0)
        self.regularization_weight = check_number(
            "regularization_weight", regularization_weight, low=0.0
        )
        if not callable(target_distribution) and target_distribution not in _TARGET_DISTRIBUTIONS:
            raise ValueError(
                f"target_distribution must be one of {_TARGET_DISTRIBUTIONS} or a callable, "
                f"got {target_distribution!r}"
            )
        self.target_distribution = target_distribution
        self.power_law_exponent = check_number("power_law_exponent", power_law_exponent, low=0.0)
        self.gather_distributed = check_gather_available(gather_distributed)

    def forward(
        self,
        anchors: Tensor,
        targets: Tensor,
        prototypes: Tensor,
        target_sharpen_temperature: float = 0.25,
    ) -> Tensor:
        """Computes the loss.

        Args:
            anchors: Embeddings of the masked anchor views, shape ``(V * B, D)``, view-major
                (rows ``v * B .. v * B + B - 1`` are view ``v``).
            targets: Embeddings of the target views, shape ``(B, D)``.
            prototypes: Prototype vectors, shape ``(K, D)``.
            target_sharpen_temperature: Sharpening temperature of the targets; > 0. Default
                0.25 (MSN, Sec. 4).

        Returns:
            Scalar loss (0-dim tensor).

        Raises:
            ValueError: A tensor is not 2-D, the feature dims differ, or the number of anchors
                is not a positive multiple of the number of targets.
        """
        check_embeddings("anchors", anchors)
        check_embeddings("targets", targets)
        check_embeddings("prototypes", prototypes)
        sharpen = check_number(
            "target_sharpen_temperature", target_sharpen_temperature, low=0.0, low_open=True
        )
        if not anchors.shape[1] == targets.shape[1] == prototypes.shape[1]:
            raise ValueError(
                f"anchors, targets and prototypes must share the feature dim D, got shapes "
                f"{tuple(anchors.shape)}, {tuple(targets.shape)}, {tuple(prototypes.shape)}"
            )
        if anchors.shape[0] % targets.shape[0] != 0:
            raise ValueError(
                f"anchors must have V * B rows for targets of B={targets.shape[0]} rows, got "
                f"shape {tuple(anchors.shape)}"
            )
        num_views = anchors.shape[0] // targets.shape[0]
        anchors = F.normalize(anchors, dim=1)
        targets = F.normalize(targets, dim=1)
        prototypes = F.normalize(prototypes, dim=1)

        anchor_log_probs = F.log_softmax(anchors @ prototypes.t() / self.temperature, dim=1)
        with torch.no_grad():
            target_probs = F.softmax(targets @ prototypes.t() / self.temperature, dim=1)
            target_probs = F.normalize(target_probs.pow(1.0 / sharpen), p=1, dim=1)
            if self.sinkhorn_iterations > 0:
                target_probs = sinkhorn_knopp(
                    target_probs, self.sinkhorn_iterations, self.gather_distributed
                )
            target_probs = target_probs.repeat(num_views, 1)
        loss = -(target_probs * anchor_log_probs).sum(dim=1).mean()
        if self.regularization_weight > 0:
            loss = loss + self.regularization_weight * self._prior_term(anchor_log_probs.exp())
        return loss

    def _prior_term(self, anchor_probs: Tensor) -> Tensor:
        """Prior matching term on the mean prediction of ``anchor_probs`` ``(N, K)``."""
        local_mean = anchor_probs.mean(dim=0, keepdim=True)
        mean_probs = gather_batch(local_mean, self.gather_distributed)[0].mean(dim=0)  # (K,)
        if self.target_distribution == "uniform":
            entropy = -(mean_probs * torch.log(mean_probs)).sum()
            return math.log(mean_probs.shape[0]) - entropy
        if callable(self.target_distribution):
            prior = self.target_distribution(mean_probs).to(mean_probs)
        else:
            prior = power_law_distribution(
                mean_probs.shape[0], self.power_law_exponent, like=mean_probs
            )
        return F.kl_div(torch.log(mean_probs), prior, reduction="sum")

    def extra_repr(self) -> str:
        return (
            f"temperature={self.temperature}, sinkhorn_iterations={self.sinkhorn_iterations}, "
            f"regularization_weight={self.regularization_weight}, "
            f"target_distribution={self.target_distribution!r}, "
            f"power_law_exponent={self.power_law_exponent}, "
            f"gather_distributed={self.gather_distributed}"
        )
