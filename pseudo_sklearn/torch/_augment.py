"""Batched, device-side random augmentations of image tensors.

Each transform is a small picklable object whose ``__call__`` takes a float
tensor of shape ``(n_images, channels, height, width)`` and returns a new one
of the same shape, on the same device, drawing one set of random parameters
per image from torch's global random state (seeded by the estimator that calls
it). Work is a handful of tensor ops per batch, never a Python loop over
images, so the same code runs on CPU and CUDA.

Rows of ``X`` that are flat images are reshaped by the estimator
(``image_shape``) before a transform sees them.
"""

import math
from numbers import Integral, Real

import torch
from torch.nn import functional as F

__all__ = ["Compose", "Cutout", "RandomAffine", "RandomShift"]


def _check_number(name, value, *, low=0.0, high=None, integer=False):
    kind = Integral if integer else Real
    # NaN passes every comparison, and an infinite angle or shift maps every
    # pixel outside the image: both give constant images without an error.
    if (
        not isinstance(value, kind)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < low
        or (high is not None and value > high)
    ):
        bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
        what = "an int" if integer else "a finite number"
        raise ValueError(f"{name} must be {what} {bounds}; got {value!r}.")
    return value


def _check_images(x, name):
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(
            f"{name} takes a tensor of shape (n_images, channels, height, width); "
            f"got {shape}. Reshape flat rows with x.view(-1, *image_shape)."
        )
    if x.dtype == torch.bool or x.is_complex():
        raise ValueError(
            f"{name} takes images of a float or integer dtype; got {x.dtype}. "
            "Convert them with x.float()."
        )


def _float_dtype(x):
    """The dtype to compute ``x``'s transform in: its own when floating point,
    float32 for integer images (uint8 pixels)."""
    return x.dtype if x.is_floating_point() else torch.float32


def _sample(x, theta, mode, padding_mode):
    """``x`` resampled through the affine maps ``theta``; integer images are
    resampled in float32 and rounded back to their dtype."""
    work = x.to(_float_dtype(x))
    grid = F.affine_grid(theta, list(work.shape), align_corners=False)
    out = F.grid_sample(
        work, grid, mode=mode, padding_mode=padding_mode, align_corners=False
    )
    if work.dtype == x.dtype:
        return out
    info = torch.iinfo(x.dtype)
    return out.round().clamp(info.min, info.max).to(x.dtype)


class RandomShift:
    """Shift each image by a whole number of pixels, drawn at random.

    The shifts along each axis are drawn uniformly from
    ``{-max_shift, ..., max_shift}``; pixels shifted in from outside repeat
    the nearest edge pixel. This is FixMatch's "weak" view for small images.

    Parameters
    ----------
    max_shift : int, default=2
        Largest shift in pixels along each axis.

    Examples
    --------
    >>> import torch
    >>> from pseudo_sklearn.torch import RandomShift
    >>> _ = torch.manual_seed(0)
    >>> RandomShift(2)(torch.zeros(8, 1, 28, 28)).shape
    torch.Size([8, 1, 28, 28])
    """

    def __init__(self, max_shift=2):
        self.max_shift = max_shift

    def _check_params(self):
        return _check_number("max_shift", self.max_shift, integer=True)

    def __call__(self, x):
        _check_images(x, type(self).__name__)
        shift = self._check_params()
        n, _, height, width = x.shape
        if shift == 0 or n == 0:
            return x.clone()
        pixels = torch.randint(-shift, shift + 1, (n, 2), device=x.device)
        theta = torch.zeros(n, 2, 3, device=x.device, dtype=_float_dtype(x))
        theta[:, 0, 0] = 1
        theta[:, 1, 1] = 1
        # A grid step is 2 / size in normalised coordinates; sampling the
        # source at -shift moves the content by +shift.
        theta[:, 0, 2] = -pixels[:, 0] * (2.0 / width)
        theta[:, 1, 2] = -pixels[:, 1] * (2.0 / height)
        # Nearest sampling of a whole-pixel shift copies pixels exactly.
        return _sample(x, theta, "nearest", "border")

    def __repr__(self):
        return f"RandomShift(max_shift={self.max_shift!r})"


