"""``selfsup.train``: self-supervised training on a folder of images."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_only
from torch.utils.data import DataLoader, Subset

from selfsup.data import ImageDataset, InMemoryImageDataset, MultiViewCollate
from selfsup.methods import get_method_class, list_methods
from selfsup.methods.base import default_patch_size
from selfsup.pipeline._backbone_args import backbone_arguments
from selfsup.pipeline._files import read_run_config, write_atomically
from selfsup.pipeline.presets import apply_preset, list_presets
from selfsup.pipeline.preview import preview
from selfsup.training import (
    AtomicCheckpoint,
    CollapseMonitor,
    FeatureNormCalibration,
    KNNMonitor,
    MetricsWriter,
    OptimizerConfig,
    SSLTrainingModule,
)
from selfsup.transforms import EvalTransform, get_transform_class
from selfsup.transforms.batched import DecodeResize, get_batch_transform_class
from selfsup.utils.config import ConfigError, build_config, check_kwargs, choices, option, to_yaml

__all__ = ["TrainConfig", "TrainResult", "train"]

logger = logging.getLogger(__name__)

# cache_images=auto keeps the decoded training images in memory up to this size.
_CACHE_LIMIT_BYTES = 2**30
# Training images (evenly spaced) whose features calibrate a backbone's feature norm: the
# standard error of a variance estimated from 10,000 images is about 1.4% of it.
_CALIBRATION_IMAGES = 10_000


@dataclasses.dataclass
class TrainConfig:
    """Options of ``selfsup train`` (and keyword arguments of :func:`selfsup.train`)."""

    data: str | None = option("folder of training images (required)")
    method: str = choices(list_methods, "simclr", "SSL method")
    preset: str | None = option(
        f"tuned recipe filling in the options not given: {', '.join(list_presets())}"
    )
    backbone: str | None = option(
        "backbone: resnet-18, torchvision/<model>, timm/<model> (default: resnet-18 up to "
        "64 px views, torchvision/resnet18 above; vit-tiny for mae and msn)"
    )
    width: float | None = option("width multiplier of selfsup's ResNets")
    backbone_args: dict[str, Any] = dataclasses.field(
        default_factory=dict,
        metadata={
            "help": "arguments of the backbone, e.g. backbone_args.pool_size=2 (a 2x2 grid of "
            "pooled features in selfsup's ResNets), backbone_args.num_stages=3 (end after "
            "the third stage) or backbone_args.feature_norm=true (standardise the features "
            "with statistics of the training images)"
        },
    )
    epochs: int = option("training epochs", 100)
    batch_size: int = option("images per batch and device", 256)
    input_size: int | None = option("crop size of the views (default: the method's transform)")
    augment: str = choices(
        ["auto", "batched", "per_sample"],
        "auto",
        "batched: workers only decode, all views made on the training device; per_sample: PIL "
        "views in the workers; auto: batched on a GPU or for views up to 64 px",
    )
    cache_images: str = choices(
        ["auto", "always", "never"],
        "auto",
        "batched path: decode every training image once and keep it in memory instead of "
        "decoding it again each epoch; auto: when the decoded images take at most 1 GiB",
    )
    transform: dict[str, Any] = dataclasses.field(
        default_factory=dict,
        metadata={"help": "arguments of the method's transform, e.g. transform.gaussian_blur=0"},
    )
    method_args: dict[str, Any] = dataclasses.field(
        default_factory=dict,
        metadata={"help": "arguments of the method, e.g. method_args.temperature=0.2"},
    )
    optimizer: OptimizerConfig = dataclasses.field(default_factory=OptimizerConfig)
    val_data: str | None = option("labeled folder (class subfolders) for the kNN monitor")
    knn_k: int = option("neighbours of the kNN monitor", 200)
    knn_t: float = option("temperature of the kNN monitor", 0.1)
    knn_every: int = option("run the kNN monitor every N epochs", 1)
    collapse_threshold: float | None = option("collapse warning below this std (0.3/sqrt(dim))")
    stop_on_collapse: bool = option("stop the run when the representation collapses", False)
    probe_size: int = option("images embedded every epoch for the collapse monitor", 512)
    num_workers: int | None = option("DataLoader workers (default: available cores)")
    seed: int = option("random seed", 0)
    out: str | None = option("run folder (default: runs/<method>-<date>)")
    resume: bool = option("continue from <out>/last.ckpt", False)
    accelerator: str = option("Lightning accelerator: auto, cpu, gpu, ...", "auto")
    devices: Any = option("Lightning devices: auto, a count or a list", "auto")
    num_nodes: int = option("Lightning num_nodes", 1)
    strategy: str = option("Lightning strategy: auto, ddp, ...", "auto")
    precision: str = option("Lightning precision: 32-true, bf16-mixed, 16-mixed", "32-true")
    channels_last: bool = option(
        "channels-last (NHWC) weights and views (small ResNets train 1.2x faster on the CPU)", True
    )


@dataclasses.dataclass
class TrainResult:
    """What :func:`selfsup.train` wrote and measured."""

    out_dir: Path
    checkpoint: Path
    backbone: Path
    metrics: Path
    summary: dict[str, Any]
    global_rank: int = 0


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _loader(dataset, batch_size: int, workers: int, shuffle: bool, drop_last: bool, pin: bool):
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        drop_last=drop_last,
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=pin,
        collate_fn=MultiViewCollate(),
    )


def _evenly_spaced(dataset, count: int):
    if len(dataset) <= count:
        return dataset
    step = len(dataset) / count
    return Subset(dataset, [int(i * step) for i in range(count)])


def _resolve_out(config: TrainConfig) -> Path:
    if config.out is not None:
        return Path(config.out)
    return Path("runs") / f"{config.method}-{time.strftime('%Y%m%d-%H%M%S')}"


def _params(fn) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(fn).parameters)


def _size_arguments(transform_cls: type, input_size: int, multiple: int = 1) -> dict[str, Any]:
    """Transform arguments that set the main crop to ``input_size``, smaller crops in proportion
    (rounded to a ``multiple`` of pixels: a ViT needs sides that are whole patches)."""
    params = _params(transform_cls)
    for main, small in (
        ("input_size", None),
        ("global_crop_size", "local_crop_size"),
        ("random_size", "focal_size"),
    ):
        if main in params:
            sizes = {main: input_size}
            if small is not None:
                ratio = params[small].default / params[main].default
                sizes[small] = max(multiple, round(input_size * ratio / multiple) * multiple)
            return sizes
    if "crop_sizes" in params:
        defaults = params["crop_sizes"].default
        return {"crop_sizes": tuple(max(1, round(input_size * s / defaults[0])) for s in defaults)}
    raise ConfigError(f"input_size cannot be set for {transform_cls.__name__}")


def _view_size(transform_cls: type, kwargs: dict[str, Any]) -> int:
    """Side of the main views the transform makes (the size embeddings are computed at)."""
    params = _params(transform_cls)
    for key in ("input_size", "global_crop_size", "random_size", "crop_sizes"):
        if key in params:
            value = kwargs.get(key, params[key].default)
            value = value[0] if key == "crop_sizes" else value
            return int(value if isinstance(value, int) else value[0])
    return 224


def _transform_arguments(config: TrainConfig) -> tuple[str, dict[str, Any], int]:
    """The method's transform name, its checked arguments and the side of its main views."""
    transform_name = get_method_class(config.method).transform_name
    transform_cls = get_transform_class(transform_name)
    kwargs = dict(config.transform)
    if config.input_size is not None:
        method_params = _params(get_method_class(config.method))
        multiple = 1
        if "patch_size" in method_params:  # a ViT method: crops must be whole patches
            multiple = config.method_args.get("patch_size") or default_patch_size(config.input_size)
        for key, value in _size_arguments(transform_cls, config.input_size, multiple).items():
            kwargs.setdefault(key, value)
    kwargs = check_kwargs(transform_cls, kwargs, owner=f"transform {transform_cls.__name__}")
    return transform_name, kwargs, _view_size(transform_cls, kwargs)


