import ast
import importlib
import pkgutil
from pathlib import Path

import selfsup.loss
from selfsup.loss.memory_bank import MemoryBankModule
from selfsup.models.modules import MemoryBankModule as ModelsMemoryBankModule

_PACKAGE_DIR = Path(selfsup.loss.__file__).parent


def test_every_public_name_has_a_docstring():
    assert len(selfsup.loss.__all__) >= 16
    for name in selfsup.loss.__all__:
        obj = getattr(selfsup.loss, name)
        assert obj.__doc__ and obj.__doc__.strip(), name


def test_every_module_declares_all_and_exports_exist():
    for info in pkgutil.iter_modules([str(_PACKAGE_DIR)]):
        module = importlib.import_module(f"selfsup.loss.{info.name}")
        assert hasattr(module, "__all__"), info.name
        for name in module.__all__:
            assert hasattr(module, name), f"{info.name}.{name}"


def test_seed_memory_bank_path():
    assert MemoryBankModule is ModelsMemoryBankModule


def test_losses_import_no_data_training_or_lightning():
    forbidden = ("selfsup.data", "selfsup.training", "lightning", "pytorch_lightning")
    for path in _PACKAGE_DIR.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"
