"""``selfsup.embed``: embeddings of a folder of images with a trained backbone."""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.distributed as torch_dist
from torch import Tensor, nn
from torch.utils.data import DataLoader, Sampler

from selfsup.data import ImageDataset, MultiViewCollate
from selfsup.methods import get_method_class
from selfsup.methods.base import default_patch_size
from selfsup.models import get_backbone
from selfsup.pipeline._backbone_args import backbone_arguments
from selfsup.pipeline._files import read_run_config, write_atomically
from selfsup.transforms import EvalTransform
from selfsup.utils.config import ConfigError, build_config, option
from selfsup.utils.features import FeatureRows, extract_features
from selfsup.utils.io import save_embeddings

__all__ = ["EmbedConfig", "EmbedResult", "embed", "load_backbone"]

logger = logging.getLogger(__name__)

# Bytes of features sent to rank 0 per collective call: bounds the extra (GPU) memory of the gather.
_GATHER_BYTES = 64 * 2**20


@dataclasses.dataclass
class EmbedConfig:
    """Options of ``selfsup embed`` (and keyword arguments of :func:`selfsup.embed`)."""

    checkpoint: str | None = option("run folder, its backbone.pt or its last.ckpt (required)")
    data: str | None = option("folder of images to embed (required)")
    out: str = option(
        "CSV file to write; a .npy of the array is written beside it", "embeddings.csv"
    )
    input_size: int | None = option("center-crop size (default: the run's input size)")
    batch_size: int = option("images per batch (and device)", 128)
    num_workers: int = option("DataLoader workers (per device)", 0)
    device: str = option(
        "torch device of the run in this process (cpu, cuda, cuda:1, ...), used while every "
        "Lightning option below keeps its default",
        "cpu",
    )
    accelerator: str = option(
        "Lightning accelerator: auto, cpu, gpu, ...; setting any Lightning option runs "
        "Trainer.predict (devices=auto then means all devices, as in selfsup train)",
        "auto",
    )
    devices: Any = option(
        "Lightning devices: auto, a count or a list; 2 or more run one process per device, "
        "each embedding a contiguous share of the images",
        "auto",
    )
    num_nodes: int = option("Lightning num_nodes", 1)
    strategy: str = option(
        "Lightning strategy: auto, ddp, ... (processes started as scripts)", "auto"
    )
    precision: str = option("Lightning precision: 32-true, bf16-mixed, 16-mixed", "32-true")


@dataclasses.dataclass
class EmbedResult:
    """What :func:`selfsup.embed` wrote.

    With several processes only rank 0 writes the files and holds the arrays; the other ranks
    get empty ``embeddings`` `(0, D)`, ``filenames`` and ``labels`` and their ``global_rank``.
    """

    csv: Path
    npy: Path
    embeddings: np.ndarray
    filenames: list[str]
    labels: list[int]
    global_rank: int = 0


def _run_dir_and_weights(checkpoint: Path) -> tuple[Path, Path]:
    if checkpoint.is_dir():
        return checkpoint, checkpoint / "backbone.pt"
    return checkpoint.parent, checkpoint


def load_backbone(checkpoint: str | Path) -> tuple[nn.Module, int, dict[str, Any]]:
    """Rebuilds a run's backbone and loads its trained weights.

    Args:
        checkpoint: A run folder, its ``backbone.pt`` or its ``last.ckpt``; the run's
            ``config.yaml`` beside it names the backbone.

    Returns:
        ``(backbone, feature_dim, run_config)``; the backbone maps `(B, 3, H, W)` to `(B, F)`.

    Raises:
        ValueError: the file or the run's ``config.yaml`` is missing, the config names no
            known backbone or method (the message names the file), or the weights do not fit
            the backbone.
    """
    run_dir, weights = _run_dir_and_weights(Path(checkpoint))
    config_path = run_dir / "config.yaml"
    if not weights.is_file():
        raise ValueError(f"checkpoint {str(weights)!r} does not exist")
    if not config_path.is_file():
        raise ValueError(f"{str(config_path)!r} is missing: it names the backbone of the run")
    run_config = _read_run_config(config_path)
    try:
        kwargs = backbone_arguments(
            run_config["backbone"],
            run_config.get("width"),
            run_config.get("backbone_args"),
            (run_config.get("method_args") or {}).get("backbone_kwargs"),
        )
        kwargs.update(_masked_vit_sizes(run_config))
        backbone, dim = get_backbone(run_config["backbone"], **kwargs)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{str(config_path)!r} does not describe a backbone: {error}") from None
    state = torch.load(weights, map_location="cpu", weights_only=True)
    if weights.suffix == ".ckpt":
        prefix = "method.backbone."
        state = {
            k[len(prefix) :]: v for k, v in state["state_dict"].items() if k.startswith(prefix)
        }
    try:
        backbone.load_state_dict(state)
    except RuntimeError as error:
        first = str(error).splitlines()[0]
        raise ValueError(f"weights in {str(weights)!r} do not fit the backbone: {first}") from None
    return backbone.eval(), dim, run_config


