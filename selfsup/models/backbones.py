"""Backbone registry: our ResNets and ViTs, any torchvision classifier, timm models, user modules.

Every backbone returned here maps images ``(B, C, H, W)`` (float, normalised) to pooled,
flattened features ``(B, F)`` and exposes ``num_features = F``, measured by a dummy forward.
"""

from __future__ import annotations

import fnmatch
import importlib.util
from collections.abc import Callable
from typing import Any, cast

import torch
from torch import Tensor, nn

from selfsup.models.resnet import RESNET_DEPTHS, ResNetGenerator
from selfsup.models.vision_transformer import VIT_PRESETS, MaskedVisionTransformer
from selfsup.utils.imports import import_optional
from selfsup.utils.registry import Registry

__all__ = [
    "BACKBONES",
    "FlattenedBackbone",
    "create_backbone",
    "get_backbone",
    "list_backbones",
    "measure_feature_dim",
]

#: Registry of our own backbones; values are factories ``(**kwargs) -> nn.Module``.
BACKBONES: Registry[Callable[..., nn.Module]] = Registry("backbone")

_TORCHVISION_PREFIX = "torchvision/"
_TIMM_PREFIX = "timm/"
_DEFAULT_INPUT_SIZE = 64
# torchvision models that need more than the default dummy size, and their defaults.
_TORCHVISION_INPUT_SIZE = {"inception_v3": 299, "maxvit_t": 224}
_TORCHVISION_DEFAULT_KWARGS = {
    "googlenet": {"aux_logits": False, "init_weights": False},
    "inception_v3": {"aux_logits": False, "init_weights": False},
}
_HEAD_ATTRIBUTES = ("fc", "classifier", "heads", "head")


def _register_resnet(name: str) -> None:
    def factory(
        *,
        width: float = 1.0,
        num_splits: int = 0,
        in_chans: int = 3,
        pool_size: int = 1,
        num_stages: int = 4,
        feature_norm: bool = False,
    ) -> nn.Module:
        return ResNetGenerator(
            name,
            width=width,
            num_classes=0,
            num_splits=num_splits,
            in_chans=in_chans,
            pool_size=pool_size,
            num_stages=num_stages,
            feature_norm=feature_norm,
        )

    factory.__doc__ = (
        f"{name} for small images (3x3 stem); kwargs: width, num_splits, in_chans, pool_size, "
        "num_stages, feature_norm."
    )
    BACKBONES.register(name)(factory)


def _register_vit(name: str) -> None:
    num_layers, num_heads, hidden_dim, mlp_dim = VIT_PRESETS[name]
    preset = {
        "num_layers": num_layers,
        "num_heads": num_heads,
        "hidden_dim": hidden_dim,
        "mlp_dim": mlp_dim,
    }

    def factory(**kwargs: Any) -> nn.Module:
        return MaskedVisionTransformer(**{**preset, **kwargs})

    factory.__doc__ = (
        f"{name} ({hidden_dim}-d, {num_layers} blocks); kwargs: image_size (224), "
        "patch_size (16), in_chans, and any MaskedVisionTransformer size to override."
    )
    BACKBONES.register(name)(factory)


for _name in RESNET_DEPTHS:
    _register_resnet(_name)
for _name in VIT_PRESETS:
    _register_vit(_name)


class FlattenedBackbone(nn.Module):
    """Wraps a feature extractor so that its output is flattened to ``(B, F)``.

    Args:
        model: Module mapping images to ``(B, ...)`` features (e.g. ``(B, F, 1, 1)``).
        num_features: ``F``; measured with :func:`measure_feature_dim` when None.
        input_size: Image side (or ``(H, W)``) for that measurement.
        in_chans: Image channels for that measurement.
    """

    def __init__(
        self,
        model: nn.Module,
        num_features: int | None = None,
        *,
        input_size: int | tuple[int, int] = _DEFAULT_INPUT_SIZE,
        in_chans: int = 3,
    ) -> None:
        super().__init__()
        self.model = model
        self.num_features = (
            num_features
            if num_features is not None
            else measure_feature_dim(model, input_size=input_size, in_chans=in_chans)
        )

    def forward(self, x: Tensor) -> Tensor:
        """Maps images ``(B, C, H, W)`` to features ``(B, num_features)``."""
        return self.model(x).flatten(start_dim=1)


