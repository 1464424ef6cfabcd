"""``ImageDataset``: a folder of images (or any torch dataset) as ``(image, target, filename)``.

The drop-in replacement for lightly's ``LightlyDataset``. Items come from internal
*sources*: a folder index of image files, the frames of one video
(:class:`~selfsup.data.video.VideoFrameSource`), or a wrapped torch dataset; a dataset maps
its global index onto the concatenation of its sources.
"""

from __future__ import annotations

import bisect
import logging
import os
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from selfsup.data.folder_index import FolderIndex, index_image_folder
from selfsup.data.image_loading import ImageDecodeError, load_image, load_image_tensor, to_rgb
from selfsup.data.undecoded import UndecodedImage
from selfsup.data.video import VideoFrameReader, VideoFrameSource
from selfsup.data.video_index import VideoInfo, index_videos

__all__ = ["ImageDataset"]

logger = logging.getLogger(__name__)

_DraftSize = int | tuple[int, int]


class _Source(Protocol):
    """A run of items: the images of a folder, the frames of one video, a torch dataset."""

    @property
    def filenames(self) -> Sequence[str]: ...

    def __len__(self) -> int: ...

    def item(self, index: int) -> tuple[Any, int]:
        """Returns ``(image, target)``; the image is an UndecodedImage for a damaged file."""
        ...


class _ImageFolderSource:
    """Image files listed by a folder index, decoded with :func:`load_image` (or
    :func:`load_image_tensor` with ``as_tensor``)."""

    def __init__(
        self,
        root: str,
        filenames: list[str],
        targets: list[int],
        draft_size: _DraftSize | None,
        as_tensor: bool = False,
    ) -> None:
        self.root = root
        self.filenames = filenames
        self.targets = targets
        self.draft_size = draft_size
        self.load = load_image_tensor if as_tensor else load_image

    def __len__(self) -> int:
        return len(self.filenames)

    def item(self, index: int) -> tuple[Image.Image | UndecodedImage, int]:
        filename = self.filenames[index]
        try:
            image = self.load(os.path.join(self.root, filename), draft_size=self.draft_size)
        except ImageDecodeError as error:
            return UndecodedImage(filename, error.reason), self.targets[index]
        return image, self.targets[index]


def _as_int_target(target: Any, index: int) -> int:
    if isinstance(target, (int, np.integer)):
        return int(target)
    if isinstance(target, torch.Tensor) and target.numel() == 1 and not target.is_floating_point():
        return int(target.item())
    if isinstance(target, np.ndarray) and target.size == 1 and target.dtype.kind in "iu":
        return int(target.item())
    raise TypeError(
        f"wrapped dataset item {index} has target {target!r} of type "
        f"{type(target).__name__}; expected an int class index"
    )


class _TorchDatasetSource:
    """Items ``(image, target)`` of a sized torch dataset; names ``00000.png``, ``00001.png``."""

    def __init__(self, dataset: Dataset[Any]) -> None:
        self.dataset = dataset
        count = len(dataset)  # type: ignore[arg-type]
        width = max(5, len(str(max(count - 1, 0))))
        self.filenames = [f"{index:0{width}d}.png" for index in range(count)]

    def __len__(self) -> int:
        return len(self.filenames)

    def item(self, index: int) -> tuple[Any, int]:
        image, target = self.dataset[index][:2]
        if isinstance(image, Image.Image):
            image = to_rgb(image)
        return image, _as_int_target(target, index)


