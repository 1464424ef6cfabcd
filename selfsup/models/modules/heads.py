"""Projection and prediction heads: one configurable MLP, thin per-paper subclasses.

Every head maps ``(B, input_dim)`` to ``(B, output_dim)``. A linear layer followed by a batch
norm has no bias (the norm's shift replaces it). Layouts and defaults follow the papers as
lightly implements them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import weight_norm

from selfsup.models.modules.prototypes import SMoGPrototypes, SwaVPrototypes

__all__ = [
    "BYOLPredictionHead",
    "BYOLProjectionHead",
    "BarlowTwinsProjectionHead",
    "DINOProjectionHead",
    "MSNProjectionHead",
    "MoCoProjectionHead",
    "NNCLRPredictionHead",
    "NNCLRProjectionHead",
    "ProjectionHead",
    "SMoGPredictionHead",
    "SMoGProjectionHead",
    "SMoGPrototypes",
    "SimCLRProjectionHead",
    "SimSiamPredictionHead",
    "SimSiamProjectionHead",
    "SwaVProjectionHead",
    "SwaVPrototypes",
    "TiCoProjectionHead",
    "VICRegProjectionHead",
]

#: One MLP block: ``(in_features, out_features, norm or None, activation or None)``, with an
#: optional fifth entry ``use_bias`` (default: no bias when a norm follows).
Block = (
    tuple[int, int, nn.Module | None, nn.Module | None]
    | tuple[int, int, nn.Module | None, nn.Module | None, bool]
)


class ProjectionHead(nn.Module):
    """MLP built from blocks ``Linear -> [norm] -> [activation]``.

    Args:
        blocks: Sequence of ``(in_features, out_features, norm, activation[, use_bias])``;
            consecutive blocks must chain (``out`` of one is ``in`` of the next).

    Raises:
        ValueError: No blocks, a malformed block, a non-positive size, or blocks that do not
            chain.

    Example:
        >>> head = ProjectionHead([(512, 256, nn.BatchNorm1d(256), nn.ReLU()),
        ...                        (256, 128, None, None)])
        >>> head(torch.randn(4, 512)).shape
        torch.Size([4, 128])
    """

    def __init__(self, blocks: Sequence[Block]) -> None:
        super().__init__()
        if len(blocks) == 0:
            raise ValueError("blocks must contain at least one block, got none")
        layers: list[nn.Module] = []
        previous_out: int | None = None
        for position, block in enumerate(blocks):
            if len(block) not in (4, 5):
                raise ValueError(
                    f"block {position} must be (in, out, norm, activation[, use_bias]), "
                    f"got {block!r}"
                )
            in_dim, out_dim, norm, activation = block[:4]
            if in_dim < 1 or out_dim < 1:
                raise ValueError(f"block {position} sizes must be >= 1, got {in_dim}, {out_dim}")
            if previous_out is not None and in_dim != previous_out:
                raise ValueError(
                    f"block {position} has in_features={in_dim} but the previous block "
                    f"outputs {previous_out}"
                )
            use_bias = bool(block[4]) if len(block) == 5 else norm is None
            layers.append(nn.Linear(in_dim, out_dim, bias=use_bias))
            if norm is not None:
                layers.append(norm)
            if activation is not None:
                layers.append(activation)
            previous_out = out_dim
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Maps ``(B, in_features)`` to ``(B, out_features)``."""
        return self.layers(x)


def _mlp_blocks(
    input_dim: int,
    hidden_dim: int,
    output_dim: int,
    *,
    num_layers: int,
    batch_norm: bool,
    last_batch_norm: bool,
    last_affine: bool = True,
    activation: type[nn.Module] = nn.ReLU,
) -> list[Block]:
    """``num_layers`` linear layers; hidden ones with [BN] + activation, the last with [BN]."""
    if num_layers < 2:
        raise ValueError(f"num_layers must be >= 2, got {num_layers}")
    blocks: list[Block] = []
    dims = [input_dim] + [hidden_dim] * (num_layers - 1)
    for in_dim in dims:
        norm = nn.BatchNorm1d(hidden_dim) if batch_norm else None
        blocks.append((in_dim, hidden_dim, norm, activation()))
    last_norm = nn.BatchNorm1d(output_dim, affine=last_affine) if last_batch_norm else None
    blocks[-1] = (blocks[-1][0], output_dim, last_norm, None)
    return blocks


