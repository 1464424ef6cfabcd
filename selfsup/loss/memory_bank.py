"""Seed-compatible path ``selfsup.loss.memory_bank.MemoryBankModule``.

The memory bank lives in :mod:`selfsup.models.modules.memory_bank`; lightly's documentation
refers to it as ``lightly.loss.memory_bank.MemoryBankModule``, so it is re-exported here.
"""

from __future__ import annotations

from selfsup.models.modules.memory_bank import MemoryBankModule

__all__ = ["MemoryBankModule"]
