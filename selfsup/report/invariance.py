"""Invariance analysis: how close an embedding stays when one kind of augmentation is applied.

For each augmentation family (crop, flips, 90-degree rotation, color jitter, grayscale, blur,
solarization) every image ``x_i`` of a set is embedded once as is and once (or ``n_views``
times) augmented. The raw measure is the cosine similarity ``c_i = cos(f(x_i), f(aug(x_i)))``,
averaged over views. It is put on a scale that a reader can compare across models with the
baseline ``b``, the mean cosine similarity between embeddings of two DIFFERENT images of the set,
taken exactly over all ordered pairs ``i != j``:

    b = sum_{i != j} cos(f(x_i), f(x_j)) / (N (N - 1)),    s_i = (c_i - b) / (1 - b).

``s_i = 1`` means the augmented image has exactly its original embedding; ``s_i = 0`` means it
is, on average, no closer to its original than another image of the set is; below 0 it is farther.
When the baseline is close to 1 (embeddings of different images nearly aligned, as often with an
untrained network), small cosine changes give large scores: read ``raw_cosine`` and the baseline
alongside. The score of a family
is the mean of ``s_i`` (equal to ``(mean c - b) / (1 - b)``); its spread is the standard deviation
and the 10th and 90th percentiles of ``s_i`` over images. All of it is deterministic given
``seed``: each family draws its parameters from its own generator, so a family's score does not
depend on which other families are measured, nor on the batch size.

Each family is an :class:`~selfsup.report.invariance_augmentations.InvarianceAugmentation` at a
fixed, documented strength (:data:`AUGMENTATION_FAMILIES`, re-exported here); pass instances with
other strengths to :func:`measure_invariance` to change them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import warnings
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch import Tensor, nn

from selfsup.report.invariance_augmentations import (
    AUGMENTATION_FAMILIES,
    BlurAugmentation,
    ColorJitterAugmentation,
    GrayscaleAugmentation,
    HorizontalFlipAugmentation,
    InvarianceAugmentation,
    Params,
    ResizedCropAugmentation,
    Rotate90Augmentation,
    SolarizeAugmentation,
    VerticalFlipAugmentation,
)
from selfsup.transforms import functional as ops
from selfsup.transforms._checks import check_int, check_normalize
from selfsup.transforms.utils import IMAGENET_NORMALIZE

__all__ = [
    "AUGMENTATION_FAMILIES",
    "BlurAugmentation",
    "ColorJitterAugmentation",
    "FamilyInvariance",
    "GrayscaleAugmentation",
    "HorizontalFlipAugmentation",
    "InvarianceAugmentation",
    "InvarianceResult",
    "ResizedCropAugmentation",
    "Rotate90Augmentation",
    "SolarizeAugmentation",
    "VerticalFlipAugmentation",
    "measure_invariance",
]

#: Below this gap ``1 - baseline`` the embeddings of different images coincide (collapse).
_COLLAPSE_GAP = 1e-6


def _rounded(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 6)


@dataclasses.dataclass(frozen=True)
class FamilyInvariance:
    """The invariance of the embedding to one augmentation family.

    Attributes:
        name: The family's name, e.g. ``"crop"``.
        description: The augmentation and its strength.
        score: Mean normalised similarity (1 identical, 0 as similar as two random images);
            NaN when the embeddings collapsed.
        std: Standard deviation of the per-image scores (``N - 1`` in the denominator).
        p10: 10th percentile of the per-image scores (linear interpolation, as numpy).
        p90: 90th percentile of the per-image scores.
        raw_cosine: Mean cosine similarity between original and augmented embeddings.
        views: Augmented views per image (1 for families without parameters).
        per_image: Per-image normalised scores, float64 `(N,)` on the CPU.
    """

    name: str
    description: str
    score: float
    std: float
    p10: float
    p90: float
    raw_cosine: float
    views: int
    per_image: Tensor

    def to_dict(self) -> dict[str, Any]:
        """The summary figures, rounded to 6 decimals, NaN as None (JSON ``null``)."""
        figures = {key: _rounded(getattr(self, key)) for key in ("score", "std", "p10", "p90")}
        raw = _rounded(self.raw_cosine)
        return {**figures, "raw_cosine": raw, "views": self.views, "augmentation": self.description}


@dataclasses.dataclass(frozen=True)
class InvarianceResult:
    """What :func:`measure_invariance` measured.

    Attributes:
        families: :class:`FamilyInvariance` by family name, in the order measured.
        baseline: Mean cosine similarity between embeddings of different images.
        n_images: Number of images ``N``.
        seed: Seed of the augmentation parameters.
        filenames: Names of the images, when given.
        files: Paths written by the pipeline (name -> path), empty otherwise.
    """

    families: dict[str, FamilyInvariance]
    baseline: float
    n_images: int
    seed: int
    filenames: list[str] | None = None
    files: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def summary(self) -> dict[str, Any]:
        """Headline figures: score per family, baseline, number of images and files written."""
        scores = {name: _rounded(family.score) for name, family in self.families.items()}
        return {
            "scores": scores,
            "baseline": _rounded(self.baseline),
            "n_images": self.n_images,
            **self.files,
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready: summary figures per family and the per-image scores."""
        return {
            "baseline": _rounded(self.baseline),
            "n_images": self.n_images,
            "seed": self.seed,
            "families": {name: family.to_dict() for name, family in self.families.items()},
            "per_image": {
                "filenames": self.filenames,
                "scores": {
                    name: [_rounded(v) for v in family.per_image.tolist()]
                    for name, family in self.families.items()
                },
            },
        }

    def table(self) -> str:
        """A text table: one row per family with score, spread and raw cosine similarity."""
        width = max([len("family"), *map(len, self.families)])
        header = (
            f"{'family':<{width}}  {'score':>7} {'std':>7} {'p10':>7} {'p90':>7} {'raw cos':>8}"
        )
        lines = [
            f"invariance over {self.n_images} images (score 1: embedding unchanged, "
            "0: as similar as two different images)",
            f"{header}  augmentation",
        ]
        for name, fam in self.families.items():
            lines.append(
                f"{name:<{width}}  {fam.score:7.3f} {fam.std:7.3f} {fam.p10:7.3f} {fam.p90:7.3f} "
                f"{fam.raw_cosine:8.4f}  {fam.description}"
            )
        lines.append(f"baseline (mean cosine between different images): {self.baseline:.4f}")
        return "\n".join(lines)

    def figure(self) -> Figure:
        """A bar chart of the scores; whiskers span the 10th to 90th percentile over images."""
        names = list(self.families)
        families = list(self.families.values())
        figure = Figure(figsize=(max(5.0, 0.8 * len(names) + 1.5), 3.8))
        figure.subplots_adjust(left=0.12, right=0.98, bottom=0.24, top=0.9)
        ax = figure.add_subplot()
        positions = range(len(names))
        ax.bar(positions, [f.score for f in families], color="tab:blue", alpha=0.8)
        ax.vlines(positions, [f.p10 for f in families], [f.p90 for f in families], color="black")
        for marks in ([f.p10 for f in families], [f.p90 for f in families]):
            ax.scatter(positions, marks, marker="_", s=120, color="black", zorder=3)
        ax.axhline(1.0, color="gray", linestyle="--", linewidth=0.8)
        ax.axhline(0.0, color="gray", linewidth=0.8)
        ax.set_xticks(list(positions), names, rotation=30, ha="right")
        ax.set_ylabel("normalised cosine similarity")
        ax.set_title(
            f"invariance, {self.n_images} images (baseline cosine {self.baseline:.3f}); "
            "whiskers: 10-90th percentile",
            fontsize=9,
        )
        return figure

    def plot(self, path: str | Path, *, dpi: int = 100) -> Path:
        """Writes :meth:`figure` as a PNG to ``path`` (not atomically; the pipeline wraps it)."""
        self.figure().savefig(path, format="png", dpi=dpi)
        return Path(path)


