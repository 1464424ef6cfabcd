"""ResNets for small images (3x3 stem, no max-pool), as lightly's ``ResNetGenerator``."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from selfsup.models.batchnorm import batch_norm_2d

__all__ = ["BasicBlock", "Bottleneck", "ResNet", "ResNetGenerator", "RESNET_DEPTHS"]


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (He et al., 2016, Fig. 5 left).

    Args:
        in_planes: Input channels.
        planes: Output channels.
        stride: Stride of the first convolution (and of the projection shortcut).
        num_splits: ``> 0`` uses :class:`~selfsup.models.batchnorm.SplitBatchNorm`.
    """

    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1, num_splits: int = 0) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = batch_norm_2d(planes, num_splits)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = batch_norm_2d(planes, num_splits)
        self.shortcut = _shortcut(in_planes, planes * self.expansion, stride, num_splits)

    def forward(self, x: Tensor) -> Tensor:
        """Maps ``(B, in_planes, H, W)`` to ``(B, planes, H / stride, W / stride)``."""
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class Bottleneck(nn.Module):
    """1x1 -> 3x3 -> 1x1 bottleneck with a residual connection (He et al., 2016, Fig. 5 right).

    Args:
        in_planes: Input channels.
        planes: Bottleneck channels; the output has ``4 * planes`` channels.
        stride: Stride of the 3x3 convolution (and of the projection shortcut).
        num_splits: ``> 0`` uses :class:`~selfsup.models.batchnorm.SplitBatchNorm`.
    """

    expansion = 4

    def __init__(self, in_planes: int, planes: int, stride: int = 1, num_splits: int = 0) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = batch_norm_2d(planes, num_splits)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = batch_norm_2d(planes, num_splits)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = batch_norm_2d(planes * self.expansion, num_splits)
        self.shortcut = _shortcut(in_planes, planes * self.expansion, stride, num_splits)

    def forward(self, x: Tensor) -> Tensor:
        """Maps ``(B, in_planes, H, W)`` to ``(B, 4 * planes, H / stride, W / stride)``."""
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + self.shortcut(x))


def _shortcut(in_planes: int, out_planes: int, stride: int, num_splits: int) -> nn.Module:
    if stride == 1 and in_planes == out_planes:
        return nn.Identity()
    return nn.Sequential(
        nn.Conv2d(in_planes, out_planes, 1, stride=stride, bias=False),
        batch_norm_2d(out_planes, num_splits),
    )


#: Block type and blocks per stage for each supported depth (He et al., 2016, Table 1;
#: resnet-9 is lightly's one-block-per-stage variant).
RESNET_DEPTHS: dict[str, tuple[type[BasicBlock] | type[Bottleneck], tuple[int, ...]]] = {
    "resnet-9": (BasicBlock, (1, 1, 1, 1)),
    "resnet-18": (BasicBlock, (2, 2, 2, 2)),
    "resnet-34": (BasicBlock, (3, 4, 6, 3)),
    "resnet-50": (Bottleneck, (3, 4, 6, 3)),
    "resnet-101": (Bottleneck, (3, 4, 23, 3)),
    "resnet-152": (Bottleneck, (3, 8, 36, 3)),
}