class SimCLRProjectionHead(ProjectionHead):
    """SimCLR projection head g(h) (Chen et al., 2020, Sec. 2.1; v2: Chen et al., 2020b).

    "We use a MLP with one hidden layer to obtain z = W2 ReLU(W1 h)"; SimCLR v2 uses 3
    layers and batch norm on every layer (lightly's default: BN on, 2 layers, 128-d output).

    Args:
        input_dim: Backbone feature size.
        hidden_dim: Hidden width.
        output_dim: Embedding size.
        num_layers: Linear layers (2 for v1, 3 for v2).
        batch_norm: BN after every linear layer (the last one included).
    """

    def __init__(
        self,
        input_dim: int = 2048,
        hidden_dim: int = 2048,
        output_dim: int = 128,
        num_layers: int = 2,
        batch_norm: bool = True,
    ) -> None:
        super().__init__(
            _mlp_blocks(
                input_dim,
                hidden_dim,
                output_dim,
                num_layers=num_layers,
                batch_norm=batch_norm,
                last_batch_norm=batch_norm,
            )
        )


class MoCoProjectionHead(ProjectionHead):
    """MoCo projection head: "a 2-layer MLP head (hidden layer 2048-d, with ReLU)" (MoCo v2,
    Chen et al., 2020); v3 (Chen et al., 2021) uses 3 layers with BN everywhere.

    Args:
        input_dim: Backbone feature size.
        hidden_dim: Hidden width (2048 for v2, 4096 for v3).
        output_dim: Embedding size (128 for v2, 256 for v3).
        num_layers: Linear layers (2 for v2, 3 for v3).
        batch_norm: BN after every linear layer (False for v2, True for v3).
    """

    def __init__(
        self,
        input_dim: int = 2048,
        hidden_dim: int = 2048,
        output_dim: int = 128,
        num_layers: int = 2,
        batch_norm: bool = False,
    ) -> None:
        super().__init__(
            _mlp_blocks(
                input_dim,
                hidden_dim,
                output_dim,
                num_layers=num_layers,
                batch_norm=batch_norm,
                last_batch_norm=batch_norm,
            )
        )


class _TwoLayerHead(ProjectionHead):
    """``Linear -> BN -> ReLU -> Linear``: the most common head layout."""

    def __init__(self, input_dim: int, hidden_dim: int, output_dim: int) -> None:
        super().__init__(
            [
                (input_dim, hidden_dim, nn.BatchNorm1d(hidden_dim), nn.ReLU()),
                (hidden_dim, output_dim, None, None),
            ]
        )


class BYOLProjectionHead(_TwoLayerHead):
    """BYOL projector: "a linear layer with output size 4096 followed by batch normalization,
    rectified linear units (ReLU), and a final linear layer with output dimension 256"
    (Grill et al., 2020, Sec. 3.3). Layout ``Linear-BN-ReLU-Linear``.
    """

    def __init__(self, input_dim: int = 2048, hidden_dim: int = 4096, output_dim: int = 256):
        super().__init__(input_dim, hidden_dim, output_dim)


class BYOLPredictionHead(_TwoLayerHead):
    """BYOL predictor: same architecture as the projector on 256-d inputs (Grill et al.,
    2020, Sec. 3.3). Layout ``Linear-BN-ReLU-Linear``.
    """

    def __init__(self, input_dim: int = 256, hidden_dim: int = 4096, output_dim: int = 256):
        super().__init__(input_dim, hidden_dim, output_dim)


class SimSiamProjectionHead(ProjectionHead):
    """SimSiam projector: "BN applied to each fully-connected layer, including its output fc.
    Its output fc has no ReLU. The hidden fc is 2048-d. This MLP has 3 layers." (Chen & He,
    2021, baseline settings). The output BN is not affine (official code).
    """

    def __init__(self, input_dim: int = 2048, hidden_dim: int = 2048, output_dim: int = 2048):
        super().__init__(
            _mlp_blocks(
                input_dim,
                hidden_dim,
                output_dim,
                num_layers=3,
                batch_norm=True,
                last_batch_norm=True,
                last_affine=False,
            )
        )


