"""What the two pseudo-labeling networks share (``_semi_supervised.py``)."""

import pytest

torch = pytest.importorskip("torch")

import numpy as np  # noqa: E402
from numpy.testing import assert_array_equal  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from pseudo_sklearn.torch import (  # noqa: E402
    FixMatchClassifier,
    MLPModule,
    OnlinePseudoLabelClassifier,
)

SMALL = {
    OnlinePseudoLabelClassifier: dict(max_epochs=1, T1=1, T2=1),
    FixMatchClassifier: dict(max_epochs=1, warmup_epochs=1, unlabeled_batch_size=64),
}


def small(cls, **params):
    return cls(**{**SMALL[cls], "device": "cpu", "random_state": 0, **params})


class FailsWithThreeClasses(MLPModule):
    def __init__(self, n_features=1, n_classes=2):
        if n_classes == 3:
            raise RuntimeError("no room for a third class")
        super().__init__(n_features, n_classes)


@pytest.mark.parametrize("cls", list(SMALL))
def test_failed_fit_keeps_the_estimator_as_it_was(cls, semi):
    X, _, y_semi = semi
    clf = small(cls, module=FailsWithThreeClasses)
    with pytest.raises(RuntimeError, match="third class"):
        clf.fit(X, y_semi)
    assert not hasattr(clf, "history_") and not hasattr(clf, "module_")
    with pytest.raises(NotFittedError):
        clf.predict(X)
    two = np.isin(y_semi, [-1, 0, 1])
    clf.fit(X[two], y_semi[two])
    expected = clf.predict_proba(X)
    with pytest.raises(RuntimeError, match="third class"):
        clf.fit(X, y_semi)
    assert_array_equal(clf.classes_, [0, 1])
    assert_array_equal(clf.predict_proba(X), expected)


@pytest.mark.parametrize("cls", list(SMALL))
def test_numbers_in_an_object_array_are_labels(cls, semi):
    X, _, y_semi = semi
    as_objects = np.array(list(y_semi), dtype=object)
    numeric = small(cls).fit(X, y_semi)
    objects = small(cls).fit(X, as_objects)
    assert_array_equal(objects.classes_, [0, 1, 2])
    assert_array_equal(objects.predict(X), numeric.predict(X))


@pytest.mark.parametrize("cls", list(SMALL))
def test_partial_fit_refuses_a_label_outside_classes(cls, semi):
    X, _, y_semi = semi
    clf = small(cls)
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X, y_semi, classes=[0, 1])
    clf.partial_fit(X, y_semi, classes=[0, 1, 2, 3])
    assert_array_equal(clf.classes_, [0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"labels \[5\] not in classes_"):
        clf.partial_fit(X, np.where(y_semi == 2, 5, y_semi))


@pytest.mark.parametrize("cls", list(SMALL))
def test_verbose_prints_one_line_per_epoch(cls, semi, capsys):
    X, _, y_semi = semi
    clf = small(cls, verbose=1).fit(X, y_semi)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == clf.n_iter_ == len(clf.history_)
    assert lines[-1].startswith("iteration=2, phase=pseudo")


class BatchNormMLP(torch.nn.Module):
    """A network with 1-D batch norm, which cannot normalise one row in train mode."""

    def __init__(self, n_features=1, n_classes=2):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(n_features, 16),
            torch.nn.BatchNorm1d(16),
            torch.nn.ReLU(),
            torch.nn.Linear(16, n_classes),
        )

    def forward(self, x):
        return self.net(x)


@pytest.mark.parametrize("cls", list(SMALL))
def test_numpy_integer_sizes_equal_python_ints(cls, semi):
    X, _, y_semi = semi
    sizes = {"batch_size": 16, "unlabeled_batch_size": 64}
    if cls is OnlinePseudoLabelClassifier:
        sizes["labeled_every"] = 2
    python_sized = small(cls, **sizes).fit(X, y_semi)
    numpy_sized = small(cls, **{k: np.int64(v) for k, v in sizes.items()})
    numpy_sized.fit(X, y_semi)
    assert_array_equal(numpy_sized.predict_proba(X), python_sized.predict_proba(X))
    with pytest.raises(ValueError, match="'unlabeled_batch_size' parameter"):
        small(cls, unlabeled_batch_size=True).fit(X, y_semi)


@pytest.mark.parametrize("cls", list(SMALL))
def test_batch_norm_module_trains_with_one_row_last_batches(cls, semi):
    # 31 labeled rows in batches of 15 and (online) 369 unlabeled rows in
    # batches of 92: every last batch, labeled and unlabeled, has one row.
    X, _, y_semi = semi
    y_semi = y_semi.copy()
    y_semi[30] = 0
    clf = small(cls, module=BatchNormMLP, batch_size=15, unlabeled_batch_size=92)
    clf.fit(X, y_semi)
    assert [h["phase"] for h in clf.history_] == ["supervised", "pseudo"]
    assert np.isfinite(clf.loss_curve_).all()


