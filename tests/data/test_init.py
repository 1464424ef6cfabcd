from __future__ import annotations

import inspect

import selfsup.data


def test_every_public_name_is_exported_and_documented():
    for name in selfsup.data.__all__:
        obj = getattr(selfsup.data, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"selfsup.data.{name} has no docstring"


def test_submodules_declare_all():
    for module in (
        "folder_index",
        "image_dataset",
        "image_loading",
        "multi_view_collate",
        "undecoded",
        "video",
        "video_index",
    ):
        assert hasattr(getattr(selfsup.data, module), "__all__"), module
