import numpy as np
import pytest
import torch

from selfsup.selection._geometry import assign, fine_clusters, kmeans, knn, prepare, ranges_index


def _dense(a, b):
    return np.sqrt(((a.numpy()[:, None] - b.numpy()[None]) ** 2).sum(-1))


def test_chunked_knn_equals_dense():
    x = torch.randn(37, 5, dtype=torch.float64)
    dist, idx = knn(x, x, 4, exclude_self=True, chunk_size=8)
    dense = _dense(x, x)
    np.fill_diagonal(dense, np.inf)
    assert dist.numpy() == pytest.approx(np.sort(dense, 1)[:, :4], rel=1e-9)
    assert (idx.numpy() == np.argsort(dense, 1)[:, :4]).all()


def test_chunked_assign_equals_dense():
    x, centres = torch.randn(50, 3, dtype=torch.float64), torch.randn(6, 3, dtype=torch.float64)
    index, dist = assign(x, centres, chunk_size=7)
    dense = _dense(x, centres)
    assert index.tolist() == dense.argmin(1).tolist()
    assert dist.numpy() == pytest.approx(dense.min(1), rel=1e-9)


def test_kmeans_finds_separated_blobs_and_fine_clusters_cover_all_rows():
    offsets = torch.tensor([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0]], dtype=torch.float64)
    x = (offsets[:, None] + 0.1 * torch.randn(3, 30, 2, dtype=torch.float64)).reshape(90, 2)
    _, index, _ = kmeans(x, 3, generator=torch.Generator().manual_seed(0))
    assert [len(set(index[b * 30 : (b + 1) * 30].tolist())) for b in range(3)] == [1, 1, 1]
    assert len(set(index.tolist())) == 3
    centres, index, dist = fine_clusters(x, 9, generator=torch.Generator().manual_seed(0))
    assert dist.numpy() == pytest.approx((x - centres[index]).norm(dim=1).numpy(), rel=1e-9)


def test_prepare_and_ranges():
    x = torch.tensor([[3.0, 4.0], [0.0, 2.0]])
    assert prepare(x, "cosine").flatten().tolist() == pytest.approx([0.6, 0.8, 0.0, 1.0])
    assert prepare(x, "l2") is x
    assert prepare(torch.tensor([[1, 2]]), "l2").dtype == torch.float32
    assert ranges_index(torch.tensor([5, 0]), torch.tensor([2, 3])).tolist() == [5, 6, 0, 1, 2]
