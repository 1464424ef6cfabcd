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
    as_int = prepare(torch.tensor([[3, 4], [0, 0]]), "cosine")
    assert as_int.dtype == torch.float32 and as_int.tolist() == [
        [0.6000000238418579, 0.800000011920929],
        [0.0, 0.0],
    ]
    many = torch.randn(70000, 2)  # more than one 65536-row slice
    assert prepare(many, "cosine").equal(torch.nn.functional.normalize(many, dim=1))
    assert ranges_index(torch.tensor([5, 0]), torch.tensor([2, 3])).tolist() == [5, 6, 0, 1, 2]


def _faiss_installed():
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def test_knn_backends_agree_with_dense_reference_and_each_other():
    x = torch.randn(300, 16)
    x[7] = x[3]  # an exact duplicate: its nearest other row is at distance 0
    dense = _dense(x.double(), x.double())
    np.fill_diagonal(dense, np.inf)
    backends = ["torch", "auto"] + (["faiss"] if _faiss_installed() else [])
    results = {b: knn(x, x, 5, exclude_self=True, backend=b, chunk_size=64) for b in backends}
    for dist, idx in results.values():
        assert dist.dtype == torch.float32 and idx.dtype == torch.int64
        assert dist.numpy() == pytest.approx(np.sort(dense, 1)[:, :5], abs=1e-4)
        assert (idx[:, 1:].numpy() == np.argsort(dense, 1, kind="stable")[:, 1:5]).all()
        assert idx[3, 0] == 7 and idx[7, 0] == 3 and dist[3, 0] < 1e-3
    query = torch.randn(20, 16)
    plain = [knn(query, x, 3, backend=b) for b in backends]
    for dist, idx in plain[1:]:
        assert idx.equal(plain[0][1])
        assert dist.numpy() == pytest.approx(plain[0][0].numpy(), abs=1e-4)


def test_knn_backend_errors():
    x = torch.randn(10, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="backend must be one of auto, faiss, torch"):
        knn(x, x, 2, backend="annoy")
    with pytest.raises(ValueError, match="needs CPU float32 input, got torch.float64"):
        knn(x, x, 2, backend="faiss")
    if not _faiss_installed():
        with pytest.raises(ImportError, match=r"selfsup\[faiss\]"):
            knn(x.float(), x.float(), 2, backend="faiss")
