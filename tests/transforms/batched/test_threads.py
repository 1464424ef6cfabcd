import torch

from selfsup.transforms.batched import SimCLRBatchTransform, functional


def test_cpu_batches_are_augmented_on_one_thread_and_the_count_is_restored(monkeypatch):
    seen = []
    original = functional.resized_crop

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(functional, "resized_crop", spy)
    torch.set_num_threads(2)
    try:
        views = SimCLRBatchTransform(input_size=8)(torch.zeros(4, 3, 12, 12, dtype=torch.uint8))
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)
    assert len(views) == 2
    assert seen and set(seen) == {1}
