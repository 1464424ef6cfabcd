"""``selfsup.extract``: write exactly the listed images and video frames of a dataset to a folder.

The last step of the chain ``train -> embed -> select -> extract``: ``selected_filenames.txt``
from ``selfsup select`` names items of an :class:`~selfsup.data.ImageDataset` (image files,
or video frames such as ``clip-00153-mp4.png``); this writes each of them, decoded through the
dataset, as an RGB PNG or JPEG under the same relative path. Only the dataset's public API is
used (``ImageDataset(dir, filenames=...)``, ``get_filenames()``, ``skipped``, ``dataset[i]``),
so every kind of item the dataset yields can be extracted.
"""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from PIL import Image

from selfsup.data import ImageDataset, is_undecoded
from selfsup.pipeline._files import write_atomically
from selfsup.utils.config import ConfigError, build_config, choices, option

__all__ = ["ExtractConfig", "ExtractResult", "MissingFilesError", "extract"]

logger = logging.getLogger(__name__)

_FORMATS = {"png": "png", "jpg": "jpg", "jpeg": "jpg"}
_PIL_FORMATS = {"png": "PNG", "jpg": "JPEG"}
_JPEG_QUALITY = 95
_SHOWN = 20
_PROGRESS_EVERY = 1000


@dataclasses.dataclass
class ExtractConfig:
    """Options of ``selfsup extract`` (and keyword arguments of :func:`selfsup.extract`)."""

    data: str | None = option("folder of images / videos the names refer to (required)")
    filenames: str | None = option(
        "text file of names, one per line, e.g. selected_filenames.txt from selfsup select "
        "(required; in Python also a list of names)"
    )
    out: str | None = option("folder to write the images into (required)")
    format: str = choices(list(_FORMATS), "png", "image format of the written files")
    overwrite: bool = option("replace existing files whose content differs", False)


class MissingFilesError(ValueError):
    """Some listed names were not written: not found in the data, or not decodable.

    Raised by :func:`extract` after every other listed item has been written.

    Attributes:
        missing: Listed names that are no item of the dataset.
        undecodable: ``(name, reason)`` of listed items that could not be decoded.
        result: The :class:`ExtractResult` of what was written.
    """

    def __init__(
        self, missing: list[str], undecodable: list[tuple[str, str]], result: ExtractResult
    ) -> None:
        self.missing = missing
        self.undecodable = undecodable
        self.result = result
        parts = []
        if missing:
            parts.append(f"{len(missing)} not found in {str(result.data)!r}: {_shown(missing)}")
        if undecodable:
            named = [f"{name} ({reason})" for name, reason in undecodable]
            parts.append(f"{len(undecodable)} could not be decoded: {_shown(named)}")
        super().__init__(
            f"{len(missing) + len(undecodable)} of {result.listed} listed files were not "
            f"extracted; {'; '.join(parts)}; the other {len(result.written) + len(result.skipped)} "
            f"are in {str(result.out)!r}"
        )


@dataclasses.dataclass
class ExtractResult:
    """What :func:`selfsup.extract` did, in the dataset's order.

    Attributes:
        data: The data folder.
        out: The output folder.
        format: ``"png"`` or ``"jpg"``.
        listed: Number of distinct names listed.
        written: Paths written by this call (including the replaced ones).
        replaced: Paths among ``written`` that replaced a different existing file.
        skipped: Paths that already held an identical image and were left as they were.
        missing: Listed names that are no item of the dataset.
        undecodable: ``(name, reason)`` of listed items that could not be decoded.
    """

    data: Path
    out: Path
    format: str
    listed: int
    written: list[Path] = dataclasses.field(default_factory=list)
    replaced: list[Path] = dataclasses.field(default_factory=list)
    skipped: list[Path] = dataclasses.field(default_factory=list)
    missing: list[str] = dataclasses.field(default_factory=list)
    undecodable: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    @property
    def summary(self) -> dict[str, Any]:
        """The headline counts as a JSON-serialisable dict (what the command line prints)."""
        return {
            "data": str(self.data),
            "out": str(self.out),
            "format": self.format,
            "listed": self.listed,
            "written": len(self.written),
            "replaced": len(self.replaced),
            "skipped_identical": len(self.skipped),
            "missing": len(self.missing),
            "undecodable": len(self.undecodable),
        }


