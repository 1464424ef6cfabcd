"""The public surface of selfsup.transforms: every exported name is documented."""

from __future__ import annotations

import importlib
import inspect

import pytest

import selfsup.transforms as transforms
from selfsup.transforms import IMAGENET_NORMALIZE

EXPORTED_MODULES = sorted(
    {
        getattr(transforms, name).__module__
        for name in transforms.__all__
        if inspect.isclass(getattr(transforms, name))
        or inspect.isfunction(getattr(transforms, name))
    }
    | {"selfsup.transforms.functional", "selfsup.transforms.utils"}
)


def test_every_exported_name_is_documented():
    for name in transforms.__all__:
        if name != "IMAGENET_NORMALIZE":
            assert inspect.getdoc(getattr(transforms, name)), f"{name} has no docstring"


@pytest.mark.parametrize("module_name", EXPORTED_MODULES)
def test_every_module_declares_all_and_documents_it(module_name):
    module = importlib.import_module(module_name)
    assert inspect.getdoc(module), f"{module_name} has no module docstring"
    assert isinstance(module.__all__, list) and module.__all__
    for name in module.__all__:
        obj = getattr(module, name)
        assert name in transforms.__all__ or module_name.endswith("functional")
        if callable(obj):
            assert inspect.getdoc(obj), f"{module_name}.{name} has no docstring"
        if inspect.isclass(obj):
            for method_name, method in inspect.getmembers(obj, inspect.isfunction):
                if not method_name.startswith("_") and method.__qualname__.startswith(name):
                    assert inspect.getdoc(method), f"{name}.{method_name} has no docstring"


def test_imagenet_normalize_values():
    assert IMAGENET_NORMALIZE == {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
