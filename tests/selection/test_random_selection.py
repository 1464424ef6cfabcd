import torch

from selfsup.selection import select_samples


def test_random_is_seeded_distinct_and_eligible_only():
    x = torch.randn(50, 4)
    a = select_samples(x, n=10, strategy="random", seed=7, initial=[0, 1, 2])
    b = select_samples(x, n=10, strategy="random", seed=7, initial=[0, 1, 2])
    c = select_samples(x, n=10, strategy="random", seed=8, initial=[0, 1, 2])
    assert a.indices.tolist() == b.indices.tolist()
    assert a.indices.tolist() != c.indices.tolist()
    assert len(set(a.indices.tolist())) == 10
    assert not {0, 1, 2} & set(a.indices.tolist())
    generator = torch.Generator().manual_seed(7)
    pool = torch.arange(3, 50)
    assert a.indices.tolist() == pool[torch.randperm(47, generator=generator)[:10]].tolist()