class SimSiamPredictionHead(_TwoLayerHead):
    """SimSiam predictor: "BN applied to its hidden fc layers. Its output fc does not have BN
    or ReLU. This MLP has 2 layers", bottleneck 512 (Chen & He, 2021, baseline settings).
    """

    def __init__(self, input_dim: int = 2048, hidden_dim: int = 512, output_dim: int = 2048):
        super().__init__(input_dim, hidden_dim, output_dim)


class BarlowTwinsProjectionHead(ProjectionHead):
    """Barlow Twins projector: "three linear layers, each with 8192 output units. The first two
    layers are followed by a batch normalization layer and rectified linear units" (Zbontar
    et al., 2021, implementation details).
    """

    def __init__(self, input_dim: int = 2048, hidden_dim: int = 8192, output_dim: int = 8192):
        super().__init__(
            _mlp_blocks(
                input_dim,
                hidden_dim,
                output_dim,
                num_layers=3,
                batch_norm=True,
                last_batch_norm=False,
            )
        )


class VICRegProjectionHead(ProjectionHead):
    """VICReg expander: "two fully-connected layers with batch normalization and ReLU, and a
    third linear layer. The sizes of all 3 layers were set to 8192" (Bardes et al., 2022,
    implementation details).

    Args:
        input_dim: Backbone feature size.
        hidden_dim: Hidden width.
        output_dim: Embedding size.
        num_layers: Linear layers (``>= 2``); all but the last have BN + ReLU.
    """

    def __init__(
        self,
        input_dim: int = 2048,
        hidden_dim: int = 8192,
        output_dim: int = 8192,
        num_layers: int = 3,
    ) -> None:
        super().__init__(
            _mlp_blocks(
                input_dim,
                hidden_dim,
                output_dim,
                num_layers=num_layers,
                batch_norm=True,
                last_batch_norm=False,
            )
        )


class NNCLRProjectionHead(ProjectionHead):
    """NNCLR projector: "3 fully connected layers of sizes [2048, 2048, d] ... All
    fully-connected layers are followed by batch-normalization. All the batch-norm layers
    except the last layer are followed by ReLU", d = 256 (Dwibedi et al., 2021, implementation details).
    """

    def __init__(self, input_dim: int = 2048, hidden_dim: int = 2048, output_dim: int = 256):
        super().__init__(
            _mlp_blocks(
                input_dim,
                hidden_dim,
                output_dim,
                num_layers=3,
                batch_norm=True,
                last_batch_norm=True,
            )
        )


class NNCLRPredictionHead(_TwoLayerHead):
    """NNCLR predictor: "2 fully-connected layers of size [4096, d]. The hidden layer is
    followed by batch-norm and ReLU. The last layer has no batch-norm or activation"
    (Dwibedi et al., 2021, implementation details).
    """

    def __init__(self, input_dim: int = 256, hidden_dim: int = 4096, output_dim: int = 256):
        super().__init__(input_dim, hidden_dim, output_dim)


class SwaVProjectionHead(_TwoLayerHead):
    """SwAV projection head: 2-layer MLP 2048-2048-128 with BN + ReLU (Caron et al., 2020,
    official code). Layout ``Linear-BN-ReLU-Linear``.
    """

    def __init__(self, input_dim: int = 2048, hidden_dim: int = 2048, output_dim: int = 128):
        super().__init__(input_dim, hidden_dim, output_dim)


class TiCoProjectionHead(_TwoLayerHead):
    """TiCo projector: "a linear layer with output size 4096 followed by batch normalization,
    ReLU, and a final linear layer with output dimension 256" (Zhu et al., 2022).
    """

    def __init__(self, input_dim: int = 2048, hidden_dim: int = 4096, output_dim: int = 256):
        super().__init__(input_dim, hidden_dim, output_dim)