def measure_feature_dim(
    model: nn.Module, *, input_size: int | tuple[int, int] = _DEFAULT_INPUT_SIZE, in_chans: int = 3
) -> int:
    """Size of the flattened output of ``model`` on a dummy batch.

    The forward runs in eval mode without gradients on ``(2, in_chans, H, W)`` zeros with the
    device and dtype of the model's first parameter; the training mode is restored afterwards.

    Args:
        model: Module taking images.
        input_size: ``H = W`` or ``(H, W)`` of the dummy images.
        in_chans: Channels of the dummy images.

    Returns:
        ``F`` such that ``model(x).flatten(1)`` has shape ``(B, F)``.

    Raises:
        ValueError: The dummy forward fails (the message names the input shape).
    """
    height, width = (input_size, input_size) if isinstance(input_size, int) else input_size
    param = next(model.parameters(), None)
    device = param.device if param is not None else None
    dtype = param.dtype if param is not None and param.is_floating_point() else None
    dummy = torch.zeros(2, in_chans, height, width, device=device, dtype=dtype)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(dummy)
    except (RuntimeError, ValueError, AssertionError) as error:
        raise ValueError(
            f"could not measure the feature size with a dummy input of shape "
            f"{tuple(dummy.shape)}: {error}; pass input_size=... (and in_chans=...)"
        ) from error
    finally:
        model.train(was_training)
    if not isinstance(out, Tensor) or out.ndim < 2:
        raise ValueError(
            f"backbone must return a tensor (B, ...), got {type(out).__name__} "
            f"{getattr(out, 'shape', '')}"
        )
    return int(out.flatten(start_dim=1).shape[1])


def _replace_first_conv(model: nn.Module, in_chans: int) -> None:
    """Replaces the first 3-channel ``Conv2d`` by one with ``in_chans`` input channels."""
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d) and module.in_channels == 3:
            pair = tuple[int, int]
            new = nn.Conv2d(
                in_chans,
                module.out_channels,
                cast(pair, module.kernel_size),
                stride=cast(pair, module.stride),
                padding=cast(pair | str, module.padding),
                dilation=cast(pair, module.dilation),
                groups=module.groups,
                bias=module.bias is not None,
                padding_mode=module.padding_mode,
            )
            parent_name, _, attribute = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, attribute, new)
            return
    raise ValueError(f"no 3-channel Conv2d found to adapt to in_chans={in_chans}")


def _remove_classifier(model: nn.Module, name: str) -> None:
    """Replaces the classification head by a global pool (if it pooled) or an identity."""
    for attribute in _HEAD_ATTRIBUTES:
        head = getattr(model, attribute, None)
        if isinstance(head, nn.Module):
            pools = any(isinstance(m, nn.AdaptiveAvgPool2d | nn.Conv2d) for m in head.modules())
            setattr(model, attribute, nn.AdaptiveAvgPool2d(1) if pools else nn.Identity())
            break
    else:
        raise ValueError(
            f"torchvision model {name!r} has none of the classifier attributes "
            f"{_HEAD_ATTRIBUTES}; pass the module itself to get_backbone instead"
        )
    pool = getattr(model, "avgpool", None)
    if isinstance(pool, nn.AdaptiveAvgPool2d) and pool.output_size not in (1, (1, 1)):
        model.avgpool = nn.AdaptiveAvgPool2d(1)


def _torchvision_backbone(name: str, in_chans: int, kwargs: dict[str, Any]) -> nn.Module:
    import torchvision  # imported on use: importing it costs seconds

    known = torchvision.models.list_models(module=torchvision.models)
    if name not in known:
        raise ValueError(
            f"unknown torchvision classification model {name!r}; known: {', '.join(known)}"
        )
    options = {**_TORCHVISION_DEFAULT_KWARGS.get(name, {}), **kwargs}
    if options.pop("weights", None) is not None:
        raise ValueError("weights must be None: selfsup never downloads pretrained weights")
    model = torchvision.models.get_model(name, weights=None, **options)
    _remove_classifier(model, name)
    if in_chans != 3:
        _replace_first_conv(model, in_chans)
    return model


def _timm_backbone(name: str, in_chans: int, kwargs: dict[str, Any]) -> nn.Module:
    timm = import_optional("timm", "timm")
    return timm.create_model(name, pretrained=False, num_classes=0, in_chans=in_chans, **kwargs)


def _default_input_size(model: nn.Module, name: str) -> int | tuple[int, int]:
    image_size = getattr(model, "image_size", None)
    if isinstance(image_size, int):
        return image_size
    patch_embed = getattr(model, "patch_embed", None)
    img_size = getattr(patch_embed, "img_size", None)
    if isinstance(img_size, tuple | list) and len(img_size) == 2:
        return int(img_size[0]), int(img_size[1])
    return _TORCHVISION_INPUT_SIZE.get(name, _DEFAULT_INPUT_SIZE)


