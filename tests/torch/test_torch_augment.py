import pytest

torch = pytest.importorskip("torch")

import pickle  # noqa: E402

from pseudo_sklearn.torch import (  # noqa: E402
    Compose,
    Cutout,
    RandomAffine,
    RandomShift,
)
from pseudo_sklearn.torch._augment import default_strong, default_weak  # noqa: E402

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def blob(height, width, sigma, n=1):
    """Images of a round Gaussian blob of ``sigma`` pixels at the centre."""
    rows = torch.arange(height, dtype=torch.float32).view(height, 1) - (height - 1) / 2
    cols = torch.arange(width, dtype=torch.float32).view(1, width) - (width - 1) / 2
    image = torch.exp(-(rows**2 + cols**2) / (2 * sigma**2))
    return image.expand(n, 1, height, width).clone()


def disk(height, width, radius, n=1):
    """Images of a centred disk of ``radius`` pixels (1 inside, 0 outside)."""
    rows = torch.arange(height, dtype=torch.float32).view(height, 1) - (height - 1) / 2
    cols = torch.arange(width, dtype=torch.float32).view(1, width) - (width - 1) / 2
    image = ((rows**2 + cols**2) <= radius**2).float()
    return image.expand(n, 1, height, width).clone()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(
    "transform",
    [RandomShift(2), RandomAffine(15, 3, 0.15, 12), Cutout(9), default_strong()],
    ids=repr,
)
def test_transforms_keep_shape_device_and_dtype(transform, device):
    x = torch.randn(5, 2, 28, 20, device=device)
    out = transform(x)
    assert out.shape == x.shape
    assert out.device == x.device and out.dtype == x.dtype
    assert transform(x[:0]).shape == (0, 2, 28, 20)


@pytest.mark.parametrize(
    "transform", [RandomShift(), RandomAffine(10), Cutout()], ids=repr
)
def test_transforms_reject_flat_rows_with_a_clear_error(transform):
    with pytest.raises(ValueError, match=r"\(n_images, channels, height, width\)"):
        transform(torch.zeros(4, 784))


def test_shift_moves_whole_pixels_within_bounds_and_repeats_edges():
    torch.manual_seed(0)
    x = torch.randn(64, 1, 12, 10)
    out = RandomShift(2)(x)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2), mode="replicate")
    seen = set()
    for image, result in zip(padded, out, strict=True):
        # Exactly one of the 25 allowed shifts reproduces each output.
        matches = [
            (dy, dx)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
            if torch.equal(image[:, 2 - dy : 14 - dy, 2 - dx : 12 - dx], result)
        ]
        assert len(matches) == 1
        seen.add(matches[0])
    # Shifts are drawn per image, not once per batch.
    assert len(seen) > 5


def test_shift_zero_and_identity_affine_return_the_input():
    x = torch.randn(6, 3, 9, 7)
    assert torch.equal(RandomShift(0)(x), x)
    torch.testing.assert_close(RandomAffine()(x), x, atol=1e-5, rtol=0)


@pytest.mark.parametrize("shape", [(28, 28), (20, 36)])
def test_rotation_turns_about_the_centre_in_pixel_units(shape):
    # A round blob at the centre is unchanged by any rotation about the
    # centre, also on a non-square image (the aspect ratio is accounted for).
    torch.manual_seed(0)
    x = blob(*shape, sigma=3.0, n=16)
    out = RandomAffine(degrees=90, padding="zeros")(x)
    assert (out - x).abs().max() < 0.05
    # Moved off the centre, the blob does change: the test can fail.
    y = torch.roll(x, shifts=(5, 5), dims=(2, 3))
    assert (RandomAffine(degrees=90)(y) - y).abs().max() > 0.5


def test_zoom_and_shift_stay_within_their_bounds():
    torch.manual_seed(0)
    x = disk(41, 41, radius=10, n=200)
    area = x[0].sum()
    zoomed = RandomAffine(scale=0.2, padding="zeros")(x).sum(dim=(1, 2, 3))
    # Area scales with zoom squared: within [0.8**2, 1.2**2] of the original.
    assert zoomed.min() > 0.6 * area and zoomed.max() < 1.5 * area
    assert zoomed.max() - zoomed.min() > 0.3 * area
    shifted = RandomAffine(translate=3, interpolation="nearest")(x)
    rows = torch.arange(41, dtype=torch.float32).view(1, 41, 1)
    centre = (shifted[:, 0] * rows).sum(dim=(1, 2)) / shifted[:, 0].sum(dim=(1, 2))
    offset = centre - 20
    assert offset.abs().max() <= 3.5 and offset.abs().max() >= 2


