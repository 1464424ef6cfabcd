"""Indexing video files: frame names, and every frame's timestamp from one packet scan.

Each video frame is one dataset item named
``<video path without extension>-<frame index>-<extension>.png``, the frame index
zero-padded to the number of digits of the video's frame count (``clip-00153-mp4.png`` in
a video of 10,000-99,999 frames, ``sub/clip-0007-mov.png`` for ``sub/clip.mov`` with
1,000-9,999 frames). The extension keeps its case, so the name maps back to exactly one file.

Frame counts come from a *packet scan*, never from container metadata alone: the first
video stream is demuxed without decoding and every non-empty packet with a presentation
timestamp (pts) is one frame. Metadata lies or is missing in every common container
(Matroska/WebM store no count, MPEG program streams neither and often a wrong duration,
an AVI header count is whatever the writer put there, and a variable-frame-rate MP4 breaks
any index-to-time formula), while the scan yields what a decoder will actually see, plus
the sorted pts of every frame and which frames are keyframes: exactly what exact random
access needs (see :class:`~selfsup.data.video.VideoFrameReader`). Demuxing reads the file
but decodes nothing; it costs about as much as opening the file for short clips
(``benchmarks/video.py``) and runs in a thread pool, PyAV releasing the GIL while it reads.
``stream.frames`` is still recorded (``VideoInfo.metadata_frames``) for diagnosis.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

import numpy as np

from selfsup.utils.imports import import_optional

__all__ = [
    "VIDEO_EXTENSIONS",
    "VideoInfo",
    "frame_filename",
    "index_videos",
    "parse_frame_filename",
    "scan_video",
]

logger = logging.getLogger(__name__)

VIDEO_EXTENSIONS: Final[frozenset[str]] = frozenset(
    {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"}
)
"""Lower-case file extensions (with the dot) that are indexed as videos."""

_FRAME_NAME: Final = re.compile(r"(?P<stem>.+)-(?P<frame>[0-9]+)-(?P<ext>[A-Za-z0-9]+)\.png")


def frame_filename(video: str, frame: int, frame_count: int) -> str:
    """The item filename of one frame of a video.

    Args:
        video: The video's relative path, e.g. ``"sub/clip.mov"``.
        frame: Frame index in ``[0, frame_count)``.
        frame_count: Number of frames of the video; sets the zero padding width.

    Returns:
        ``<video without extension>-<frame, zero-padded>-<extension>.png``, e.g.
        ``"sub/clip-0007-mov.png"`` for a video of 1,000-9,999 frames.
    """
    stem, dot, extension = video.rpartition(".")
    if not dot:
        raise ValueError(f"video {video!r} has no file extension")
    return f"{stem}-{frame:0{len(str(frame_count))}d}-{extension}.png"


def parse_frame_filename(name: str) -> tuple[str, int] | None:
    """Splits a frame filename into ``(video relative path, frame index)``.

    The inverse of :func:`frame_filename` up to the padding width, which only the frame
    count can check. Dashes inside the video's own name are kept (the last
    ``-<digits>-<extension>.png`` is the frame part).

    Args:
        name: A relative name such as ``"sub/clip-0007-mov.png"``.

    Returns:
        ``("sub/clip.mov", 7)``, or None when ``name`` is not shaped like a frame name of a
        file with a video extension.
    """
    match = _FRAME_NAME.fullmatch(name)
    if match is None or f".{match['ext'].lower()}" not in VIDEO_EXTENSIONS:
        return None
    return f"{match['stem']}.{match['ext']}", int(match["frame"])


@dataclass(frozen=True, eq=False)
class VideoInfo:
    """What the packet scan learned about one video.

    Attributes:
        name: Relative path of the video (``/`` separators).
        pts: ``(frame_count,)`` int64, presentation timestamp of every frame in presentation
            order (strictly increasing), in the first video stream's time base.
        keyframes: ``(K,)`` int64, sorted indices of the frames that are keyframes.
        seekable: Whether frames are addressable by pts: every frame packet had a pts and no
            two frames share one. Otherwise ``pts`` is empty and frames are counted while
            decoding from the start of the file (correct, slower random access).
        metadata_frames: The stream's own frame count (``stream.frames``, 0 when absent),
            kept for diagnosis only.
        frame_count: Number of frames (from the scan).
    """

    name: str
    pts: np.ndarray
    keyframes: np.ndarray
    seekable: bool
    metadata_frames: int
    frame_count: int

    def frame_name(self, frame: int) -> str:
        """The item filename of frame ``frame`` (see :func:`frame_filename`)."""
        return frame_filename(self.name, frame, self.frame_count)


def scan_video(root: str, name: str) -> VideoInfo:
    """Counts the frames of one video with a packet scan (demux, no decoding).

    Args:
        root: Folder the name is relative to.
        name: Relative path of the video file.

    Returns:
        The video's :class:`VideoInfo`.

    Raises:
        ImportError: PyAV is not installed (names the ``video`` extra).
        ValueError: The file cannot be opened or demuxed, has no video stream or no frame;
            the message says why.
    """
    av = import_optional("av", "video")
    path = os.path.join(root, name)
    timestamps: list[int] = []
    keyframe_pts: list[int] = []
    packets = 0
    has_stream = False
    metadata_frames = 0
    try:
        with av.open(path, metadata_errors="ignore") as container:
            if container.streams.video:
                has_stream = True
                stream = container.streams.video[0]
                metadata_frames = int(stream.frames or 0)
                for packet in container.demux(stream):
                    if packet.size == 0 or packet.is_discard:
                        continue
                    packets += 1
                    if packet.pts is not None:
                        timestamps.append(packet.pts)
                        if packet.is_keyframe:
                            keyframe_pts.append(packet.pts)
    except Exception as error:  # PyAV raises many error types (FFmpegError, OSError, ...)
        raise ValueError(f"unreadable video ({error or type(error).__name__})") from error
    if not has_stream:
        raise ValueError("no video stream")
    if packets == 0:
        raise ValueError("no video frames")
    pts = np.sort(np.asarray(timestamps, dtype=np.int64))
    seekable = len(timestamps) == packets and bool(np.all(np.diff(pts) > 0))
    if not seekable:
        logger.info(
            "video %r in %r: frame timestamps missing or repeated; frames are counted "
            "from the start of the file on random access",
            name,
            root,
        )
        return VideoInfo(
            name=name,
            pts=np.empty(0, dtype=np.int64),
            keyframes=np.empty(0, dtype=np.int64),
            seekable=False,
            metadata_frames=metadata_frames,
            frame_count=packets,
        )
    keyframes = np.searchsorted(pts, np.asarray(keyframe_pts, dtype=np.int64))
    return VideoInfo(
        name=name,
        pts=pts,
        keyframes=np.unique(keyframes),
        seekable=True,
        metadata_frames=metadata_frames,
        frame_count=len(pts),
    )


def index_videos(
    root: str | os.PathLike[str], names: Sequence[str], *, max_workers: int | None = None
) -> tuple[list[VideoInfo | None], list[tuple[str, str]]]:
    """Scans many videos in parallel threads (see :func:`scan_video`).

    Every skipped video is logged once, as a warning naming it and the reason.

    Args:
        root: Folder the names are relative to.
        names: Relative paths of the videos.
        max_workers: Threads to use; default ``min(len(names), os.cpu_count(), 16)``.

    Returns:
        ``(infos, skipped)``: one :class:`VideoInfo` per name in the given order (None for a
        skipped video) and ``(name, reason)`` of every skipped video (unreadable, no video
        stream, zero frames).

    Raises:
        ImportError: PyAV is not installed (names the ``video`` extra).
        ValueError: ``max_workers`` is not a positive int.
    """
    if max_workers is not None and (
        not isinstance(max_workers, int) or isinstance(max_workers, bool) or max_workers < 1
    ):
        raise ValueError(f"max_workers must be None or a positive int, got {max_workers!r}")
    if not names:
        return [], []
    import_optional("av", "video")
    root_path = os.fspath(root)
    workers = max_workers or min(len(names), os.cpu_count() or 1, 16)

    def attempt(name: str) -> VideoInfo | str:
        try:
            return scan_video(root_path, name)
        except ValueError as error:
            return str(error)

    if workers == 1:
        results = [attempt(name) for name in names]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(attempt, names))
    infos: list[VideoInfo | None] = []
    skipped: list[tuple[str, str]] = []
    for name, result in zip(names, results, strict=True):
        if isinstance(result, VideoInfo):
            infos.append(result)
        else:
            infos.append(None)
            skipped.append((name, result))
            logger.warning("skipping video %r in %r: %s", name, root_path, result)
    return infos, skipped