def create_backbone(
    name_or_module: str | nn.Module,
    *,
    in_chans: int = 3,
    input_size: int | tuple[int, int] | None = None,
    **kwargs: Any,
) -> FlattenedBackbone:
    """Builds a backbone whose forward returns flattened features ``(B, num_features)``.

    Args:
        name_or_module: A registered name (``"resnet-18"``, ``"vit-small"``, see
            :func:`list_backbones`), ``"torchvision/<model>"`` (any torchvision
            classification model, random weights, the whole classification head removed
            (for ConvNeXt including its last LayerNorm), globally pooled),
            ``"timm/<model>"`` (needs the ``timm`` extra; ``num_classes=0``), or an
            ``nn.Module`` (its output is flattened).
        in_chans: Image channels (our models and timm take it directly; for torchvision the
            first 3-channel convolution is replaced).
        input_size: Image side or ``(H, W)`` for the dummy forward that measures the feature
            size; default: the model's own ``image_size`` (ViTs), else 64 (299 for
            inception_v3, 224 for maxvit_t).
        **kwargs: Passed to the model constructor (e.g. ``width=0.5`` for our ResNets,
            ``image_size=32, patch_size=4`` for our ViTs, torchvision/timm builder kwargs).

    Returns:
        A :class:`FlattenedBackbone` with ``num_features`` measured by a dummy forward.

    Raises:
        ValueError: Unknown name (the message lists the known ones) or a failed dummy forward.
        ImportError: ``timm/...`` without timm installed; names the ``timm`` extra.
        TypeError: ``name_or_module`` is neither a string nor an ``nn.Module``.
    """
    if isinstance(name_or_module, nn.Module):
        if kwargs:
            raise ValueError(
                f"model kwargs {sorted(kwargs)} cannot be applied to an existing module"
            )
        model, name = name_or_module, type(name_or_module).__name__
    elif isinstance(name_or_module, str):
        name = name_or_module
        if name.startswith(_TORCHVISION_PREFIX):
            name = name[len(_TORCHVISION_PREFIX) :]
            model = _torchvision_backbone(name, in_chans, kwargs)
        elif name.startswith(_TIMM_PREFIX):
            model = _timm_backbone(name[len(_TIMM_PREFIX) :], in_chans, kwargs)
        elif name in BACKBONES:
            model = BACKBONES.get(name)(in_chans=in_chans, **kwargs)
        else:
            raise ValueError(
                f"unknown backbone {name!r}; known: {', '.join(BACKBONES.names())}, "
                f"or '{_TORCHVISION_PREFIX}<model>' / '{_TIMM_PREFIX}<model>'"
            )
    else:
        raise TypeError(
            f"name_or_module must be a str or nn.Module, got {type(name_or_module).__name__}"
        )
    size = input_size if input_size is not None else _default_input_size(model, name)
    return FlattenedBackbone(model, input_size=size, in_chans=in_chans)


def get_backbone(
    name_or_module: str | nn.Module,
    *,
    in_chans: int = 3,
    input_size: int | tuple[int, int] | None = None,
    **kwargs: Any,
) -> tuple[nn.Module, int]:
    """Backbone and its feature size: ``(module, num_features)``; see :func:`create_backbone`.

    Example:
        >>> backbone, dim = get_backbone("resnet-18", width=0.5)  # dim == 256
        >>> backbone, dim = get_backbone("torchvision/mobilenet_v3_small")  # dim == 576
    """
    backbone = create_backbone(name_or_module, in_chans=in_chans, input_size=input_size, **kwargs)
    return backbone, backbone.num_features


def list_backbones(pattern: str = "*") -> list[str]:
    """Sorted backbone names matching a shell wildcard: ours, ``torchvision/<model>`` for
    every torchvision classification model, and ``timm/<model>`` when timm is installed."""
    import torchvision  # imported on use: importing it costs seconds

    names = BACKBONES.names()
    names += [
        _TORCHVISION_PREFIX + n for n in torchvision.models.list_models(module=torchvision.models)
    ]
    if importlib.util.find_spec("timm") is not None:
        timm = import_optional("timm", "timm")
        names += [_TIMM_PREFIX + n for n in timm.list_models()]
    return sorted(n for n in names if fnmatch.fnmatchcase(n, pattern))
