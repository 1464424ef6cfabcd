"""Tests for selfsup.models.tokens against manual slicing and loops."""

from __future__ import annotations

import pytest
import torch

from selfsup.models.tokens import (
    get_at_index,
    mask_at_index,
    patchify,
    prepend_class_token,
    random_token_mask,
    repeat_token,
    set_at_index,
    unpatchify,
)


def test_patchify_matches_manual_slicing_and_unpatchify_inverts():
    images = torch.randn(2, 3, 8, 12)
    patches = patchify(images, patch_size=4)
    assert patches.shape == (2, 6, 4 * 4 * 3)
    for b in range(2):
        for row in range(2):
            for col in range(3):
                crop = images[b, :, row * 4 : (row + 1) * 4, col * 4 : (col + 1) * 4]
                expected = crop.permute(1, 2, 0).reshape(-1)  # (p_row, p_col, C) order
                torch.testing.assert_close(patches[b, row * 3 + col], expected)
    torch.testing.assert_close(unpatchify(patches, 4, 3, image_size=(8, 12)), images)
    square = torch.randn(1, 1, 8, 8)
    torch.testing.assert_close(unpatchify(patchify(square, 2), 2, 1), square)


def test_patchify_errors():
    with pytest.raises(ValueError, match="not a multiple of patch_size=3"):
        patchify(torch.randn(1, 3, 8, 8), 3)
    with pytest.raises(ValueError, match="patch dim 12 != patch_size"):
        unpatchify(torch.randn(1, 4, 12), 2, 1)
    with pytest.raises(ValueError, match="do not form a square"):
        unpatchify(torch.randn(1, 6, 12), 2, 3)


def test_random_token_mask_sizes_disjointness_and_class_token():
    idx_keep, idx_mask = random_token_mask((4, 17), mask_ratio=0.75)
    assert idx_keep.shape == (4, 4) and idx_mask.shape == (4, 13)
    assert idx_keep.dtype == torch.int64
    for keep, mask in zip(idx_keep.tolist(), idx_mask.tolist(), strict=True):
        assert not set(keep) & set(mask)
        assert sorted(keep + mask) == list(range(17))
        assert keep[0] == 0  # class token is kept
    # Even with an extreme ratio the class token survives.
    idx_keep, _ = random_token_mask((2, 5), mask_ratio=0.99)
    assert idx_keep.tolist() == [[0], [0]]
    # mask_class_token=True: index 0 is masked in some rows.
    _, idx_mask = random_token_mask((64, 5), mask_ratio=0.6, mask_class_token=True)
    assert (idx_mask == 0).any()


def test_random_token_mask_generator_and_validation():
    a = random_token_mask((3, 9), generator=torch.Generator().manual_seed(1))
    b = random_token_mask((3, 9), generator=torch.Generator().manual_seed(1))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    with pytest.raises(ValueError, match="mask_ratio must be in \\[0, 1\\), got 1.0"):
        random_token_mask((1, 4), mask_ratio=1.0)


def test_token_index_helpers_match_loops():
    tokens = torch.randn(2, 5, 3)
    index = torch.tensor([[4, 0], [2, 3]])
    got = get_at_index(tokens, index)
    for b in range(2):
        for k in range(2):
            torch.testing.assert_close(got[b, k], tokens[b, index[b, k]])
    values = torch.randn(2, 2, 3)
    updated = set_at_index(tokens, index, values)
    expected = tokens.clone()
    for b in range(2):
        for k in range(2):
            expected[b, index[b, k]] = values[b, k]
    torch.testing.assert_close(updated, expected)
    mask_token = torch.full((1, 1, 3), 7.0)
    masked = mask_at_index(tokens, index, mask_token)
    expected = tokens.clone()
    for b in range(2):
        for k in range(2):
            expected[b, index[b, k]] = 7.0
    torch.testing.assert_close(masked, expected)


def test_repeat_and_prepend_tokens():
    token = torch.randn(1, 1, 4)
    repeated = repeat_token(token, (2, 3))
    assert repeated.shape == (2, 3, 4)
    assert torch.equal(repeated[1, 2], token[0, 0])
    tokens = torch.randn(2, 3, 4)
    out = prepend_class_token(tokens, token)
    assert out.shape == (2, 4, 4)
    assert torch.equal(out[:, 0], token[0].expand(2, -1))
    assert torch.equal(out[:, 1:], tokens)
