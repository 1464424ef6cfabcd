"""The augmentation families of the invariance analysis, each at a fixed, documented strength.

Every family samples its per-image parameters from an explicit ``torch.Generator`` and applies
them to a batch of float images `(B, 3, H, W)` in [0, 1] on any device, so that
:func:`selfsup.report.invariance.measure_invariance` draws the parameters of a whole image set
once and the result is the same for any batch size. The deterministic image operations come from
:mod:`selfsup.transforms.functional` and torchvision's functional kernels.
"""

from __future__ import annotations

import abc
import math
import types
from collections.abc import Mapping, Sequence

import torch
import torchvision.transforms.v2.functional as tv_functional
from torch import Tensor

from selfsup.transforms import functional as ops
from selfsup.transforms._checks import check_number, check_pair

__all__ = [
    "AUGMENTATION_FAMILIES",
    "BlurAugmentation",
    "ColorJitterAugmentation",
    "GrayscaleAugmentation",
    "HorizontalFlipAugmentation",
    "InvarianceAugmentation",
    "Params",
    "ResizedCropAugmentation",
    "Rotate90Augmentation",
    "SolarizeAugmentation",
    "VerticalFlipAugmentation",
]

#: Per-image parameters of a family: tensors whose first dimension is the number of images.
Params = dict[str, Tensor]


