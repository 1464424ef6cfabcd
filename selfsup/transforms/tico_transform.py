"""TiCo views (Zhu et al., 2022): BYOL's asymmetric pair."""

from __future__ import annotations

from selfsup.transforms.byol_transform import BYOLTransform

__all__ = ["TiCoTransform"]


class TiCoTransform(BYOLTransform):
    """TiCo's two views, which use BYOL's augmentations (Zhu et al., 2022, "TiCo: Transformation
    Invariance and Covariance Contrast for Self-Supervised Visual Representation Learning").

    View 1: blur 1.0, no solarization; view 2: blur 0.1, solarization 0.2; color jitter
    (0.4, 0.4, 0.2, 0.1) with probability 0.8, grayscale 0.2, crop of 8-100% of the area.

    Input: PIL image or tensor ``(C, H, W)``, uint8 or float in [0, 1]. Output: list of 2 float
    tensors ``(3, input_size, input_size)``. Arguments as :class:`BYOLTransform`.
    """