def _video_sources(index: FolderIndex, infos: list[VideoInfo | None]) -> list[VideoFrameSource]:
    """One source per readable video, all sharing one reader; checks requested frame names."""
    reader = VideoFrameReader(index.root)
    sources = []
    missing = []
    for video, target, info in zip(index.videos, index.video_targets, infos, strict=True):
        if info is None:
            continue
        if video not in index.video_frames:
            sources.append(VideoFrameSource(reader, info, target))
            continue
        frames = []
        for frame, name in index.video_frames[video]:
            if frame < info.frame_count and info.frame_name(frame) == name:
                frames.append(frame)
            else:
                missing.append(f"{name!r} ({video!r} has {info.frame_count} frames)")
        if frames:
            kept = np.unique(np.asarray(frames, dtype=np.int64))
            sources.append(VideoFrameSource(reader, info, target, kept))
    if missing:
        shown = ", ".join(missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise ValueError(
            f"filenames not found as video frames under {index.root!r}: {shown}{more}; a "
            f"frame index is zero-padded to the digits of its video's frame count"
        )
    return sources


def _check_draft_size(draft_size: Any) -> _DraftSize | None:
    if draft_size is None:
        return None
    if isinstance(draft_size, int) and not isinstance(draft_size, bool) and draft_size > 0:
        return draft_size
    if (
        isinstance(draft_size, (tuple, list))
        and len(draft_size) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in draft_size)
    ):
        return (draft_size[0], draft_size[1])
    raise ValueError(
        f"draft_size must be None, a positive int or a (width, height) pair of positive "
        f"ints, got {draft_size!r}"
    )


