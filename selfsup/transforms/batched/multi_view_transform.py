"""Container that turns a batch of images into a list of view batches."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor
from torchvision.transforms.v2 import Compose, RandomResizedCrop

from selfsup.transforms._threads import cpu_single_thread
from selfsup.transforms.batched.jigsaw import BatchJigsaw
from selfsup.transforms.batched.view_transform import BatchViewTransform, check_batch
from selfsup.transforms.jigsaw import Jigsaw
from selfsup.transforms.view_transform import ViewTransform

__all__ = ["BatchMethodTransform", "BatchMultiViewTransform", "batch_views_of"]

_BATCHED = (BatchViewTransform, BatchJigsaw)


def _batch_view(view: Callable[[Any], Any]) -> Callable[..., Any]:
    """The batched equivalent of one per-sample view; other callables are kept as they are."""
    if isinstance(view, ViewTransform):
        return BatchViewTransform.from_view_transform(view)
    if (
        isinstance(view, Compose)
        and len(view.transforms) == 2
        and isinstance(view.transforms[0], RandomResizedCrop)
        and isinstance(view.transforms[1], ViewTransform)
    ):
        crop, rest = view.transforms
        return BatchViewTransform.from_view_transform(
            rest, input_size=crop.size, crop_scale=crop.scale, interpolation=crop.interpolation
        )
    if isinstance(view, Jigsaw):
        patch = view.patch_transform
        return BatchJigsaw(
            n_grid=view.n_grid,
            img_size=view.img_size,
            crop_size=view.crop_size,
            transform=None if patch is None else _batch_view(patch),
        )
    return view


def batch_views_of(
    per_sample_class: type, arguments: Mapping[str, Any]
) -> list[Callable[..., Any]]:
    """Builds a per-sample method transform and returns the batched equivalents of its views.

    The per-sample class checks the arguments (so both raise the same errors) and decides what
    each view does; every :class:`~selfsup.transforms.ViewTransform` view (also one behind a
    multi-crop ``RandomResizedCrop``) becomes a :class:`BatchViewTransform`, a
    :class:`~selfsup.transforms.Jigsaw` a :class:`BatchJigsaw`; any other callable (such as a
    user's ``view_1_transform``) is kept and must take the batch.

    Args:
        per_sample_class: A ``MultiViewTransform`` subclass such as ``SimCLRTransform``.
        arguments: Keyword arguments for it.

    Returns:
        One batched view callable per view, in the per-sample class's order.
    """
    per_sample = per_sample_class(**arguments)
    # A view object repeated per-sample (SimCLR's pair, DINO's local crops) stays one object, so
    # BatchMultiViewTransform can run its repeats as one call.
    converted: dict[int, Callable[..., Any]] = {}
    views = []
    for view in per_sample.transforms:
        if id(view) not in converted:
            converted[id(view)] = _batch_view(view)
        views.append(converted[id(view)])
    return views


class BatchMultiViewTransform:
    """Applies each batched view transform to the same batch; returns the list of view batches.

    The batched counterpart of :class:`~selfsup.transforms.MultiViewTransform`. Consecutive
    repeats of the same :class:`BatchViewTransform` object (SimCLR's two views, DINO's local
    crops) run as one call on the batch repeated ``n`` times, with independent parameters for
    every copy, and the result is split into ``n`` views: fewer, larger kernel launches.

    Input: tensor ``(B, C, H, W)``, C = 1 or 3, uint8 in [0, 255] or float in [0, 1], on any
    device. Output: ``[transforms[0](images), transforms[1](images), ...]``, each view a float
    tensor ``(B, ...)`` on the same device.

    Args:
        transforms: One callable per view taking the batch (a :class:`BatchViewTransform` or
            :class:`BatchJigsaw`, which also take ``generator``, or any callable of the batch);
            the same object may appear several times.
    """

    def __init__(self, transforms: Sequence[Callable[..., Any]]) -> None:
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

    def _runs(self) -> list[tuple[Callable[..., Any], int]]:
        """``(transform, count)`` for each run of consecutive identical transforms."""
        runs: list[tuple[Callable[..., Any], int]] = []
        for transform in self.transforms:
            if runs and runs[-1][0] is transform and isinstance(transform, BatchViewTransform):
                runs[-1] = (transform, runs[-1][1] + 1)
            else:
                runs.append((transform, 1))
        return runs

    def __call__(self, images: Tensor, *, generator: torch.Generator | None = None) -> list[Any]:
        """Returns one view batch per transform, in order.

        Args:
            images: ``(B, C, H, W)``, uint8 in [0, 255] or float in [0, 1].
            generator: Optional ``torch.Generator`` on the images' device, passed to the
                selfsup batched views.

        Returns:
            List of ``len(transforms)`` view batches.
        """
        check_batch(images)
        views: list[Any] = []
        with cpu_single_thread(images):
            for transform, count in self._runs():
                if not isinstance(transform, _BATCHED):
                    views.append(transform(images))
                elif count == 1:
                    views.append(transform(images, generator=generator))
                else:
                    repeated = images.repeat(count, 1, 1, 1)
                    views.extend(transform(repeated, generator=generator).chunk(count))
        return views

    def __len__(self) -> int:
        return len(self.transforms)

    def __repr__(self) -> str:
        views = "".join(f"\n  {transform!r}," for transform in self.transforms)
        return f"{type(self).__name__}([{views}\n])"


class BatchMethodTransform(BatchMultiViewTransform):
    """Base of the ``<Method>BatchTransform`` classes: a method's views, made batch-wise.

    A subclass names its per-sample counterpart in ``per_sample_class`` and so takes exactly
    its keyword arguments, with the same defaults (the class's signature is the per-sample
    class's) and the same errors: the per-sample class is built from the arguments and each of
    its views is converted by :func:`batch_views_of`.

    Args:
        **arguments: Keyword arguments of ``per_sample_class``.
    """

    per_sample_class: ClassVar[type]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__signature__ = inspect.signature(cls.per_sample_class)

    def __init__(self, **arguments: Any) -> None:
        super().__init__(batch_views_of(self.per_sample_class, arguments))
