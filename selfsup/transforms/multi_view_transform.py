"""Container that turns one image into a list of views."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["MultiViewTransform"]


class MultiViewTransform:
    """Applies each transform to the same input and returns the list of results (the views).

    Input: whatever the transforms accept (for the method transforms: a PIL image or a tensor
    ``(C, H, W)``). Output: ``[transforms[0](image), transforms[1](image), ...]``.

    Args:
        transforms: One callable per view; the same object may appear several times.

    Example:
        >>> views = MultiViewTransform([view_a, view_b])(image)  # [view_a(image), view_b(image)]
    """

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        if isinstance(transforms, (str, bytes)) or not isinstance(transforms, Sequence):
            raise TypeError(f"transforms must be a sequence of callables, got {transforms!r}")
        if len(transforms) == 0:
            raise ValueError(
                "transforms must contain at least one transform, got an empty sequence"
            )
        for index, transform in enumerate(transforms):
            if not callable(transform):
                raise TypeError(f"transforms[{index}] must be callable, got {transform!r}")
        self.transforms = list(transforms)

    def __call__(self, image: Any) -> list[Any]:
        """Returns one view per transform, in order."""
        return [transform(image) for transform in self.transforms]

    def __len__(self) -> int:
        return len(self.transforms)

    def __repr__(self) -> str:
        views = "".join(f"\n  {transform!r}," for transform in self.transforms)
        return f"{type(self).__name__}([{views}\n])"
