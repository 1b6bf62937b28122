"""Selection rules and schedules, pure NumPy."""

import numpy as np
import pytest

from pseudo_sklearn._schedules import alpha_schedule
from pseudo_sklearn._selection import confident_mask, per_class_quota_mask


def test_confident_mask_threshold_is_inclusive():
    conf = np.array([0.5, 0.7, 0.71, 1.0])
    np.testing.assert_array_equal(confident_mask(conf, 0.7), [False, True, True, True])
    assert confident_mask(conf, None).all()


@pytest.mark.parametrize("seed", range(20))
def test_per_class_quota_never_exceeds_class_pool_or_share(seed):
    rng = np.random.RandomState(seed)
    classes = np.arange(4)
    labels = rng.choice(classes, size=200, p=[0.7, 0.1, 0.1, 0.1])
    confidence = rng.rand(200)
    keep = rng.rand(200) < 0.8
    prior = np.array([0.25, 0.25, 0.25, 0.25])
    mask = per_class_quota_mask(labels, confidence, keep, classes, prior)
    assert not (mask & ~keep).any()
    n_keep = keep.sum()
    for cls in classes:
        pool = keep & (labels == cls)
        chosen = mask & (labels == cls)
        assert chosen.sum() <= pool.sum()
        assert chosen.sum() <= np.ceil(n_keep * 0.25)
        if pool.sum() <= np.ceil(n_keep * 0.25):
            assert chosen.sum() == pool.sum()
        elif chosen.any():
            # the most confident rows of the class were kept
            assert confidence[chosen].min() >= confidence[pool & ~chosen].max()


def test_per_class_quota_caps_the_dominant_class():
    labels = np.array([0] * 8 + [1] * 2)
    confidence = np.linspace(0.5, 1.0, 10)
    mask = per_class_quota_mask(
        labels, confidence, np.ones(10, bool), [0, 1], [0.5, 0.5]
    )
    assert mask[labels == 0].sum() == 5
    assert mask[labels == 1].sum() == 2
    # class 0 keeps its five most confident rows (indices 3..7)
    np.testing.assert_array_equal(np.flatnonzero(mask & (labels == 0)), [3, 4, 5, 6, 7])


def test_alpha_schedule_matches_formula():
    T1, T2, af = 100, 700, 3.0
    assert alpha_schedule(0, T1=T1, T2=T2, alpha_f=af) == 0.0
    assert alpha_schedule(T1 - 1, T1=T1, T2=T2, alpha_f=af) == 0.0
    assert alpha_schedule(T1, T1=T1, T2=T2, alpha_f=af) == 0.0
    assert alpha_schedule(T2, T1=T1, T2=T2, alpha_f=af) == af
    assert alpha_schedule(5000, T1=T1, T2=T2, alpha_f=af) == af
    for t in (150, 400, 699):
        expected = (t - T1) / (T2 - T1) * af
        assert alpha_schedule(t, T1=T1, T2=T2, alpha_f=af) == pytest.approx(expected)
    ts = np.array([0, 100, 400, 700, 800])
    np.testing.assert_allclose(alpha_schedule(ts), [0, 0, 1.5, 3, 3])


def test_alpha_schedule_step_and_bad_order():
    assert alpha_schedule(4, T1=5, T2=5, alpha_f=2.0) == 0.0
    assert alpha_schedule(5, T1=5, T2=5, alpha_f=2.0) == 2.0
    with pytest.raises(ValueError, match="T2=1 is before T1=5"):
        alpha_schedule(3, T1=5, T2=1)
