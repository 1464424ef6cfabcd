"""The backbone arguments of a run, shared by ``selfsup train`` and the commands that reload it."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from selfsup.models.backbones import BACKBONES
from selfsup.utils.config import ConfigError, check_kwargs

__all__ = ["backbone_arguments"]


def backbone_arguments(
    backbone: str,
    width: float | None,
    backbone_args: Mapping[str, Any] | None,
    method_backbone_kwargs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Keyword arguments of :func:`~selfsup.models.get_backbone` for a run's options.

    The three places a run can name them are merged, so that training and every command that
    rebuilds the run's backbone see the same arguments.

    Args:
        backbone: The backbone name; for selfsup's ResNets the keys are checked against the
            factory's arguments (ViT presets, torchvision and timm builders check their own).
        width: The ``width`` option (selfsup's ResNets), or None.
        backbone_args: The ``backbone_args`` option.
        method_backbone_kwargs: ``method_args.backbone_kwargs``, or None.

    Raises:
        ConfigError: a key the backbone does not take (the message lists the ones it does), a
            value of the wrong type, or one key given two different values.
    """
    kwargs: dict[str, Any] = {}
    sources = (
        ("method_args.backbone_kwargs", method_backbone_kwargs or {}),
        ("backbone_args", backbone_args or {}),
        ("", {} if width is None else {"width": width}),
    )
    named: dict[str, str] = {}
    for prefix, values in sources:
        for key, value in values.items():
            name = f"{prefix}.{key}" if prefix else key
            if key in kwargs and kwargs[key] != value:
                raise ConfigError(
                    f"{key} is given twice: {named[key]}={kwargs[key]} and {name}={value}"
                )
            kwargs[key], named[key] = value, name
    factory = BACKBONES.get(backbone) if backbone in BACKBONES else None
    if factory is not None and not _takes_any_keyword(factory):
        kwargs = check_kwargs(factory, kwargs, owner=f"backbone {backbone!r}")
    return kwargs


def _takes_any_keyword(fn) -> bool:
    return any(p.kind is p.VAR_KEYWORD for p in inspect.signature(fn).parameters.values())