class SMoGProjectionHead(ProjectionHead):
    """SMoG projector: two-layer MLP whose hidden layer has BN + activation; "the output layer
    of projection head also has BN" (Pang et al., 2022; non-affine, as lightly).
    Defaults 512-2048-128 fit a ResNet-18 backbone (lightly's example).
    """

    def __init__(self, input_dim: int = 512, hidden_dim: int = 2048, output_dim: int = 128):
        super().__init__(
            _mlp_blocks(
                input_dim,
                hidden_dim,
                output_dim,
                num_layers=2,
                batch_norm=True,
                last_batch_norm=True,
                last_affine=False,
            )
        )


class SMoGPredictionHead(_TwoLayerHead):
    """SMoG predictor: two-layer MLP, BN + ReLU after the hidden layer, plain output layer
    (Pang et al., 2022).
    """

    def __init__(self, input_dim: int = 128, hidden_dim: int = 2048, output_dim: int = 128):
        super().__init__(input_dim, hidden_dim, output_dim)


class MSNProjectionHead(ProjectionHead):
    """MSN projector: "a 3-layer projection head with output dimension 256 and
    batch-normalization at the input and hidden layers" with GELU (Assran et al., 2022,
    and official code). ``input_dim=768`` fits ViT-B/16.
    """

    def __init__(self, input_dim: int = 768, hidden_dim: int = 2048, output_dim: int = 256):
        super().__init__(
            _mlp_blocks(
                input_dim,
                hidden_dim,
                output_dim,
                num_layers=3,
                batch_norm=True,
                last_batch_norm=False,
                activation=nn.GELU,
            )
        )


class DINOProjectionHead(ProjectionHead):
    """DINO head: "a 3-layer MLP with hidden dimension 2048 followed by l2 normalization and a
    weight normalized fully connected layer with K dimensions" (Caron et al., 2021, Sec. 3.1,
    K = 65536, bottleneck 256, GELU, no BN for ViTs).

    The last layer uses ``torch.nn.utils.parametrizations.weight_norm``; its magnitude ``g``
    (``last_layer.parametrizations.weight.original0``) starts at 1 and stays fixed when
    ``norm_last_layer``. MLP weights get DINO's truncated-normal init (std 0.02).

    Args:
        input_dim: Backbone feature size.
        hidden_dim: Hidden width of the MLP.
        bottleneck_dim: MLP output size, input of the last layer.
        output_dim: ``K``, number of output logits.
        batch_norm: BN after the hidden layers (for ResNet backbones).
        freeze_last_layer: The last layer gets no gradient while
            ``current_epoch < freeze_last_layer`` (see :meth:`cancel_last_layer_gradients`).
        norm_last_layer: Fix ``g = 1`` (unit-norm rows of the last layer).
    """

    def __init__(
        self,
        input_dim: int = 2048,
        hidden_dim: int = 2048,
        bottleneck_dim: int = 256,
        output_dim: int = 65536,
        batch_norm: bool = False,
        freeze_last_layer: int = -1,
        norm_last_layer: bool = True,
    ) -> None:
        blocks = _mlp_blocks(
            input_dim,
            hidden_dim,
            bottleneck_dim,
            num_layers=3,
            batch_norm=batch_norm,
            last_batch_norm=False,
            activation=nn.GELU,
        )
        super().__init__(blocks)
        for module in self.layers.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        self.freeze_last_layer = freeze_last_layer
        self.norm_last_layer = norm_last_layer
        self.last_layer = weight_norm(nn.Linear(bottleneck_dim, output_dim, bias=False))
        magnitude = self.last_layer.parametrizations.weight.original0
        magnitude.data.fill_(1.0)
        magnitude.requires_grad = not norm_last_layer

    def cancel_last_layer_gradients(self, current_epoch: int) -> None:
        """Removes the last layer's gradients (sets them to None) while
        ``current_epoch < freeze_last_layer``; call between ``backward`` and the optimizer step.
        """
        if current_epoch >= self.freeze_last_layer:
            return
        for param in self.last_layer.parameters():
            param.grad = None

    def forward(self, x: Tensor) -> Tensor:
        """Maps ``(B, input_dim)`` to logits ``(B, output_dim)``."""
        x = F.normalize(self.layers(x), dim=-1)
        return self.last_layer(x)
