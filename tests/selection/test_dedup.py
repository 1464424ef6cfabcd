import numpy as np
import pytest
import torch

from selfsup.selection import (
    DedupStrategy,
    group_representatives,
    near_duplicate_groups,
    select_samples,
)
from selfsup.selection.dedup import _linked


def _near_duplicates():
    base = torch.eye(6, dtype=torch.float64)
    x = torch.cat([base, base[:3] + 0.01, 2 * base[:1]])
    # rows 6, 7, 8 are near copies of 0, 1, 2; row 9 is 0 scaled (cosine 1).
    return x


def test_groups_of_hand_made_near_duplicates():
    groups = near_duplicate_groups(_near_duplicates(), 0.99, num_clusters=3)
    assert groups.tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2, 0]


def test_threshold_boundary_is_inclusive():
    x = torch.tensor([[1.0, 0.0], [3.0, 4.0], [0.0, 1.0]], dtype=torch.float64)  # cos = 0.6, 0.8
    assert near_duplicate_groups(x, 0.6).tolist() == [0, 0, 0]
    assert near_duplicate_groups(x, 0.8).tolist() == [0, 1, 1]
    assert near_duplicate_groups(x, 0.8 + 1e-9).tolist() == [0, 1, 2]


def test_chains_are_one_component_and_clusters_do_not_change_groups():
    angles = torch.arange(30, dtype=torch.float64) * 0.05
    chain = torch.stack([angles.cos(), angles.sin()], 1)  # neighbours at cos(0.05)
    far = torch.tensor([-1.0, -1.0], dtype=torch.float64) + 0.3 * torch.randn(60, 2).double()
    x = torch.cat([chain, far])
    dense = torch.nn.functional.normalize(x, dim=1)
    sim = dense @ dense.T
    expected = near_duplicate_groups(x, 0.9987, num_clusters=1)
    for k in (4, 17):
        assert near_duplicate_groups(x, 0.9987, num_clusters=k, chunk_size=8).equal(expected)
    assert len(set(expected[:30].tolist())) == 1
    # The chain's direct neighbours are above the threshold, its ends far below it.
    assert (sim[:30, :30].diagonal(1) >= 0.9987).all() and sim[0, 29] < 0.9


def test_strategy_keeps_one_per_group_closest_to_mean():
    x = _near_duplicates()
    out = select_samples(x, strategy="dedup", dedup_threshold=0.99)
    assert sorted(out.indices.tolist()) == [0, 1, 2, 3, 4, 5]
    assert out.scores[0] == 3.0  # the largest group (rows 0, 6, 9) comes first
    assert out.groups.tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2, 0]


def test_budget_initial_and_errors():
    x = _near_duplicates()
    out = select_samples(x, n=2, strategy="dedup", dedup_threshold=0.99, initial=[6])
    assert out.indices.tolist() == [1, 2]  # group of row 6 is covered; then the next largest
    with pytest.raises(ValueError, match="n=7 exceeds the 6 groups"):
        select_samples(x, n=7, strategy="dedup", dedup_threshold=0.99)
    with pytest.raises(ValueError, match="threshold"):
        DedupStrategy(threshold=1.5)
    with pytest.raises(TypeError, match="threshold"):
        DedupStrategy(threshold="high")


def test_dedup_before_another_strategy():
    x = _near_duplicates()
    out = select_samples(x, n=6, strategy="random", dedup_threshold=0.99, seed=1)
    assert sorted(out.indices.tolist()) == [0, 1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="n=7 exceeds the N=6"):
        select_samples(x, n=7, strategy="coreset", dedup_threshold=0.99)


def _reference_components(x, threshold):
    """Connected components of the dense cosine-similarity graph, by depth-first search."""
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    linked = unit @ unit.T >= threshold
    labels = [-1] * len(x)
    count = 0
    for start in range(len(x)):
        if labels[start] >= 0:
            continue
        stack = [start]
        labels[start] = count
        while stack:
            node = stack.pop()
            for other in np.nonzero(linked[node])[0]:
                if labels[other] < 0:
                    labels[other] = count
                    stack.append(int(other))
        count += 1
    return labels


