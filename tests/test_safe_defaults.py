"""The safe defaults: per-class quotas, averaged coefficients, the iteration cap
and the drift check on the labeled rows (issues "Safe by default" and "Partial
refits that settle")."""

import functools
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pseudo_sklearn import PseudoLabelClassifier

PUBLISHED = dict(per_class_quota=False, max_iter=None, average=False, drift_check=None)

# The self-labeling loop itself: the estimator labels its own pool
# (teacher=None) instead of the bagging committee of teacher="auto".
SelfLabeling = functools.partial(PseudoLabelClassifier, teacher=None)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=1500, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    y_semi = np.full_like(y, -1)
    y_semi[:150] = y[:150]
    return X, y, y_semi


def sgd(seed=0):
    return SGDClassifier(loss="log_loss", random_state=seed)


class RecordingSGD(SGDClassifier):
    """SGDClassifier that keeps a copy of its coefficients after each update."""

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)
        self.iterates_ = getattr(self, "iterates_", [])
        self.iterates_.append((self.coef_.copy(), self.intercept_.copy()))
        return self


def test_averaged_model_holds_the_mean_of_the_partial_fits(data):
    X, _, y_semi = data
    clf = PseudoLabelClassifier(
        RecordingSGD(loss="log_loss", random_state=0), random_state=0
    ).fit(X, y_semi)
    assert clf.n_iter_ == 25 and clf.termination_condition_ == "max_iter"
    # estimator_ is a copy made from the last iterate: its history is the
    # labeling model's, whose coefficients are not the ones it predicts with.
    iterates = clf.estimator_.iterates_
    assert len(iterates) == clf.n_iter_
    np.testing.assert_allclose(
        clf.estimator_.coef_, np.mean([c for c, _ in iterates], 0)
    )
    np.testing.assert_allclose(
        clf.estimator_.intercept_, np.mean([b for _, b in iterates], 0)
    )
    assert not np.allclose(clf.estimator_.coef_, iterates[-1][0])


def test_average_in_a_pipeline_and_switches(data):
    X, _, y_semi = data
    # A Pipeline has no partial_fit: its refits are full, which "auto" does
    # not average; True averages the final step's coefficients.
    pipe = make_pipeline(StandardScaler(), sgd())
    auto = SelfLabeling(pipe, threshold=None, random_state=0).fit(X, y_semi)
    last = SelfLabeling(pipe, threshold=None, average=False, random_state=0).fit(
        X, y_semi
    )
    np.testing.assert_array_equal(auto.estimator_[-1].coef_, last.estimator_[-1].coef_)
    averaged = SelfLabeling(pipe, threshold=None, average=True, random_state=0)
    averaged.fit(X, y_semi)
    # Same draws and the same labeling model: only the returned coefficients
    # differ.
    np.testing.assert_array_equal(averaged.transduction_, last.transduction_)
    assert not np.allclose(averaged.estimator_[-1].coef_, last.estimator_[-1].coef_)
    with pytest.raises(ValueError, match="average=True averages coef_"):
        SelfLabeling(KNeighborsClassifier(), average=True).fit(X, y_semi)


def test_quota_is_on_when_the_labeler_has_predict_proba(data):
    X, _, y_semi = data
    with_proba = PseudoLabelClassifier(sgd(), random_state=0).fit(X, y_semi)
    # Rows over a class's quota go back to the pool, and the cap of 25
    # iterations leaves some of them unlabeled.
    assert any(r["n_added"] < r["n_drawn"] for r in with_proba.history_)
    hinge = SGDClassifier(loss="hinge", random_state=0)
    without = PseudoLabelClassifier(hinge, drift_check=None, random_state=0)
    without.fit(X, y_semi)
    assert all(r["n_added"] == r["n_drawn"] for r in without.history_)
    assert without.termination_condition_ == "all_labeled"


def test_max_iter_auto_is_one_draw_of_the_pool(data):
    X, _, y_semi = data
    clf = PseudoLabelClassifier(sgd(), sample_rate=0.1, random_state=0)
    assert clf.fit(X, y_semi).n_iter_ == 10
    schedule = clf.set_params(sample_rate=lambda it: 0.5, per_class_quota=False)
    assert schedule.fit(X, y_semi).termination_condition_ == "all_labeled"


def test_history_traces_how_the_model_settles(data):
    X, _, y_semi = data
    clf = PseudoLabelClassifier(sgd(), random_state=0).fit(X, y_semi)
    labeled = y_semi != -1
    assert clf.labeled_scores_.shape == (clf.n_iter_ + 1,)
    assert clf.labeled_scores_[0] == clf.labeled_scores_[0]
    last = clf.history_[-1]
    assert last["labeled_score"] == pytest.approx(
        clf.estimator_.score(X[labeled], y_semi[labeled])
    )
    changes = [r["prediction_change"] for r in clf.history_]
    assert all(0 <= c <= 1 for c in changes)
    # Averaging settles the model: the late changes are smaller than early.
    assert np.mean(changes[-5:]) < np.mean(changes[1:6])
    assert not any(r["labeled_drift"] for r in clf.history_)


