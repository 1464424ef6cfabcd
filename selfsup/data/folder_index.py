"""Fast, single-pass indexing of a folder tree of images.

One iterative ``os.scandir`` walk lists every image (by extension, any case) under a root
folder. File types come from the directory entries themselves (``DirEntry.is_dir`` /
``is_file``, which need no extra ``stat`` on Linux); only each directory costs one ``stat``,
for the symlink-cycle guard. With ``verify_headers`` each candidate's first 32 bytes are
read once to reject empty files and non-images early (5-10 us per file on a warm cache).

Conventions, shared by :class:`~selfsup.data.ImageDataset`:

- Filenames are paths relative to the root with ``/`` separators, sorted as strings.
- Targets: every first-level subfolder that holds at least one image is a class, numbered
  in sorted name order from 0 (the numbering of torchvision's ``ImageFolder`` when every
  subfolder holds images; folders without any image file are not classes). Images lying
  directly in the root form one more class named ``"."``, numbered last; in a flat folder
  that is class 0. Classes are decided before header checks and before any ``filenames``
  restriction, so a broken file never shifts another file's target.
- Names starting with ``.`` (hidden files, ``.git``, ``.ipynb_checkpoints``) are ignored.
- With ``videos=True`` video files (:data:`~selfsup.data.video_index.VIDEO_EXTENSIONS`)
  are listed too, in the same walk, in ``FolderIndex.videos``. Each video is one more
  class, named by its relative path and numbered after all image classes in sorted
  order, so image targets are the same with or without videos in the folder. Videos are
  only listed here; opening and counting their frames is
  :func:`~selfsup.data.video_index.index_videos`'s job.
- Symbolic links to directories are followed, after all real directories, and only into
  a directory not visited yet (same device and inode): link cycles terminate, a folder
  reachable both directly and through a link is listed once, under its real path, and
  the result never depends on the order the file system lists entries. Links to files
  are listed like files; broken links with an image extension are skipped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Final

from selfsup.data.image_loading import IMAGE_EXTENSIONS, check_image_header
from selfsup.data.video_index import VIDEO_EXTENSIONS, parse_frame_filename

__all__ = ["ROOT_CLASS", "FolderIndex", "index_image_folder"]

logger = logging.getLogger(__name__)

ROOT_CLASS: Final = "."
"""Class name of images lying directly in the indexed root folder."""


@dataclass
class FolderIndex:
    """The images found under one root folder.

    Attributes:
        root: The indexed folder, as given.
        filenames: Sorted relative paths (``/`` separators) of the usable images.
        targets: Class index of each entry of ``filenames``.
        classes: Class names; ``classes[target]`` names a target. First-level subfolder
            names in sorted order, then :data:`ROOT_CLASS` if the root holds images, then
            (``videos=True``) the relative path of every video file, sorted.
        skipped: ``(relative filename, reason)`` for every image-named file left out (and
            video-named broken links).
        videos: Sorted relative paths of the video files to index (``videos=True`` only;
            with ``filenames``, only the videos some requested frame name points into).
        video_targets: Class index of each entry of ``videos``.
        video_frames: With ``filenames``: for each entry of ``videos``, the requested
            frame names as sorted ``(frame index, name)`` pairs (the zero padding and the
            index are only checked once the frame count is known). Empty without
            ``filenames``.
    """

    root: str
    filenames: list[str] = field(default_factory=list)
    targets: list[int] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    videos: list[str] = field(default_factory=list)
    video_targets: list[int] = field(default_factory=list)
    video_frames: dict[str, list[tuple[int, str]]] = field(default_factory=dict)


def _dir_key(path: str) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino


def _scan(
    root: str, video_extensions: frozenset[str]
) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Lists image- and video-named files under ``root`` (unsorted) and broken entries.

    Real directories are walked first; symbolic links to directories are followed
    afterwards, in sorted order of their relative path, and only into directories not
    yet visited. So a folder reachable both directly and through a link is listed under
    its real path, and the result does not depend on the order ``scandir`` yields entries.
    """
    found: list[str] = []
    videos: list[str] = []
    broken: list[tuple[str, str]] = []
    extensions = IMAGE_EXTENSIONS
    visited = {_dir_key(root)}
    stack: list[tuple[str, str]] = [(root, "")]
    links: list[tuple[str, str]] = []
    while stack or links:
        if not stack:
            links.sort(key=lambda link: link[1], reverse=True)
            path, prefix = links.pop()
            key = _dir_key(path)
            if key not in visited:
                visited.add(key)
                stack.append((path, prefix))
            continue
        directory, prefix = stack.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                name = entry.name
                if name.startswith("."):
                    continue
                if entry.is_dir():
                    child = (entry.path, f"{prefix}{name}/")
                    if entry.is_symlink():
                        links.append(child)
                        continue
                    stat = entry.stat(follow_symlinks=False)
                    key = (stat.st_dev, stat.st_ino)
                    if key not in visited:
                        visited.add(key)
                        stack.append(child)
                else:
                    extension = name[name.rfind(".") :].lower()
                    if extension in extensions:
                        listing = found
                    elif extension in video_extensions:
                        listing = videos
                    else:
                        continue
                    if entry.is_file():
                        listing.append(prefix + name)
                    else:
                        broken.append((prefix + name, "broken link or not a regular file"))
    return found, videos, broken


