from __future__ import annotations

import pytest

from selfsup.transforms import MultiViewTransform


def test_applies_every_transform_to_the_same_input_in_order():
    transform = MultiViewTransform([lambda x: x + 1, lambda x: x * 10, str])
    assert transform(4) == [5, 40, "4"]
    assert len(transform) == 3


@pytest.mark.parametrize(
    ("transforms", "error", "match"),
    [
        ([], ValueError, "at least one"),
        ("abc", TypeError, "sequence"),
        ([len, 3], TypeError, r"transforms\[1\]"),
    ],
)
def test_invalid_arguments(transforms, error, match):
    with pytest.raises(error, match=match):
        MultiViewTransform(transforms)
