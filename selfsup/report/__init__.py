"""Reports on a data set's embeddings: the HTML map and the invariance analysis."""

from selfsup.report.invariance import (
    AUGMENTATION_FAMILIES,
    FamilyInvariance,
    InvarianceResult,
    measure_invariance,
)

__all__ = [
    "AUGMENTATION_FAMILIES",
    "FamilyInvariance",
    "InvarianceResult",
    "measure_invariance",
]
