"""The bagging committee of teacher="auto" / "bagging"."""

import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_array_equal
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.tree import DecisionTreeClassifier

from pseudo_sklearn import PseudoLabelClassifier
from pseudo_sklearn._committee import _BaggingCommittee


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    y_semi = y.copy()
    y_semi[np.random.RandomState(0).rand(len(y)) < 0.9] = -1
    return X, y, y_semi


def test_tree_student_of_the_committee_beats_the_supervised_tree(digits):
    X, y, y_semi = digits
    tree = DecisionTreeClassifier(random_state=0)
    clf = PseudoLabelClassifier(tree, random_state=0).fit(X, y_semi)
    supervised = clone(tree).fit(X[y_semi != -1], y[y_semi != -1])
    assert isinstance(clf.teacher_, _BaggingCommittee)
    assert clf.teacher_.trusted and clf.teacher_.gained > clf.teacher_.lost
    # One refit, on every row: the committee labeled the whole pool at once.
    assert clf.n_iter_ == 1 and np.all(clf.transduction_ != -1)
    assert clf.score(X, y) > supervised.score(X, y) + 0.05


def test_untrusted_committee_returns_exactly_the_supervised_fit(digits):
    X, y, y_semi = digits
    lr = LogisticRegression(max_iter=1000)
    with pytest.warns(UserWarning, match="bagging committee"):
        clf = PseudoLabelClassifier(lr, random_state=0).fit(X, y_semi)
    assert not clf.teacher_.trusted
    assert clf.termination_condition_ == "untrusted" and clf.n_iter_ == 0
    supervised = clone(lr).fit(X[y_semi != -1], y[y_semi != -1])
    assert_array_equal(clf.predict_proba(X), supervised.predict_proba(X))


def test_auto_keeps_self_labels_for_averaged_partial_refits(digits):
    X, _, y_semi = digits
    sgd = SGDClassifier(loss="log_loss", random_state=0)
    clf = PseudoLabelClassifier(sgd, max_iter=3, random_state=0).fit(X, y_semi)
    assert not hasattr(clf, "teacher_") and clf.n_iter_ == 3


def test_bagging_is_used_when_asked_even_for_partial_refits(digits):
    X, _, y_semi = digits
    sgd = SGDClassifier(loss="log_loss", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        clf = PseudoLabelClassifier(sgd, teacher="bagging", random_state=0)
        clf.fit(X, y_semi)
    assert isinstance(clf.teacher_, _BaggingCommittee)


def test_same_random_state_same_committee(digits):
    X, _, y_semi = digits
    tree = DecisionTreeClassifier(random_state=0)
    a = PseudoLabelClassifier(tree, random_state=3).fit(X, y_semi)
    b = PseudoLabelClassifier(tree, random_state=3).fit(X, y_semi)
    assert_array_equal(a.transduction_, b.transduction_)
    assert (a.teacher_.gained, a.teacher_.lost) == (b.teacher_.gained, b.teacher_.lost)


class _Recorder(ClassifierMixin, BaseEstimator):
    """A tree that records the rows, weights and metadata of each fit."""

    fits = []

    def __init__(self, random_state=None):
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None, group=None):
        _Recorder.fits.append((len(y), sample_weight, group))
        self.tree_ = DecisionTreeClassifier(random_state=self.random_state)
        self.tree_.fit(X, y, sample_weight=sample_weight)
        self.classes_ = self.tree_.classes_
        return self

    def predict_proba(self, X):
        return self.tree_.predict_proba(X)

    def predict(self, X):
        return self.tree_.predict(X)


def test_every_committee_fit_gets_the_weights_and_metadata_of_its_rows(digits):
    X, _, y_semi = digits
    n = len(y_semi)
    weight = np.arange(1, n + 1, dtype=float)
    group = np.arange(n) % 7
    _Recorder.fits = []
    with sklearn.config_context(enable_metadata_routing=True):
        inner = _Recorder(random_state=0).set_fit_request(
            sample_weight=True, group=True
        )
        PseudoLabelClassifier(inner, random_state=0).fit(
            X, y_semi, sample_weight=weight, group=group
        )
    # supervised fit + 10 members + the cross-validated fits + the student
    assert len(_Recorder.fits) > 12
    for n_rows, w, g in _Recorder.fits:
        assert w is not None and g is not None
        assert len(w) == len(g) == n_rows
        # weights are the given ones (>= 1), metadata values are group ids
        assert w.min() >= 1 and set(np.unique(g)) <= set(range(7))


def test_bagging_refuses_nothing_the_estimator_takes(digits):
    X, _, y_semi = digits
    committee = _BaggingCommittee(DecisionTreeClassifier(random_state=0))
    labeled = y_semi != -1
    committee.fit(X[labeled], y_semi[labeled])
    proba = committee.predict_proba(X[:5])
    assert proba.shape == (5, 10)
    assert np.allclose(proba.sum(axis=1), 1)
