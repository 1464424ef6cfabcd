import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_and_threads():
    """Every test starts from the same seed with one intra-op thread (2-core machines)."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