def _use_batched(config: TrainConfig, view_size: int, on_gpu: bool) -> bool:
    """``augment=auto``: the batched path where benchmarks/augment_batched.py measured it faster
    (on a GPU; on the CPU for views up to 64 px, slower than Pillow's uint8 ops at 224)."""
    if config.augment == "auto":
        return on_gpu or view_size <= 64
    return config.augment == "batched"


def _stored_size(view_size: int) -> int:
    """Side of the uint8 images the workers make for the batched path: the view side for small
    images, 8/7 of it above 64 px (256 for 224 views), so large crops keep their detail."""
    return view_size if view_size <= 64 else round(view_size * 8 / 7)


def _cache_images(config: TrainConfig, batched: bool, count: int, stored: int) -> bool:
    """Whether to decode the training images once into memory (``cache_images``)."""
    if config.cache_images == "auto":
        return batched and count * 3 * stored**2 <= _CACHE_LIMIT_BYTES
    if config.cache_images == "always" and not batched:
        raise ConfigError(
            "cache_images=always needs the batched path (augment=batched): with "
            "augment=per_sample the workers make the views from each decoded file"
        )
    return config.cache_images == "always"


def _check_batch_size(config: TrainConfig, count: int) -> None:
    if count < config.batch_size:
        raise ValueError(
            f"batch_size {config.batch_size} is larger than the data set in {config.data!r} "
            f"({count} images); set batch_size <= {count}"
        )


