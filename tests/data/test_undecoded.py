from __future__ import annotations

import pickle

import torch

from selfsup.data.undecoded import UndecodedImage, is_undecoded


def test_is_undecoded_recognises_placeholder_items_only():
    placeholder = UndecodedImage("a.jpg", "image file is truncated")
    assert is_undecoded(placeholder)
    assert is_undecoded((placeholder, 0, "a.jpg"))
    assert not is_undecoded((torch.zeros(3, 2, 2), 0, "a.jpg"))
    assert not is_undecoded(([torch.zeros(1)], 0, "a.jpg"))
    assert not is_undecoded(())


def test_placeholder_is_a_picklable_value():
    placeholder = UndecodedImage("a.jpg", "broken")
    assert pickle.loads(pickle.dumps(placeholder)) == placeholder
    assert placeholder != UndecodedImage("b.jpg", "broken")
