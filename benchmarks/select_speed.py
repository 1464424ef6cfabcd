"""Times the selection strategies on large embedding sets (wall time and peak memory).

Each (data, N, strategy) runs in its own subprocess so that its peak resident memory
(``ru_maxrss``, which includes the input array) is measured alone; "load" is the 1-minute load
average when the run ended (the machine may be shared). Data:

- ``mixture``: a Gaussian mixture with ``--clusters`` components on a 16-dimensional subspace,
  embedded in 128 dimensions plus isotropic noise: clustered, low intrinsic dimension, like real
  embeddings;
- ``fmnist``: Fashion-MNIST raw pixels PCA'd to 128 dimensions, tiled with small perturbations
  up to N (needs the Debian package ``dataset-fashion-mnist``; skipped when absent);
- ``gaussian``: i.i.d. standard normal, the worst case (no structure to prune with);
- ``embeddings``: the rows of ``--embeddings FILE`` (``selfsup embed``'s ``.npy`` or CSV, e.g. an
  SSL model's Fashion-MNIST embeddings) tiled with the same small perturbations up to N.

Usage:
    python benchmarks/select_speed.py --rows 100000 300000 1000000 --budget 10000 \
        --strategies coreset dedup typicality --data mixture gaussian --threads 2
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import torch
from fashion_mnist import find_root, load_split

__all__ = ["fashion_mnist_pixels", "main", "make_embeddings"]


def fashion_mnist_pixels() -> tuple[np.ndarray, np.ndarray] | None:
    """Fashion-MNIST train+test as ``(pixels (70000, 784) float32 in [0, 1], labels (70000,))``.

    Returns None when the Debian package ``dataset-fashion-mnist`` is not installed.
    """
    if find_root() is None:
        return None
    (train, y_train), (test, y_test) = load_split("train"), load_split("test")
    images = np.concatenate([train, test]).reshape(-1, 784).astype(np.float32) / 255.0
    return images, np.concatenate([y_train, y_test])


def _pca(x: torch.Tensor, dim: int) -> torch.Tensor:
    centred = x - x.mean(0)
    _, vectors = torch.linalg.eigh(centred.T @ centred)
    return centred @ vectors[:, -dim:].flip(1)


def _tiled(base: torch.Tensor, rows: int, generator: torch.Generator) -> np.ndarray:
    """``base`` repeated up to ``rows`` rows, each copy perturbed by noise of 5% of its std."""
    out = torch.empty(rows, base.shape[1])
    scale = 0.05 * base.std()
    for s in range(0, rows, len(base)):
        m = min(len(base), rows - s)
        out[s : s + m] = base[:m] + scale * torch.randn(m, base.shape[1], generator=generator)
    return out.numpy()


def make_embeddings(
    kind: str, rows: int, *, seed: int = 0, clusters: int = 300, source: str | None = None
) -> np.ndarray:
    """Synthetic, Fashion-MNIST or file embeddings `(rows, D)` float32 (see the module docstring).

    ``source`` is the ``.npy`` (or ``.csv``) of ``selfsup embed`` for ``kind="embeddings"``.
    """
    g = torch.Generator().manual_seed(seed)
    if kind == "embeddings":
        if source is None:
            raise ValueError("data kind 'embeddings' needs --embeddings FILE")
        if source.endswith(".npy"):
            array = np.load(source)  # the array only: no file names needed here
        else:
            from selfsup.pipeline.select import load_selection_input

            array = load_selection_input(source)[0]
        base = torch.as_tensor(np.asarray(array, dtype=np.float32))
        return _tiled(base, rows, g)
    out = torch.empty(rows, 128)
    if kind == "gaussian":
        for s in range(0, rows, 65536):
            out[s : s + 65536] = torch.randn(min(65536, rows - s), 128, generator=g)
        return out.numpy()
    if kind == "mixture":
        means = torch.randn(clusters, 16, generator=g) * 4.0
        basis = torch.linalg.qr(torch.randn(128, 16, generator=g))[0]
        for s in range(0, rows, 65536):
            m = min(65536, rows - s)
            z = means[torch.randint(clusters, (m,), generator=g)] + torch.randn(m, 16, generator=g)
            out[s : s + m] = z @ basis.T + 0.05 * torch.randn(m, 128, generator=g)
        return out.numpy()
    if kind == "fmnist":
        loaded = fashion_mnist_pixels()
        if loaded is None:
            raise FileNotFoundError("dataset-fashion-mnist is not installed")
        return _tiled(_pca(torch.from_numpy(loaded[0]), 128), rows, g)
    raise ValueError(f"unknown data kind {kind!r}; use mixture, fmnist, gaussian or embeddings")


def _run_one(args: argparse.Namespace) -> dict:
    from selfsup.selection import select_samples

    torch.set_num_threads(args.threads)
    x = make_embeddings(args.data[0], args.rows[0], source=args.embeddings)
    strategy = args.strategies[0]
    start = time.perf_counter()
    if strategy == "dedup":
        out = select_samples(x, strategy="dedup", dedup_threshold=args.threshold)
    else:
        out = select_samples(x, n=args.budget, strategy=strategy)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "data": args.data[0],
        "rows": args.rows[0],
        "strategy": strategy,
        "selected": len(out.indices),
        "seconds": round(seconds, 1),
        "peak_mb": round(peak_mb),
        "groups": None if out.groups is None else int(out.groups.max()) + 1,
        "load": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    """Parses the options, runs every combination in a subprocess and prints a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000])
    parser.add_argument("--budget", type=int, default=10_000)
    parser.add_argument("--strategies", nargs="+", default=["coreset", "dedup", "typicality"])
    parser.add_argument("--data", nargs="+", default=["mixture", "gaussian"])
    parser.add_argument("--threshold", type=float, default=0.95)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--embeddings", default=None, help="selfsup embed output (.npy/.csv) for --data embeddings"
    )
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_run_one(args)))
        return
    faiss = "installed" if importlib.util.find_spec("faiss") else "not installed"
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {args.threads} thread(s), faiss {faiss}")
    print("| data | N | strategy | selected | groups | seconds | peak MB | load |")
    print("|---|---|---|---|---|---|---|---|")
    for data in args.data:
        if data == "fmnist" and fashion_mnist_pixels() is None:
            print(f"| {data} | - | skipped: dataset-fashion-mnist not installed | | | | | |")
            continue
        for rows in args.rows:
            for strategy in args.strategies:
                cmd = [
                    sys.executable,
                    __file__,
                    "--one",
                    "--rows",
                    str(rows),
                    "--data",
                    data,
                    "--strategies",
                    strategy,
                    "--budget",
                    str(args.budget),
                    "--threshold",
                    str(args.threshold),
                    "--threads",
                    str(args.threads),
                ] + ([] if args.embeddings is None else ["--embeddings", args.embeddings])
                done = subprocess.run(cmd, capture_output=True, text=True)
                if done.returncode != 0:
                    print(
                        f"| {data} | {rows} | {strategy} | failed: "
                        f"{done.stderr.strip().splitlines()[-1]} | | | | |"
                    )
                    continue
                r = json.loads(done.stdout.strip().splitlines()[-1])
                print(
                    f"| {data} | {rows} | {strategy} | {r['selected']} | {r['groups'] or ''} "
                    f"| {r['seconds']} | {r['peak_mb']} | {r['load']} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
