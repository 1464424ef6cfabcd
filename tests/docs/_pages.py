"""Helpers of the documentation tests: the code blocks of a page and tiny image folders."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
from PIL import Image

DOCS = Path(__file__).resolve().parents[2] / "docs"

#: Appended to every ``selfsup train`` command of a page (the last value of a key wins): one
#: epoch of one batch at 16 pixels with a ResNet-9 at width 1/8 on the CPU.
TINY_TRAIN = [
    "epochs=1",
    "backbone=resnet-9",
    "width=0.125",
    "batch_size=8",
    "input_size=16",
    "num_workers=0",
    "probe_size=8",
    "knn_k=3",
    "accelerator=cpu",
]


def code_blocks(page: Path, language: str) -> list[str]:
    """The fenced code blocks of ``page`` in ``language``, in order."""
    return re.findall(rf"```{language}\n(.*?)```", page.read_text(), flags=re.S)


def selfsup_commands(page: Path) -> list[list[str]]:
    """Arguments of every ``selfsup ...`` command in the page's bash blocks (continuation
    lines joined, ``# comments`` dropped), in order."""
    commands = []
    for block in code_blocks(page, "bash"):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "selfsup":
                commands.append(words[1:])
    return commands


def write_images(
    folder: Path, count: int, seed: int, brightness: int = 120, size: int = 24
) -> None:
    """``count`` noisy ``size`` x ``size`` RGB PNGs of the given mean brightness."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for index in range(count):
        pixels = rng.normal(brightness, 30, (size, size, 3)).clip(0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{index:02d}.png")


def write_labeled(root: Path, count: int, seed: int, size: int = 24) -> None:
    """Two classes, ``dark`` and ``bright``, of ``count`` images each under ``root``."""
    write_images(root / "dark", count, seed, brightness=60, size=size)
    write_images(root / "bright", count, seed + 1, brightness=190, size=size)
