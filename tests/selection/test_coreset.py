import numpy as np
import pytest
import torch

from selfsup.selection import CoresetStrategy, k_center_greedy, select_samples
from selfsup.selection.coreset import _sq_dists_to


def _naive_k_center(x, n, *, first=None, initial=()):
    """O(N^2) farthest-first traversal from Sener and Savarese (2018), Alg. 1, in NumPy."""
    pts = x.numpy()
    dist = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1))
    chosen = list(initial) or [first]
    nearest = dist[chosen].min(0)
    picks, scores = ([], []) if initial else ([first], [float("inf")])
    while len(picks) < n:
        masked = nearest.copy()
        masked[chosen] = -1
        best = int(np.argmax(masked))
        picks.append(best)
        scores.append(float(nearest[best]))
        chosen.append(best)
        nearest = np.minimum(nearest, dist[best])
    return picks, scores


def test_points_on_a_line_continue_from_initial():
    x = torch.tensor([[0.0], [1.0], [2.0], [10.0], [4.0], [7.0]], dtype=torch.float64)
    picks, dist = k_center_greedy(x, 3, initial=torch.tensor([0]))
    # Farthest from 0 is 10, then 4 (4 from 0, 6 from 10), then 7 (3 from 4 and 10).
    assert picks.tolist() == [3, 4, 5]
    assert dist.tolist() == pytest.approx([10.0, 4.0, 3.0])


@pytest.mark.parametrize("num_clusters", [1, 5, 40])
@pytest.mark.parametrize("dim", [6, 40])
def test_matches_naive_reference(num_clusters, dim):
    x = torch.randn(300, dim, dtype=torch.float64)
    picks, dist = k_center_greedy(
        x, 40, num_clusters=num_clusters, generator=torch.Generator().manual_seed(3)
    )
    ref, ref_scores = _naive_k_center(x, 40, first=int(picks[0]))
    assert picks.tolist() == ref
    assert dist.tolist()[1:] == pytest.approx(ref_scores[1:])
    assert dist[0] == float("inf")


def test_continuation_matches_naive_with_initial_and_tiny_chunks():
    x = torch.randn(200, 30, dtype=torch.float64)
    initial = torch.tensor([4, 77, 150])
    picks, dist = k_center_greedy(x, 25, initial=initial, num_clusters=7, chunk_size=16)
    ref, ref_scores = _naive_k_center(x, 25, initial=initial.tolist())
    assert picks.tolist() == ref
    assert dist.tolist() == pytest.approx(ref_scores)
    assert not set(picks.tolist()) & set(initial.tolist())


def test_eligible_rows_only():
    x = torch.randn(100, 5, dtype=torch.float64)
    eligible = torch.zeros(100, dtype=torch.bool)
    eligible[::2] = True
    picks, _ = k_center_greedy(x, 50, eligible=eligible, initial=torch.tensor([1]))
    assert sorted(picks.tolist()) == list(range(0, 100, 2))


def test_cosine_and_l2_differ_and_cosine_score_is_one_minus_cos():
    # Scaled copies: identical in cosine, far apart in L2.
    x = torch.tensor([[1.0, 0.0], [10.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=torch.float64)
    cos = select_samples(x, n=2, strategy="coreset", metric="cosine", initial=[0])
    l2 = select_samples(x, n=2, strategy="coreset", metric="l2", initial=[0])
    assert cos.indices.tolist() == [2, 3]
    assert cos.scores.tolist() == pytest.approx([1.0, 1 - 0.8])
    assert l2.indices.tolist()[0] == 1
    assert l2.scores[0] == pytest.approx(9.0)


def test_strategy_needs_budget_and_checks_args():
    with pytest.raises(ValueError, match="num_clusters"):
        CoresetStrategy(num_clusters=0)
    with pytest.raises(ValueError, match="metric"):
        CoresetStrategy(metric="manhattan")


@pytest.mark.parametrize("count", [5, 60])  # gathered rows, and one pass over all rows
def test_distances_to_a_new_centre_in_both_paths(count):
    x = torch.randn(100, 5, dtype=torch.float64)
    order = torch.randperm(100)
    near = torch.randperm(100)[:count]
    c = torch.randn(5, dtype=torch.float64)
    sq_s = x[order].square().sum(1)
    got = _sq_dists_to(x, order, near, sq_s, c, c.square().sum())
    expected = ((x[order[near]] - c) ** 2).sum(1)
    assert got.numpy() == pytest.approx(expected.numpy(), rel=1e-9)