class InvarianceAugmentation(abc.ABC):
    """One augmentation family: draws per-image parameters, then applies them to a batch.

    Sampling is separate from applying (as torchvision's ``make_params`` / ``transform``), so
    the parameters of a whole image set can be drawn once from a seeded generator and applied
    batch by batch. Images are float tensors `(B, 3, H, W)` in [0, 1] on any device; outputs
    keep shape, dtype and device.

    Attributes:
        random: False when the family has no parameter (one view says everything).
    """

    random: bool = False

    @abc.abstractmethod
    def describe(self) -> str:
        """A one-line description of the augmentation and its strength."""

    def make_params(self, images: Tensor, generator: torch.Generator | None = None) -> Params:
        """Draws the parameters of every image of ``images`` `(N, 3, H, W)` (only its shape is read).

        Returns:
            A dict of CPU tensors whose first dimension is ``N``.
        """
        return {}

    @abc.abstractmethod
    def transform(self, images: Tensor, params: Params) -> Tensor:
        """Applies ``params`` (sliced to the batch) to ``images`` `(B, 3, H, W)` in [0, 1]."""

    def __call__(self, images: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Draws parameters for ``images`` `(B, 3, H, W)` and applies them."""
        return self.transform(images, self.make_params(images, generator))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()})"


def _uniform(n: int, bounds: tuple[float, float], generator: torch.Generator | None) -> Tensor:
    low, high = bounds
    return torch.rand(n, generator=generator, dtype=torch.float64) * (high - low) + low


class ResizedCropAugmentation(InvarianceAugmentation):
    """A random crop of ``scale`` of the area and aspect ratio in ``ratio``, resized back to (H, W).

    The box is drawn as torchvision's ``RandomResizedCrop`` does (area fraction uniform in
    ``scale``, log aspect ratio uniform in ``log(ratio)``, 10 tries, then the whole image),
    with a fixed number of draws per image; bilinear resizing with antialiasing. The default
    scale (0.2, 0.6) keeps only smaller crops than SimCLR's (0.08, 1) so that every view changes.

    Args:
        scale: ``(min, max)`` fraction of the image area, in (0, 1].
        ratio: ``(min, max)`` aspect ratio width / height of the crop, > 0.
    """

    random = True
    _TRIES = 10

    def __init__(
        self,
        *,
        scale: Sequence[float] = (0.2, 0.6),
        ratio: Sequence[float] = (3 / 4, 4 / 3),
    ) -> None:
        self.scale = check_pair("scale", scale, low=0.0, high=1.0, low_inclusive=False)
        self.ratio = check_pair("ratio", ratio, low=0.0, low_inclusive=False)

    def describe(self) -> str:
        """See :meth:`InvarianceAugmentation.describe`."""
        return (
            f"random resized crop, area {self.scale[0]:g}-{self.scale[1]:g}, "
            f"ratio {self.ratio[0]:.3g}-{self.ratio[1]:.3g}, resized back"
        )

    def make_params(self, images: Tensor, generator: torch.Generator | None = None) -> Params:
        """Boxes ``top, left, height, width`` (int64 `(N,)` each) of every image."""
        n, (height, width) = images.shape[0], images.shape[-2:]
        shape = (n, self._TRIES)
        area = height * width * _uniform(n * self._TRIES, self.scale, generator).view(shape)
        log_ratio = _uniform(n * self._TRIES, tuple(math.log(r) for r in self.ratio), generator)
        aspect = log_ratio.view(shape).exp()
        box_w = (area * aspect).sqrt().round().long()
        box_h = (area / aspect).sqrt().round().long()
        fits = (box_w >= 1) & (box_w <= width) & (box_h >= 1) & (box_h <= height)
        first = torch.where(fits.any(1), fits.long().argmax(1), -1)
        rows = torch.arange(n)
        box_h = torch.where(first >= 0, box_h[rows, first], height)
        box_w = torch.where(first >= 0, box_w[rows, first], width)
        offsets = torch.rand(n, 2, generator=generator, dtype=torch.float64)
        top = (offsets[:, 0] * (height - box_h + 1)).long()
        left = (offsets[:, 1] * (width - box_w + 1)).long()
        return {"top": top, "left": left, "height": box_h, "width": box_w}

    def transform(self, images: Tensor, params: Params) -> Tensor:
        """See :meth:`InvarianceAugmentation.transform`."""
        size = list(images.shape[-2:])
        boxes = zip(
            *(params[key].tolist() for key in ("top", "left", "height", "width")), strict=True
        )
        crops = [
            tv_functional.resized_crop(image, top, left, h, w, size=size, antialias=True)
            for image, (top, left, h, w) in zip(images, boxes, strict=True)
        ]
        return torch.stack(crops).clamp_(0, 1)


class HorizontalFlipAugmentation(InvarianceAugmentation):
    """Mirrors every image left-right."""

    def describe(self) -> str:
        """See :meth:`InvarianceAugmentation.describe`."""
        return "horizontal flip"

    def transform(self, images: Tensor, params: Params) -> Tensor:
        """See :meth:`InvarianceAugmentation.transform`."""
        return images.flip(-1)


class VerticalFlipAugmentation(InvarianceAugmentation):
    """Mirrors every image top-bottom."""

    def describe(self) -> str:
        """See :meth:`InvarianceAugmentation.describe`."""
        return "vertical flip"

    def transform(self, images: Tensor, params: Params) -> Tensor:
        """See :meth:`InvarianceAugmentation.transform`."""
        return images.flip(-2)


class Rotate90Augmentation(InvarianceAugmentation):
    """Rotates every image counter-clockwise by a number of quarter turns drawn from ``turns``.

    Images must be square (the pipeline center-crops them), so that a batch keeps one shape.

    Args:
        turns: Quarter turns to draw from uniformly, each 1, 2 or 3.
    """

    random = True

    def __init__(self, *, turns: Sequence[int] = (1, 2, 3)) -> None:
        if isinstance(turns, (str, bytes)) or not isinstance(turns, Sequence) or not turns:
            raise TypeError(f"turns must be a non-empty sequence of 1, 2 or 3, got {turns!r}")
        for turn in turns:
            if isinstance(turn, bool) or turn not in (1, 2, 3):
                raise ValueError(f"turns must hold only 1, 2 or 3, got {tuple(turns)!r}")
        self.turns = tuple(int(turn) for turn in turns)

    def describe(self) -> str:
        """See :meth:`InvarianceAugmentation.describe`."""
        return f"rotation by {', '.join(str(90 * t) for t in self.turns)} degrees"

    def make_params(self, images: Tensor, generator: torch.Generator | None = None) -> Params:
        """Quarter turns ``k`` (int64 `(N,)`) of every image."""
        height, width = images.shape[-2:]
        if height != width:
            raise ValueError(f"rot90 needs square images, got {height}x{width}; crop them first")
        choice = torch.randint(len(self.turns), (images.shape[0],), generator=generator)
        return {"k": torch.tensor(self.turns)[choice]}

    def transform(self, images: Tensor, params: Params) -> Tensor:
        """See :meth:`InvarianceAugmentation.transform`."""
        out = images.clone()
        k = params["k"].to(images.device)
        for turn in self.turns:
            chosen = k == turn
            out[chosen] = ops.rotate90(images[chosen], turn)
        return out


class ColorJitterAugmentation(InvarianceAugmentation):
    """Brightness, contrast, saturation and hue jitter in a random order, always applied.

    Factors mean what they mean in torchvision's ``ColorJitter``: brightness, contrast and
    saturation factors are uniform in ``[max(0, 1 - s), 1 + s]``, the hue shift uniform in
    ``[-hue, hue]`` of a turn. Defaults (0.4, 0.4, 0.4, 0.1) are MoCo v2's (Chen et al., 2020,
    "Improved Baselines with Momentum Contrastive Learning"), which applies them with probability
    0.8; here every view is jittered. A strength of 0 leaves that adjustment out.

    Args:
        brightness: Brightness strength >= 0.
        contrast: Contrast strength >= 0.
        saturation: Saturation strength >= 0.
        hue: Hue strength in [0, 0.5].
    """

    random = True
    _NAMES = ("brightness", "contrast", "saturation", "hue")

    def __init__(
        self,
        *,
        brightness: float = 0.4,
        contrast: float = 0.4,
        saturation: float = 0.4,
        hue: float = 0.1,
    ) -> None:
        self.brightness = check_number("brightness", brightness, low=0.0)
        self.contrast = check_number("contrast", contrast, low=0.0)
        self.saturation = check_number("saturation", saturation, low=0.0)
        self.hue = check_number("hue", hue, low=0.0, high=0.5)

    def describe(self) -> str:
        """See :meth:`InvarianceAugmentation.describe`."""
        values = ", ".join(f"{name} {getattr(self, name):g}" for name in self._NAMES)
        return f"color jitter, {values}"

    def make_params(self, images: Tensor, generator: torch.Generator | None = None) -> Params:
        """Factors (float64 `(N,)` per adjustment) and the order (int64 `(N, 4)`) of each image."""
        n = images.shape[0]
        params = {"order": torch.rand(n, 4, generator=generator).argsort(1)}
        for name in self._NAMES[:3]:
            strength = getattr(self, name)
            params[name] = _uniform(n, (max(0.0, 1 - strength), 1 + strength), generator)
        params["hue"] = _uniform(n, (-self.hue, self.hue), generator)
        return params

    def transform(self, images: Tensor, params: Params) -> Tensor:
        """See :meth:`InvarianceAugmentation.transform`."""
        adjust = (
            tv_functional.adjust_brightness,
            tv_functional.adjust_contrast,
            tv_functional.adjust_saturation,
            ops.adjust_hue,
        )
        factors = [params[name].tolist() for name in self._NAMES]
        used = [getattr(self, name) > 0 for name in self._NAMES]
        out = []
        for index, image in enumerate(images):
            for which in params["order"][index].tolist():
                if used[which]:
                    image = adjust[which](image, factors[which][index])
            out.append(image)
        return torch.stack(out)


class GrayscaleAugmentation(InvarianceAugmentation):
    """Replaces each pixel by its luma ``0.299 R + 0.587 G + 0.114 B``, on all three channels.

    The weights are ITU-R 601-2's, as PIL's ``"L"`` mode (torchvision's tensor kernel uses
    0.2989 for red); they sum to 1, so a gray image stays unchanged.
    """

    def describe(self) -> str:
        """See :meth:`InvarianceAugmentation.describe`."""
        return "grayscale (ITU-R 601-2 luma)"

    def transform(self, images: Tensor, params: Params) -> Tensor:
        """See :meth:`InvarianceAugmentation.transform`."""
        red, green, blue = images.unbind(-3)
        luma = (0.299 * red + 0.587 * green + 0.114 * blue).clamp_(0, 1)
        return luma.unsqueeze(-3).expand_as(images).contiguous()


class BlurAugmentation(InvarianceAugmentation):
    """Gaussian blur with a standard deviation drawn uniformly in ``sigma`` pixels.

    Uses :func:`selfsup.transforms.functional.gaussian_blur` (kernel radius ``ceil(3 sigma)``,
    replicated borders). The default (1, 2) is the upper half of SimCLR's range (0.1, 2.0)
    (Chen et al., 2020, Appendix B.1) in pixels, so that every view is visibly blurred.

    Args:
        sigma: ``(min, max)`` standard deviation in pixels, >= 0.
    """

    random = True

    def __init__(self, *, sigma: Sequence[float] = (1.0, 2.0)) -> None:
        self.sigma = check_pair("sigma", sigma, low=0.0)

    def describe(self) -> str:
        """See :meth:`InvarianceAugmentation.describe`."""
        return f"gaussian blur, sigma {self.sigma[0]:g}-{self.sigma[1]:g} px"

    def make_params(self, images: Tensor, generator: torch.Generator | None = None) -> Params:
        """Standard deviations ``sigma`` (float64 `(N,)`) of every image."""
        return {"sigma": _uniform(images.shape[0], self.sigma, generator)}

    def transform(self, images: Tensor, params: Params) -> Tensor:
        """See :meth:`InvarianceAugmentation.transform`."""
        sigmas = params["sigma"].tolist()
        return torch.stack([ops.gaussian_blur(x, s) for x, s in zip(images, sigmas, strict=True)])


class SolarizeAugmentation(InvarianceAugmentation):
    """Inverts every value at or above ``threshold / 255`` (``x -> 1 - x``).

    Args:
        threshold: On the uint8 scale, in [0, 256]; default 128 is BYOL's 0.5 (Grill et al.,
            2020, Table 6).
    """

    def __init__(self, *, threshold: float = 128) -> None:
        self.threshold = check_number("threshold", threshold, low=0.0, high=256.0)

    def describe(self) -> str:
        """See :meth:`InvarianceAugmentation.describe`."""
        return f"solarize, threshold {self.threshold:g}/255"

    def transform(self, images: Tensor, params: Params) -> Tensor:
        """See :meth:`InvarianceAugmentation.transform`."""
        return ops.solarize(images, self.threshold)


#: The default families, by the names the command line uses, at their documented strengths.
AUGMENTATION_FAMILIES: Mapping[str, InvarianceAugmentation] = types.MappingProxyType(
    {
        "crop": ResizedCropAugmentation(),
        "hflip": HorizontalFlipAugmentation(),
        "vflip": VerticalFlipAugmentation(),
        "rot90": Rotate90Augmentation(),
        "color_jitter": ColorJitterAugmentation(),
        "grayscale": GrayscaleAugmentation(),
        "blur": BlurAugmentation(),
        "solarize": SolarizeAugmentation(),
    }
)