def _resolve_options(config: TrainConfig | None, options: dict[str, Any]) -> TrainConfig:
    """Builds the config from a :class:`TrainConfig` and/or keyword options, preset applied."""
    if config is not None:
        defaults = TrainConfig()
        given = {
            f.name: getattr(config, f.name)
            for f in dataclasses.fields(TrainConfig)
            if getattr(config, f.name) != getattr(defaults, f.name)
        }
        options = {
            **{
                k: dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v
                for k, v in given.items()
            },
            **options,
        }
    resolved = build_config(TrainConfig, options, command="selfsup train")
    if resolved.preset is None:
        return resolved
    try:
        method_cls = get_method_class(resolved.method)
        preset_options = apply_preset(
            resolved.preset,
            options,
            get_transform_class(method_cls.transform_name),
            method=resolved.method,
        )
    except ValueError as error:
        raise ConfigError(str(error)) from None
    return build_config(TrainConfig, preset_options, command="selfsup train")


def _class_map(bank_classes: list[str], val_classes: list[str], config: TrainConfig) -> list[int]:
    """Index in ``bank_classes`` of each validation class, matched by folder name."""
    if len(bank_classes) < 2:
        raise ValueError(
            f"the kNN monitor needs labels: {config.data!r} must hold one subfolder per class "
            f"(found {len(bank_classes)} class), as {config.val_data!r} does"
        )
    missing = [name for name in val_classes if name not in bank_classes]
    if missing:
        raise ValueError(
            f"classes {missing} of val_data {config.val_data!r} have no subfolder in "
            f"data {config.data!r} (classes there: {bank_classes})"
        )
    return [bank_classes.index(name) for name in val_classes]


def _default_backbone(method_cls: type, view_size: int) -> str:
    """The method's own default, with the ResNet-18 stem matched to the image size: selfsup's
    3x3-stem ResNet keeps full resolution (right for 32-64 px), torchvision's 7x7 stem and
    max-pool downsample 4x first (right for larger images, about 16x fewer FLOPs at 224 px)."""
    default = _params(method_cls)["backbone"].default
    if default == "resnet-18" and view_size > 64:
        return "torchvision/resnet18"
    return default


def _check_resume(config: TrainConfig, out_dir: Path) -> None:
    """Resuming continues the same schedule: the run's epochs cannot change."""
    previous = out_dir / "config.yaml"
    if previous.is_file():
        epochs = read_run_config(previous).get("epochs")
        if epochs != config.epochs:
            raise ValueError(
                f"resume=true with epochs={config.epochs}, but the run in {str(out_dir)!r} was "
                f"started with epochs={epochs}; its learning-rate and momentum schedules are "
                f"laid out for {epochs} epochs: resume with epochs={epochs}"
            )