@pytest.mark.parametrize("cls", list(SMALL))
def test_module_output_width_must_match_the_classes(cls, semi):
    X, _, y_semi = semi
    clf = small(cls, module_params={"n_classes": 12})
    with pytest.raises(ValueError, match="n_classes=12.*y has 3 classes"):
        clf.fit(X, y_semi)
    assert not hasattr(clf, "module_")
    # No training step to check it: prediction checks it.
    no_epochs = {"max_epochs": 0, "T1": 0, "T2": 0}
    if cls is FixMatchClassifier:
        no_epochs = {"max_epochs": 0, "warmup_epochs": 0}
    clf = small(cls, module_params={"n_classes": 12}, **no_epochs).fit(X, y_semi)
    with pytest.raises(ValueError, match="n_classes=12.*y has 3 classes"):
        clf.predict_proba(X)


@pytest.mark.parametrize("cls", list(SMALL))
def test_partial_fit_refuses_minus_one_in_classes(cls, semi):
    X, _, y_semi = semi
    clf = small(cls)
    with pytest.raises(ValueError, match="classes holds -1.*not a class"):
        clf.partial_fit(X, y_semi, classes=np.unique(y_semi))
    assert not hasattr(clf, "classes_")
    names = np.array(["a", "b", "c"], dtype=object)[np.maximum(y_semi, 0)]
    names[y_semi == -1] = "-1"
    with pytest.raises(ValueError, match="classes holds -1"):
        clf.partial_fit(X, names, classes=np.unique(names))
    clf.partial_fit(X, names, classes=["a", "b", "c", "d"])
    assert_array_equal(clf.classes_, ["a", "b", "c", "d"])


@pytest.mark.parametrize("cls", list(SMALL))
def test_bad_eval_set_is_refused_before_any_training(cls, semi):
    X, y, y_semi = semi
    clf = small(cls).fit(X, y_semi)
    weights = [p.detach().clone() for p in clf.module_.parameters()]
    n_iter, curve, history = clf.n_iter_, list(clf.loss_curve_), list(clf.history_)
    for y_val in (y[:40], y[:1]):
        with pytest.raises(ValueError, match="50 rows in X_val but .* labels"):
            clf.partial_fit(X, y_semi, eval_set=(X[:50], y_val))
    assert clf.n_iter_ == n_iter and clf.loss_curve_ == curve
    assert clf.history_ == history
    for before, after in zip(weights, clf.module_.parameters(), strict=True):
        assert torch.equal(before, after)


class FailingLoss(torch.nn.CrossEntropyLoss):
    """Raises at its ``fail_at``-th call (counted over all instances)."""

    calls = 0
    fail_at = None

    def forward(self, output, target):
        FailingLoss.calls += 1
        if FailingLoss.fail_at is not None and FailingLoss.calls >= FailingLoss.fail_at:
            raise RuntimeError("the loss failed")
        return super().forward(output, target)


@pytest.mark.parametrize("cls", list(SMALL))
@pytest.mark.parametrize("extra", [{}, {"threshold_mode": "flexmatch"}])
def test_failed_partial_fit_changes_nothing(cls, semi, extra):
    # A pass that raises halfway must put back the weights, the optimizer,
    # the weight average, threshold counters, history and random streams: the
    # next call then matches a clone that never failed.
    X, _, y_semi = semi
    if extra and cls is OnlinePseudoLabelClassifier:
        pytest.skip("FixMatch's threshold modes")
    params = dict(criterion=FailingLoss, module_params={"dropout": 0.2}, **extra)
    FailingLoss.fail_at = None
    failing = small(cls, **params).fit(X, y_semi)
    clean = small(cls, **params).fit(X, y_semi)
    # The third loss of the pass: after a labeled epoch (online) or two
    # steps (FixMatch), before the pass ends.
    FailingLoss.calls, FailingLoss.fail_at = 0, 3
    with pytest.raises(RuntimeError, match="the loss failed"):
        failing.partial_fit(X, y_semi)
    FailingLoss.fail_at = None
    assert failing.n_iter_ == 2 and len(failing.loss_curve_) == 2
    assert len(failing.history_) == 2
    failing.partial_fit(X, y_semi)
    clean.partial_fit(X, y_semi)
    assert failing.loss_curve_ == clean.loss_curve_
    assert_array_equal(failing.predict_proba(X), clean.predict_proba(X))


@pytest.mark.parametrize("cls", list(SMALL))
def test_numbers_in_an_object_array_keep_their_type(cls, semi):
    # Not the first label's type: 0.5 is not truncated to the int 0, so it
    # is refused as a float array's 0.5 is, and 2.0 stays a float class.
    X, _, y_semi = semi
    halves = np.where(y_semi == 2, 0.5, y_semi)
    with pytest.raises(ValueError, match="Unknown label type"):
        small(cls).fit(X, halves)
    with pytest.raises(ValueError, match="Unknown label type"):
        small(cls).fit(X, np.array(halves.tolist(), dtype=object))
    floats = np.array([0, 1, 2.0, -1], dtype=object)[np.where(y_semi == -1, 3, y_semi)]
    clf = small(cls).fit(X, floats)
    assert clf.classes_.dtype.kind == "f"
    assert_array_equal(clf.classes_, [0.0, 1.0, 2.0])


@pytest.mark.parametrize("cls", list(SMALL))
def test_diverged_fit_raises_and_leaves_the_estimator_unfitted(cls, semi):
    X, _, y_semi = semi
    clf = small(cls, lr=1e12, optimizer_params={})
    with pytest.raises(ValueError, match="diverged.*lower lr"):
        clf.fit(X, y_semi)
    with pytest.raises(NotFittedError):
        clf.predict(X)