def _resolve_families(
    families: Sequence[str] | Mapping[str, InvarianceAugmentation] | None,
) -> dict[str, InvarianceAugmentation]:
    if families is None:
        return dict(AUGMENTATION_FAMILIES)
    if isinstance(families, Mapping):
        for name, augmentation in families.items():
            if not isinstance(augmentation, InvarianceAugmentation):
                raise TypeError(
                    f"families[{name!r}] must be an InvarianceAugmentation, got {augmentation!r}"
                )
        resolved = dict(families)
    elif isinstance(families, (str, bytes)) or not isinstance(families, Sequence):
        raise TypeError(f"families must be a list of names or a mapping, got {families!r}")
    else:
        unknown = [name for name in families if name not in AUGMENTATION_FAMILIES]
        if unknown:
            raise ValueError(
                f"unknown augmentation family {unknown[0]!r}; "
                f"known: {', '.join(AUGMENTATION_FAMILIES)}"
            )
        resolved = {name: AUGMENTATION_FAMILIES[name] for name in families}
    if not resolved:
        raise ValueError("families must name at least one augmentation family")
    return resolved


def _as_image_tensor(images: Tensor | Sequence[Any]) -> Tensor:
    if not isinstance(images, Tensor):
        if not hasattr(images, "__len__") or not hasattr(images, "__getitem__"):
            raise TypeError(f"images must be a tensor or a dataset, got {type(images).__name__}")
        items = [images[i] for i in range(len(images))]
        items = [item[0] if isinstance(item, (tuple, list)) else item for item in items]
        for item in items:
            if not isinstance(item, Tensor):
                raise TypeError(
                    "dataset items must be image tensors (3, H, W) or tuples whose first "
                    f"element is one, got {type(item).__name__}"
                )
        images = torch.stack(items) if items else torch.zeros(0, 3, 1, 1)
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"images must have shape (N, 3, H, W), got {tuple(images.shape)}")
    if images.dtype != torch.uint8 and not images.is_floating_point():
        raise TypeError(f"images must be uint8 or float in [0, 1], got {images.dtype}")
    if images.is_floating_point() and images.numel() and (images.min() < 0 or images.max() > 1):
        raise ValueError(
            f"float images must be in [0, 1] (not normalised), got values in "
            f"[{images.min().item():.3g}, {images.max().item():.3g}]"
        )
    return images