def _shown(names: Sequence[str]) -> str:
    shown = ", ".join(repr(name) for name in names[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def _read_names(filenames: str | Path | Sequence[str]) -> list[str]:
    """The listed names, stripped, blank ones dropped, duplicates removed (first kept)."""
    if isinstance(filenames, (str, Path)):
        path = Path(filenames)
        if not path.is_file():
            raise ValueError(f"filenames file {str(path)!r} does not exist")
        raw: Sequence[Any] = path.read_text().splitlines()
    else:
        raw = filenames
    names = []
    for value in raw:
        if not isinstance(value, str):
            raise TypeError(f"filenames must hold strings, got {value!r} of type {type(value)}")
        if value.strip():
            names.append(value.strip())
    if not names:
        raise ValueError(f"filenames {str(filenames)!r} lists no names")
    return list(dict.fromkeys(names))


def _targets(names: list[str], out: Path, fmt: str) -> dict[str, Path]:
    """Maps each name to its output path; rejects names leaving ``out`` and collisions."""
    targets: dict[str, Path] = {}
    owner: dict[Path, str] = {}
    for name in names:
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts or not relative.name:
            raise ValueError(
                f"listed name {name!r} is not a relative path inside the data folder "
                f"(no leading '/', no '..')"
            )
        target = out.joinpath(*relative.with_suffix(f".{fmt}").parts)
        if target in owner:
            raise ValueError(
                f"listed names {owner[target]!r} and {name!r} would both be written to "
                f"{str(target)!r} with format={fmt}; nothing was written"
            )
        owner[target] = name
        targets[name] = target
    return targets


def _open_dataset(data: Path, names: list[str]) -> ImageDataset:
    """The dataset restricted to ``names`` if it accepts them all, else the whole folder.

    Restricting checks only the listed files' headers. When a name is unknown (or every
    listed file is unreadable) the restriction raises; then the whole folder is indexed
    without header checks, so the missing names can be told apart from the present ones.
    """
    try:
        return ImageDataset(data, filenames=names)
    except ValueError as error:
        logger.info("indexing all of %s to find the missing names (%s)", data, error)
        return ImageDataset(data, verify_headers=False)


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "jpg":
        image.save(buffer, format="JPEG", quality=_JPEG_QUALITY)
    else:
        image.save(buffer, format="PNG")
    return buffer.getvalue()


def _pixels(source: Path | bytes) -> tuple[str, np.ndarray] | None:
    """``(mode, array)`` of an image file or encoded bytes, None if PIL cannot read it."""
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            return image.mode, np.asarray(image)
    except OSError:
        return None


def _is_identical(target: Path, image: Image.Image, fmt: str) -> bool:
    """Whether ``target`` already decodes to the RGB pixels that writing ``image`` would give.

    For PNG (lossless) that is ``image`` itself, so nothing is encoded; for JPEG it is the
    decoding of ``image`` encoded at quality 95.
    """
    existing = _pixels(target)
    if existing is None or existing[0] != "RGB":
        return False
    if fmt == "png":
        return np.array_equal(existing[1], np.asarray(image))
    ours = _pixels(_encode(image, fmt))
    return ours is not None and np.array_equal(existing[1], ours[1])


def _check_written(path: Path, size: tuple[int, int], fmt: str) -> None:
    """Re-opens a written file and checks its format, size and RGB mode.

    Raises:
        OSError: The file does not decode as an RGB image of ``size`` in ``fmt``.
    """
    try:
        with Image.open(path) as image:
            image.load()
            found = (image.format, image.size, image.mode)
    except OSError as error:
        raise OSError(f"written file {str(path)!r} does not re-open: {error}") from None
    if found != (_PIL_FORMATS[fmt], size, "RGB"):
        raise OSError(
            f"written file {str(path)!r} re-opens as {found}, expected "
            f"{(_PIL_FORMATS[fmt], size, 'RGB')}"
        )


def _decode(dataset: ImageDataset, index: int) -> tuple[Image.Image | None, str]:
    """``(RGB image, "")`` of item ``index``, or ``(None, reason)`` when it cannot be decoded."""
    try:
        image = dataset[index][0]
    except OSError as error:
        return None, str(error)
    if is_undecoded(image):
        return None, image.reason
    return (image if image.mode == "RGB" else image.convert("RGB")), ""


def _config(options: dict[str, Any], config: ExtractConfig | None) -> ExtractConfig:
    if isinstance(options.get("format"), str):
        options["format"] = options["format"].lower()
    if config is None:
        return build_config(ExtractConfig, options, command="selfsup extract")
    if options:
        raise ConfigError(f"give options either in config or as keywords, got {sorted(options)}")
    return config


def extract(config: ExtractConfig | None = None, **options: Any) -> ExtractResult:
    """Writes the listed images and video frames of a dataset into ``out``, as PNG or JPEG.

    Each listed name (an item name of ``ImageDataset(data)``, e.g. ``sub/a.jpg`` or the video
    frame ``clip-00153-mp4.png``) is decoded by the dataset (RGB, uint8) and written under the
    same relative path with the extension switched to the format (``sub/a.jpg`` with
    ``format=png`` -> ``out/sub/a.png``). Every file is written atomically and re-opened to
    check its size and RGB mode; JPEGs use quality 95.

    Existing files: a target that already decodes to the same image is left alone and reported
    as skipped; a different one is an error raised before anything is written, unless
    ``overwrite=True`` replaces it. Names that are not found, or whose files cannot be
    decoded, are reported by a :class:`MissingFilesError` raised after all the others have
    been written.

    Example:
        >>> selfsup.extract(data="frames/", filenames="selection/selected_filenames.txt",
        ...                 out="to_label/", format="jpg")  # doctest: +SKIP

    Args:
        config: A ready :class:`ExtractConfig` (then only a list ``filenames`` may be given
            besides it).
        **options: Fields of :class:`ExtractConfig`: ``data``, ``filenames`` (a text file of
            names, one per line, blank lines ignored, or a list of names), ``out``, ``format``
            (png | jpg | jpeg, jpeg meaning jpg), ``overwrite``.

    Returns:
        An :class:`ExtractResult`; its ``summary`` holds the counts.

    Raises:
        ConfigError: An unknown option, a bad format, or ``data``/``filenames``/``out`` not
            given.
        ValueError: ``data`` is no folder, the names file is missing or empty, a name leaves
            the data folder, or two names map to the same output file.
        FileExistsError: Targets that hold a different image (nothing was written), or a
            target that is a folder.
        MissingFilesError: Listed names not found or not decodable (the rest was written).
    """
    names_option = options.get("filenames")
    names_list = None
    if names_option is not None and not isinstance(names_option, (str, Path)):
        names_list = options.pop("filenames")
    elif isinstance(names_option, Path):
        options["filenames"] = str(names_option)
    for key in ("data", "out"):
        if isinstance(options.get(key), Path):
            options[key] = str(options[key])
    config = _config(options, config)
    listed = config.filenames if names_list is None else names_list
    if config.data is None or listed is None or config.out is None:
        raise ConfigError(
            "data, filenames and out are required: "
            "selfsup extract data=DIR filenames=selected_filenames.txt out=DIR"
        )
    data, out, fmt = Path(config.data), Path(config.out), _FORMATS[config.format]
    if not data.is_dir():
        what = "does not exist" if not data.exists() else "is not a folder"
        raise ValueError(f"data folder {str(data)!r} {what}")
    if out.exists() and not out.is_dir():
        raise ValueError(f"out {str(out)!r} exists and is not a folder")
    names = _read_names(listed)
    targets = _targets(names, out, fmt)
    folders = [str(path) for path in targets.values() if path.is_dir()]
    if folders:
        raise FileExistsError(f"targets are folders, not files: {_shown(folders)}")

    dataset = _open_dataset(data, names)
    position = {name: index for index, name in enumerate(dataset.get_filenames())}
    reasons = dict(dataset.skipped)
    result = ExtractResult(data=data, out=out, format=fmt, listed=len(names))
    for name in names:
        if name not in position:
            if name in reasons:
                result.undecodable.append((name, reasons[name]))
            else:
                result.missing.append(name)
    plan = sorted((position[name], name) for name in names if name in position)

    done: set[str] = set()
    if not config.overwrite:
        different = []
        for index, name in plan:
            if not targets[name].exists():
                continue
            image, reason = _decode(dataset, index)
            done.add(name)
            if image is None:
                result.undecodable.append((name, reason))
            elif _is_identical(targets[name], image, fmt):
                result.skipped.append(targets[name])
            else:
                different.append(str(targets[name]))
        if different:
            raise FileExistsError(
                f"{len(different)} target files exist with a different image: "
                f"{_shown(different)}; nothing was written (overwrite=true replaces them)"
            )

    for index, name in plan:
        if name in done:
            continue
        image, reason = _decode(dataset, index)
        if image is None:
            result.undecodable.append((name, reason))
            continue
        target = targets[name]
        existed = target.exists()
        if existed and _is_identical(target, image, fmt):
            result.skipped.append(target)
            continue
        encoded = _encode(image, fmt)

        def write(tmp: Path, encoded: bytes = encoded, size: tuple[int, int] = image.size) -> None:
            tmp.write_bytes(encoded)
            _check_written(tmp, size, fmt)

        write_atomically(target, write)
        result.written.append(target)
        if existed:
            result.replaced.append(target)
        if len(result.written) % _PROGRESS_EVERY == 0:
            logger.info("extract: %d of %d written", len(result.written), len(plan))

    logger.info(
        "extract: %d written (%d replaced), %d identical skipped, %d missing, %d undecodable -> %s",
        len(result.written),
        len(result.replaced),
        len(result.skipped),
        len(result.missing),
        len(result.undecodable),
        out,
    )
    if result.missing or result.undecodable:
        raise MissingFilesError(result.missing, result.undecodable, result)
    return result