def train(config: TrainConfig | None = None, **options: Any) -> TrainResult:
    """Trains a self-supervised model on a folder of images.

    Args:
        config: A :class:`TrainConfig`; or give its fields as keyword arguments
            (``selfsup.train(data="images/", method="simclr", epochs=10)``).
        **options: Fields of :class:`TrainConfig`, nested ones as dicts
            (``optimizer={"lr": 0.1}``).

    Returns:
        A :class:`TrainResult` with the paths of the run folder's files and its summary.

    Raises:
        ValueError: an unknown option, a bad value, a missing or empty data folder, or a batch
            size larger than the data set.
    """
    config = _resolve_options(config, options)
    if config.data is None:
        raise ConfigError("data is required: the folder of training images (data=DIR)")
    for key in ("epochs", "batch_size", "knn_k", "knn_every", "probe_size"):
        if getattr(config, key) < 1:
            raise ConfigError(f"{key} must be >= 1, got {getattr(config, key)}")
    out_dir = _resolve_out(config)
    checkpoint = out_dir / "last.ckpt"
    if config.resume and not checkpoint.is_file():
        raise ValueError(f"resume=true but {str(checkpoint)!r} does not exist")
    if config.resume:
        _check_resume(config, out_dir)

    L.seed_everything(config.seed, workers=True, verbose=False)
    on_gpu = torch.cuda.is_available() and config.accelerator in ("auto", "gpu", "cuda")
    transform_name, transform_kwargs, view_size = _transform_arguments(config)
    batched = _use_batched(config, view_size, on_gpu)
    transform_cls = (get_batch_transform_class if batched else get_transform_class)(transform_name)
    transform = transform_cls(**transform_kwargs)
    config.input_size = view_size
    if batched:
        # Workers only decode and resize to uint8; SSLTrainingModule makes the views on device.
        stored = _stored_size(view_size)
        dataset = ImageDataset(
            config.data, transform=DecodeResize(stored), draft_size=stored, decode_to_tensor=True
        )
    else:
        # Large JPEGs decode at a reduced size (PIL draft mode), never below 4x the view side:
        # a crop of 6% of the image area (min_scale 0.06) is then still at full view resolution.
        dataset = ImageDataset(config.data, transform=transform, draft_size=4 * view_size)
    _check_batch_size(config, len(dataset))
    workers = _available_cores() if config.num_workers is None else config.num_workers
    train_set, train_workers = dataset, workers
    if _cache_images(config, batched, len(dataset), _stored_size(view_size)):
        started = time.perf_counter()
        train_set = InMemoryImageDataset.from_dataset(
            dataset, batch_size=config.batch_size, num_workers=workers
        )
        dataset.skipped += [item for item in train_set.skipped if item not in dataset.skipped]
        _check_batch_size(config, len(train_set))
        train_workers = 0  # indexing a tensor: workers would only add copies between processes
        logger.info(
            "decoded %d training images into memory (%.1f MB) in %.1f s",
            len(train_set),
            train_set.nbytes / 2**20,
            time.perf_counter() - started,
        )
    distributed = config.num_nodes > 1 or config.devices not in ("auto", 1, "1", None)
    method_kwargs = dict(config.method_args)
    method_cls = get_method_class(config.method)
    if distributed and "gather_distributed" in _params(method_cls):
        method_kwargs.setdefault("gather_distributed", True)
    if "image_size" in _params(method_cls):
        method_kwargs.setdefault("image_size", view_size)
    if config.backbone is None:
        config.backbone = _default_backbone(method_cls, view_size)
    backbone_kwargs = backbone_arguments(
        config.backbone, config.width, config.backbone_args, method_kwargs.get("backbone_kwargs")
    )
    if backbone_kwargs:
        method_kwargs["backbone_kwargs"] = backbone_kwargs
    method_kwargs = check_kwargs(method_cls, method_kwargs, owner=f"method {config.method!r}")
    method = method_cls(backbone=config.backbone, **method_kwargs)
    module = SSLTrainingModule(
        method,
        config.optimizer,
        config.batch_size,
        batch_transform=transform if batched else None,
        channels_last=config.channels_last,
    )

    eval_transform = EvalTransform(input_size=view_size)
    pin = on_gpu
    train_loader = _loader(train_set, config.batch_size, train_workers, True, True, pin)
    # The monitors read the same indexed folder with deterministic preprocessing: a shallow copy
    # shares the index (and its list of skipped files) instead of walking the folder again.
    eval_dataset = copy.copy(dataset)
    eval_dataset.transform = eval_transform
    probe = _evenly_spaced(eval_dataset, config.probe_size)
    metrics_writer = MetricsWriter(out_dir)
    callbacks: list[L.Callback] = [
        CollapseMonitor(
            _loader(probe, config.batch_size, 0, False, False, pin),
            threshold=config.collapse_threshold,
            stop_on_collapse=config.stop_on_collapse,
        )
    ]
    if backbone_kwargs.get("feature_norm"):
        # The norm gets its statistics from un-augmented training images before the kNN
        # monitor and the checkpoint read the backbone.
        calibration = _evenly_spaced(eval_dataset, _CALIBRATION_IMAGES)
        callbacks.append(
            FeatureNormCalibration(
                _loader(calibration, config.batch_size, 0, False, False, pin),
                every_n_epochs=config.knn_every if config.val_data is not None else None,
            )
        )
    if config.val_data is not None:
        bank = eval_dataset
        val = ImageDataset(config.val_data, transform=eval_transform, draft_size=view_size)
        callbacks.append(
            KNNMonitor(
                _loader(bank, config.batch_size, 0, False, False, pin),
                _loader(val, config.batch_size, 0, False, False, pin),
                num_classes=len(bank.classes),
                knn_k=config.knn_k,
                knn_t=config.knn_t,
                every_n_epochs=config.knn_every,
                val_target_map=_class_map(bank.classes, val.classes, config),
            )
        )
    callbacks += [metrics_writer, AtomicCheckpoint(checkpoint)]

    out_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(out_dir / "config.yaml", lambda tmp: tmp.write_text(to_yaml(config)))
    if not config.resume and rank_zero_only.rank == 0:
        # What the augmentations do to a few of the training images (shown by selfsup report).
        preview(
            data=config.data,
            method=transform_name,
            n=4,
            out=out_dir / "preview.png",
            seed=config.seed,
            **transform_kwargs,
        )
    if config.resume:
        metrics_writer.load_existing()
    trainer = L.Trainer(
        max_epochs=config.epochs,
        accelerator=config.accelerator,
        devices=config.devices,
        num_nodes=config.num_nodes,
        strategy=config.strategy,
        precision=config.precision,
        # torch's SyncBatchNorm runs only on GPUs; CPU processes keep per-process statistics.
        sync_batchnorm=distributed and on_gpu,
        callbacks=callbacks,
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        default_root_dir=str(out_dir),
        log_every_n_steps=1,
    )
    start = time.perf_counter()
    trainer.fit(
        module,
        train_loader,
        ckpt_path=str(checkpoint) if config.resume else None,
        weights_only=True,
    )
    seconds = time.perf_counter() - start

    backbone_path = out_dir / "backbone.pt"
    if trainer.is_global_zero:
        state = {k: v.detach().cpu().contiguous() for k, v in method.backbone.state_dict().items()}
        write_atomically(backbone_path, lambda tmp: torch.save(state, tmp))
    rows = metrics_writer.rows
    knn = [row["knn_top1"] for row in rows if "knn_top1" in row]
    steps = len(train_loader) * len(rows) * trainer.world_size
    summary = {
        "method": config.method,
        "backbone": config.backbone,
        "augment": "batched" if batched else "per_sample",
        "images_in_memory": isinstance(train_set, InMemoryImageDataset),
        "epochs": len(rows),
        "processes": trainer.world_size,
        "seconds": round(seconds, 2),
        "images_per_second": round(steps * config.batch_size / max(seconds, 1e-9), 1),
        "final_loss": rows[-1]["loss"] if rows else None,
        "final_rep_std": rows[-1].get("rep_std") if rows else None,
        "best_knn_top1": max(knn) if knn else None,
        "skipped_files": len(dataset.skipped),
        "files": {
            "checkpoint": str(checkpoint),
            "backbone": str(backbone_path),
            "metrics": str(out_dir / "metrics.csv"),
            "plot": str(out_dir / "metrics.png"),
            "config": str(out_dir / "config.yaml"),
            "preview": str(out_dir / "preview.png"),
        },
    }
    if trainer.is_global_zero:
        write_atomically(
            out_dir / "summary.json", lambda tmp: tmp.write_text(json.dumps(summary, indent=2))
        )
    return TrainResult(
        out_dir, checkpoint, backbone_path, out_dir / "metrics.csv", summary, trainer.global_rank
    )