def _family_generator(seed: int, name: str) -> torch.Generator:
    """A generator of its own per family, so a family's views do not depend on the others."""
    # CPU generators keep only 32 bits of a seed: mix seed and name into 32 bits.
    return torch.Generator().manual_seed(zlib.crc32(f"{name}:{seed}".encode()))


@contextlib.contextmanager
def _eval_mode(model: Callable[[Tensor], Tensor]) -> Iterator[None]:
    was_training = isinstance(model, nn.Module) and model.training
    if isinstance(model, nn.Module):
        model.eval()
    try:
        yield
    finally:
        if was_training:
            model.train()


def _model_device(model: Callable[[Tensor], Tensor]) -> torch.device:
    if isinstance(model, nn.Module):
        for tensor in (*model.parameters(), *model.buffers()):
            return tensor.device
    return torch.device("cpu")


@dataclasses.dataclass(frozen=True)
class _Embedder:
    model: Callable[[Tensor], Tensor]
    batch_size: int
    device: torch.device
    normalize: tuple[tuple[float, ...], tuple[float, ...]] | None

    def __call__(
        self, images: Tensor, augmentation: InvarianceAugmentation | None, params: Params
    ) -> Tensor:
        """Unit-norm float64 CPU embeddings `(N, D)` of the (augmented) images."""
        out = []
        for start in range(0, images.shape[0], self.batch_size):
            stop = start + self.batch_size
            x = ops.to_float_tensor(images[start:stop].to(self.device))
            if augmentation is not None:
                x = augmentation.transform(x, {k: v[start:stop] for k, v in params.items()})
            if self.normalize is not None:
                x = ops.to_float_tensor(x, *self.normalize)
            z = self.model(x)
            if not isinstance(z, Tensor) or z.ndim < 2 or z.shape[0] != x.shape[0]:
                got = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
                raise ValueError(f"model must map (B, 3, H, W) to (B, D), got {got} for B={len(x)}")
            out.append(F.normalize(z.flatten(1).to("cpu", torch.float64), dim=1))
        return torch.cat(out)


