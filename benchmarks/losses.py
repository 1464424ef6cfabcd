"""Forward + backward time of selfsup's losses, compared with lightly's in the same run.

Usage:
    .venv/bin/python benchmarks/losses.py [--repeats 9] [--budget 10] [--threads 2]
        [--dino-batch 32]

Each case builds random inputs (float32, CPU, ``requires_grad``), runs warm-up steps (at
least 3, up to 2 s) and then timed steps of ``loss = criterion(...); loss.backward()`` per implementation (at least
``--repeats``, more for cheap cases until ``--budget`` seconds, at most 200), alternating
selfsup and lightly so that load changes on a shared machine hit both alike. The table reports the median milliseconds and ``lightly / selfsup`` (> 1 means
selfsup is faster). The lightly columns are left out when ``import lightly`` fails.
lightly 1.6's ``NTXentLoss`` only accepts the ``(size, dim)`` memory bank form, so it gets
``(4096, 128)`` where selfsup gets ``4096``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import torch
from torch import Tensor

from selfsup import loss as selfsup_loss

__all__ = ["Case", "main", "make_cases", "time_step"]


@dataclass
class Case:
    """One benchmark row.

    Attributes:
        name: Row label.
        make_ours: Builds the selfsup criterion.
        make_lightly: Builds lightly's criterion from the ``lightly.loss`` module.
        make_inputs: Returns fresh leaf tensors (``requires_grad``) for one step.
        call: Runs the criterion on the inputs and returns the scalar loss.
    """

    name: str
    make_ours: Callable[[], torch.nn.Module]
    make_lightly: Callable[[ModuleType], torch.nn.Module]
    make_inputs: Callable[[], list[Tensor]]
    call: Callable[[torch.nn.Module, list[Tensor]], Tensor]


def _pair(batch: int, dim: int) -> Callable[[], list[Tensor]]:
    def make() -> list[Tensor]:
        return [torch.randn(batch, dim, requires_grad=True) for _ in range(2)]

    return make


def _two_views(criterion: torch.nn.Module, inputs: list[Tensor]) -> Tensor:
    return criterion(inputs[0], inputs[1])


def _dino_inputs(batch: int, dim: int, global_crops: int, local_crops: int) -> Callable:
    def make() -> list[Tensor]:
        teacher = [torch.randn(batch, dim) for _ in range(global_crops)]
        student = [
            torch.randn(batch, dim, requires_grad=True) for _ in range(global_crops + local_crops)
        ]
        return teacher + student

    return make


def _dino_call(global_crops: int) -> Callable[[torch.nn.Module, list[Tensor]], Tensor]:
    def call(criterion: torch.nn.Module, inputs: list[Tensor]) -> Tensor:
        return criterion(inputs[:global_crops], inputs[global_crops:], epoch=0)

    return call


def make_cases(dino_batch: int) -> list[Case]:
    """The benchmark rows: NTXent (with and without a 4096 bank), Barlow Twins, DINO."""
    cases = []
    for batch in (256, 1024):
        cases.append(
            Case(
                f"NTXentLoss B={batch} D=128",
                lambda: selfsup_loss.NTXentLoss(),
                lambda lightly_loss: lightly_loss.NTXentLoss(),
                _pair(batch, 128),
                _two_views,
            )
        )
        cases.append(
            Case(
                f"NTXentLoss B={batch} D=128 bank=4096",
                lambda: selfsup_loss.NTXentLoss(memory_bank_size=4096),
                lambda lightly_loss: lightly_loss.NTXentLoss(memory_bank_size=(4096, 128)),
                _pair(batch, 128),
                _two_views,
            )
        )
    cases.append(
        Case(
            "BarlowTwinsLoss B=256 D=8192",
            lambda: selfsup_loss.BarlowTwinsLoss(),
            lambda lightly_loss: lightly_loss.BarlowTwinsLoss(),
            _pair(256, 8192),
            _two_views,
        )
    )
    cases.append(
        Case(
            f"DINOLoss B={dino_batch} D=65536 2+8 crops",
            lambda: selfsup_loss.DINOLoss(output_dim=65536),
            lambda lightly_loss: lightly_loss.DINOLoss(output_dim=65536),
            _dino_inputs(dino_batch, 65536, 2, 8),
            _dino_call(2),
        )
    )
    return cases


def time_step(case: Case, criterion: torch.nn.Module) -> float:
    """Seconds of one forward + backward on fresh inputs."""
    inputs = case.make_inputs()
    start = time.perf_counter()
    loss = case.call(criterion, inputs)
    loss.backward()
    return time.perf_counter() - start


def _run_case(
    case: Case, lightly_loss: ModuleType | None, repeats: int, budget: float
) -> tuple[dict[str, float], int]:
    """Median milliseconds per implementation and the number of timed steps of each."""
    torch.manual_seed(0)
    criteria = {"selfsup": case.make_ours()}
    if lightly_loss is not None:
        criteria["lightly"] = case.make_lightly(lightly_loss)
    # warm-up: creates selfsup's lazily sized memory bank and lets the allocator reach its
    # steady state (early steps of a process pay page faults for fresh large buffers)
    warm_start = time.perf_counter()
    warm_steps = 0
    while warm_steps < 3 or (time.perf_counter() - warm_start < 2.0 and warm_steps < 50):
        for criterion in criteria.values():
            time_step(case, criterion)
        warm_steps += 1
    times: dict[str, list[float]] = {name: [] for name in criteria}
    start = time.perf_counter()
    steps = 0
    # at least `repeats` steps; cheap cases keep going until `budget` seconds (max 200 steps)
    while steps < repeats or (time.perf_counter() - start < budget and steps < 200):
        for name, criterion in criteria.items():
            times[name].append(time_step(case, criterion))
        steps += 1
    medians = {name: statistics.median(values) * 1000 for name, values in times.items()}
    return medians, steps


def _import_lightly() -> tuple[ModuleType | None, str]:
    try:
        import lightly
        import lightly.loss as lightly_loss
    except ImportError as error:
        return None, f"not available ({error})"
    return lightly_loss, lightly.__version__


def main(argv: list[str] | None = None) -> None:
    """Runs the benchmark and prints a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="timed steps per implementation")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads value")
    parser.add_argument("--dino-batch", type=int, default=32, help="DINO batch per crop")
    parser.add_argument(
        "--budget", type=float, default=10.0, help="seconds per case for extra timed steps"
    )
    parser.add_argument("--only", default="", help="run only cases whose name contains this")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    lightly_loss, lightly_version = _import_lightly()
    print(
        f"torch {torch.__version__}, lightly {lightly_version}, threads {args.threads}, "
        f"repeats >= {args.repeats} (budget {args.budget:g} s per case), "
        f"CPU {platform.processor() or platform.machine()}"
    )
    header = "| case | steps | selfsup ms |"
    rule = "|---|---:|---:|"
    if lightly_loss is not None:
        header += " lightly ms | lightly / selfsup |"
        rule += "---:|---:|"
    print(header)
    print(rule)
    for case in make_cases(args.dino_batch):
        if args.only not in case.name:
            continue
        result, steps = _run_case(case, lightly_loss, args.repeats, args.budget)
        row = f"| {case.name} | {steps} | {result['selfsup']:.1f} |"
        if "lightly" in result:
            row += f" {result['lightly']:.1f} | {result['lightly'] / result['selfsup']:.2f} |"
        print(row, flush=True)


if __name__ == "__main__":
    main()
