"""Embedding quality on Fashion-MNIST: kNN top-1 of each SSL method trained with a preset.

Each run is ``selfsup train`` on the 60,000 training images (labels unused), with the kNN
monitor scoring the 10,000 test images against the 60,000 training images as the bank (weighted
kNN, t=0.1) every ``--knn-every`` epochs and at the end. Runs go through the command line, as a
user would call it, and can run side by side (``--parallel``) on one GPU.
Needs the Debian package ``dataset-fashion-mnist``; exits cleanly without it.

    .venv/bin/python benchmarks/quality.py --methods simclr --limit 2000 --epochs 1   # smoke
    python benchmarks/quality.py --device cuda --parallel 8                           # 8 methods
    python benchmarks/quality.py --device cuda --variant simclr:method_args.temperature=0.2

The CPU cost of a recipe: with ``--device cpu --epochs 1`` each run's ``cpu_s`` is the
CPU-seconds (user + system of the run and its DataLoader workers) of one epoch plus the final
kNN evaluation; the minutes on 2 cores for the recipe's epochs follow from it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from fashion_mnist import find_root, write_folders

__all__ = ["main"]

METHODS = ("simclr", "moco", "byol", "simsiam", "barlowtwins", "vicreg", "dino", "swav")


def _run_name(method: str, overrides: list[str]) -> str:
    tail = "-".join(o.replace("=", "_").replace(".", "_").replace("/", "_") for o in overrides)
    return f"{method}-{tail}" if tail else method


def _command(
    method: str, overrides: list[str], args: argparse.Namespace, data: Path, out: Path
) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "selfsup",
        "train",
        f"data={data / 'train'}",
        f"val_data={data / 'test'}",
        f"method={method}",
        f"preset={args.preset}",
        f"knn_k={args.knn_k}",
        "knn_t=0.1",
        f"knn_every={args.knn_every}",
        f"num_workers={args.workers}",
        f"out={out}",
        f"seed={args.seed}",
    ]
    if args.device == "cuda":
        command += ["accelerator=gpu", "devices=1", f"precision={args.precision}"]
    else:
        command += ["accelerator=cpu"]
    if args.epochs is not None:
        command.append(f"epochs={args.epochs}")
    return command + list(args.set) + overrides


def _limited_copy(source: Path, target: Path, limit: int) -> Path:
    """Links to every n-th image: ``limit`` training and ``limit // 5`` test images (smoke runs)."""
    for split, count in (("train", limit), ("test", max(10, limit // 5))):
        folder = target / split
        if folder.is_dir():
            continue
        files = sorted(source.glob(f"{split}/*/*.png"))
        for path in files[:: max(1, len(files) // count)][:count]:
            link = folder / path.parent.name / path.name
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path.resolve())
    return target


def _result(name: str, method: str, run_dir: Path, rusage, seconds: float, code: int) -> dict:
    row = {"run": name, "method": method, "exit_code": code, "wall_s": round(seconds, 1)}
    if code != 0 and (run_dir / "metrics.csv").is_file():
        row["partial"] = True
    if rusage is not None:
        row["cpu_s"] = round(rusage.ru_utime + rusage.ru_stime, 1)
    summary = run_dir / "summary.json"
    if summary.is_file():
        data = json.loads(summary.read_text())
        row.update(
            epochs=data["epochs"],
            best_knn=data["best_knn_top1"],
            images_per_second=data["images_per_second"],
            backbone=data["backbone"],
        )
    metrics = run_dir / "metrics.csv"
    if metrics.is_file():
        with open(metrics, newline="") as handle:
            rows = list(csv.DictReader(handle))
        knn = [(r["epoch"], r["knn_top1"]) for r in rows if r.get("knn_top1")]
        row["knn_curve"] = [[int(e), round(float(a), 4)] for e, a in knn]
        row["final_knn"] = float(knn[-1][1]) if knn else None
        row["final_rep_std"] = (
            float(rows[-1]["rep_std"]) if rows and rows[-1].get("rep_std") else None
        )
    return row


def main() -> None:
    """Runs the requested methods and variants and writes ``results.json`` into ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="*", default=list(METHODS))
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="extra run METHOD:key=value,key=value (repeatable)",
    )
    parser.add_argument("--preset", default="small-grayscale")
    parser.add_argument("--epochs", type=int, default=None, help="override the preset's epochs")
    parser.add_argument(
        "--set", nargs="*", action="extend", default=[], help="key=value for every run (repeatable)"
    )
    parser.add_argument("--knn-k", type=int, default=20)
    parser.add_argument("--knn-every", type=int, default=5)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--precision", default="32-true")
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--limit", type=int, default=None, help="train on N images (smoke)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--deadline", type=float, default=None, help="seconds; then stop runs, keep partial curves"
    )
    parser.add_argument("--data", default="/tmp/selfsup_fashion_mnist")
    parser.add_argument("--out", default="/tmp/selfsup_quality")
    args = parser.parse_args()
    if find_root() is None:
        print("dataset-fashion-mnist is not installed (apt-get install -y dataset-fashion-mnist)")
        sys.exit(0)
    if args.workers is None:
        args.workers = max(1, (os.cpu_count() or 2) // args.parallel - 1)

    data = Path(args.data)
    write_folders(data)
    if args.limit is not None:
        data = _limited_copy(data, Path(f"{args.data}_{args.limit}"), args.limit)
    runs = [(m, []) for m in args.methods]
    for variant in args.variant:
        method, _, settings = variant.partition(":")
        runs.append((method, [s for s in settings.split(",") if s]))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results: list[dict] = []
    pending = list(runs)
    active: dict[int, tuple] = {}
    started = time.perf_counter()
    while pending or active:
        while pending and len(active) < args.parallel:
            method, overrides = pending.pop(0)
            name = _run_name(method, overrides)
            run_dir = out / name
            log = open(out / f"{name}.log", "w")  # noqa: SIM115 - closed when the run ends
            command = _command(method, overrides, args, data, run_dir)
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            active[process.pid] = (name, method, run_dir, time.perf_counter(), log, process)
            print(f"started {name}: {' '.join(command[2:])}", flush=True)
        finished = []
        if args.deadline is not None and time.perf_counter() - started > args.deadline:
            pending.clear()
            for pid, (*_, process) in list(active.items()):
                process.kill()
                finished.append((pid, process.wait(), None))
        else:
            pid, status, rusage = os.wait4(-1, os.WNOHANG)
            if pid == 0:
                time.sleep(1.0)
                continue
            finished.append((pid, os.waitstatus_to_exitcode(status), rusage))
        for pid, code, rusage in finished:
            name, method, run_dir, start, log, _ = active.pop(pid)
            log.close()
            row = _result(name, method, run_dir, rusage, time.perf_counter() - start, code)
            results.append(row)
            print(json.dumps(row), flush=True)
        (out / "results.json").write_text(json.dumps(results, indent=2))

    print(f"\n| run | backbone | epochs | kNN top-1 (k={args.knn_k}) | rep std | wall s | CPU s |")
    print("|---|---|---|---|---|---|---|")
    for row in results:
        knn = row.get("final_knn")
        print(
            f"| {row['run']} | {row.get('backbone')} | {row.get('epochs')} | "
            f"{'failed' if knn is None else f'{100 * knn:.2f}%'} | {row.get('final_rep_std')} | "
            f"{row['wall_s']} | {row.get('cpu_s')} |"
        )


if __name__ == "__main__":
    main()
