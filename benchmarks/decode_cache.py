"""CPU time of one epoch of the batched path's input: decoding the files vs images in memory.

On the batched path (``selfsup train augment=batched``, the default for views up to 64 px on the
CPU) each epoch reads every training image through ``ImageDataset(..., transform=DecodeResize(s))``.
``cache_images`` decodes them once into an ``InMemoryImageDataset`` instead. This script times,
in one process with one torch thread (``num_workers=0``, so every decode is counted), a full pass
of a shuffled DataLoader over each, and the one-time decode pass that fills the memory. Reports
the median of ``--repeats`` passes, interleaved.

    .venv/bin/python benchmarks/decode_cache.py                      # Fashion-MNIST train, 16 px
    .venv/bin/python benchmarks/decode_cache.py --data DIR --size 32
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from fashion_mnist import find_root, write_folders
from torch.utils.data import DataLoader

from selfsup.data import ImageDataset, InMemoryImageDataset, MultiViewCollate
from selfsup.transforms.batched import DecodeResize

__all__ = ["main"]


def _epoch_cpu_seconds(dataset, batch_size: int) -> float:
    """CPU-seconds of one shuffled pass over ``dataset`` in this process."""
    loader = DataLoader(
        dataset, batch_size=batch_size, shuffle=True, drop_last=True, collate_fn=MultiViewCollate()
    )
    start = time.process_time()
    for _ in loader:
        pass
    return time.process_time() - start


def main() -> None:
    """Times the passes and prints one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="image folder (default: Fashion-MNIST train)")
    parser.add_argument("--size", type=int, default=16, help="side of the stored uint8 images")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if args.data is None:
        if find_root() is None:
            print(
                "dataset-fashion-mnist is not installed (apt-get install -y dataset-fashion-mnist)"
            )
            return
        args.data = str(write_folders(Path("/tmp/selfsup_fashion_mnist"))[0])
    files = ImageDataset(
        args.data, transform=DecodeResize(args.size), draft_size=args.size, decode_to_tensor=True
    )
    start = time.process_time()
    in_memory = InMemoryImageDataset.from_dataset(files, batch_size=args.batch_size)
    fill_seconds = time.process_time() - start
    from_files, from_memory = [], []
    for _ in range(args.repeats):
        from_files.append(_epoch_cpu_seconds(files, args.batch_size))
        from_memory.append(_epoch_cpu_seconds(in_memory, args.batch_size))
    result = {
        "data": args.data,
        "images": len(in_memory),
        "size": args.size,
        "memory_mb": round(in_memory.nbytes / 2**20, 1),
        "fill_cpu_s": round(fill_seconds, 2),
        "epoch_from_files_cpu_s": round(statistics.median(from_files), 2),
        "epoch_from_memory_cpu_s": round(statistics.median(from_memory), 2),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