class ImageDataset(Dataset[tuple[Any, int, str]]):
    """Every image and video frame under a folder, recursively, as ``(image, target, filename)``.

    Indexing is one ``os.scandir`` walk plus a 32-byte header read per file (100,000 files
    in about a second on a warm cache), see :mod:`selfsup.data.folder_index` for the
    rules: extensions jpg, jpeg, png, ppm, bmp, pgm, tif, tiff, webp in any case; sorted
    relative ``/`` filenames; hidden names ignored; symlinked folders followed once.

    Targets: each first-level subfolder holding images is a class (sorted names, numbered
    from 0, as torchvision's ``ImageFolder``); images directly in the root are the class
    ``"."``, numbered after the subfolders (0 in a flat folder). ``classes[target]`` names it.

    Videos (extensions mp4, mov, avi, mkv, webm, m4v, mpg, mpeg in any case; needs the
    ``video`` extra, PyAV, which an image-only folder never imports): every frame is an
    item. Items are all images first (sorted), then the frames of each video in order,
    videos sorted by relative path. A frame's filename is
    ``<video path without extension>-<frame index>-<extension>.png``, the index zero-padded
    to the digits of the video's frame count (``sub/clip-0007-mov.png``); ``filenames``
    accepts these names. A frame is the RGB image a player shows (display rotation applied;
    ``draft_size`` does not apply). Each video is a class of its own, named by its relative path and
    numbered after the image classes: in a folder of videos only, a frame's target is its
    video's index in sorted order; images keep the targets they have without videos.
    Frames are counted once, at indexing, by a packet scan in parallel threads (exact even
    where container metadata lies, see :mod:`selfsup.data.video_index`); access seeks to the
    keyframe before a frame and decodes forward, and sequential access never seeks (see
    :class:`~selfsup.data.video.VideoFrameReader`; each process, e.g. each DataLoader
    worker, opens its own files).

    Decoding (:func:`~selfsup.data.load_image`): every mode becomes 8-bit RGB, EXIF
    orientation applied, alpha composited over white, 16-bit scaled (not clipped).

    Bad files: a file whose header is not an image (empty, truncated header, text named
    ``.jpg``), and a video that cannot be opened or has no frame, is skipped at indexing
    with one logged warning and listed in ``skipped``; indices of the remaining files are
    unaffected by it. A file that only fails when decoded (e.g. a truncated JPEG body, a
    video frame the decoder does not produce, a video changed after indexing) yields
    ``(UndecodedImage(filename, reason), target, filename)`` at its own index (for a frame,
    ``filename`` is the frame's name), never another file's image; it is logged once
    and added to ``skipped`` in the process that decoded it (a DataLoader worker keeps its
    own list), and every selfsup collate function drops it. PIL's global
    ``LOAD_TRUNCATED_IMAGES`` switch is never touched.

    Args:
        input_dir: Folder of images and/or videos (or of class subfolders of them).
        transform: Applied to each decoded RGB PIL image, e.g. a ``selfsup.transforms``
            view transform; its output is returned as the item's image.
        filenames: Optional relative filenames (of images or video frames) to restrict the
            dataset to; the dataset keeps its order. A name that is neither an image file
            nor a frame of a video under the folder is an error.
        from_folder: Alias of ``input_dir`` (lightly's keyword); give only one of them.
        draft_size: Optional decode size hint, int ``s`` (both sides at least ``s``) or
            ``(width, height)``: JPEGs several times larger are decoded at 1/2, 1/4 or 1/8
            scale, never below the hint. ``input_size / sqrt(min_scale)`` keeps even the
            smallest random crops at full resolution (e.g. 224 / sqrt(0.08) ~ 800).
        verify_headers: Check file headers while indexing (default True).
        decode_to_tensor: Decode image files into uint8 ``(3, H, W)`` tensors
            (:func:`~selfsup.data.image_loading.load_image_tensor`, libjpeg-turbo straight into
            a tensor for JPEGs) instead of PIL images; the transform then receives a tensor for
            image files (video frames stay PIL images). For transforms that take either, such as
            :class:`~selfsup.transforms.batched.DecodeResize`.

    Attributes:
        input_dir: The indexed folder (None for a wrapped torch dataset).
        transform: The transform; may be replaced at any time.
        classes: Class names, ``classes[target]``.
        skipped: ``(filename, reason)`` of every file left out or found undecodable.

    Raises:
        ValueError: The folder is missing, not a directory, or holds no usable image or
            video; both or neither of ``input_dir`` and ``from_folder`` are given; a
            requested filename does not exist; ``draft_size`` is invalid.
        ImportError: The folder holds videos and PyAV is not installed (the message says
            ``pip install "selfsup[video]"``).

    Example:
        >>> dataset = ImageDataset("path/to/images", transform=SimCLRTransform())
        >>> (view_0, view_1), target, filename = dataset[0]
    """

    def __init__(
        self,
        input_dir: str | os.PathLike[str] | None = None,
        transform: Callable[[Image.Image], Any] | None = None,
        filenames: Sequence[str] | None = None,
        *,
        from_folder: str | os.PathLike[str] | None = None,
        draft_size: _DraftSize | None = None,
        verify_headers: bool = True,
        decode_to_tensor: bool = False,
    ) -> None:
        if input_dir is not None and from_folder is not None:
            raise ValueError(
                f"give the folder once, as input_dir or from_folder, not both "
                f"(got input_dir={os.fspath(input_dir)!r}, from_folder={os.fspath(from_folder)!r})"
            )
        folder = input_dir if input_dir is not None else from_folder
        if folder is None:
            raise ValueError(
                "input_dir (or from_folder) is required; "
                "use ImageDataset.from_torch_dataset(...) to wrap a torch dataset"
            )
        if isinstance(filenames, str):
            raise TypeError(f"filenames must be a sequence of names, got the string {filenames!r}")
        checked_draft = _check_draft_size(draft_size)
        index = index_image_folder(
            folder, filenames=filenames, verify_headers=verify_headers, videos=True
        )
        sources: list[_Source] = []
        if index.filenames:
            sources.append(
                _ImageFolderSource(
                    index.root, index.filenames, index.targets, checked_draft, decode_to_tensor
                )
            )
        skipped = list(index.skipped)
        if index.videos:
            infos, video_skips = index_videos(index.root, index.videos)
            skipped = sorted(skipped + video_skips)
            sources.extend(_video_sources(index, infos))
        if not sources:
            first_name, first_reason = skipped[0]
            raise ValueError(
                f"image folder {index.root!r} holds no usable image or video: all "
                f"{len(skipped)} files were skipped (e.g. {first_name!r}: {first_reason})"
            )
        self._setup(
            sources=sources,
            transform=transform,
            classes=index.classes,
            skipped=skipped,
            input_dir=index.root,
        )

    def _setup(
        self,
        *,
        sources: list[_Source],
        transform: Callable[[Any], Any] | None,
        classes: list[str],
        skipped: list[tuple[str, str]],
        input_dir: str | None,
    ) -> None:
        self._sources = sources
        self._starts = [0]
        for source in sources:
            self._starts.append(self._starts[-1] + len(source))
        self.transform = transform
        self.classes = classes
        self.skipped = skipped
        self.input_dir = input_dir
        self._reported: set[str] = set()

    @classmethod
    def from_torch_dataset(
        cls, dataset: Dataset[Any], transform: Callable[[Any], Any] | None = None
    ) -> ImageDataset:
        """Wraps a sized torch dataset of ``(image, target)`` items.

        The transform IS applied to every image (lightly-ai/lightly#521 was the bug where it
        was not). PIL images are converted to RGB first (e.g. MNIST's ``L``); tensors and
        arrays are passed to the transform unchanged. Filenames are zero-padded indices with
        at least 5 digits, ``"00000.png"``, ``"00001.png"``, ...; ``classes`` is taken from
        the wrapped dataset's ``classes`` attribute when it has one.

        Args:
            dataset: A map-style dataset with ``__len__`` returning ``(image, target, ...)``
                tuples, ``target`` an int (or a one-element tensor).
            transform: Applied to each image.

        Returns:
            The wrapping :class:`ImageDataset`.

        Raises:
            TypeError: ``dataset`` is not map-style (no ``__len__`` or ``__getitem__``).
        """
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(
                f"dataset must be a map-style dataset with __len__ and __getitem__, "
                f"got {type(dataset).__name__}"
            )
        wrapped = cls.__new__(cls)
        wrapped._setup(
            sources=[_TorchDatasetSource(dataset)],
            transform=transform,
            classes=[str(name) for name in getattr(dataset, "classes", [])],
            skipped=[],
            input_dir=None,
        )
        return wrapped

    def __len__(self) -> int:
        return self._starts[-1]

    def get_filenames(self) -> list[str]:
        """All filenames in index order (relative to the folder, ``/`` separators)."""
        return [name for source in self._sources for name in source.filenames]

    def get_image(self, index: int) -> Image.Image | UndecodedImage | Any:
        """The decoded image (or video frame) at ``index``, without the transform.

        This is what a frame extractor needs: ``ImageDataset(folder).get_image(i)`` (or
        ``ImageDataset(folder)[i][0]``, the transform being None) is the RGB PIL image of
        item ``i``, uint8 in [0, 255], whatever transform the dataset has.

        Args:
            index: Position in ``[-len, len)``.

        Returns:
            An RGB PIL image, an :class:`UndecodedImage` for a damaged file or frame (logged
            and added to ``skipped`` like in ``__getitem__``), or, for a wrapped torch
            dataset, its image as it is.

        Raises:
            IndexError: ``index`` is out of range.
        """
        return self._load(index)[0]

    def _load(self, index: int) -> tuple[Any, int, str]:
        length = len(self)
        if not -length <= index < length:
            raise IndexError(f"index {index} is out of range for a dataset of {length} items")
        if index < 0:
            index += length
        which = bisect.bisect_right(self._starts, index) - 1
        source = self._sources[which]
        local = index - self._starts[which]
        filename = source.filenames[local]
        image, target = source.item(local)
        if isinstance(image, UndecodedImage) and filename not in self._reported:
            self._reported.add(filename)
            self.skipped.append((filename, image.reason))
            logger.warning(
                "cannot decode %r in %r: %s; selfsup collate functions drop it",
                filename,
                self.input_dir,
                image.reason,
            )
        return image, target, filename

    def __getitem__(self, index: int) -> tuple[Any, int, str]:
        """Returns ``(image, target, filename)`` for one index.

        Args:
            index: Position in ``[-len, len)``.

        Returns:
            ``image`` is the transform's output (an RGB PIL image, uint8 in [0, 255], when
            ``transform`` is None), or an :class:`UndecodedImage` for a damaged file;
            ``target`` is the class index; ``filename`` the relative name.

        Raises:
            IndexError: ``index`` is out of range.
        """
        image, target, filename = self._load(index)
        if self.transform is not None and not isinstance(image, UndecodedImage):
            image = self.transform(image)
        return image, target, filename
