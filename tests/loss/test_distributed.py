"""Two-process (gloo, CPU) check that ``gather_distributed`` equals one process on the full batch.

Gradient convention (derivation). Rank ``r`` holds the rows ``x_r`` of the global batch
``X = cat(x_0, x_1)`` and computes ``L_r``: for per-sample losses (NTXent, VICReg's invariance,
DCL, ...) the mean over its local anchors against the gathered batch, for whole-batch losses
(Barlow Twins, TiCo, ...) the global loss itself. In both cases the single-process loss on
``X`` is ``L = mean_r L_r`` (equal local batch sizes). ``selfsup.utils.dist.gather`` sums, in
backward, the gradients every rank sends into ``X`` and hands rank ``r`` its slice, so rank
``r`` ends up with ``g_r = d(sum_s L_s) / d x_r = W * dL / d x_r``. DDP then averages the
parameter gradients over the ``W`` ranks, which is the same as dividing ``g_r`` by ``W``:
the test therefore asserts ``g_r / W == dL / d x_r`` and ``mean_r L_r == L``, and that the
loss states (DINO's centre, TiCo's covariance, the NTXent memory bank) agree as well.
"""

from __future__ import annotations

import os

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp

from selfsup.loss import (
    BarlowTwinsLoss,
    DCLLoss,
    DCLWLoss,
    DINOLoss,
    HypersphereLoss,
    KoLeoLoss,
    MMCRLoss,
    MSNLoss,
    NTXentLoss,
    SwaVLoss,
    TiCoLoss,
    VICRegLoss,
    WMSELoss,
)

WORLD_SIZE = 2
LOCAL_BATCH = 4
GLOBAL_BATCH = WORLD_SIZE * LOCAL_BATCH


def _views(x):
    """(B, V, D) -> list of V tensors (B, D)."""
    return list(x.unbind(dim=1))


def _view_major(x):
    """(B, V, D) -> (V * B, D), view-major."""
    return x.transpose(0, 1).reshape(-1, x.shape[-1])


# name -> (loss factory taking the gather flag, global input shapes (batch first), call, state)
CASES = {
    "ntxent": (lambda g: NTXentLoss(0.3, gather_distributed=g), [(8, 6), (8, 6)], None, None),
    "ntxent_bank": (
        lambda g: NTXentLoss(0.3, memory_bank_size=(12, 6), gather_distributed=g),
        [(8, 6), (8, 6)],
        None,
        lambda loss: loss.memory_bank.bank,
    ),
    "barlow": (
        lambda g: BarlowTwinsLoss(0.1, gather_distributed=g),
        [(8, 16), (8, 16)],
        None,
        None,
    ),
    "vicreg": (lambda g: VICRegLoss(gather_distributed=g), [(8, 6), (8, 6)], None, None),
    "dcl": (lambda g: DCLLoss(0.2, gather_distributed=g), [(8, 6), (8, 6)], None, None),
    "dclw": (lambda g: DCLWLoss(0.2, gather_distributed=g), [(8, 6), (8, 6)], None, None),
    "tico": (
        lambda g: TiCoLoss(gather_distributed=g),
        [(8, 6), (8, 6)],
        None,
        lambda loss: loss.C,
    ),
    "hypersphere": (
        lambda g: HypersphereLoss(gather_distributed=g),
        [(8, 6), (8, 6)],
        None,
        None,
    ),
    "koleo": (lambda g: KoLeoLoss(gather_distributed=g), [(8, 6)], None, None),
    "mmcr": (lambda g: MMCRLoss(gather_distributed=g), [(8, 2, 6), (8, 2, 6)], None, None),
    "msn": (
        lambda g: MSNLoss(sinkhorn_iterations=3, gather_distributed=g),
        [(8, 2, 6), (8, 6), (5, 6)],
        lambda loss, a, t, p: loss(_view_major(a), t, p),
        None,
    ),
    "swav": (
        lambda g: SwaVLoss(sinkhorn_gather_distributed=g),
        [(8, 2, 5), (8, 3, 5)],
        lambda loss, high, low: loss(_views(high), _views(low)),
        None,
    ),
    "wmse": (
        lambda g: WMSELoss(embedding_dim=3, gather_distributed=g),
        [(8, 2, 3)],
        lambda loss, x: loss(_view_major(x)),
        None,
    ),
    "dino": (
        lambda g: DINOLoss(output_dim=6),
        [(8, 2, 6), (8, 4, 6)],
        lambda loss, t, s: loss(_views(t), _views(s), epoch=0),
        lambda loss: loss.center,
    ),
}
# inputs that are shared parameters, not per-sample rows (MSN's prototypes)
UNSHARDED = {("msn", 2)}


def _global_inputs(name):
    generator = torch.Generator().manual_seed(sorted(CASES).index(name))
    shapes = CASES[name][1]
    return [torch.randn(*shape, generator=generator, dtype=torch.float64) for shape in shapes]


def _run(name, inputs, gather):
    """Returns (loss, grads of the inputs, state) of one forward/backward."""
    factory, _, call, state = CASES[name]
    torch.manual_seed(0)  # the same NTXent bank / WMSE permutation everywhere
    loss_module = factory(gather).double()
    leaves = [x.clone().requires_grad_(True) for x in inputs]
    if call is None:
        loss = loss_module(*leaves)
    else:
        loss = call(loss_module, *leaves)
    loss.backward()
    # DINO's teacher outputs are detached: no gradient, compared as zeros
    grads = [torch.zeros_like(x) if x.grad is None else x.grad.clone() for x in leaves]
    return loss.detach(), grads, None if state is None else state(loss_module).detach().clone()


def _worker(rank, init_file, out_dir):
    torch.set_num_threads(1)
    torch_dist.init_process_group(
        "gloo", init_method=f"file://{init_file}", rank=rank, world_size=WORLD_SIZE
    )
    try:
        results = {}
        for name in CASES:
            local = []
            for index, x in enumerate(_global_inputs(name)):
                if (name, index) in UNSHARDED:
                    local.append(x)
                else:
                    local.append(x[rank * LOCAL_BATCH : (rank + 1) * LOCAL_BATCH])
            results[name] = _run(name, local, gather=True)
        torch.save(results, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        torch_dist.destroy_process_group()


@pytest.mark.skipif(not torch_dist.is_available(), reason="torch built without distributed")
def test_gathered_losses_equal_single_process(tmp_path):
    mp.spawn(
        _worker,
        args=(str(tmp_path / "init"), str(tmp_path)),
        nprocs=WORLD_SIZE,
        join=True,
    )
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD_SIZE)]
    for name in CASES:
        loss, grads, state = _run(name, _global_inputs(name), gather=False)
        rank_losses = torch.stack([ranks[r][name][0] for r in range(WORLD_SIZE)])
        assert torch.allclose(rank_losses.mean(), loss, rtol=1e-10, atol=1e-12), name
        for index, grad in enumerate(grads):
            rank_grads = [ranks[r][name][1][index] / WORLD_SIZE for r in range(WORLD_SIZE)]
            if (name, index) in UNSHARDED:
                # a shared parameter: DDP averages, i.e. sum of the per-rank grads / W
                combined = torch.stack(rank_grads).sum(dim=0)
            else:
                combined = torch.cat(rank_grads)
            assert torch.allclose(combined, grad, rtol=1e-9, atol=1e-12), (name, index)
        if state is not None:
            for r in range(WORLD_SIZE):
                assert torch.allclose(ranks[r][name][2], state, rtol=1e-10, atol=1e-12), name
