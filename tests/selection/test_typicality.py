import numpy as np
import pytest
import torch

from selfsup.selection import TypicalityStrategy, select_samples, typicality


def test_typicality_matches_numpy_reference():
    x = torch.randn(40, 3, dtype=torch.float64)
    pts = x.numpy()
    dist = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    np.fill_diagonal(dist, np.inf)
    expected = 1.0 / np.sort(dist, axis=1)[:, :5].mean(1)
    assert typicality(x, 5).numpy() == pytest.approx(expected, rel=1e-6)


def _mixture():
    # Three well separated clusters; each has a dense core point (index 0 of each block)
    # surrounded by a ring, plus a far outlier inside the cluster's range.
    blocks = []
    for centre in ([0.0, 0.0], [50.0, 0.0], [0.0, 50.0]):
        c = torch.tensor(centre, dtype=torch.float64)
        angles = torch.arange(12, dtype=torch.float64) * (2 * torch.pi / 12)
        ring = torch.stack([angles.cos(), angles.sin()], 1)
        blocks.append(torch.cat([c[None], c + ring, c + 3 * ring[:4]]))
    return torch.cat(blocks)


def test_picks_the_densest_point_of_each_cluster():
    x = _mixture()
    out = select_samples(x, n=3, strategy="typicality", metric="l2")
    assert sorted(out.indices.tolist()) == [0, 17, 34]
    # 8 nearest (half the cluster of 17) of each centre are ring points at distance 1.
    assert out.scores.tolist() == pytest.approx([1.0, 1.0, 1.0])


def test_initial_covers_its_cluster_first():
    x = _mixture()
    out = select_samples(x, n=2, strategy="typicality", metric="l2", initial=[5])
    # Cluster 0 already has a labeled sample, so the two uncovered clusters come first.
    assert sorted(out.indices.tolist()) == [17, 34]


def test_budget_beyond_clusters_takes_next_most_typical():
    x = _mixture()
    out = select_samples(x, n=51, strategy="typicality", metric="l2")
    assert sorted(out.indices.tolist()) == list(range(51))


def test_bad_arguments():
    with pytest.raises(ValueError, match="max_clusters"):
        TypicalityStrategy(max_clusters=0)
    with pytest.raises(ValueError, match="knn_k"):
        TypicalityStrategy(knn_k=-3)
