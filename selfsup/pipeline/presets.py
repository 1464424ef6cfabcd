"""Named training recipes: ``selfsup train preset=small-grayscale`` sets tuned defaults.

A preset fills in options the user did not give; any option given explicitly wins, and so does
any ``transform.<key>``. A preset's ``methods`` entry holds options for one method only (its
epochs, method arguments, optimizer or transform keys), laid over the preset's other options.
Transform keys of a preset that the method's transform does not take (each method has its own crop
arguments) are left out; a single probability is repeated for transforms that take one per view.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

from selfsup.utils.config import merge_options

__all__ = ["PRESETS", "apply_preset", "list_presets"]

# The first two stages of the network, the second's 8x8 map averaged over a 4x4 grid, each
# feature standardised with the training images' statistics.
_TWO_STAGES_4X4 = {"num_stages": 2, "pool_size": 4, "feature_norm": True}

# Recipes measured in benchmarks/quality.py (figures in benchmarks/RESULTS.md).
PRESETS: dict[str, dict[str, Any]] = {
    "small-grayscale": {
        "description": (
            "small grayscale images such as Fashion-MNIST or MNIST (28-32 px): the first two "
            "stages of a width-0.25 ResNet-9 at 16 px, whose features are the second stage's "
            "map over a 4x4 grid (for SimCLR the whole 8x8 map), each feature standardised "
            "with the training images' statistics, crops of 25-100%, flips, "
            "strong brightness and contrast jitter only; 28 epochs for SimCLR, 8-13 for the "
            "methods that cost more per epoch (at most 30 minutes of 2 CPU cores on 60,000 "
            "images)"
        ),
        "options": {
            "backbone": "resnet-9",
            "width": 0.25,
            "backbone_args": {"pool_size": 2},
            "input_size": 16,
            "batch_size": 256,
            "epochs": 15,
            "transform": {
                "min_scale": 0.25,
                "global_crop_scale": (0.25, 1.0),
                "local_crop_scale": (0.1, 0.25),
                "crop_min_scales": (0.25, 0.1),
                "hf_prob": 0.5,
                "vf_prob": 0.0,
                "rr_prob": 0.0,
                "cj_prob": 0.8,
                "cj_strength": 1.0,
                "cj_bright": 0.8,
                "cj_contrast": 0.8,
                "cj_sat": 0.0,
                "cj_hue": 0.0,
                "random_gray_scale": 0.0,
                "gaussian_blur": 0.0,
                "solarization_prob": 0.0,
                "solarize_prob": 0.0,
            },
        },
        # Options for one method only, keyed by method name, over the options above. Epochs:
        # what 30 minutes of 2 CPU cores (3,600 CPU-seconds) bought each method on 60,000 images
        # on the slower of the machines measured, one torch thread per run, while every epoch
        # decoded the images again and the network had four stages; with the images kept in
        # memory and two stages they cost about 0.5-0.6x that (measured on a machine 2.6x faster
        # and scaled). 35 SimCLR epochs then fit and scored no better than 28; 60 epochs on the
        # faster machine scored 90.07% against 90.00%; 22 MoCo epochs scored 89.36% against 88.62%.
        # Every method's network ends after its second stage; its features are that stage's 8x8
        # map over a 4x4 grid (512 values), for SimCLR the whole map (2048 values, the
        # projection head 512 wide: 90.00% against 89.85% for the grid). After a short training
        # the earlier stages' finer maps tell the classes apart better than the fourth's 2x2
        # one: the seven other methods scored 1.1-3.2 points more with two stages than with four
        # at the same epochs, and the shallower network costs less per epoch. Standardising each
        # feature with the statistics of the un-augmented training images (feature_norm) gains
        # 0.4-1.9 points for SimCLR, MoCo, SwaV, BYOL, Barlow Twins and DINO at no training
        # cost, and changes VICReg (+0.03) and SimSiam (-0.10) within their noise. The temperature
        # that suits SimCLR suits MoCo too. VICReg's projector at 1024 wide (not 4x the 512
        # features) costs 1.2x SimCLR's CPU per epoch instead of 2.6x, and VICReg learns faster
        # here with SGD than with its default LARS. DINO: two local crops and a 1024-wide head
        # keep an epoch near twice SimCLR's; a faster-moving teacher suits the short schedule.
        # SwaV: two local crops instead of six cost 0.64x per epoch for the same accuracy, and
        # 512 prototypes at temperature 0.2 suit 10 classes better than 3000 at 0.1. Barlow
        # Twins: with SGD or LARS its large loss (about 800 at the start) leaves 10-31% of the
        # backbone's output units dead; AdamW, which does not scale its steps with the loss,
        # leaves none.
        "methods": {
            "simclr": {
                "epochs": 28,
                "backbone_args": {"num_stages": 2, "pool_size": 8, "feature_norm": True},
                "method_args": {"temperature": 0.1, "hidden_dim": 512},
            },
            "moco": {
                "epochs": 11,
                "backbone_args": _TWO_STAGES_4X4,
                "method_args": {"temperature": 0.1},
            },
            "simsiam": {"epochs": 13, "backbone_args": _TWO_STAGES_4X4},
            "byol": {"epochs": 12, "backbone_args": _TWO_STAGES_4X4},
            "swav": {
                "epochs": 12,
                "backbone_args": _TWO_STAGES_4X4,
                "transform": {"crop_counts": (2, 2)},
                "method_args": {"n_prototypes": 512, "temperature": 0.2},
            },
            "vicreg": {
                "epochs": 11,
                "backbone_args": _TWO_STAGES_4X4,
                "optimizer": {"name": "sgd", "lr": 0.06, "weight_decay": 5e-4},
                "method_args": {"hidden_dim": 1024},
            },
            "dino": {
                "epochs": 8,
                "backbone_args": _TWO_STAGES_4X4,
                "transform": {"n_local_views": 2},
                "method_args": {"hidden_dim": 1024, "output_dim": 1024, "momentum_start": 0.99},
            },
            "barlowtwins": {
                "epochs": 12,
                "backbone_args": _TWO_STAGES_4X4,
                "optimizer": {
                    "name": "adamw",
                    "lr": 1e-3,
                    "weight_decay": 1e-5,
                    "warmup_epochs": 1,
                },
                "method_args": {"hidden_dim": 1024},
            },
        },
    },
}


def list_presets() -> list[str]:
    """Names of the presets, sorted."""
    return sorted(PRESETS)


def _broadcast(value: Any, default: Any) -> Any:
    """A scalar preset value for an argument that takes one value per view (BYOL's and DINO's
    ``gaussian_blur``, for example) is repeated for every view."""
    if isinstance(default, (tuple, list)) and not isinstance(value, (tuple, list)):
        return [value] * len(default)
    return value


def apply_preset(
    name: str, options: dict[str, Any], transform_cls: type, method: str | None = None
) -> dict[str, Any]:
    """``options`` with the preset's values filled in where ``options`` has none.

    Args:
        name: A key of :data:`PRESETS`.
        options: The user's options (nested dicts for ``transform`` and ``optimizer``).
        transform_cls: The method's transform class; preset transform keys it does not take
            are dropped.
        method: The method's name; the preset's options for it (its ``methods`` entry) are
            filled in too.

    Raises:
        ValueError: an unknown preset name.
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; allowed: {', '.join(list_presets())}")
    preset = merge_options(
        {"method_args": {}, **copy.deepcopy(PRESETS[name]["options"])},
        copy.deepcopy(PRESETS[name].get("methods", {}).get(method, {})),
    )
    accepted = inspect.signature(transform_cls).parameters
    preset["transform"] = {
        key: _broadcast(value, accepted[key].default)
        for key, value in preset.get("transform", {}).items()
        if key in accepted
    }
    return merge_options(preset, {k: v for k, v in options.items() if v is not None})
