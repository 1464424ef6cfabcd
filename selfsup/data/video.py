"""Exact frame access into indexed videos: seek to a keyframe, decode forward, reuse.

:class:`VideoFrameReader` returns frame ``i`` of a video as an RGB PIL image, using the
per-frame timestamps of the packet scan (:mod:`selfsup.data.video_index`):

- Random access seeks to the last keyframe at or before frame ``i`` (by that keyframe's
  pts) and decodes forward, letting the decoder drop non-reference frames that present
  before frame ``i`` (``skip_frame = NONREF``; about 20 % faster on H.264 with B-frames);
  every decoded frame is identified by its pts, so the frame returned is frame ``i``
  whatever the container's metadata claims. Should the decoder not produce it after the
  seek (a seek that lands late, frames dropped after a jump), the reader seeks once more
  from the keyframe before, then decodes every frame from the start of the file.
- Sequential access (``i + 1`` after ``i``) and short jumps forward inside the same group
  of pictures never seek: the open container and its decoder iterator are kept per video,
  for the ``max_open`` most recently used videos of the process (LRU).
- Videos whose frames have no usable timestamps (``VideoInfo.seekable`` False) are decoded
  from the start and frames counted; correct, but random access costs a decode from 0.
- Frames come out the way a player shows them: a rotation stored in the stream's display
  matrix (phones filming upright) is applied, in multiples of 90 degrees, as images have
  their EXIF orientation applied; mirroring in the matrix is not.

Process safety: containers are opened lazily, in the process that reads. A pickled reader
(spawned DataLoader workers) carries no container; a forked one (forked DataLoader workers)
notices the new process id and sets the containers inherited from its parent aside, never
using them. Decoding and RGB conversion run on one thread: DataLoader workers are the
parallelism, and a decoder or scaler with threads of its own, once inherited by a forked
process, hangs it when freed there (even by the garbage collector), its threads existing
only in the parent. One lock per reader serialises threads of the same process.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np
from PIL import Image

from selfsup.data.undecoded import UndecodedImage
from selfsup.data.video_index import VideoInfo
from selfsup.utils.imports import import_optional

__all__ = ["VideoDecodeError", "VideoFrameReader", "VideoFrameSource"]

# Containers a forked process inherited: kept referenced so that they are never freed there.
_INHERITED: list[Any] = []


class VideoDecodeError(OSError):
    """A frame of an indexed video could not be decoded.

    Args:
        video: The video's relative path.
        frame: The frame index asked for.
        reason: Why, e.g. the decoder's error message.
    """

    def __init__(self, video: str, frame: int, reason: str) -> None:
        super().__init__(f"cannot decode frame {frame} of video {video!r}: {reason}")
        self.video = video
        self.frame = frame
        self.reason = reason


class _Missed(Exception):
    """The decoder went past the wanted frame (or ended) without producing it."""


class _OpenVideo:
    """An open container, its decoder iterator and the index of the frame it yields next.

    While ``skip_before`` is a pts, packets presenting before it are decoded with
    ``skip_frame = NONREF``: a frame no other frame refers to and that comes before the
    wanted one is never needed, so the decoder drops it (B-frames, most of them in H.264).
    """

    def __init__(self, container: Any) -> None:
        self.container = container
        self.stream = container.streams.video[0]
        self.stream.codec_context.thread_count = 1
        self.skip_before: int | None = None
        self.frames: Iterator[Any] = self._decode()
        self.next_frame: int | None = 0

    def _decode(self) -> Iterator[Any]:
        context = self.stream.codec_context
        skipping = False
        for packet in self.container.demux(self.stream):
            skip = (
                self.skip_before is not None
                and packet.pts is not None
                and packet.pts < self.skip_before
            )
            if skip != skipping:
                context.skip_frame = "NONREF" if skip else "DEFAULT"
                skipping = skip
            yield from packet.decode()

    def restart(self) -> None:
        """Starts a new decoder iterator (after a seek)."""
        self.frames = self._decode()
        self.next_frame = None

    def close(self) -> None:
        self.container.close()


class VideoFrameReader:
    """Decodes frames of indexed videos, keeping recently used videos open (LRU).

    Args:
        root: Folder the video names (``VideoInfo.name``) are relative to.
        max_open: Videos kept open per process (each holds a file and a decoder).

    Attributes:
        root: The folder.
        max_open: The LRU size.
        opens: Containers opened by this process.
        seeks: ``container.seek`` calls made by this process (0 over a sequential pass).

    Raises:
        ValueError: ``max_open`` is not a positive int.
    """

    def __init__(self, root: str | os.PathLike[str], *, max_open: int = 4) -> None:
        if not isinstance(max_open, int) or isinstance(max_open, bool) or max_open < 1:
            raise ValueError(f"max_open must be a positive int, got {max_open!r}")
        self.root = os.fspath(root)
        self.max_open = max_open
        self.opens = 0
        self.seeks = 0
        self._start_process()

    def _start_process(self) -> None:
        if getattr(self, "_videos", None):
            _INHERITED.append(self._videos)
        self._videos: OrderedDict[str, _OpenVideo] = OrderedDict()
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in ("_videos", "_lock", "_pid"):
            del state[key]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._start_process()

    def close(self) -> None:
        """Closes every video this process holds open."""
        if self._pid != os.getpid():
            self._start_process()
            return
        with self._lock:
            while self._videos:
                self._videos.popitem(last=False)[1].close()

    def read(self, info: VideoInfo, frame: int) -> Image.Image:
        """Decodes one frame.

        Args:
            info: The video, as indexed by :func:`~selfsup.data.video_index.scan_video`.
            frame: Frame index in ``[0, info.frame_count)``, presentation order.

        Returns:
            The frame as an ``RGB`` PIL image, uint8 in [0, 255], at the stream's size.

        Raises:
            IndexError: ``frame`` is out of range.
            VideoDecodeError: The file cannot be opened any more, or the decoder does not
                produce the frame.
        """
        if not 0 <= frame < info.frame_count:
            raise IndexError(
                f"frame {frame} is out of range for video {info.name!r} of "
                f"{info.frame_count} frames"
            )
        if self._pid != os.getpid():
            self._start_process()
        with self._lock:
            try:
                return self._read(info, frame)
            except Exception as error:  # PyAV raises many error types for damaged files
                dropped = self._videos.pop(info.name, None)
                if dropped is not None:
                    _close_quietly(dropped)
                if isinstance(error, _Missed):
                    reason = str(error)
                else:
                    reason = f"{type(error).__name__}: {error}"
                raise VideoDecodeError(info.name, frame, reason) from error

    def _read(self, info: VideoInfo, frame: int) -> Image.Image:
        video = self._videos.get(info.name)
        if video is not None:
            self._videos.move_to_end(info.name)
        if not info.seekable:
            if video is None or video.next_frame is None or video.next_frame > frame:
                video = self._open(info)
            return self._decode_to(video, info, frame, skip=False)
        if video is None:
            video = self._open(info)
        keyframe = _keyframe_before(info, frame)
        # Where to decode from: here (no seek), the keyframe, the keyframe before it.
        starts: list[int | None] = [None] if _reachable(video, info, frame) else []
        starts.append(keyframe)
        if keyframe > 0:
            starts.append(_keyframe_before(info, keyframe - 1))
        for start in starts:
            if start is not None:
                self._seek(video, info, start)
            try:
                return self._decode_to(video, info, frame, skip=True)
            except _Missed:
                continue
        return self._decode_to(self._open(info), info, frame, skip=False)

    def _open(self, info: VideoInfo) -> _OpenVideo:
        av = import_optional("av", "video")
        old = self._videos.pop(info.name, None)
        if old is not None:
            old.close()
        while len(self._videos) >= self.max_open:
            self._videos.popitem(last=False)[1].close()
        video = _OpenVideo(av.open(os.path.join(self.root, info.name), metadata_errors="ignore"))
        self._videos[info.name] = video
        self.opens += 1
        return video

    def _seek(self, video: _OpenVideo, info: VideoInfo, keyframe: int) -> None:
        video.container.seek(int(info.pts[keyframe]), stream=video.stream, backward=True)
        self.seeks += 1
        video.restart()

    def _decode_to(
        self, video: _OpenVideo, info: VideoInfo, frame: int, *, skip: bool
    ) -> Image.Image:
        """Decodes forward to ``frame``; ``skip`` lets the decoder drop unneeded frames."""
        video.skip_before = int(info.pts[frame]) if skip else None
        for decoded in video.frames:
            index = _identify(video, info, decoded.pts)
            video.next_frame = index + 1
            if index == frame:
                return _upright(Image.fromarray(_rgb_array(decoded), mode="RGB"), decoded)
            if index > frame:
                raise _Missed(f"the decoder skipped it (next frame decoded: {index})")
        raise _Missed(
            f"the decoder ended before it (last frame decoded: "
            f"{'unknown' if video.next_frame is None else video.next_frame - 1})"
        )


def _rgb_array(frame: Any) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB pixels of a decoded frame, converted on this thread only."""
    try:
        return frame.to_ndarray(format="rgb24", threads=1)
    except TypeError:  # PyAV < 17 has no `threads` option and scales on one thread anyway
        return frame.to_ndarray(format="rgb24")