class RandomAffine:
    """Random rotation, scaling, shear and translation of each image.

    Each image gets its own angle, scale factor, shear and shift, drawn
    uniformly within the given bounds; all are applied as one affine map about
    the image centre and resampled with ``torch.nn.functional.grid_sample``.

    Parameters
    ----------
    degrees : float, default=0.0
        Rotation angle drawn from ``[-degrees, degrees]``.
    translate : float, default=0.0
        Shift in pixels drawn from ``[-translate, translate]`` along each axis.
    scale : float, default=0.0
        Relative zoom drawn from ``[1 - scale, 1 + scale]``; must be < 1.
    shear : float, default=0.0
        Horizontal shear angle in degrees drawn from ``[-shear, shear]``;
        must be < 90.
    interpolation : {"bilinear", "nearest"}, default="bilinear"
        Resampling mode of ``grid_sample``.
    padding : {"border", "zeros", "reflection"}, default="border"
        Value of pixels mapped from outside the image: the nearest edge pixel
        (``"border"``, the background of centred digits whatever the pixel
        scaling), zero, or the mirror image.

    Examples
    --------
    >>> import torch
    >>> from pseudo_sklearn.torch import RandomAffine
    >>> _ = torch.manual_seed(0)
    >>> aug = RandomAffine(degrees=15, translate=3, scale=0.15, shear=10)
    >>> aug(torch.zeros(8, 1, 28, 28)).shape
    torch.Size([8, 1, 28, 28])
    """

    def __init__(
        self,
        degrees=0.0,
        translate=0.0,
        scale=0.0,
        shear=0.0,
        interpolation="bilinear",
        padding="border",
    ):
        self.degrees = degrees
        self.translate = translate
        self.scale = scale
        self.shear = shear
        self.interpolation = interpolation
        self.padding = padding

    def _check_params(self):
        _check_number("degrees", self.degrees)
        _check_number("translate", self.translate)
        _check_number("scale", self.scale, high=0.99)
        _check_number("shear", self.shear, high=89.0)
        if self.interpolation not in ("bilinear", "nearest"):
            raise ValueError(
                "interpolation must be 'bilinear' or 'nearest'; "
                f"got {self.interpolation!r}."
            )
        if self.padding not in ("border", "zeros", "reflection"):
            raise ValueError(
                "padding must be 'border', 'zeros' or 'reflection'; "
                f"got {self.padding!r}."
            )

    def _matrices(self, n, height, width, like):
        """Random ``(n, 2, 3)`` maps from output to input coordinates.

        In ``affine_grid``'s normalised coordinates ([-1, 1] on each axis),
        with the aspect ratio of a ``height`` x ``width`` image accounted for
        so that rotations and shears are true angles.
        """
        # One draw for all five parameters, scaled by Python floats: fewer
        # kernel launches on a GPU and no host-to-device copy.
        dtype = _float_dtype(like)
        u = torch.rand(5, n, device=like.device, dtype=dtype) * 2 - 1
        angle = u[0] * math.radians(self.degrees)
        zoom = 1 + u[1] * self.scale
        shear = torch.tan(u[2] * math.radians(self.shear))
        shift_x = u[3] * (self.translate * 2.0 / width)
        shift_y = u[4] * (self.translate * 2.0 / height)
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        aspect = height / width
        theta = torch.empty(n, 2, 3, device=like.device, dtype=dtype)
        # Inverse map: rotation by -angle and shear, then 1 / zoom, in pixel
        # units; the aspect factors convert between the two normalised axes.
        theta[:, 0, 0] = cos
        theta[:, 0, 1] = (sin + cos * shear) * aspect
        theta[:, 1, 0] = -sin / aspect
        theta[:, 1, 1] = cos - sin * shear
        theta[:, 0, 2] = -shift_x
        theta[:, 1, 2] = -shift_y
        return theta

    def __call__(self, x):
        _check_images(x, type(self).__name__)
        self._check_params()
        n, _, height, width = x.shape
        if n == 0:
            return x.clone()
        theta = self._matrices(n, height, width, x)
        return _sample(x, theta, self.interpolation, self.padding)

    def __repr__(self):
        return (
            f"RandomAffine(degrees={self.degrees!r}, translate={self.translate!r}, "
            f"scale={self.scale!r}, shear={self.shear!r}, "
            f"interpolation={self.interpolation!r}, padding={self.padding!r})"
        )


