from __future__ import annotations

import logging
import os

import pytest

from selfsup.data.folder_index import ROOT_CLASS, FolderIndex, index_image_folder


def _names_under(root) -> list[str]:
    """Reference listing with os.walk: image files, relative '/' names, sorted."""
    names = []
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if not d.startswith(".")]
        relative = os.path.relpath(directory, root)
        for name in files:
            if name.startswith(".") or os.path.splitext(name)[1].lower() not in {
                ".jpg",
                ".jpeg",
                ".png",
                ".ppm",
                ".bmp",
                ".pgm",
                ".tif",
                ".tiff",
                ".webp",
            }:
                continue
            path = name if relative == "." else f"{relative}/{name}".replace(os.sep, "/")
            names.append(path)
    return sorted(names)


def test_recursive_sorted_any_case_relative_names(tmp_path, write_image):
    for name, fmt in [
        ("b/deep/er/x.PNG", "PNG"),
        ("a/2.jpg", "JPEG"),
        ("a/10.JPEG", "JPEG"),
        ("a/1.Tif", "TIFF"),
        ("b/y.webp", "WEBP"),
        ("b/z.bmp", "BMP"),
        ("c/g.pgm", "PPM"),
        ("c/p.ppm", "PPM"),
        ("c/t.tiff", "TIFF"),
    ]:
        write_image(tmp_path / name, format=fmt)
    (tmp_path / "a" / "readme.txt").write_text("not an image")
    (tmp_path / "a" / "noext").write_bytes(b"")
    index = index_image_folder(tmp_path)
    assert index.filenames == _names_under(tmp_path)
    assert index.filenames == [
        "a/1.Tif",
        "a/10.JPEG",
        "a/2.jpg",
        "b/deep/er/x.PNG",
        "b/y.webp",
        "b/z.bmp",
        "c/g.pgm",
        "c/p.ppm",
        "c/t.tiff",
    ]
    assert index.classes == ["a", "b", "c"]
    assert index.targets == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert index.skipped == []
    assert index.root == str(tmp_path)


def test_flat_folder_is_class_zero(tmp_path, write_image):
    for name in ("b.png", "a.png", "c.jpg"):
        write_image(tmp_path / name)
    index = index_image_folder(tmp_path)
    assert index.filenames == ["a.png", "b.png", "c.jpg"]
    assert index.classes == [ROOT_CLASS]
    assert index.targets == [0, 0, 0]


def test_root_files_next_to_subfolders_form_the_last_class(tmp_path, write_image):
    write_image(tmp_path / "loose.png")
    write_image(tmp_path / "dog" / "1.png")
    write_image(tmp_path / "cat" / "1.png")
    (tmp_path / "empty_class").mkdir()
    index = index_image_folder(tmp_path)
    assert index.classes == ["cat", "dog", "."]
    assert dict(zip(index.filenames, index.targets, strict=True)) == {
        "cat/1.png": 0,
        "dog/1.png": 1,
        "loose.png": 2,
    }


def test_hidden_files_and_folders_are_ignored(tmp_path, write_image):
    write_image(tmp_path / "x.png")
    write_image(tmp_path / ".hidden.png")
    write_image(tmp_path / ".ipynb_checkpoints" / "x-checkpoint.png")
    assert index_image_folder(tmp_path).filenames == ["x.png"]


def test_filenames_restriction_keeps_sorted_order(tmp_path, write_image):
    for name in ("a/1.png", "a/2.png", "b/3.png"):
        write_image(tmp_path / name)
    index = index_image_folder(tmp_path, filenames=["b/3.png", "a/1.png"])
    assert index.filenames == ["a/1.png", "b/3.png"]
    assert index.targets == [0, 1]
    assert index.classes == ["a", "b"]


def test_filenames_restriction_names_missing_files(tmp_path, write_image):
    write_image(tmp_path / "a.png")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match=r"'nope\.png'.*'notes\.txt'|'notes\.txt'.*'nope\.png'"):
        index_image_folder(tmp_path, filenames=["a.png", "nope.png", "notes.txt"])
    with pytest.raises(ValueError, match="at least one"):
        index_image_folder(tmp_path, filenames=[])


def test_missing_file_and_empty_folders_raise_naming_the_path(tmp_path, write_image):
    missing = tmp_path / "does_not_exist"
    with pytest.raises(ValueError, match=f"{missing}.*does not exist"):
        index_image_folder(missing)
    a_file = write_image(tmp_path / "file.png")
    with pytest.raises(ValueError, match="is not a directory"):
        index_image_folder(a_file)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=f"{empty}.*no image files"):
        index_image_folder(empty)
    only_text = tmp_path / "text"
    only_text.mkdir()
    (only_text / "a.txt").write_text("x")
    with pytest.raises(ValueError, match="no image files"):
        index_image_folder(only_text)


def test_bad_headers_are_skipped_with_one_warning_each(tmp_path, write_image, caplog):
    write_image(tmp_path / "good.png")
    (tmp_path / "zero.jpg").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("I am text")
    (tmp_path / "cut.png").write_bytes((tmp_path / "good.png").read_bytes()[:20])
    with caplog.at_level(logging.WARNING, logger="selfsup.data.folder_index"):
        index = index_image_folder(tmp_path)
    assert index.filenames == ["good.png"]
    assert [name for name, _ in index.skipped] == ["cut.png", "text.jpg", "zero.jpg"]
    assert dict(index.skipped)["zero.jpg"] == "empty file"
    messages = [record.getMessage() for record in caplog.records]
    for name in ("cut.png", "text.jpg", "zero.jpg"):
        assert sum(name in message for message in messages) == 1


def test_bad_file_does_not_shift_class_numbers(tmp_path, write_image):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "broken.png").write_bytes(b"")
    write_image(tmp_path / "b" / "ok.png")
    index = index_image_folder(tmp_path)
    assert index.classes == ["a", "b"]
    assert index.targets == [1]


def test_without_header_check_bad_files_are_kept(tmp_path, write_image):
    write_image(tmp_path / "good.png")
    (tmp_path / "zero.jpg").write_bytes(b"")
    index = index_image_folder(tmp_path, verify_headers=False)
    assert index.filenames == ["good.png", "zero.jpg"]
    assert index.skipped == []


def test_only_bad_files_is_an_error(tmp_path):
    (tmp_path / "zero.jpg").write_bytes(b"")
    with pytest.raises(ValueError, match=r"no usable image.*zero\.jpg"):
        index_image_folder(tmp_path)


def test_symlinked_folder_is_followed_and_cycles_terminate(tmp_path, write_image):
    outside = tmp_path / "outside"
    write_image(outside / "o.png")
    root = tmp_path / "root"
    write_image(root / "a" / "1.png")
    os.symlink(outside, root / "linked")
    os.symlink(root, root / "a" / "loop")  # a cycle back to the root
    os.symlink(root / "a", root / "A_link")  # sorts before "a": the real path must still win
    os.symlink(tmp_path / "gone.png", root / "a" / "dangling.png")
    index = index_image_folder(root)
    assert index.filenames == ["a/1.png", "linked/o.png"]
    assert index.skipped[0][1] == "broken link or not a regular file"
    assert index.skipped[0][0].endswith("dangling.png")


def test_index_is_a_plain_dataclass():
    index = FolderIndex(root="r")
    assert (index.filenames, index.targets, index.classes, index.skipped) == ([], [], [], [])
