"""The public surface of selfsup.transforms.batched: every exported name is documented."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import selfsup.transforms.batched as batched

MODULES = sorted(
    f"selfsup.transforms.batched.{info.name}" for info in pkgutil.iter_modules(batched.__path__)
)


def test_every_exported_name_is_documented():
    for name in batched.__all__:
        assert inspect.getdoc(getattr(batched, name)), f"{name} has no docstring"


def test_every_module_declares_all_and_documents_its_names():
    assert len(MODULES) >= 10
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        assert inspect.getdoc(module), f"{module_name} has no module docstring"
        assert isinstance(module.__all__, list) and module.__all__, module_name
        for name in module.__all__:
            obj = getattr(module, name)
            private = module_name.rsplit(".", 1)[1].startswith("_")
            assert name in batched.__all__ or private or module_name.endswith("functional"), name
            if callable(obj):
                assert inspect.getdoc(obj), f"{module_name}.{name} has no docstring"
