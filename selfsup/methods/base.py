"""The interface every SSL method implements, the registry of methods, and shared method helpers."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, TypeVar

import torch
from torch import Tensor, nn
from torchvision.models.vision_transformer import VisionTransformer

from selfsup.models import FlattenedBackbone, MaskedVisionTransformer, get_backbone
from selfsup.models.utils import deactivate_requires_grad, random_token_mask
from selfsup.utils.registry import Registry

__all__ = [
    "METHODS",
    "OptimizerDefaults",
    "SSLMethod",
    "create_method",
    "default_patch_size",
    "forward_multicrop",
    "get_method_class",
    "list_methods",
    "masked_vit_backbone",
    "momentum_copy",
    "random_patch_mask",
    "register_method",
]

METHODS: Registry[type[SSLMethod]] = Registry("method")

_OPTIMIZERS = ("sgd", "adamw", "lars")
_MethodT = TypeVar("_MethodT", bound="type[SSLMethod]")


@dataclasses.dataclass(frozen=True)
class OptimizerDefaults:
    """A method's recommended optimizer, as its paper (or lightly's benchmarks) trains it.

    Attributes:
        name: ``"sgd"``, ``"adamw"`` or ``"lars"``.
        lr: Learning rate for a batch of 256 (scaled linearly with the batch size).
        weight_decay: Weight decay.
        momentum: SGD/LARS momentum.
        betas: AdamW betas (MAE uses ``(0.9, 0.95)``, He et al., 2022, Table 8).

    Raises:
        ValueError: Unknown ``name`` or a negative rate.
    """

    name: str = "sgd"
    lr: float = 0.06
    weight_decay: float = 5e-4
    momentum: float = 0.9
    betas: tuple[float, float] = (0.9, 0.999)

    def __post_init__(self) -> None:
        if self.name not in _OPTIMIZERS:
            raise ValueError(f"optimizer name must be one of {_OPTIMIZERS}, got {self.name!r}")
        if self.lr <= 0 or self.weight_decay < 0:
            raise ValueError(
                f"lr must be > 0 and weight_decay >= 0, got lr={self.lr}, "
                f"weight_decay={self.weight_decay}"
            )


class SSLMethod(nn.Module):
    """Base class of a self-supervised method: a backbone, its heads and its loss.

    Subclasses build heads on ``self.backbone`` (whose output size is ``self.num_features``),
    implement :meth:`training_loss`, and set ``transform_name`` to the name of the view transform
    they expect (``selfsup.transforms.create_transform(transform_name)``) and ``min_views`` to
    the number of views :meth:`training_loss` needs.

    The training loop calls, per optimizer step: :meth:`update_schedules`, then
    ``loss = method.training_loss(views)``, ``loss.backward()``, :meth:`after_backward`, and
    the optimizer step on :meth:`trainable_parameters`.

    Args:
        backbone: A backbone name for :func:`selfsup.models.get_backbone` (``"resnet-18"``,
            ``"torchvision/resnet50"``, ``"timm/<name>"``) or an ``nn.Module`` mapping images
            `(B, C, H, W)` to features `(B, F)` (or `(B, F, 1, 1)`). A
            :class:`~selfsup.models.FlattenedBackbone` is used as it is.
        backbone_kwargs: Extra arguments for :func:`~selfsup.models.get_backbone` (e.g. ``width``).
    """

    transform_name: ClassVar[str] = "simclr"
    optimizer_defaults: ClassVar[OptimizerDefaults] = OptimizerDefaults()
    min_views: ClassVar[int] = 2

    def __init__(
        self, backbone: nn.Module | str = "resnet-18", backbone_kwargs: dict | None = None
    ) -> None:
        super().__init__()
        if isinstance(backbone, FlattenedBackbone) and not backbone_kwargs:
            self.backbone, self.num_features = backbone, backbone.num_features
        else:
            self.backbone, self.num_features = get_backbone(backbone, **(backbone_kwargs or {}))

    def embed(self, images: Tensor) -> Tensor:
        """Backbone features of images `(B, C, H, W)` (float, normalised) -> `(B, num_features)`."""
        return self.backbone(images).flatten(start_dim=1)

    def project(self, images: Tensor) -> Tensor:
        """The representations the loss compares: the projection head's output, or the backbone
        features for a method without one. Images `(B, C, H, W)` -> `(B, D)`.

        The collapse monitor measures these, as the representation std is defined on them
        (backbone features after a ReLU all lie in the positive orthant, so their std is low
        even when nothing has collapsed).
        """
        features = self.embed(images)
        head = getattr(self, "projection_head", None)
        return features if head is None else head(features)

    def training_loss(self, views: Sequence[Tensor]) -> Tensor:
        """The loss of one batch of views (each `(B, C, H, W)`, as the transform makes them)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement training_loss")

    def update_schedules(self, step: int, max_steps: int, epoch: int, max_epochs: int) -> None:
        """Per-step hook before :meth:`training_loss` (momentum, temperature schedules, ...).

        Args:
            step: Global optimizer step, from 0.
            max_steps: Total number of optimizer steps of the run.
            epoch: Current epoch, from 0.
            max_epochs: Total number of epochs.
        """

    def after_backward(self, epoch: int) -> None:
        """Hook after ``loss.backward()`` and before the optimizer step (e.g. freeze a layer)."""

    def trainable_parameters(self) -> list[nn.Parameter]:
        """The parameters the optimizer updates: all with ``requires_grad`` (momentum encoders
        and EMA-updated buffers-as-parameters are excluded)."""
        return [param for param in self.parameters() if param.requires_grad]

    def check_views(self, views: Sequence[Tensor]) -> list[Tensor]:
        """Validates the views given to :meth:`training_loss`.

        Args:
            views: Sequence of image batches `(B, C, H, W)` with one common ``B``.

        Returns:
            The views as a list.

        Raises:
            TypeError: ``views`` is not a sequence of tensors.
            ValueError: Fewer than ``min_views`` views, a view that is not 4-D, or views with
                different batch sizes.
        """
        if isinstance(views, Tensor) or not isinstance(views, Sequence):
            raise TypeError(
                f"{type(self).__name__}.training_loss expects a list of view batches "
                f"(B, C, H, W), got {type(views).__name__}"
            )
        result = list(views)
        if len(result) < self.min_views:
            raise ValueError(
                f"{type(self).__name__} needs at least {self.min_views} views (transform "
                f"{self.transform_name!r}), got {len(result)}"
            )
        for index, view in enumerate(result):
            if not isinstance(view, Tensor) or view.ndim != 4:
                raise ValueError(
                    f"view {index} must be a tensor (B, C, H, W), got "
                    f"{getattr(view, 'shape', type(view).__name__)}"
                )
        sizes = {view.shape[0] for view in result}
        if len(sizes) != 1:
            raise ValueError(f"all views must have the same batch size, got sizes {sorted(sizes)}")
        return result