def index_image_folder(
    root: str | os.PathLike[str],
    *,
    filenames: Collection[str] | None = None,
    verify_headers: bool = True,
    videos: bool = False,
) -> FolderIndex:
    """Indexes every image (and optionally video) under ``root`` recursively.

    See the module docstring for the rules. Every skipped file is logged once, as a
    warning naming it and the reason.

    Args:
        root: Folder to index.
        filenames: Optional relative names (as in ``FolderIndex.filenames``, or frame names
            as made by :func:`~selfsup.data.video_index.frame_filename` when ``videos``) to
            keep; the result keeps the sorted order, not the order given. Only these are
            checked.
        verify_headers: Check each image's magic bytes and skip empty files and
            non-images (recorded in ``skipped``). Files whose body is damaged pass this
            check and only fail when decoded.
        videos: Also list video files (``FolderIndex.videos``); a folder holding only
            videos is then valid.

    Returns:
        The :class:`FolderIndex`.

    Raises:
        ValueError: ``root`` does not exist, is not a directory or holds no usable image
            (and, with ``videos``, no video file); or a name in ``filenames`` is neither
            an image file under ``root`` nor (with ``videos``) a frame name of a video file
            under it.
    """
    root_path = os.fspath(root)
    if not os.path.isdir(root_path):
        what = "does not exist" if not os.path.exists(root_path) else "is not a directory"
        raise ValueError(f"image folder {root_path!r} {what}")
    found, found_videos, broken = _scan(root_path, VIDEO_EXTENSIONS if videos else frozenset())
    if not found and not found_videos and not broken:
        kinds = "image or video" if videos else "image"
        extensions = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS if videos else IMAGE_EXTENSIONS
        raise ValueError(
            f"image folder {root_path!r} contains no {kinds} files "
            f"(extensions: {', '.join(sorted(extensions))}, any case)"
        )
    found.sort()
    found_videos.sort()
    # First path component of each file ("" for files directly in the root).
    tops = {name.partition("/")[0] if "/" in name else "" for name in found}
    classes = sorted(tops - {""}) + ([ROOT_CLASS] if "" in tops else [])
    class_of = {name: target for target, name in enumerate(classes)}
    class_of[""] = class_of.get(ROOT_CLASS, -1)
    video_class = {name: len(classes) + position for position, name in enumerate(found_videos)}
    classes.extend(found_videos)

    video_frames: dict[str, list[tuple[int, str]]] = {}
    if filenames is not None:
        wanted = set(filenames)
        if not wanted:
            raise ValueError(f"filenames must name at least one image under {root_path!r}")
        broken_names = {name for name, _ in broken}
        missing = []
        for name in sorted(wanted.difference(found).difference(broken_names)):
            frame = parse_frame_filename(name) if videos else None
            if frame is not None and frame[0] in video_class:
                video_frames.setdefault(frame[0], []).append((frame[1], name))
            elif frame is not None and frame[0] in broken_names:
                wanted.add(frame[0])
            else:
                missing.append(name)
        if missing:
            shown = ", ".join(repr(name) for name in missing[:10])
            more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
            kinds = "image files or video frames" if videos else "image files"
            raise ValueError(f"filenames not found as {kinds} under {root_path!r}: {shown}{more}")
        found = [name for name in found if name in wanted]
        found_videos = [name for name in found_videos if name in video_frames]
        video_frames = {name: sorted(frames) for name, frames in video_frames.items()}
        broken = [entry for entry in broken if entry[0] in wanted]

    index = FolderIndex(
        root=root_path,
        classes=classes,
        skipped=list(broken),
        videos=found_videos,
        video_targets=[video_class[name] for name in found_videos],
        video_frames=video_frames,
    )
    if verify_headers:
        kept = []
        for name in found:
            reason = check_image_header(os.path.join(root_path, name))
            if reason is None:
                kept.append(name)
            else:
                index.skipped.append((name, reason))
        found = kept
    index.filenames = found
    index.targets = [class_of[name.partition("/")[0] if "/" in name else ""] for name in found]
    index.skipped.sort()
    for name, reason in index.skipped:
        logger.warning("skipping %r in %r: %s", name, root_path, reason)
    if not index.filenames and not index.videos:
        first_name, first_reason = index.skipped[0]
        raise ValueError(
            f"image folder {root_path!r} holds no usable image: all {len(index.skipped)} "
            f"image files were skipped (e.g. {first_name!r}: {first_reason})"
        )
    return index
