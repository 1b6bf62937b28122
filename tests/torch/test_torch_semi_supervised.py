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
    return cls(**SMALL[cls], device="cpu", random_state=0, **params)


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
