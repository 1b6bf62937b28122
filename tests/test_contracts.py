"""scikit-learn's contracts kept by PseudoLabelClassifier (metadata routing,
warnings, the meaning of unlabeled rows, state across fits, input checks)."""

import functools

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from pseudo_sklearn import PseudoLabelClassifier
from pseudo_sklearn.model_selection import SemiSupervisedStratifiedKFold

# The self-labeling loop itself: the estimator labels its own pool
# (teacher=None) instead of the bagging committee of teacher="auto".
SelfLabeling = functools.partial(PseudoLabelClassifier, teacher=None)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    y_semi = y.copy()
    y_semi[np.random.RandomState(0).rand(300) < 0.8] = -1
    return X, y, y_semi


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


class OffsetClassifier(ClassifierMixin, BaseEstimator):
    """Predicts ``(nearest class + offset) % n_classes``: ``offset`` is metadata
    that the prediction methods request."""

    def fit(self, X, y):
        self._model = LogisticRegression().fit(X, y)
        self.classes_ = self._model.classes_
        return self

    def _shift(self, offset):
        return np.roll(np.arange(self.classes_.shape[0]), -offset)

    def predict(self, X, offset=0):
        return self.classes_[self.predict_proba(X, offset).argmax(axis=1)]

    def predict_proba(self, X, offset=0):
        return self._model.predict_proba(X)[:, self._shift(offset)]

    def score(self, X, y, sample_weight=None, offset=0):
        return float(np.average(self.predict(X, offset) == y, weights=sample_weight))


def test_fit_without_weights_under_routing(data, routing):
    X, _, y_semi = data
    # No sample_weight was given: none may be routed (it used to be None and
    # refused as "not routed to any object").
    clf = SelfLabeling(KNeighborsClassifier(), random_state=0)
    assert clf.fit(X, y_semi).n_iter_ > 0
    pipe = make_pipeline(SimpleImputer(), clone(clf)).fit(X, y_semi)
    np.testing.assert_array_equal(pipe.predict(X), clf.predict(X))


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
def test_prediction_metadata_is_routed(data, routing, method):
    X, y, y_semi = data
    inner = OffsetClassifier().set_predict_request(offset=True)
    inner.set_predict_proba_request(offset=True).set_score_request(offset=True)
    clf = PseudoLabelClassifier(inner, max_iter=2, random_state=0).fit(X, y_semi)
    args = (X, y) if method == "score" else (X,)
    plain = getattr(clf.estimator_, method)(*args, offset=1)
    routed = getattr(clf, method)(*args, offset=1)
    np.testing.assert_array_equal(routed, plain)
    # The offset arrived: without it the answer differs.
    assert not np.array_equal(getattr(clf, method)(*args), routed)


def test_prediction_metadata_without_routing_is_refused(data):
    X, _, y_semi = data
    clf = PseudoLabelClassifier(OffsetClassifier(), max_iter=1).fit(X, y_semi)
    for method in ("predict", "predict_proba"):
        with pytest.raises(ValueError, match="enable_metadata_routing=True"):
            getattr(clf, method)(X, offset=1)


def test_prediction_metadata_not_requested_is_refused(data, routing):
    X, _, y_semi = data
    clf = PseudoLabelClassifier(OffsetClassifier(), max_iter=1).fit(X, y_semi)
    with pytest.raises(ValueError, match="offset"):
        clf.predict(X, offset=1)


def test_warns_when_sample_rate_exceeds_the_pool(data):
    X, _, y_semi = data
    n_unlabeled = int(np.sum(y_semi == -1))
    # Seeded, and with no confidence threshold: the automatic one draws its
    # folds at random and, unseeded, sometimes trusts no pseudo-label.
    clf = SelfLabeling(
        LogisticRegression(),
        sample_rate=n_unlabeled + 1,
        threshold=None,
        random_state=0,
    )
    with pytest.warns(UserWarning, match=f"more than the {n_unlabeled} unlabeled"):
        clf.fit(X, y_semi)
    assert clf.n_iter_ == 1


def test_warns_when_no_row_is_unlabeled(data):
    X, y, _ = data
    with pytest.warns(UserWarning, match="no unlabeled row"):
        clf = PseudoLabelClassifier(LogisticRegression()).fit(X, y)
    assert clf.n_iter_ == 0


def _text_labels(y):
    return [f"c{v}" if v != -1 else "-1" for v in y]


@pytest.mark.parametrize(
    "make_y",
    [
        lambda y: np.array(_text_labels(y), dtype=object),
        lambda y: pd.Series(_text_labels(y)),
        lambda y: pd.Series(_text_labels(y), dtype="string"),
    ],
    ids=["object", "pandas-object", "pandas-string"],
)
def test_string_minus_one_is_unlabeled_for_every_kind_of_y(data, make_y):
    X, _, y_semi = data
    y_text = make_y(y_semi)
    clf = SelfLabeling(LogisticRegression(), random_state=0).fit(X, y_text)
    assert sorted(clf.classes_) == ["c0", "c1", "c2"]
    assert clf.n_iter_ > 0
    assert set(clf.predict(X)) <= {"c0", "c1", "c2"}
    unlabeled = np.flatnonzero(y_semi == -1)
    splits = SemiSupervisedStratifiedKFold(3).split(X, y_text)
    for train, test in splits:
        assert np.intersect1d(test, unlabeled).size == 0
        assert np.isin(unlabeled, train).all()


def test_mixed_label_types_are_refused(data):
    X, _, y_semi = data
    y_mixed = y_semi.astype(object)
    y_mixed[y_semi == 0] = "zero"
    with pytest.raises(ValueError, match="mixes labels of different types"):
        PseudoLabelClassifier(LogisticRegression()).fit(X, y_mixed)


def test_refit_with_other_settings_leaves_no_stale_attributes(data):
    X, y, y_semi = data
    clf = PseudoLabelClassifier(
        LogisticRegression(),
        teacher=LogisticRegression(),
        validation_fraction=0.3,
        random_state=0,
    )
    with pytest.warns(UserWarning):
        clf.fit(X, y_semi)
    assert hasattr(clf, "teacher_") and hasattr(clf, "best_iteration_")
    clf.set_params(validation_fraction=None, teacher=None).fit(X, y_semi)
    for attribute in ("teacher_", "best_iteration_", "validation_scores_"):
        assert not hasattr(clf, attribute), attribute


def test_n_jobs_zero_is_refused_up_front(data):
    X, _, y_semi = data
    with pytest.raises(InvalidParameterError, match="n_jobs"):
        PseudoLabelClassifier(LogisticRegression(), n_jobs=0).fit(X, y_semi)


def test_inner_estimator_decides_about_missing_values(data):
    X, _, y_semi = data
    X_nan = X.copy()
    X_nan[::7, 0] = np.nan
    inner = make_pipeline(SimpleImputer(), LogisticRegression())
    clf = PseudoLabelClassifier(inner, random_state=0).fit(X_nan, y_semi)
    assert clf.predict(X_nan).shape == (X.shape[0],)
    with pytest.raises(ValueError, match="NaN"):
        PseudoLabelClassifier(LogisticRegression()).fit(X_nan, y_semi)