@pytest.mark.parametrize("num_clusters", [1, 6])
def test_dense_random_graph_matches_reference(num_clusters):
    x = np.random.default_rng(0).normal(size=(150, 3))
    x[100:] = x[0] + 0.01 * np.random.default_rng(1).normal(size=(50, 3))  # a dense clump
    groups = near_duplicate_groups(torch.from_numpy(x), 0.995, num_clusters=num_clusters)
    assert groups.tolist() == _reference_components(x, 0.995)
    assert len(set(groups[100:].tolist())) == 1


@pytest.mark.parametrize("num_clusters", [1, 7, 40])
def test_wide_clustered_data_matches_reference(num_clusters):
    # 64 dims (> 2 x 24): the low-rank similarity bound screens the blocks. Twenty centres with
    # copies at growing noise give chains, groups of many sizes and singletons.
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(20, 64))
    centres[1] = centres[0] + 0.15 * rng.normal(size=64)  # two centres close to each other
    noise = np.repeat(np.linspace(0.02, 0.4, 12)[None], 20, 0).reshape(-1, 1)
    x = np.repeat(centres, 12, 0) + noise * rng.normal(size=(240, 64))
    x = np.concatenate([x, rng.normal(size=(60, 64))])  # unrelated rows
    groups = near_duplicate_groups(torch.from_numpy(x), 0.97, num_clusters=num_clusters)
    reference = _reference_components(x, 0.97)
    assert groups.tolist() == reference
    sizes = np.bincount(reference)
    assert sizes.max() >= 12 and (sizes == 1).sum() >= 60 and len(sizes) < 290


def test_representatives_are_closest_to_the_group_mean_in_any_chunking():
    x = torch.randn(50, 4, dtype=torch.float64)
    groups = torch.arange(50) % 6
    expected = []
    for g in range(6):
        members = torch.nonzero(groups == g).squeeze(1)
        dist = (x[members] - x[members].mean(0)).norm(dim=1)
        expected.append(int(members[dist.argmin()]))
    assert group_representatives(x, groups).tolist() == expected
    assert group_representatives(x, groups, chunk_size=7).tolist() == expected


def test_zero_rows_stay_alone_above_zero_threshold():
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 0.0], [2.0, 0.1]], dtype=torch.float64)
    assert near_duplicate_groups(x, 0.9).tolist() == [0, 1, 2, 1]
    assert near_duplicate_groups(x, -0.5).tolist() == [0, 0, 0, 0]  # cos 0 >= -0.5 links all


def test_links_at_the_threshold_are_decided_in_float64():
    a = torch.nn.functional.normalize(torch.randn(30, 128), dim=1)
    b = torch.nn.functional.normalize(torch.randn(40, 128), dim=1)
    exact = a.double() @ b.double().T
    # Thresholds a hair (1e-9, far below float32 resolution) above and below actual similarities.
    for value in exact.flatten()[:40].tolist():
        for threshold in (value - 1e-9, value + 1e-9):
            assert _linked(a, b, threshold).equal(exact >= threshold)


def test_a_group_of_most_rows_is_warned_about(caplog):
    angles = torch.arange(300, dtype=torch.float64) * 0.01
    chain = torch.stack([angles.cos(), angles.sin()], 1)  # each row within cos(0.01) of the next
    with caplog.at_level("WARNING", logger="selfsup.selection.dedup"):
        out = select_samples(chain, strategy="dedup", dedup_threshold=0.9999)
    assert len(out.indices) == 1
    assert "one group of near-duplicates holds 300 of the 300 rows" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="selfsup.selection.dedup"):
        out = select_samples(chain, strategy="dedup", dedup_threshold=0.99999)
    assert len(out.indices) == 300 and caplog.text == ""