def _read_run_config(path: Path) -> dict[str, Any]:
    """The mapping in a run's ``config.yaml``; a clear error when it names no backbone."""
    run_config = read_run_config(path)
    if not run_config.get("backbone"):
        raise ValueError(f"{str(path)!r} names no backbone (a mapping with a 'backbone' key)")
    return run_config


def _masked_vit_sizes(run_config: dict[str, Any]) -> dict[str, int]:
    """``image_size`` and ``patch_size`` of the ViT a MAE or MSN run trained: ``selfsup train``
    builds it for the run's view size, with the method's default patch unless one was given."""
    method = run_config.get("method")
    if not method or not str(run_config.get("backbone", "")).startswith("vit-"):
        return {}
    method_args = run_config.get("method_args") or {}
    if "image_size" not in inspect.signature(get_method_class(method)).parameters:
        return {}
    image_size = int(method_args.get("image_size") or _run_input_size(run_config))
    patch_size = method_args.get("patch_size") or default_patch_size(image_size)
    return {"image_size": image_size, "patch_size": int(patch_size)}


def _run_input_size(run_config: dict[str, Any]) -> int:
    if run_config.get("input_size"):
        return int(run_config["input_size"])
    transform = run_config.get("transform") or {}
    for key in ("input_size", "global_crop_size"):
        if key in transform:
            return int(transform[key])
    return 224


def _uses_lightning(config: EmbedConfig) -> bool:
    """Whether any Lightning option asks for more than the in-process run on ``device``."""
    defaults = EmbedConfig()
    return (
        config.accelerator != defaults.accelerator
        or config.devices not in ("auto", 1, "1")
        or config.num_nodes != defaults.num_nodes
        or config.strategy != defaults.strategy
        or config.precision != defaults.precision
    )


def _check_config(config: EmbedConfig) -> None:
    if config.checkpoint is None or config.data is None:
        raise ConfigError("checkpoint and data are required: selfsup embed checkpoint=RUN data=DIR")
    for key, low in (("batch_size", 1), ("num_workers", 0), ("num_nodes", 1)):
        if getattr(config, key) < low:
            raise ConfigError(f"{key} must be >= {low}, got {getattr(config, key)}")
    if not _uses_lightning(config):
        return
    if config.device != EmbedConfig().device:
        raise ConfigError(
            f"device={config.device!r} picks the device of a run in this process; with the "
            f"Lightning options (devices={config.devices!r}, accelerator={config.accelerator!r}) "
            f"Lightning picks the devices: drop device= or name them with devices=[...]"
        )
    if any(word in config.strategy for word in ("spawn", "fork", "notebook")):
        raise ConfigError(
            f"strategy={config.strategy!r} is not supported by selfsup embed: its processes "
            f"cannot hand the embeddings back; use strategy=ddp (processes started as scripts)"
        )