def momentum_copy(module: nn.Module) -> nn.Module:
    """A frozen deep copy of ``module``: a momentum (EMA) encoder, teacher or target network.

    The copy starts with the same weights (MoCo, He et al., 2020, Sec. 3.2; BYOL, Grill et al.,
    2020, Sec. 3.1), has ``requires_grad=False`` everywhere (updated only by
    :func:`~selfsup.models.utils.update_momentum`), and follows the owner's train/eval mode:
    in training its batch norms use batch statistics, as in MoCo (shuffling BN, Sec. 3.3) and
    the reference code of BYOL and DINO.
    """
    frozen = copy.deepcopy(module)
    deactivate_requires_grad(frozen)
    return frozen


def forward_multicrop(fn: Callable[[Tensor], Tensor], views: Sequence[Tensor]) -> list[Tensor]:
    """Applies ``fn`` once per run of consecutive views of equal shape, as DINO's and SwAV's
    multi-crop wrappers (Caron et al., 2021, Sec. 3.1; Caron et al., 2020, Sec. 3.2).

    Concatenating crops of one resolution gives one forward pass (and batch-norm statistics
    over all of them) per resolution.

    Args:
        fn: Maps images `(N, C, H, W)` to outputs `(N, ...)`.
        views: View batches, each `(B, C, H_i, W_i)`.

    Returns:
        One output `(B, ...)` per view, in the order of ``views``.
    """
    outputs: list[Tensor] = []
    start = 0
    while start < len(views):
        end = start + 1
        while end < len(views) and views[end].shape == views[start].shape:
            end += 1
        group = views[start:end]
        outputs.extend(fn(torch.cat(list(group))).split(group[0].shape[0]))
        start = end
    return outputs


