"""Self-supervised methods, one module each, registered under their command-line names.

Example:
    >>> from selfsup.methods import create_method, list_methods
    >>> method = create_method("simclr", backbone="resnet-18")
    >>> loss = method.training_loss([x0, x1])
"""

from __future__ import annotations

from selfsup.methods.barlowtwins import BarlowTwins
from selfsup.methods.base import (
    METHODS,
    OptimizerDefaults,
    SSLMethod,
    create_method,
    forward_multicrop,
    get_method_class,
    list_methods,
    momentum_copy,
    register_method,
)
from selfsup.methods.byol import BYOL
from selfsup.methods.dcl import DCL, DCLW
from selfsup.methods.dino import DINO
from selfsup.methods.fastsiam import FastSiam
from selfsup.methods.mae import MAE
from selfsup.methods.moco import MoCo
from selfsup.methods.msn import MSN
from selfsup.methods.nnclr import NNCLR
from selfsup.methods.simclr import SimCLR
from selfsup.methods.simsiam import SimSiam
from selfsup.methods.smog import SMoG
from selfsup.methods.swav import SwaV
from selfsup.methods.tico import TiCo
from selfsup.methods.vicreg import VICReg

__all__ = [
    "BYOL",
    "BarlowTwins",
    "DCL",
    "DCLW",
    "DINO",
    "FastSiam",
    "MAE",
    "METHODS",
    "MSN",
    "MoCo",
    "NNCLR",
    "OptimizerDefaults",
    "SMoG",
    "SSLMethod",
    "SimCLR",
    "SimSiam",
    "SwaV",
    "TiCo",
    "VICReg",
    "create_method",
    "forward_multicrop",
    "get_method_class",
    "list_methods",
    "momentum_copy",
    "register_method",
]