class _ContiguousShard(Sampler[int]):
    """This rank's contiguous share of ``range(n)``, in order, without padding.

    Rank ``r`` of ``W`` gets ``[n * r // W, n * (r + 1) // W)``: every index goes to exactly
    one rank (shares differ by at most one), unlike torch's DistributedSampler, which repeats
    samples so that every rank gets the same count.
    """

    def __init__(self, n: int, rank: int, world_size: int) -> None:
        self.indices = range(n * rank // world_size, n * (rank + 1) // world_size)

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


class _EmbedModule(L.LightningModule):
    """Lightning's view of the backbone: ``predict_step`` embeds one batch of this rank's share
    and keeps ``(dataset index, target, features)``; at the end rank 0 gathers all ranks' rows."""

    def __init__(
        self, backbone: nn.Module, dataset: ImageDataset, batch_size: int, num_workers: int
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.dataset = dataset
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.allow_zero_length_dataloader_with_multiple_devices = True
        self.gathered: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def predict_dataloader(self) -> DataLoader:
        self.shard = _ContiguousShard(
            len(self.dataset), self.trainer.global_rank, self.trainer.world_size
        )
        self.names = self.dataset.get_filenames()
        self.rows = FeatureRows(len(self.shard))
        self.indices: list[int] = []
        self.targets: list[Tensor] = []
        return DataLoader(
            self.dataset,
            batch_size=self.batch_size,
            sampler=self.shard,
            num_workers=self.num_workers,
            collate_fn=MultiViewCollate(),
        )

    def predict_step(self, batch: Any, batch_idx: int) -> int:
        """Embeds a batch into ``rows``; returns its size (``trainer.predict`` keeps nothing)."""
        views, targets, names = batch
        if not names:
            return 0
        self.rows.append(self.backbone(views[0]).flatten(1).float())
        self.targets.append(targets.cpu())
        # The collate drops undecodable files and keeps the order: match the kept names
        # against the batch's window of the shard.
        window = self.shard.indices[batch_idx * self.batch_size :][: self.batch_size]
        kept = iter(names)
        name = next(kept)
        for index in window:
            if self.names[index] == name:
                self.indices.append(index)
                name = next(kept, None)
        return len(names)

    def on_predict_end(self) -> None:
        if len(self.indices) != len(self.rows):
            raise RuntimeError(f"{len(self.rows)} images embedded but {len(self.indices)} found")
        features = self.rows.tensor()
        targets = torch.cat(self.targets) if self.targets else torch.zeros(0, dtype=torch.long)
        indices = torch.tensor(self.indices, dtype=torch.long)
        if self.trainer.world_size == 1:
            self.gathered = (indices.numpy(), targets.numpy(), features.numpy())
        else:
            self.gathered = _gather_to_rank_zero(indices, targets, features, self.device)


def _padded(rows: Tensor, size: int, width: int, device: torch.device) -> Tensor:
    out = torch.zeros(size, width, dtype=rows.dtype, device=device)
    if rows.numel():
        out[: rows.shape[0]] = rows
    return out


def _gather(tensor: Tensor, world: int, rank: int) -> list[Tensor]:
    """``tensor`` of every rank on rank 0 (ordered by rank); an empty list elsewhere."""
    received = [torch.empty_like(tensor) for _ in range(world)] if rank == 0 else None
    torch_dist.gather(tensor, received, dst=0)
    return received or []


def _gather_to_rank_zero(
    indices: Tensor, targets: Tensor, features: Tensor, device: torch.device
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Collects every rank's rows on rank 0, in chunks of about ``_GATHER_BYTES``.

    Args:
        indices: `(n,)` int64 dataset indices of this rank's rows.
        targets: `(n,)` int64 labels.
        features: `(n, D)` float32 on the CPU (`(0, 0)` when this rank embedded nothing).
        device: Where the collectives run (the rank's device: NCCL needs CUDA tensors).

    Returns:
        On rank 0, ``(indices (N,), targets (N,), features (N, D))`` sorted by index; None on
        the other ranks.

    Raises:
        RuntimeError: an index arrived twice (a sampler that repeats samples).
    """
    world, rank = torch_dist.get_world_size(), torch_dist.get_rank()
    shape = torch.tensor(tuple(features.shape), device=device)
    shapes = [torch.zeros_like(shape) for _ in range(world)]
    torch_dist.all_gather(shapes, shape)
    counts = [int(s[0]) for s in shapes]
    dim, longest = max(int(s[1]) for s in shapes), max(counts)
    pairs = torch.stack([indices, targets.long()], dim=1)
    offsets = np.cumsum([0, *counts])
    all_pairs = np.empty((offsets[-1] if rank == 0 else 0, 2), dtype=np.int64)
    all_features = np.empty((len(all_pairs), dim), dtype=np.float32)
    chunk = max(1, _GATHER_BYTES // (4 * max(dim, 1)))
    for start in range(0, longest, chunk):
        size = min(chunk, longest - start)
        got_pairs = _gather(_padded(pairs[start : start + size], size, 2, device), world, rank)
        got_features = _gather(
            _padded(features[start : start + size], size, dim, device), world, rank
        )
        if rank != 0:
            continue
        for source in range(world):
            valid = min(max(counts[source] - start, 0), size)
            begin = offsets[source] + start
            all_pairs[begin : begin + valid] = got_pairs[source][:valid].cpu().numpy()
            all_features[begin : begin + valid] = got_features[source][:valid].cpu().numpy()
    if rank != 0:
        return None
    order = np.argsort(all_pairs[:, 0], kind="stable")
    if not np.array_equal(order, np.arange(len(order))):
        all_pairs, all_features = all_pairs[order], all_features[order]
    if len(all_pairs) and np.any(np.diff(all_pairs[:, 0]) == 0):
        raise RuntimeError("an image was embedded by two processes")
    return all_pairs[:, 0], all_pairs[:, 1], all_features


def _embed_with_lightning(
    config: EmbedConfig, backbone: nn.Module, dataset: ImageDataset, out_dir: Path
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int]:
    """Runs ``Trainer.predict``; returns ``(indices, targets, features, global_rank)``, the
    arrays only on rank 0 (None elsewhere)."""
    module = _EmbedModule(backbone, dataset, config.batch_size, config.num_workers)
    trainer = L.Trainer(
        accelerator=config.accelerator,
        devices=config.devices,
        num_nodes=config.num_nodes,
        strategy=config.strategy,
        precision=config.precision,
        use_distributed_sampler=False,
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        default_root_dir=str(out_dir),
    )
    trainer.predict(module, return_predictions=False)
    if module.gathered is None:
        return np.zeros(0), np.zeros(0), None, trainer.global_rank
    return (*module.gathered, trainer.global_rank)


def _write(csv_path: Path, embeddings: np.ndarray, labels: Sequence[int], names: list[str]) -> Path:
    """Writes the CSV (row by row) and the ``.npy`` beside it, each atomically."""
    npy_path = csv_path.with_suffix(".npy")
    save_embeddings(csv_path, embeddings, labels, names)
    write_atomically(npy_path, lambda tmp: np.save(tmp, embeddings))
    logger.info("wrote %d embeddings of dimension %d to %s", *embeddings.shape, csv_path)
    return npy_path


@torch.no_grad()
def embed(config: EmbedConfig | None = None, **options: Any) -> EmbedResult:
    """Embeds every image of a folder with a trained backbone and writes CSV and ``.npy``.

    Preprocessing is deterministic (resize the short side, center crop, normalise), so the same
    image always gives the same embedding. The CSV has lightly's columns
    ``filenames,embedding_0,...,embedding_{D-1},labels`` (labels from subfolders); the ``.npy``
    beside it holds the float32 array `(N, D)` in the same order.

    Images are decoded one batch at a time and the features go into one preallocated `(N, D)`
    float32 array, which is all that grows with the folder; the CSV is written row by row.
    With the Lightning options (``devices=2 strategy=ddp``, ``accelerator=gpu devices=4``, ...)
    ``Trainer.predict`` runs one process per device; each embeds a contiguous share of the
    images (every image exactly once, no padding), rank 0 gathers the rows, puts them in the
    folder's order and alone writes the files.

    Returns:
        An :class:`EmbedResult` (empty arrays on ranks other than 0).

    Raises:
        ValueError: missing options, files or folders, or weights that do not fit.
    """
    if config is None:
        config = build_config(EmbedConfig, options, command="selfsup embed")
    _check_config(config)
    backbone, dim, run_config = load_backbone(config.checkpoint)
    size = config.input_size or _run_input_size(run_config)
    dataset = ImageDataset(config.data, transform=EvalTransform(input_size=size), draft_size=size)
    csv_path = Path(config.out)
    if _uses_lightning(config):
        indices, targets, features, rank = _embed_with_lightning(
            config, backbone, dataset, csv_path.parent
        )
        if features is None:
            return EmbedResult(
                csv_path, csv_path.with_suffix(".npy"), np.zeros((0, dim), np.float32), [], [], rank
            )
        all_names = dataset.get_filenames()
        names = [all_names[i] for i in indices.tolist()]
        embeddings, labels = features, targets.tolist()
    else:
        device = torch.device(config.device)
        backbone.to(device)
        loader = DataLoader(
            dataset,
            batch_size=config.batch_size,
            num_workers=config.num_workers,
            collate_fn=MultiViewCollate(),
        )
        features_t, targets_t, names = extract_features(backbone, loader, device, desc="embed")
        embeddings, labels = features_t.numpy(), targets_t.tolist()
    npy_path = _write(csv_path, embeddings, labels, names)
    return EmbedResult(csv_path, npy_path, embeddings, names, labels)
