"""Label-efficiency of the selection strategies on Fashion-MNIST: kNN accuracy and coverage.

Embeddings are raw-pixel PCA embeddings (a stand-in for trained ones): the 60,000 training
images, centred and projected on their top ``--dim`` principal components; or, with
``--embeddings FILE``, ``selfsup embed``'s CSV of the folders ``benchmarks/fashion_mnist.py``
writes (``train/<class>/...`` and ``test/<class>/...`` rows). For every strategy,
budget ``n`` and seed, ``n`` training images are "labeled" by the strategy, a 1-nearest-neighbour
classifier (cosine) is built on them and scored on the 10,000 test images. Coverage is the largest
cosine distance from any training image to its nearest selected one (lower is better). Results are
mean and standard deviation over the seeds (the seed drives coreset's first pick, k-means and the
random draw). Needs the Debian package ``dataset-fashion-mnist``; exits cleanly without it.

Usage:
    python benchmarks/select_quality.py --sizes 100 500 1000 --seeds 0 1 2 3 4
    python benchmarks/select_quality.py --embeddings fashion_mnist_embeddings.csv
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch
from fashion_mnist import find_root, load_split

from selfsup.selection import select_samples

__all__ = ["main"]


def _embeddings(dim: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    train_images, y_train = load_split("train")
    test_images, y_test = load_split("test")
    train = torch.from_numpy(train_images.reshape(-1, 784) / 255.0)
    test = torch.from_numpy(test_images.reshape(-1, 784) / 255.0)
    y_train, y_test = torch.from_numpy(y_train), torch.from_numpy(y_test)
    mean = train.mean(0)
    _, vectors = torch.linalg.eigh((train - mean).T @ (train - mean))
    basis = vectors[:, -dim:]
    return ((train - mean) @ basis).float(), y_train, ((test - mean) @ basis).float(), y_test


def _file_embeddings(path: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Train and test rows of an embeddings CSV; classes from the ``<split>/<class>/`` names."""
    from selfsup.utils.io import load_embeddings

    embeddings, _, filenames = load_embeddings(path)
    split = np.array([name.split("/")[0] for name in filenames])
    names = [name.split("/")[1] for name in filenames]
    classes = {name: index for index, name in enumerate(sorted(set(names)))}
    labels = torch.tensor([classes[name] for name in names])
    x = torch.from_numpy(np.asarray(embeddings, dtype=np.float32))
    train, test = torch.from_numpy(split == "train"), torch.from_numpy(split == "test")
    if not train.any() or not test.any():
        raise SystemExit(f"{path}: expected rows named train/<class>/... and test/<class>/...")
    return x[train], labels[train], x[test], labels[test]


def _nearest(query: torch.Tensor, bank: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cosine similarity and index of each query's nearest bank row, in chunks."""
    q = torch.nn.functional.normalize(query, dim=1)
    b = torch.nn.functional.normalize(bank, dim=1)
    sims, idx = [], []
    for s in range(0, len(q), 8192):
        value, arg = (q[s : s + 8192] @ b.T).max(1)
        sims.append(value)
        idx.append(arg)
    return torch.cat(sims), torch.cat(idx)


def main() -> None:
    """Runs every strategy x budget x seed and prints a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--strategies", nargs="+", default=["random", "coreset", "typicality"])
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--embeddings", default=None, help="selfsup embed CSV (see above)")
    args = parser.parse_args()
    if find_root() is None:
        print("dataset-fashion-mnist is not installed (apt-get install -y dataset-fashion-mnist)")
        sys.exit(0)
    torch.set_num_threads(args.threads)
    if args.embeddings is None:
        x_train, y_train, x_test, y_test = _embeddings(args.dim)
        print(f"Fashion-MNIST raw-pixel PCA-{args.dim} embeddings, 1-NN (cosine) on the selection")
    else:
        x_train, y_train, x_test, y_test = _file_embeddings(args.embeddings)
        print(f"Fashion-MNIST embeddings from {args.embeddings}, 1-NN (cosine) on the selection")
    print("| strategy | n | accuracy % (mean +- std) | coverage (max 1-cos) | seconds/run |")
    print("|---|---|---|---|---|")
    for strategy in args.strategies:
        for n in args.sizes:
            accuracy, coverage, seconds = [], [], []
            for seed in args.seeds:
                start = time.perf_counter()
                chosen = select_samples(x_train, n=n, strategy=strategy, seed=seed).indices
                seconds.append(time.perf_counter() - start)
                bank = x_train[chosen]
                _, nearest = _nearest(x_test, bank)
                accuracy.append(100 * (y_train[chosen][nearest] == y_test).double().mean().item())
                sims, _ = _nearest(x_train, bank)
                coverage.append(1 - sims.min().item())
            print(
                f"| {strategy} | {n} | {np.mean(accuracy):.1f} +- {np.std(accuracy):.1f} "
                f"| {np.mean(coverage):.3f} +- {np.std(coverage):.3f} | {np.mean(seconds):.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