def random_patch_mask(
    batch_size: int, num_patches: int, mask_ratio: float, device: torch.device | None = None
) -> tuple[Tensor, Tensor]:
    """Random masking of patch tokens with the class token always kept (MAE, He et al., 2022,
    Sec. 3; MSN, Assran et al., 2022, Sec. 3).

    ``int(num_patches * (1 - mask_ratio))`` patches stay visible, exactly as the papers count
    (the ratio applies to the patches, not to the class token).

    Args:
        batch_size: ``B``.
        num_patches: ``N``, patches per image; token ``t`` of the sequence is patch ``t - 1``.
        mask_ratio: Fraction of masked patches in ``[0, 1)``.
        device: Device of the indices.

    Returns:
        ``(idx_keep, idx_mask)``: int64 token positions `(B, 1 + K)` (class token 0 first)
        and `(B, N - K)`, disjoint, together ``0..N``.
    """
    keep, mask = random_token_mask(
        (batch_size, num_patches), mask_ratio, mask_class_token=True, device=device
    )
    class_token = torch.zeros(batch_size, 1, dtype=keep.dtype, device=keep.device)
    return torch.cat([class_token, keep + 1], dim=1), mask + 1


def default_patch_size(image_size: int) -> int:
    """Patch side for a ViT on ``image_size`` images: 16 (ViT/16, Dosovitskiy et al., 2021)
    from 128 pixels on, else ``image_size // 8`` (an 8x8 grid, e.g. 4 for 32-pixel images).

    Raises:
        ValueError: ``image_size`` below 8.
    """
    if image_size < 8:
        raise ValueError(f"image_size must be >= 8 for a ViT, got {image_size}")
    return 16 if image_size >= 128 else image_size // 8


def masked_vit_backbone(
    backbone: str | nn.Module,
    *,
    image_size: int,
    patch_size: int | None,
    backbone_kwargs: dict | None,
) -> FlattenedBackbone:
    """The ViT encoder of MAE/MSN from a preset name or a module.

    Args:
        backbone: A ViT preset (``"vit-tiny"``, ``"vit-small"``, ``"vit-base"``,
            ``"vit-large"``), a :class:`~selfsup.models.MaskedVisionTransformer` or a
            torchvision ``VisionTransformer`` (wrapped).
        image_size: Image side for a preset.
        patch_size: Patch side for a preset; default :func:`default_patch_size`.
        backbone_kwargs: Extra preset arguments (``in_chans``, ``dropout``, ...); not allowed
            with a module.

    Returns:
        A :class:`~selfsup.models.FlattenedBackbone` (class token features `(B, D)`) whose
        ``model`` is the :class:`~selfsup.models.MaskedVisionTransformer`.

    Raises:
        ValueError: A name that is not a ViT preset, or ``backbone_kwargs`` with a module.
        TypeError: A module that is not a ViT.
    """
    if isinstance(backbone, str):
        if not backbone.startswith("vit-"):
            raise ValueError(
                f"this method needs a ViT backbone ('vit-tiny', 'vit-small', 'vit-base', "
                f"'vit-large' or a MaskedVisionTransformer), got {backbone!r}"
            )
        size = default_patch_size(image_size) if patch_size is None else patch_size
        wrapped, _ = get_backbone(
            backbone, image_size=image_size, patch_size=size, **(backbone_kwargs or {})
        )
        return wrapped
    if backbone_kwargs:
        raise ValueError(
            f"backbone_kwargs {sorted(backbone_kwargs)} cannot be applied to an existing module"
        )
    if isinstance(backbone, VisionTransformer):
        backbone = MaskedVisionTransformer(vit=backbone)
    if isinstance(backbone, MaskedVisionTransformer):
        return FlattenedBackbone(backbone, num_features=backbone.num_features)
    raise TypeError(
        f"backbone must be a ViT preset name, a MaskedVisionTransformer or a torchvision "
        f"VisionTransformer, got {type(backbone).__name__}"
    )


def register_method(name: str) -> Callable[[_MethodT], _MethodT]:
    """Class decorator that registers an :class:`SSLMethod` under the CLI name ``name``.

    Raises:
        ValueError: ``name`` is already registered (when the decorator is applied).
    """

    def decorator(cls: _MethodT) -> _MethodT:
        METHODS.register(name)(cls)
        return cls

    return decorator


def get_method_class(name: str) -> type[SSLMethod]:
    """The method class registered as ``name``; the error lists the known names."""
    return METHODS.get(name)


def list_methods(pattern: str = "*") -> list[str]:
    """Sorted names of registered methods matching a shell-style ``pattern``."""
    return METHODS.names(pattern)


def create_method(name: str, **kwargs: Any) -> SSLMethod:
    """Builds the method registered as ``name`` with keyword arguments ``kwargs``."""
    return get_method_class(name)(**kwargs)