class WrongTeacher(LogisticRegression):
    """Labels every row with the class after the one it predicts."""

    def predict_proba(self, X):
        return np.roll(super().predict_proba(X), 1, axis=1)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


class ForgetfulSGD(SGDClassifier):
    """SGDClassifier whose partial updates swap its classes' coefficients: the
    drift that pseudo-labeling a weak model causes, made certain."""

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)
        self.coef_ = np.roll(self.coef_, 1, axis=0)
        self.intercept_ = np.roll(self.intercept_, 1)
        return self


def test_drift_restores_the_supervised_fit_and_warns(data):
    X, y, y_semi = data
    labeled = y_semi != -1
    forgetful = ForgetfulSGD(loss="log_loss", random_state=0)
    clf = PseudoLabelClassifier(forgetful, average=False, random_state=0)
    with pytest.warns(UserWarning, match="returning the supervised model"):
        clf.fit(X, y_semi)
    assert clf.drift_restored_ and clf.history_[-1]["labeled_drift"]
    supervised = sgd().fit(X[labeled], y_semi[labeled])
    np.testing.assert_array_equal(clf.predict(X), supervised.predict(X))

    warn = clone(clf).set_params(drift_check="warn")
    with pytest.warns(UserWarning, match="drift_check=None keeps"):
        warn.fit(X, y_semi)
    assert not warn.drift_restored_
    assert warn.score(X, y) < supervised.score(X, y) - 0.1

    silent = clone(clf).set_params(drift_check=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        silent.fit(X, y_semi)
    np.testing.assert_array_equal(silent.predict(X), warn.predict(X))


def test_published_settings_reproduce_the_published_loop(data):
    X, _, y_semi = data
    clf = PseudoLabelClassifier(sgd(), random_state=0, **PUBLISHED).fit(X, y_semi)
    assert clf.termination_condition_ == "all_labeled"
    assert (clf.transduction_ != -1).all()
    assert "labeled_score" in clf.history_[0]


class WeightLoggingSGD(SGDClassifier):
    """SGDClassifier that keeps the sample weights of each partial_fit."""

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        self.weights_seen_ = getattr(self, "weights_seen_", [])
        self.weights_seen_.append(sample_weight)
        return super().partial_fit(X, y, classes=classes, sample_weight=sample_weight)


def test_pseudo_rows_cannot_outvote_the_labels_in_one_update(data):
    X, _, y_semi = data
    n_labeled = int(np.sum(y_semi != -1))
    # Batches of 675 rows next to 150 labels: more than 3 times as many.
    clf = PseudoLabelClassifier(
        WeightLoggingSGD(loss="log_loss", random_state=0),
        sample_rate=0.5,
        per_class_quota=False,
        random_state=0,
    ).fit(X, y_semi)
    first = clf.estimator_.weights_seen_[0]
    n_added = clf.history_[0]["n_added"]
    np.testing.assert_array_equal(first[:n_labeled], 1.0)
    np.testing.assert_allclose(first[n_labeled:], 3.0 * n_labeled / n_added)
    assert first[n_labeled:].sum() == pytest.approx(3.0 * n_labeled)
    uncapped = clone(clf).set_params(max_pseudo_ratio=None).fit(X, y_semi)
    assert uncapped.estimator_.weights_seen_[0] is None


def test_auto_threshold_is_calibrated_for_full_refits(data):
    X, _, y_semi = data
    clf = SelfLabeling(LogisticRegression(), random_state=0).fit(X, y_semi)
    assert 0 < clf.threshold_ < 1
    kept = [r["mean_confidence"] for r in clf.history_ if r["n_added"]]
    assert kept and min(kept) >= clf.threshold_
    # Partial refits (and an explicit value) take no calibrated threshold.
    assert SelfLabeling(sgd()).fit(X, y_semi).threshold_ is None
    explicit = SelfLabeling(LogisticRegression(), threshold=0.3)
    assert explicit.fit(X, y_semi).threshold_ == 0.3


def test_auto_threshold_skips_pseudo_labels_it_cannot_trust(data):
    X, y, _ = data
    # Labels at random: no confidence level is right 80% of the time.
    y_noise = np.full_like(y, -1)
    y_noise[:150] = np.random.RandomState(0).randint(0, 3, 150)
    clf = PseudoLabelClassifier(LogisticRegression(), random_state=0)
    with pytest.warns(UserWarning, match="Pseudo-labeling skipped"):
        clf.fit(X, y_noise)
    assert clf.n_iter_ == 0 and clf.termination_condition_ == "untrusted"
    assert clf.threshold_ is None
    plain = LogisticRegression().fit(X[:150], y_noise[:150])
    np.testing.assert_array_equal(clf.predict(X), plain.predict(X))


def test_drift_check_records_but_does_not_act_with_a_teacher(data):
    X, _, y_semi = data
    clf = PseudoLabelClassifier(
        sgd(), teacher=WrongTeacher(), per_class_quota=False, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.fit(X, y_semi)
    assert clf.history_[-1]["labeled_drift"] and not clf.drift_restored_