_TURNS = {
    90: Image.Transpose.ROTATE_90,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_270,
}


def _upright(image: Image.Image, frame: Any) -> Image.Image:
    """Applies the frame's display rotation (counter-clockwise degrees, PyAV >= 13)."""
    rotation = getattr(frame, "rotation", 0) or 0
    turn = _TURNS.get(round(rotation / 90) * 90 % 360)
    return image if turn is None else image.transpose(turn)


def _close_quietly(video: _OpenVideo) -> None:
    try:
        video.close()
    except Exception:  # closing a damaged container must not hide the original error
        return


def _keyframe_before(info: VideoInfo, frame: int) -> int:
    """Index of the last keyframe at or before ``frame`` (0 when there is none)."""
    position = int(np.searchsorted(info.keyframes, frame, side="right")) - 1
    return int(info.keyframes[position]) if position >= 0 else 0


def _reachable(video: _OpenVideo, info: VideoInfo, frame: int) -> bool:
    """Whether decoding forward from where ``video`` is costs no more than a seek would."""
    here = video.next_frame
    return here is not None and here <= frame and _keyframe_before(info, frame) <= here


def _identify(video: _OpenVideo, info: VideoInfo, pts: int | None) -> int:
    """The index of a decoded frame: by its pts when known, else by counting.

    Counting needs a known position and every frame output, so not after frames were
    skipped (``skip_before``).
    """
    if info.seekable and pts is not None:
        position = int(np.searchsorted(info.pts, pts))
        if position < len(info.pts) and int(info.pts[position]) == pts:
            return position
    if video.next_frame is None or video.skip_before is not None:
        raise _Missed("a decoded frame's timestamp matches no indexed frame")
    return video.next_frame


