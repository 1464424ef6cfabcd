"""Lazy import of optional dependencies, with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["import_optional"]


def import_optional(module: str, extra: str) -> ModuleType:
    """Imports ``module`` or raises an ``ImportError`` telling which pip extra provides it.

    Args:
        module: Importable module name, e.g. ``"av"``.
        extra: The selfsup extra that installs it, e.g. ``"video"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"{module!r} is needed for this feature but is not installed; "
            f'install it with: pip install "selfsup[{extra}]"'
        ) from error
