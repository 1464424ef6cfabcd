"""Tests for selfsup.utils.dist, including a two-process gloo run of the gather gradients."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp

from selfsup.models.utils import batch_shuffle, batch_unshuffle
from selfsup.utils import dist

WORLD_SIZE = 2
PER_RANK = 3


def _problem() -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (WORLD_SIZE * PER_RANK, 4) and a weight (4, 3), identical in every process."""
    generator = torch.Generator().manual_seed(1234)
    inputs = torch.randn(WORLD_SIZE * PER_RANK, 4, generator=generator, dtype=torch.float64)
    weight = torch.randn(4, 3, generator=generator, dtype=torch.float64)
    return inputs, weight


def _local_loss(anchors: torch.Tensor, gathered: torch.Tensor, positives: torch.Tensor):
    """Contrastive loss of local anchors (n, D) against a gathered batch (N, D).

    positives: (n, N) bool, one True per row. Mean over the local anchors of
    logsumexp_j(a_i . g_j / t) - a_i . g_pos(i) / t, plus a squared term so the gradient
    depends non-linearly on every gathered row.
    """
    logits = anchors @ gathered.t() / 0.5
    positive_logit = logits[positives]
    gram_term = (logits.pow(2) * 0.01).sum(dim=1)
    return (torch.logsumexp(logits, dim=1) - positive_logit + gram_term).mean()


def _worker(rank: int, init_file: str, out_dir: str) -> None:
    torch.set_num_threads(1)
    torch_dist.init_process_group(
        "gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD_SIZE
    )
    try:
        inputs, weight = _problem()
        x = inputs[rank * PER_RANK : (rank + 1) * PER_RANK].clone().requires_grad_(True)
        w = weight.clone().requires_grad_(True)
        h = x @ w
        parts = dist.gather(h)
        gathered = torch.cat(parts)
        loss = _local_loss(h, gathered, dist.eye_rank(PER_RANK))
        loss.backward()
        # DDP averages parameter gradients over the ranks.
        grad_w = w.grad.clone()
        torch_dist.all_reduce(grad_w)
        grad_w /= WORLD_SIZE

        # Distributed batch shuffle: different local seeds, so only the broadcast makes the
        # permutation agree across ranks.
        torch.manual_seed(100 + rank)
        batch = torch.arange(4 * rank, 4 * rank + 4, dtype=torch.float64).unsqueeze(1)
        shuffled, shuffle_idx = batch_shuffle(batch, distributed=True)
        restored = batch_unshuffle(shuffled, shuffle_idx, distributed=True)

        torch.save(
            {
                "rank": dist.rank(),
                "world_size": dist.world_size(),
                "offset": dist.rank_offset(PER_RANK),
                "eye": dist.eye_rank(PER_RANK),
                "num_parts": len(parts),
                "gathered": gathered.detach(),
                "all_gathered": dist.concat_all_gather(h),
                "grad_w": grad_w,
                "grad_x": x.grad.clone(),
                "shuffled": shuffled,
                "shuffle_idx": shuffle_idx,
                "restored": restored,
                "batch": batch,
            },
            Path(out_dir) / f"rank{rank}.pt",
        )
    finally:
        torch_dist.destroy_process_group()


def test_two_process_gather_gradients_match_single_process(tmp_path):
    # "fork" (torch.multiprocessing's spawn machinery without re-importing torch in the
    # children) keeps this test at about a second; CPU-only, so forking is safe.
    context = mp.start_processes(
        _worker,
        args=(str(tmp_path / "init"), str(tmp_path)),
        nprocs=WORLD_SIZE,
        join=False,
        start_method="fork",
    )
    deadline = time.monotonic() + 60.0
    while not context.join(timeout=1.0):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail("distributed workers did not finish within 60 s")
    results = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD_SIZE)]

    # Single process on the concatenated batch, loss = mean over all anchors.
    inputs, weight = _problem()
    x = inputs.clone().requires_grad_(True)
    w = weight.clone().requires_grad_(True)
    h = x @ w
    _local_loss(h, h, torch.eye(len(h), dtype=torch.bool)).backward()

    for r, res in enumerate(results):
        assert res["rank"] == r
        assert res["world_size"] == WORLD_SIZE
        assert res["offset"] == r * PER_RANK
        assert res["num_parts"] == WORLD_SIZE
        expected_eye = torch.zeros(PER_RANK, PER_RANK * WORLD_SIZE, dtype=torch.bool)
        for i in range(PER_RANK):
            expected_eye[i, r * PER_RANK + i] = True
        assert torch.equal(res["eye"], expected_eye)
        torch.testing.assert_close(res["gathered"], h.detach())
        torch.testing.assert_close(res["all_gathered"], h.detach())
        # DDP-averaged parameter gradient equals the single-process gradient.
        torch.testing.assert_close(res["grad_w"], w.grad)
        # Rank r's input gradient is d(sum_s L_s)/dx_r = WORLD_SIZE * dL/dx_r.
        rows = slice(r * PER_RANK, (r + 1) * PER_RANK)
        torch.testing.assert_close(res["grad_x"] / WORLD_SIZE, x.grad[rows])

    # Shuffle: one permutation shared by all ranks, applied to the gathered batch.
    perm = results[0]["shuffle_idx"]
    assert torch.equal(perm, results[1]["shuffle_idx"])
    assert sorted(perm.tolist()) == list(range(8))
    full = torch.cat([res["batch"] for res in results])
    torch.testing.assert_close(torch.cat([res["shuffled"] for res in results]), full[perm])
    for res in results:
        torch.testing.assert_close(res["restored"], res["batch"])


def test_single_process_defaults_never_touch_torch_distributed(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("torch.distributed must not be called without a process group")

    for name in ("all_gather", "all_reduce", "get_rank", "get_world_size", "broadcast"):
        monkeypatch.setattr(torch_dist, name, forbidden)
    x = torch.randn(3, 2, requires_grad=True)
    assert dist.world_size() == 1
    assert dist.rank() == 0
    assert dist.rank_offset(5) == 0
    parts = dist.gather(x)
    assert len(parts) == 1 and parts[0] is x
    gathered = dist.concat_all_gather(x)
    assert not gathered.requires_grad
    torch.testing.assert_close(gathered, x.detach())
    assert torch.equal(dist.eye_rank(3), torch.eye(3, dtype=torch.bool))


def test_eye_rank_rejects_negative_size():
    with pytest.raises(ValueError, match="n must be >= 0, got -1"):
        dist.eye_rank(-1)