class Cutout:
    """Blank out one random square patch of each image (DeVries & Taylor, 2017).

    The patch centre is drawn uniformly over the image, so patches near the
    border are clipped, as in the original Cutout.

    Parameters
    ----------
    size : int, default=8
        Side of the square patch in pixels.
    fill : float or None, default=None
        Value written into the patch; ``None`` uses each image's minimum, the
        background of digit images however the pixels were scaled.

    Examples
    --------
    >>> import torch
    >>> from pseudo_sklearn.torch import Cutout
    >>> _ = torch.manual_seed(0)
    >>> out = Cutout(size=4, fill=0.0)(torch.ones(2, 1, 10, 10))
    >>> int((out == 0).sum(dim=(1, 2, 3)).min()) >= 4
    True
    """

    def __init__(self, size=8, fill=None):
        self.size = size
        self.fill = fill

    def _check_params(self):
        fill = self.fill
        if fill is not None and not (isinstance(fill, Real) and math.isfinite(fill)):
            raise ValueError(f"fill must be a finite number or None; got {fill!r}.")
        return _check_number("size", self.size, low=1, integer=True)

    def __call__(self, x):
        _check_images(x, type(self).__name__)
        size = self._check_params()
        n, _, height, width = x.shape
        if n == 0:
            return x.clone()
        centre = torch.rand(n, 2, device=x.device)
        top = (centre[:, 0] * height).long() - size // 2
        left = (centre[:, 1] * width).long() - size // 2
        rows = torch.arange(height, device=x.device).view(1, height, 1)
        cols = torch.arange(width, device=x.device).view(1, 1, width)
        inside = (
            (rows >= top.view(n, 1, 1))
            & (rows < (top + size).view(n, 1, 1))
            & (cols >= left.view(n, 1, 1))
            & (cols < (left + size).view(n, 1, 1))
        ).unsqueeze(1)
        if self.fill is None:
            return torch.where(inside, x.amin(dim=(1, 2, 3), keepdim=True), x)
        # A Python scalar: no host-to-device copy.
        return x.masked_fill(inside, float(self.fill))

    def __repr__(self):
        return f"Cutout(size={self.size!r}, fill={self.fill!r})"


class Compose:
    """Apply transforms one after the other.

    Parameters
    ----------
    transforms : list of callable
        Each takes and returns a tensor of shape
        ``(n_images, channels, height, width)``.

    Examples
    --------
    >>> import torch
    >>> from pseudo_sklearn.torch import Compose, Cutout, RandomAffine
    >>> strong = Compose([RandomAffine(degrees=15, translate=3), Cutout(9)])
    >>> _ = torch.manual_seed(0)
    >>> strong(torch.zeros(4, 1, 28, 28)).shape
    torch.Size([4, 1, 28, 28])
    """

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, x):
        for transform in self.transforms:
            x = transform(x)
        return x

    def __repr__(self):
        inner = ", ".join(repr(t) for t in self.transforms)
        return f"Compose([{inner}])"


def default_weak(image_shape=None):
    """FixMatch's weak view for small digit images: shifts of up to 2 pixels,
    whatever ``image_shape``."""
    return RandomShift(2)


def default_strong(image_shape=(1, 28, 28)):
    """The strong view: rotation, zoom, shear and shift, then a cut-out.

    Sized for 28x28 digits (shifts of up to 3 pixels, a 9x9 cut-out) and
    scaled to other images by their shorter side, so that it hides as much of
    an 8x8 image (3x3, under a pixel of shift) as of a 28x28 one: unscaled,
    it blanked about two thirds of an 8x8 digit.
    """
    side = min(image_shape[-2:])
    return Compose(
        [
            RandomAffine(degrees=15, translate=3 * side / 28, scale=0.15, shear=12),
            Cutout(max(1, round(9 * side / 28))),
        ]
    )


def check_view(view, name, image_shape):
    """Check a view of FixMatchClassifier before training starts.

    The built-in transforms (also inside a :class:`Compose`) get their
    parameters checked and need ``image_shape``; other callables are taken as
    they are.
    """
    if isinstance(view, Compose):
        for transform in view.transforms:
            check_view(transform, name, image_shape)
        return
    if isinstance(view, RandomShift | RandomAffine | Cutout):
        if image_shape is None:
            raise ValueError(
                f"{name}={view!r} transforms images, but image_shape is None; "
                "pass image_shape=(channels, height, width) of the images whose "
                "flattened pixels are the rows of X, e.g. (1, 28, 28)."
            )
        view._check_params()


def apply_view(transform, x, image_shape):
    """``transform`` applied to flat rows ``x`` seen as images of ``image_shape``
    (``x`` itself when ``transform`` is None; the rows as they are when
    ``image_shape`` is None)."""
    if transform is None:
        return x
    if image_shape is None:
        return transform(x)
    return transform(x.view(-1, *image_shape)).reshape(len(x), -1)