@torch.no_grad()
def measure_invariance(
    model: Callable[[Tensor], Tensor],
    images: Tensor | Sequence[Any],
    *,
    families: Sequence[str] | Mapping[str, InvarianceAugmentation] | None = None,
    n_views: int = 1,
    batch_size: int = 64,
    normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    device: torch.device | str | None = None,
    seed: int = 0,
    filenames: Sequence[str] | None = None,
) -> InvarianceResult:
    """Measures how invariant ``model``'s embedding is to each augmentation family.

    See the module docstring for the measure. An ``nn.Module`` is put in eval mode for the
    measurement (and back into training mode afterwards if it was).

    Args:
        model: Maps normalised float images `(B, 3, H, W)` to embeddings `(B, D)` (or
            `(B, ...)`, flattened).
        images: `(N, 3, H, W)`, float in [0, 1] or uint8, N >= 2; or a dataset whose items
            are such `(3, H, W)` tensors or tuples starting with one.
        families: Names from :data:`AUGMENTATION_FAMILIES` (default: all of them), or a
            mapping ``name -> InvarianceAugmentation`` to set other strengths.
        n_views: Augmented views per image for families with random parameters.
        batch_size: Images per forward pass.
        normalize: ``{"mean": [...], "std": [...]}`` applied after augmenting (default
            ImageNet's, as ``selfsup embed``), or None to feed images in [0, 1].
        device: Where augmentation and model run; default the model's device (CPU if none).
        seed: Seed of the augmentation parameters.
        filenames: Optional names of the images, kept in the result.

    Returns:
        An :class:`InvarianceResult`. When the embeddings of different images coincide
        (``1 - baseline < 1e-6``) the normalised scores are NaN, with a ``RuntimeWarning``.

    Raises:
        ValueError: an unknown family, fewer than 2 images, images of a bad shape or range,
            a bad ``n_views`` / ``batch_size``, or a model output that is not `(B, D)`.
        TypeError: arguments of the wrong type.
    """
    augmentations = _resolve_families(families)
    check_int("n_views", n_views, low=1)
    check_int("batch_size", batch_size, low=1)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    mean_std = check_normalize("normalize", normalize)
    images = _as_image_tensor(images)
    n = images.shape[0]
    if n < 2:
        raise ValueError(f"images must hold at least 2 images for the baseline, got {n}")
    if filenames is not None and len(filenames) != n:
        raise ValueError(f"filenames has {len(filenames)} names for {n} images")
    views = {name: n_views if aug.random else 1 for name, aug in augmentations.items()}
    params = {}
    for name, augmentation in augmentations.items():
        generator = _family_generator(seed, name)
        params[name] = [augmentation.make_params(images, generator) for _ in range(views[name])]
    embedder = _Embedder(
        model,
        batch_size,
        _model_device(model) if device is None else torch.device(device),
        mean_std,
    )
    with _eval_mode(model):
        original = embedder(images, None, {})
        cosines = {
            name: torch.stack(
                [(original * embedder(images, aug, p)).sum(1) for p in params[name]]
            ).mean(0)
            for name, aug in augmentations.items()
        }
    total = original.sum(0)
    baseline = ((total @ total - (original * original).sum()) / (n * (n - 1))).item()
    gap = 1.0 - baseline
    if gap < _COLLAPSE_GAP:
        warnings.warn(
            f"the embeddings have collapsed: the mean cosine similarity between different images "
            f"is {baseline:.8f}, so scores cannot be normalised and are NaN; raw cosine "
            "similarities are still reported",
            RuntimeWarning,
            stacklevel=3,
        )
        gap = math.nan
    result = {}
    for name, raw in cosines.items():
        scores = (raw - baseline) / gap
        p10, p90 = torch.quantile(scores, torch.tensor([0.1, 0.9], dtype=scores.dtype)).tolist()
        result[name] = FamilyInvariance(
            name=name,
            description=augmentations[name].describe(),
            score=scores.mean().item(),
            std=scores.std().item(),
            p10=p10,
            p90=p90,
            raw_cosine=raw.mean().item(),
            views=views[name],
            per_image=scores,
        )
    names = None if filenames is None else list(filenames)
    return InvarianceResult(result, baseline, n, seed, names)