class ResNet(nn.Module):
    """ResNet with a 3x3 stride-1 stem and no max-pool, for 32-64 px images.

    Children, in order: ``conv1, bn1, relu, layer1, layer2, layer3, layer4, feature_norm,
    linear``. Forward is ``forward_features -> global average pool -> flatten -> feature_norm ->
    linear`` (``feature_norm`` is an identity unless asked for), so without a feature norm the
    seed's pattern ``nn.Sequential(*list(resnet.children())[:-1], nn.AdaptiveAvgPool2d(1))``
    yields the pooled features ``(B, num_features, 1, 1)``.

    With ``pool_size=g > 1`` the head averages the last map over a ``g x g`` grid instead of
    globally and concatenates the cells, ``(B, C * g * g)``: the features keep where things are
    in the image, which matters for small, centred objects (``benchmarks/quality.py``:
    +2.7 points of kNN accuracy on Fashion-MNIST with ``g=2``).

    With ``num_stages=n < 4`` the network ends after stage ``n`` (``layer{n+1}`` and later are
    not built): a shallower, cheaper network whose last map is ``2**(4 - n)`` times larger on
    each side, with ``2**(4 - n)`` times fewer channels. After
    a short training, the finer maps of the second and third stages hold more of what tells small
    images apart than the fourth's (``benchmarks/RESULTS.md``, session 8).

    With ``feature_norm=True`` the pooled features pass a batch norm without affine parameters
    (as before MAE's linear probe): in training each feature is standardised over the batch, in
    eval mode by its running mean and variance, which ``selfsup train`` sets from the
    un-augmented training images after training
    (:func:`~selfsup.training.calibrate_feature_norm`). The features of a ReLU network are all
    >= 0 and share a large mean, which dominates their cosine similarities; standardised, every
    feature counts alike in kNN, retrieval and selection (``benchmarks/RESULTS.md``, session 11).

    Args:
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        layers: Number of blocks in each of the four stages.
        num_classes: Output size of the final linear layer; ``0`` replaces it by an identity
            so that :meth:`forward` returns the pooled features ``(B, num_features)``.
        width: Channel multiplier: stage widths are ``int(64 * width) * (1, 2, 4, 8)``.
        num_splits: ``> 0`` replaces every batch norm by a ``SplitBatchNorm``.
        in_chans: Input channels.
        pool_size: Side of the grid the head averages the last map over (1: global pooling).
        num_stages: Stages built, ``1..4``; the last map is that of stage ``num_stages``.
        feature_norm: Standardise the pooled features with a ``BatchNorm1d(num_features,
            affine=False)``.

    Raises:
        ValueError: A non-positive ``width``/``in_chans``/``pool_size``, negative
            ``num_classes`` or ``num_splits``, a ``width`` that leaves fewer than one channel,
            or ``num_stages`` outside ``1..4``.
    """

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck] = BasicBlock,
        layers: tuple[int, ...] | list[int] = (2, 2, 2, 2),
        num_classes: int = 10,
        width: float = 1.0,
        num_splits: int = 0,
        *,
        in_chans: int = 3,
        pool_size: int = 1,
        num_stages: int = 4,
        feature_norm: bool = False,
    ) -> None:
        super().__init__()
        if width <= 0 or int(64 * width) < 1:
            raise ValueError(f"width must be > 0 and give at least one channel, got {width}")
        if num_classes < 0:
            raise ValueError(f"num_classes must be >= 0 (0: no classifier), got {num_classes}")
        if num_splits < 0:
            raise ValueError(f"num_splits must be >= 0, got {num_splits}")
        if in_chans < 1:
            raise ValueError(f"in_chans must be >= 1, got {in_chans}")
        if pool_size < 1:
            raise ValueError(f"pool_size must be >= 1, got {pool_size}")
        if len(layers) != 4 or any(n < 1 for n in layers):
            raise ValueError(f"layers must be four positive block counts, got {layers}")
        if not 1 <= num_stages <= 4:
            raise ValueError(f"num_stages must be in 1..4, got {num_stages}")
        base = int(64 * width)
        self.in_planes = base
        self.conv1 = nn.Conv2d(in_chans, base, 3, stride=1, padding=1, bias=False)
        self.bn1 = batch_norm_2d(base, num_splits)
        self.relu = nn.ReLU(inplace=True)
        for index in range(num_stages):
            stride = 1 if index == 0 else 2
            stage = self._make_layer(block, base * 2**index, layers[index], stride, num_splits)
            self.add_module(f"layer{index + 1}", stage)
        self.num_stages = num_stages
        self.pool_size = pool_size
        self.num_features = base * 2 ** (num_stages - 1) * block.expansion * pool_size**2
        self.num_classes = num_classes
        self.feature_norm: nn.Module = (
            nn.BatchNorm1d(self.num_features, affine=False) if feature_norm else nn.Identity()
        )
        self.linear: nn.Module = (
            nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()
        )

    def _make_layer(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        planes: int,
        blocks: int,
        stride: int,
        num_splits: int,
    ) -> nn.Sequential:
        stage = []
        for block_stride in [stride] + [1] * (blocks - 1):
            stage.append(block(self.in_planes, planes, block_stride, num_splits))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*stage)

    def _stages(self) -> list[nn.Module]:
        return [getattr(self, f"layer{index + 1}") for index in range(self.num_stages)]

    def forward_features(self, x: Tensor) -> Tensor:
        """Feature map of the last stage.

        Args:
            x: Images ``(B, in_chans, H, W)``, float.

        Returns:
            ``(B, C, H / 2**(n-1), W / 2**(n-1))`` with ``n = num_stages`` and
            ``C = int(64 * width) * 2**(n-1) * expansion`` (``H / 8`` and ``8 * ...`` for all four).
        """
        out = self.relu(self.bn1(self.conv1(x)))
        for stage in self._stages():
            out = stage(out)
        return out

    def forward_intermediates(
        self, x: Tensor, *, out_indices: tuple[int, ...] | None = None
    ) -> list[Tensor]:
        """Feature maps of the chosen stages (timm's ``features_only`` outputs).

        Args:
            x: Images ``(B, in_chans, H, W)``, float.
            out_indices: Stages to return, ``0..num_stages-1`` (``layer1..``), in increasing
                order; default: every stage.

        Returns:
            One map per index; stage ``i`` has shape ``(B, C_i, H / 2**i, W / 2**i)`` with
            ``C_i = int(64 * width) * 2**i * expansion``.

        Raises:
            ValueError: An index outside ``0..num_stages-1`` or not increasing.
        """
        last = self.num_stages - 1
        if out_indices is None:
            out_indices = tuple(range(self.num_stages))
        if (
            not out_indices
            or list(out_indices) != sorted(set(out_indices))
            or not all(0 <= i <= last for i in out_indices)
        ):
            raise ValueError(
                f"out_indices must be increasing stage indices in 0..{last}, got {out_indices}"
            )
        out = self.relu(self.bn1(self.conv1(x)))
        maps = []
        for index, stage in enumerate(self._stages()):
            out = stage(out)
            if index in out_indices:
                maps.append(out)
            if index == out_indices[-1]:
                break
        return maps

    def forward_head(self, x: Tensor, *, pre_logits: bool = False) -> Tensor:
        """Average pool (globally, or over the ``pool_size`` grid), flatten, ``feature_norm``
        and (unless ``pre_logits``) the linear classifier.

        Args:
            x: Feature map ``(B, C, h, w)`` of the last stage.
            pre_logits: Return the pooled features ``(B, num_features)``.

        Returns:
            ``(B, num_classes)`` logits, or ``(B, num_features)``.
        """
        pooled = self.feature_norm(F.adaptive_avg_pool2d(x, self.pool_size).flatten(1))
        return pooled if pre_logits else self.linear(pooled)

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(B, num_classes)`` (pooled features ``(B, num_features)`` if no classifier).

        Args:
            x: Images ``(B, in_chans, H, W)``, float (normalised as the transforms produce).
        """
        return self.forward_head(self.forward_features(x))


def ResNetGenerator(  # noqa: N802 - seed-compatible factory name
    name: str = "resnet-18",
    width: float = 1.0,
    num_classes: int = 10,
    num_splits: int = 0,
    *,
    in_chans: int = 3,
    pool_size: int = 1,
    num_stages: int = 4,
    feature_norm: bool = False,
) -> ResNet:
    """Builds a small-image ResNet by name, as lightly's ``ResNetGenerator``.

    The stem is a 3x3 stride-1 convolution without max-pool (lightly; cf. He et al., 2016,
    Sec. 4.2 for CIFAR), so 32 px inputs keep a 4x4 map in the last stage.

    Args:
        name: One of ``resnet-9, resnet-18, resnet-34`` (basic blocks) or
            ``resnet-50, resnet-101, resnet-152`` (bottlenecks).
        width: Channel multiplier (``0.25`` gives stage widths 16, 32, 64, 128).
        num_classes: Size of the final linear layer; ``0`` for none.
        num_splits: ``> 0`` uses split batch norm with that many splits.
        in_chans: Input channels.
        pool_size: Side of the grid of the head's average pool (1: global; see :class:`ResNet`).
        num_stages: Stages built, ``1..4`` (see :class:`ResNet`).
        feature_norm: Standardise the pooled features (see :class:`ResNet`).

    Returns:
        A :class:`ResNet`.

    Raises:
        ValueError: Unknown ``name`` (the message lists the known ones) or a bad argument.

    Example:
        >>> resnet = ResNetGenerator("resnet-18", width=0.5)
        >>> backbone = nn.Sequential(*list(resnet.children())[:-1], nn.AdaptiveAvgPool2d(1))
    """
    if name not in RESNET_DEPTHS:
        raise ValueError(f"unknown ResNet {name!r}; known: {', '.join(RESNET_DEPTHS)}")
    block, layers = RESNET_DEPTHS[name]
    return ResNet(
        block,
        layers,
        num_classes=num_classes,
        width=width,
        num_splits=num_splits,
        in_chans=in_chans,
        pool_size=pool_size,
        num_stages=num_stages,
        feature_norm=feature_norm,
    )
