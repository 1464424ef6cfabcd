import numpy as np
import pytest
import torch

from selfsup.selection import DedupStrategy, near_duplicate_groups, select_samples


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
