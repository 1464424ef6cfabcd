"""Video frames as dataset items: access speed (sequential, random, naive) and indexing cost.

Writes generated H.264 videos (a textured background scrolling under a moving square, so
motion compensation has real work; x264 ``veryfast`` with its default B-frames and a fixed
GOP) unless ``--dir`` already holds them, then reports, median over ``--repeat`` rounds in
which the methods take turns:

Access (``--videos`` videos of ``--frames`` frames at ``--size``, GOP ``--gop``):

- ``decode only``: PyAV decoding every frame of every video to RGB, no dataset (the floor);
- ``sequential``: ``ImageDataset(dir)[i]`` for i = 0, 1, 2, ... (no seek at all);
- ``random``: the same for ``--random`` indices in random order (seek to the keyframe
  before, decode forward; up to 4 videos kept open per process);
- ``naive``: for each of ``--naive`` random indices, open the video and decode from its
  first frame up to the wanted one, which is what a reader without seeking does. The pixels
  it returns are compared with the dataset's for the same index (must be identical).

Indexing (``--index-videos`` short videos of ``--index-frames`` frames at 160x120, then
the access videos):

- ``metadata``: open each file and read ``stream.frames`` (what trusting metadata costs);
- ``packet scan``: :func:`~selfsup.data.video_index.scan_video`, one thread, and
  :func:`~selfsup.data.video_index.index_videos` with its thread pool;
- ``ImageDataset``: the whole constructor (folder walk + parallel scan).

Usage:
    python benchmarks/video.py --dir /tmp/selfsup_video_bench
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import av
import numpy as np
import torch
from PIL import Image

from selfsup.data import ImageDataset, index_videos, parse_frame_filename, scan_video

__all__ = ["main"]


def _frames(count: int, size: tuple[int, int], seed: int) -> list[np.ndarray]:
    """``count`` RGB frames (uint8 ``(H, W, 3)``): a scrolling texture and a moving square."""
    width, height = size
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.randint(0, 256, (3, height // 8, width // 8), generator=generator)
    texture = torch.nn.functional.interpolate(
        coarse[None].float(), size=(height, width), mode="bilinear", align_corners=False
    )[0]
    texture = texture.round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0)
    frames = []
    side = height // 4
    for index in range(count):
        frame = torch.roll(texture, shifts=(index, 2 * index), dims=(0, 1)).clone()
        x = (5 * index) % (width - side)
        y = (3 * index) % (height - side)
        frame[y : y + side, x : x + side] = torch.tensor([255, 40 + index % 200, 30])
        frames.append(frame.numpy())
    return frames


def _write(path: str, count: int, size: tuple[int, int], gop: int, seed: int) -> None:
    with av.open(path, "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = gop
        stream.codec_context.options = {"preset": "veryfast", "keyint_min": str(gop)}
        for pixels in _frames(count, size, seed):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode())


def _populate(root: str, videos: int, frames: int, size: tuple[int, int], gop: int) -> None:
    names = [f"clip_{index:03d}.mp4" for index in range(videos)]
    if os.path.isdir(root) and sorted(os.listdir(root)) == names:
        return
    print(f"writing {videos} videos of {frames} frames at {size[0]}x{size[1]} to {root} ...")
    os.makedirs(root, exist_ok=True)
    for index, name in enumerate(names):
        _write(os.path.join(root, name), frames, size, gop, seed=index)


def _decode_all(root: str) -> int:
    count = 0
    for name in sorted(os.listdir(root)):
        with av.open(os.path.join(root, name)) as container:
            stream = container.streams.video[0]
            stream.codec_context.thread_count = 1
            for frame in container.decode(stream):
                Image.fromarray(frame.to_ndarray(format="rgb24", threads=1))
                count += 1
    return count


def _naive_frame(root: str, video: str, wanted: int) -> Image.Image:
    """Frame ``wanted`` by decoding from the start of the file (no seek, no cache)."""
    with av.open(os.path.join(root, video)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        for index, frame in enumerate(container.decode(stream)):
            if index == wanted:
                return Image.fromarray(frame.to_ndarray(format="rgb24", threads=1))
    raise IndexError(f"{video} has no frame {wanted}")


def _timed(run: Callable[[], int]) -> float:
    """Items per second of one call of ``run`` (which returns its item count)."""
    start = time.perf_counter()
    count = run()
    return count / (time.perf_counter() - start)


def _bench_access(args: argparse.Namespace, root: str) -> None:
    probe = ImageDataset(root)
    total = len(probe)
    generator = torch.Generator().manual_seed(0)
    random_indices = torch.randperm(total, generator=generator)[: args.random].tolist()
    naive_indices = torch.randperm(total, generator=generator)[: args.naive].tolist()
    names = probe.get_filenames()

    def sequential() -> int:
        dataset = ImageDataset(root)
        for index in range(total):
            dataset[index]
        return total

    def random_access() -> int:
        dataset = ImageDataset(root)
        for index in random_indices:
            dataset[index]
        return len(random_indices)

    def naive() -> int:
        for index in naive_indices:
            video, frame = parse_frame_filename(names[index])
            _naive_frame(root, video, frame)
        return len(naive_indices)

    methods = {
        "decode only (PyAV, all frames)": lambda: _decode_all(root),
        "ImageDataset sequential": sequential,
        "ImageDataset random": random_access,
        "naive (decode from frame 0)": naive,
    }
    rates: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(args.repeat):
        for name, run in methods.items():
            rates[name].append(_timed(run))

    mismatches = 0
    for index in naive_indices:
        video, frame = parse_frame_filename(names[index])
        expected = np.asarray(_naive_frame(root, video, frame))
        mismatches += not np.array_equal(np.asarray(probe[index][0]), expected)
    reader = probe._sources[0].reader
    probe_seeks, probe_opens = reader.seeks, reader.opens

    naive_rate = statistics.median(rates["naive (decode from frame 0)"])
    print(f"\naccess: {args.videos} videos x {args.frames} frames, {args.size}, gop {args.gop}")
    print(f"{'method':34s} {'frames/s':>9s} {'min - max':>17s} {'vs naive':>9s}")
    for name, values in rates.items():
        median = statistics.median(values)
        print(
            f"{name:34s} {median:9.1f} {min(values):8.1f} - {max(values):6.1f} "
            f"{median / naive_rate:8.1f}x"
        )
    print(
        f"{args.naive} random frames compared with the naive decode: {mismatches} differ "
        f"(reader: {probe_opens} opens, {probe_seeks} seeks for those accesses)"
    )


def _bench_indexing(args: argparse.Namespace, root: str, label: str) -> None:
    names = sorted(os.listdir(root))

    def metadata() -> int:
        count = 0
        for name in names:
            with av.open(os.path.join(root, name)) as container:
                count += container.streams.video[0].frames
        return count

    def scan_serial() -> int:
        return sum(scan_video(root, name).frame_count for name in names)

    def scan_parallel() -> int:
        infos, _ = index_videos(root, names)
        return sum(info.frame_count for info in infos if info is not None)

    methods = {
        "metadata (open + stream.frames)": metadata,
        "packet scan, 1 thread": scan_serial,
        "packet scan, index_videos threads": scan_parallel,
        "ImageDataset(dir)": lambda: len(ImageDataset(root)),
    }
    seconds: dict[str, list[float]] = {name: [] for name in methods}
    counts = {}
    for _ in range(args.repeat):
        for name, run in methods.items():
            start = time.perf_counter()
            counts[name] = run()
            seconds[name].append(time.perf_counter() - start)
    workers = min(len(names), os.cpu_count() or 1, 16)
    print(f"\nindexing: {label} ({workers} scan threads on {os.cpu_count()} cores)")
    print(f"{'method':36s} {'total ms':>9s} {'ms/video':>9s} {'frames':>7s}")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"{name:36s} {1e3 * median:9.1f} {1e3 * median / len(names):9.2f} {counts[name]:7d}")


def main() -> None:
    """Parses the command line, writes the videos if needed and prints the measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="/tmp/selfsup_video_bench")
    parser.add_argument("--videos", type=int, default=20)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--gop", type=int, default=30)
    parser.add_argument("--random", type=int, default=600)
    parser.add_argument("--naive", type=int, default=60)
    parser.add_argument("--index-videos", type=int, default=100)
    parser.add_argument("--index-frames", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    width, height = (int(value) for value in args.size.split("x"))
    torch.set_num_threads(1)

    access_root = os.path.join(args.dir, "access")
    index_root = os.path.join(args.dir, "indexing")
    _populate(access_root, args.videos, args.frames, (width, height), args.gop)
    _populate(index_root, args.index_videos, args.index_frames, (160, 120), args.gop)
    print(f"PyAV {av.__version__}, FFmpeg libavcodec {av.library_versions['libavcodec']}")
    _bench_access(args, access_root)
    _bench_indexing(
        args, index_root, f"{args.index_videos} videos x {args.index_frames} frames at 160x120"
    )
    _bench_indexing(
        args, access_root, f"{args.videos} videos x {args.frames} frames at {args.size}"
    )


if __name__ == "__main__":
    main()