def test_shear_bound_is_checked():
    with pytest.raises(ValueError, match="shear"):
        RandomAffine(shear=90)(torch.zeros(1, 1, 4, 4))
    with pytest.raises(ValueError, match="scale"):
        RandomAffine(scale=1.5)(torch.zeros(1, 1, 4, 4))
    with pytest.raises(ValueError, match="padding"):
        RandomAffine(padding="edge")(torch.zeros(1, 1, 4, 4))


def test_cutout_blanks_one_clipped_square_per_image():
    torch.manual_seed(0)
    x = torch.ones(300, 1, 20, 20)
    out = Cutout(size=6, fill=0.0)(x)
    blank = out[:, 0] == 0
    counts = blank.sum(dim=(1, 2))
    assert counts.min() >= 9 and counts.max() == 36
    for mask in blank:
        rows = mask.any(dim=1).nonzero().flatten()
        cols = mask.any(dim=0).nonzero().flatten()
        # One rectangle: its bounding box is all blank.
        assert mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].all()


def test_cutout_default_fill_is_each_images_minimum():
    torch.manual_seed(0)
    x = torch.rand(10, 1, 28, 28) + torch.arange(10.0).view(10, 1, 1, 1)
    out = Cutout(size=9)(x)
    changed = out != x
    assert changed.any(dim=(1, 2, 3)).all()
    minimum = x.amin(dim=(1, 2, 3)).view(10, 1, 1, 1).expand_as(x)
    assert torch.equal(out[changed], minimum[changed])


def test_compose_applies_in_order():
    steps = Compose([lambda x: x + 1, lambda x: x * 10])
    assert torch.equal(steps(torch.zeros(1, 1, 2, 2)), torch.full((1, 1, 2, 2), 10.0))


def test_same_seed_same_views_and_transforms_pickle():
    x = torch.randn(8, 1, 28, 28)
    strong = default_strong()
    torch.manual_seed(3)
    a = strong(x)
    torch.manual_seed(3)
    b = pickle.loads(pickle.dumps(strong))(x)
    assert torch.equal(a, b)
    assert not torch.equal(a, strong(x))
    assert "RandomShift(max_shift=2)" == repr(default_weak())


@pytest.mark.parametrize(
    "transform",
    [
        RandomAffine(degrees=float("nan")),
        RandomAffine(degrees=float("inf")),
        RandomAffine(translate=float("nan")),
        RandomAffine(translate=float("inf")),
        RandomAffine(scale=float("nan")),
        RandomAffine(shear=float("nan")),
        Cutout(4, fill=float("nan")),
    ],
)
def test_non_finite_parameters_are_refused(transform):
    # Unrefused, they turned every image into a constant one.
    with pytest.raises(ValueError, match="must be a finite number"):
        transform(torch.rand(2, 1, 8, 8))


@pytest.mark.parametrize(
    "transform", [RandomShift(2), RandomAffine(15, 2, 0.1, 10), Cutout(3)]
)
@pytest.mark.parametrize("dtype", [torch.uint8, torch.int32])
def test_integer_images_are_transformed_in_their_dtype(transform, dtype):
    x = torch.randint(0, 256, (4, 1, 8, 8)).to(dtype)
    torch.manual_seed(0)
    out = transform(x)
    torch.manual_seed(0)
    expected = transform(x.float()).round().to(dtype)
    assert out.dtype == dtype
    assert torch.equal(out, expected)


def test_boolean_images_are_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"torch.bool\. Convert them with x.float"):
        RandomShift(1)(torch.zeros(2, 1, 4, 4, dtype=torch.bool))


def test_default_strong_view_hides_a_similar_share_of_small_and_large_images():
    def share_cut(cutout, side, n=400):
        torch.manual_seed(0)
        x = torch.rand(n, 1, side, side) + 1
        return float((cutout(x) != x).float().mean())

    large = default_strong((1, 28, 28)).transforms[1]
    small = default_strong((1, 8, 8)).transforms[1]
    assert large.size == 9 and default_strong().transforms[0].translate == 3
    assert small.size == 3
    # The unscaled 9x9 cut-out hid about two thirds of an 8x8 image.
    assert share_cut(Cutout(9), 8) > 0.5
    assert share_cut(small, 8) < 1.5 * share_cut(large, 28)