class _FrameNames(Sequence[str]):
    """The filenames of a video's frames, made on demand (no list of millions of strings)."""

    def __init__(self, info: VideoInfo, frames: np.ndarray | None) -> None:
        self.info = info
        self.frames = frames

    def __len__(self) -> int:
        return self.info.frame_count if self.frames is None else len(self.frames)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(f"frame name index {index} out of range")
        position = index % len(self)
        frame = position if self.frames is None else int(self.frames[position])
        return self.info.frame_name(frame)


class VideoFrameSource:
    """The frames of one video as dataset items ``(image, target)``, for ``ImageDataset``.

    Args:
        reader: The (shared) reader that decodes frames.
        info: The indexed video.
        target: The target of every frame of this video.
        frames: Optional sorted ``(N,)`` int array of the frame indices to keep; all frames
            when None.

    Attributes:
        filenames: Frame filenames in item order (a lazy sequence).
    """

    def __init__(
        self,
        reader: VideoFrameReader,
        info: VideoInfo,
        target: int,
        frames: np.ndarray | None = None,
    ) -> None:
        self.reader = reader
        self.info = info
        self.target = target
        self.frames = frames
        self.filenames = _FrameNames(info, frames)

    def __len__(self) -> int:
        return len(self.filenames)

    def item(self, index: int) -> tuple[Image.Image | UndecodedImage, int]:
        """Decodes item ``index``: ``(RGB PIL image or UndecodedImage, target)``."""
        frame = index if self.frames is None else int(self.frames[index])
        try:
            return self.reader.read(self.info, frame), self.target
        except VideoDecodeError as error:
            return UndecodedImage(self.filenames[index], error.reason), self.target
