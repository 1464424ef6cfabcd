"""Every public name of selfsup.models has a docstring; package re-exports resolve."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = [
    "selfsup.models",
    "selfsup.models.backbones",
    "selfsup.models.batchnorm",
    "selfsup.models.resnet",
    "selfsup.models.tokens",
    "selfsup.models.utils",
    "selfsup.models.vision_transformer",
    "selfsup.models.modules",
    "selfsup.models.modules.heads",
    "selfsup.models.modules.mae_decoder",
    "selfsup.models.modules.memory_bank",
    "selfsup.models.modules.prototypes",
    "selfsup.utils.dist",
]


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_name_exists_and_is_documented(module_name):
    module = importlib.import_module(module_name)
    assert module.__doc__
    assert module.__all__, module_name
    for name in module.__all__:
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"{module_name}.{name} has no docstring"


SEED_NAMES = {
    "selfsup.models": ["ResNetGenerator"],
    "selfsup.models.modules": [
        "MemoryBankModule",
        "NNMemoryBankModule",
        "SimCLRProjectionHead",
        "MoCoProjectionHead",
        "SwaVPrototypes",
    ],
    "selfsup.models.modules.heads": ["MoCoProjectionHead", "SwaVPrototypes"],
    "selfsup.models.utils": [
        "batch_shuffle",
        "batch_unshuffle",
        "deactivate_requires_grad",
        "update_momentum",
    ],
}


def test_seed_compatible_names_exist_at_their_lightly_paths():
    modules = importlib.import_module("selfsup.models.modules")
    for module_name, names in SEED_NAMES.items():
        module = importlib.import_module(module_name)
        for name in names:
            assert name in module.__all__, f"{module_name}.{name}"
    heads = importlib.import_module("selfsup.models.modules.heads")
    assert heads.SwaVPrototypes is modules.SwaVPrototypes


def test_importing_selfsup_leaves_optional_dependencies_out():
    """STYLE rule 16: timm, av, faiss and umap load only inside the function that needs them."""
    import subprocess
    import sys

    code = (
        "import sys, selfsup, selfsup.models, selfsup.models.modules, selfsup.cli.main, selfsup.selection, "
        "selfsup.data, selfsup.report, selfsup.transforms.batched; "
        "print(*(name in sys.modules for name in ('timm', 'av', 'faiss', 'umap')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False", "False"]
