"""Behaviour of PseudoLabelClassifier: invariants, options and bad input."""

import functools
import pickle
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from joblib import parallel_config
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, SGDClassifier
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

from pseudo_sklearn import PseudoLabelClassifier

# The self-labeling loop itself: the estimator labels its own pool
# (teacher=None) instead of the bagging committee of teacher="auto".
SelfLabeling = functools.partial(PseudoLabelClassifier, teacher=None)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=600,
        n_features=10,
        n_informative=6,
        n_classes=3,
        random_state=0,
    )
    y_semi = y.copy()
    rng = np.random.RandomState(0)
    y_semi[rng.rand(600) < 0.85] = -1
    return X, y, y_semi


def logreg():
    return LogisticRegression(max_iter=500)


FIT_LOG = []


class SpyClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression that logs the shapes of every fit it receives."""

    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, y, sample_weight=None):
        FIT_LOG.append(
            {
                "n_rows": X.shape[0],
                "n_labels": len(y),
                "n_weights": None if sample_weight is None else len(sample_weight),
                "weights": None if sample_weight is None else np.array(sample_weight),
            }
        )
        self.model_ = LogisticRegression(C=self.C, max_iter=500).fit(
            X, y, sample_weight=sample_weight
        )
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def test_labeled_rows_keep_labels_and_iteration_zero(data):
    X, _, y_semi = data
    clf = SelfLabeling(
        logreg(), sample_rate=0.1, per_class_quota=False, threshold=None, random_state=0
    )
    clf.fit(X, y_semi)
    labeled = y_semi != -1
    assert np.all(clf.labeled_iter_[labeled] == 0)
    assert np.array_equal(clf.transduction_[labeled], y_semi[labeled])
    assert clf.labeled_iter_.max() <= clf.n_iter_
    assert np.all(clf.labeled_iter_[~labeled] >= 1)
    assert clf.termination_condition_ == "all_labeled"
    assert clf.n_iter_ == 10
    assert np.array_equal(clf.classes_, [0, 1, 2])


def test_history_records_every_iteration(data):
    X, _, y_semi = data
    n_unlabeled = int(np.sum(y_semi == -1))
    clf = SelfLabeling(
        logreg(),
        sample_rate=0.25,
        per_class_quota=False,
        threshold=None,
        random_state=0,
    )
    clf.fit(X, y_semi)
    assert [r["iteration"] for r in clf.history_] == [1, 2, 3, 4]
    assert sum(r["n_added"] for r in clf.history_) == n_unlabeled
    assert clf.history_[-1]["n_pool"] == 0
    pool_sizes = [r["n_pool"] for r in clf.history_]
    assert pool_sizes == sorted(pool_sizes, reverse=True)
    for record in clf.history_:
        assert 1 / 3 <= record["mean_confidence"] <= 1
        assert record["n_drawn"] == record["n_added"]
    for it in range(1, 5):
        assert np.sum(clf.labeled_iter_ == it) == clf.history_[it - 1]["n_added"]


def test_published_sample_rate_takes_25_iterations():
    X, y = make_classification(n_samples=5900 + 100, n_features=5, random_state=0)
    y_semi = y.copy()
    y_semi[100:] = -1
    clf = SelfLabeling(logreg(), random_state=0).fit(X, y_semi)
    assert clf.n_iter_ == 25
    assert [r["n_drawn"] for r in clf.history_] == [236] * 25


def test_final_model_is_trained_on_every_added_row(data):
    X, _, y_semi = data
    FIT_LOG.clear()
    clf = SelfLabeling(
        SpyClassifier(),
        sample_rate=0.3,
        per_class_quota=False,
        threshold=None,
        random_state=0,
    )
    clf.fit(X, y_semi)
    n_labeled = int(np.sum(y_semi != -1))
    sizes = [entry["n_rows"] for entry in FIT_LOG]
    # One supervised fit, then one refit per iteration; the last on every row.
    assert len(sizes) == clf.n_iter_ + 1
    assert sizes[0] == n_labeled
    assert sizes[-1] == X.shape[0]
    assert sizes == sorted(sizes)


def test_max_iter_zero_equals_supervised_fit(data):
    X, _, y_semi = data
    labeled = y_semi != -1
    clf = PseudoLabelClassifier(logreg(), max_iter=0).fit(X, y_semi)
    plain = logreg().fit(X[labeled], y_semi[labeled])
    assert clf.n_iter_ == 0
    assert clf.termination_condition_ == "max_iter"
    np.testing.assert_array_equal(clf.estimator_.coef_, plain.coef_)
    np.testing.assert_array_equal(clf.predict(X), plain.predict(X))
    assert np.all(clf.transduction_[~labeled] == -1)


def test_max_iter_stops_early(data):
    X, _, y_semi = data
    clf = SelfLabeling(
        logreg(), sample_rate=0.1, max_iter=3, threshold=None, random_state=0
    )
    clf.fit(X, y_semi)
    assert clf.n_iter_ == 3
    assert clf.termination_condition_ == "max_iter"
    assert clf.labeled_iter_.max() == 3
    assert np.sum(clf.transduction_ == -1) > 0


def test_no_unlabeled_rows_is_a_plain_fit(data):
    X, y, _ = data
    clf = PseudoLabelClassifier(logreg()).fit(X, y)
    plain = logreg().fit(X, y)
    assert clf.n_iter_ == 0
    assert clf.history_ == []
    assert clf.termination_condition_ == "all_labeled"
    np.testing.assert_array_equal(clf.predict(X), plain.predict(X))


def test_threshold_keeps_confident_rows_and_returns_others_to_pool(data):
    X, _, y_semi = data
    clf = SelfLabeling(
        logreg(), threshold=0.9, sample_rate=0.2, max_iter=30, random_state=0
    )
    clf.fit(X, y_semi)
    added = clf.labeled_iter_ > 0
    assert added.any()
    proba_at_fit = []
    for record in clf.history_:
        if record["n_added"]:
            assert record["mean_confidence"] >= 0.9
        proba_at_fit.append(record["n_drawn"] - record["n_added"])
    # some rows were rejected, and the pool only shrinks by what was added
    assert sum(proba_at_fit) > 0
    n_unlabeled = int(np.sum(y_semi == -1))
    for record in clf.history_:
        n_unlabeled -= record["n_added"]
        assert record["n_pool"] == n_unlabeled


def test_rejected_rows_can_be_drawn_again():
    X, y = make_classification(n_samples=300, n_features=5, random_state=1)
    y_semi = y.copy()
    y_semi[30:] = -1
    # every row is drawn each iteration: rows missing the threshold must come
    # back and be added in a later iteration
    clf = SelfLabeling(
        logreg(), sample_rate=1.0, threshold=0.8, max_iter=10, random_state=0
    ).fit(X, y_semi)
    assert clf.n_iter_ >= 2
    assert clf.history_[1]["n_drawn"] == clf.history_[0]["n_pool"]
    assert clf.labeled_iter_.max() >= 2


def test_no_change_when_nothing_passes(data):
    X, _, y_semi = data
    clf = SelfLabeling(logreg(), threshold=0.999999999, random_state=0)
    clf.fit(X, y_semi)
    assert clf.termination_condition_ == "no_change"
    assert clf.history_[-1]["n_added"] == 0


def test_integer_sample_rate_is_a_row_count(data):
    X, _, y_semi = data
    clf = PseudoLabelClassifier(logreg(), sample_rate=100, random_state=0)
    clf.fit(X, y_semi)
    assert [r["n_drawn"] for r in clf.history_][:-1] == [100] * (clf.n_iter_ - 1)


def test_same_random_state_same_result_and_seed_matters(data):
    X, _, y_semi = data

    def run(seed):
        return PseudoLabelClassifier(
            SGDClassifier(loss="log_loss", random_state=0),
            sample_rate=0.1,
            random_state=seed,
        ).fit(X, y_semi)

    a, b, c = run(0), run(0), run(1)
    np.testing.assert_array_equal(a.labeled_iter_, b.labeled_iter_)
    np.testing.assert_array_equal(a.transduction_, b.transduction_)
    np.testing.assert_array_equal(a.estimator_.coef_, b.estimator_.coef_)
    assert not np.array_equal(a.labeled_iter_, c.labeled_iter_)


def test_string_and_integer_labels_give_same_predictions(data):
    X, _, y_semi = data
    names = np.array(["ant", "bee", "cat"], dtype=object)
    y_str = np.where(y_semi == -1, -1, names[np.clip(y_semi, 0, 2)]).astype(object)
    ints = PseudoLabelClassifier(logreg(), sample_rate=0.2, random_state=0)
    strs = clone(ints)
    ints.fit(X, y_semi)
    strs.fit(X, y_str)
    np.testing.assert_array_equal(names[ints.predict(X)], strs.predict(X))
    np.testing.assert_array_equal(strs.classes_, names)
    labeled_str = strs.transduction_[y_str != -1]
    assert set(labeled_str) <= set(names)


def test_numpy_string_dtype_with_minus_one_string(data):
    X, _, y_semi = data
    y_u = np.where(y_semi == -1, "-1", y_semi.astype(str))
    assert y_u.dtype.kind == "U"
    clf = SelfLabeling(
        logreg(), sample_rate=0.2, per_class_quota=False, threshold=None, random_state=0
    )
    clf.fit(X, y_u)
    assert set(clf.classes_) == {"0", "1", "2"}
    assert clf.transduction_.dtype == object
    assert np.all(clf.labeled_iter_[y_u == "-1"] >= 1)


def test_sparse_input_matches_dense(data):
    X, _, y_semi = data
    dense = PseudoLabelClassifier(logreg(), sample_rate=0.2, random_state=0)
    sparse = clone(dense)
    dense.fit(X, y_semi)
    sparse.fit(sp.csr_matrix(X), y_semi)
    np.testing.assert_array_equal(dense.transduction_, sparse.transduction_)
    np.testing.assert_allclose(
        dense.predict_proba(X), sparse.predict_proba(sp.csr_matrix(X)), atol=1e-6
    )


def test_dataframe_reaches_inner_pipeline_by_column_name(data):
    pd = pytest.importorskip("pandas")
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline

    X, _, y_semi = data
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    inner = make_pipeline(
        ColumnTransformer([("keep", "passthrough", ["f0", "f1", "f2", "f3"])]),
        logreg(),
    )
    clf = PseudoLabelClassifier(inner, sample_rate=0.5, random_state=0)
    clf.fit(df, y_semi)
    assert list(clf.feature_names_in_) == list(df.columns)
    assert clf.n_features_in_ == 10
    assert clf.predict(df).shape == (600,)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(df[df.columns[::-1]])


def test_sample_weight_reaches_inner_estimator_with_right_length(data):
    X, _, y_semi = data
    weights = np.linspace(1, 2, X.shape[0])
    FIT_LOG.clear()
    clf = SelfLabeling(
        SpyClassifier(),
        sample_rate=0.5,
        per_class_quota=False,
        threshold=None,
        random_state=0,
    )
    clf.fit(X, y_semi, sample_weight=weights)
    assert len(FIT_LOG) == clf.n_iter_ + 1
    for entry in FIT_LOG:
        assert entry["n_weights"] == entry["n_rows"] == entry["n_labels"]
    labeled = y_semi != -1
    np.testing.assert_array_equal(FIT_LOG[0]["weights"], weights[labeled])
    assert sorted(FIT_LOG[-1]["weights"]) == sorted(weights)


def test_sample_weight_with_metadata_routing(data):
    import sklearn

    X, _, y_semi = data
    weights = np.linspace(1, 2, X.shape[0])
    FIT_LOG.clear()
    with sklearn.config_context(enable_metadata_routing=True):
        inner = SpyClassifier().set_fit_request(sample_weight=True)
        clf = SelfLabeling(
            inner,
            sample_rate=0.5,
            per_class_quota=False,
            threshold=None,
            random_state=0,
        )
        clf.fit(X, y_semi, sample_weight=weights)
    assert len(FIT_LOG) == clf.n_iter_ + 1 > 1
    for entry in FIT_LOG:
        assert entry["n_weights"] == entry["n_rows"]
    labeled = y_semi != -1
    np.testing.assert_array_equal(FIT_LOG[0]["weights"], weights[labeled])


def test_estimator_is_not_mutated(data):
    X, _, y_semi = data
    inner = logreg()
    before = inner.get_params()
    PseudoLabelClassifier(inner, sample_rate=0.5, refit="warm").fit(X, y_semi)
    assert inner.get_params() == before
    assert not hasattr(inner, "coef_")


def test_delegated_methods_follow_inner_estimator(data):
    X, _, y_semi = data
    tree = SelfLabeling(DecisionTreeClassifier(random_state=0))
    assert hasattr(tree, "predict_proba")
    assert not hasattr(tree, "decision_function")
    svc = SelfLabeling(LinearSVC(), sample_rate=0.5).fit(X, y_semi)
    assert hasattr(svc, "decision_function")
    assert not hasattr(svc, "predict_proba")
    assert svc.decision_function(X).shape == (600, 3)
    assert np.all(np.isnan([r["mean_confidence"] for r in svc.history_]))
    lr = SelfLabeling(logreg(), sample_rate=0.5).fit(X, y_semi)
    np.testing.assert_allclose(
        lr.predict_log_proba(X), np.log(lr.predict_proba(X)), rtol=1e-6
    )
    assert lr.score(X, np.where(y_semi == -1, 0, y_semi)) > 0.3


def test_pickle_round_trip(data):
    X, _, y_semi = data
    clf = PseudoLabelClassifier(logreg(), sample_rate=0.5, random_state=0)
    clf.fit(X, y_semi)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))


def test_verbose_prints_each_iteration(data, capsys):
    X, _, y_semi = data
    SelfLabeling(
        logreg(), sample_rate=0.5, threshold=None, random_state=0, verbose=1
    ).fit(X, y_semi)
    out = capsys.readouterr().out
    assert "iteration 1/2" in out and "iteration 2/2" in out
    assert "left in the pool" in out


@pytest.mark.parametrize("refit", ["full", "warm", "partial"])
def test_refit_modes_return_fitted_estimator(data, refit):
    X, y, y_semi = data
    inner = SGDClassifier(loss="log_loss", random_state=0)
    clf = SelfLabeling(inner, refit=refit, sample_rate=0.25, random_state=0)
    clf.fit(X, y_semi)
    assert clf.n_iter_ == 4
    assert clf.estimator_.coef_.shape == (3, 10)
    # well above the 1/3 of chance on three balanced classes
    assert clf.score(X, y) > 0.5
    assert clf.estimator_ is not inner
    if refit == "warm":
        assert clf.estimator_.warm_start


def test_chunked_and_parallel_labeling_equal_plain(data):
    X, _, y_semi = data
    plain = PseudoLabelClassifier(logreg(), sample_rate=0.5, random_state=0)
    chunked = clone(plain).set_params(chunk_size=7)
    parallel = clone(plain).set_params(chunk_size=13, n_jobs=2)
    plain.fit(X, y_semi)
    chunked.fit(X, y_semi)
    # Threads run the same joblib code path as processes without the seconds
    # it takes to start a process pool.
    with parallel_config(backend="threading"):
        parallel.fit(X, y_semi)
    for clf in (chunked, parallel):
        np.testing.assert_array_equal(plain.transduction_, clf.transduction_)
        np.testing.assert_array_equal(plain.predict(X), clf.predict(X))


def test_nan_passes_through_when_estimator_allows_it(data):
    X, _, y_semi = data
    X_nan = X.copy()
    X_nan[::7, 0] = np.nan
    clf = PseudoLabelClassifier(
        HistGradientBoostingClassifier(max_iter=10), sample_rate=0.5
    )
    clf.fit(X_nan, y_semi)
    assert clf.predict(X_nan).shape == (600,)


# Bad input: each error names the parameter and the fix.


def test_error_when_every_row_is_unlabeled(data):
    X, _, _ = data
    with pytest.raises(ValueError, match="y has no labeled row: every entry is -1"):
        PseudoLabelClassifier(logreg()).fit(X, np.full(X.shape[0], -1))


def test_error_threshold_without_predict_proba(data):
    X, _, y_semi = data
    with pytest.raises(ValueError, match=r"threshold=0\.8 needs predict_proba"):
        PseudoLabelClassifier(SVC(), threshold=0.8).fit(X, y_semi)
    with pytest.raises(ValueError, match="threshold=None"):
        PseudoLabelClassifier(LinearSVC(), threshold=0.8).fit(X, y_semi)


@pytest.mark.parametrize("value", [0.0, 1.5, -1, 0, "all"])
def test_error_sample_rate_out_of_range(data, value):
    X, _, y_semi = data
    with pytest.raises(ValueError, match="'sample_rate' parameter"):
        PseudoLabelClassifier(logreg(), sample_rate=value).fit(X, y_semi)


@pytest.mark.parametrize("value", [1.0, -0.1, 2])
def test_error_threshold_out_of_range(data, value):
    X, _, y_semi = data
    msg = r"'threshold' parameter .* range \[0.0, 1.0\)"
    with pytest.raises(ValueError, match=msg):
        PseudoLabelClassifier(logreg(), threshold=value).fit(X, y_semi)


def test_error_lengths_differ(data):
    X, _, y_semi = data
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        PseudoLabelClassifier(logreg()).fit(X, y_semi[:-5])


def test_error_estimator_not_a_classifier(data):
    X, _, y_semi = data
    msg = "estimator=LinearRegression is not a classifier"
    with pytest.raises(ValueError, match=msg):
        PseudoLabelClassifier(LinearRegression()).fit(X, y_semi)


def test_error_nan_when_estimator_cannot_take_it(data):
    X, _, y_semi = data
    # In a labeled row, so that the inner estimator meets it in its first fit
    # whatever the defaults decide about the pool.
    row = np.flatnonzero(y_semi != -1)[0]
    X_nan = X.copy()
    X_nan[row, 2] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        PseudoLabelClassifier(logreg()).fit(X_nan, y_semi)
    X_inf = X.copy()
    X_inf[row, 2] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        PseudoLabelClassifier(logreg()).fit(X_inf, y_semi)


def test_error_refit_mode_unsupported(data):
    X, _, y_semi = data
    with pytest.raises(ValueError, match="refit='warm' needs an estimator with a warm"):
        PseudoLabelClassifier(SVC(), refit="warm").fit(X, y_semi)
    with pytest.raises(ValueError, match="refit='partial' needs an estimator with"):
        PseudoLabelClassifier(logreg(), refit="partial").fit(X, y_semi)


def test_error_sample_weight_unsupported(data):
    from sklearn.neighbors import KNeighborsClassifier

    X, _, y_semi = data
    msg = re.escape("does not accept sample_weight")
    with pytest.raises(ValueError, match=msg):
        PseudoLabelClassifier(KNeighborsClassifier()).fit(
            X, y_semi, sample_weight=np.ones(X.shape[0])
        )


def test_error_continuous_target(data):
    X, _, _ = data
    with pytest.raises(ValueError, match="Unknown label type"):
        PseudoLabelClassifier(logreg()).fit(X, np.linspace(0, 1, X.shape[0]))


def test_auto_refit_is_partial_with_partial_fit_else_full(data):
    X, _, y_semi = data

    def fit(inner, refit):
        return PseudoLabelClassifier(
            inner, refit=refit, sample_rate=0.25, random_state=0
        ).fit(X, y_semi)

    sgd = SGDClassifier(loss="log_loss", random_state=0)
    auto, partial, full = (fit(sgd, mode) for mode in ("auto", "partial", "full"))
    np.testing.assert_array_equal(auto.estimator_.coef_, partial.estimator_.coef_)
    assert not np.array_equal(auto.estimator_.coef_, full.estimator_.coef_)
    auto_lr, full_lr = fit(logreg(), "auto"), fit(logreg(), "full")
    np.testing.assert_array_equal(auto_lr.estimator_.coef_, full_lr.estimator_.coef_)


# Selection, weighting, teacher and guard.


def test_per_class_quota_follows_labeled_class_shares(data):
    X, _, y_semi = data
    clf = SelfLabeling(
        logreg(), per_class_quota=True, sample_rate=0.2, max_iter=1, random_state=0
    ).fit(X, y_semi)
    added = clf.labeled_iter_ == 1
    n_drawn = clf.history_[0]["n_drawn"]
    assert 0 < added.sum() < n_drawn
    lab = y_semi[y_semi != -1]
    for cls in range(3):
        share = np.mean(lab == cls)
        assert np.sum(clf.transduction_[added] == cls) <= np.ceil(n_drawn * share)


def test_sample_rate_and_threshold_schedules(data):
    X, _, y_semi = data
    clf = SelfLabeling(
        logreg(),
        sample_rate=lambda it: 10 * it,
        threshold=lambda it: 0.0 if it < 3 else None,
        max_iter=4,
        random_state=0,
    ).fit(X, y_semi)
    assert [r["n_drawn"] for r in clf.history_] == [10, 20, 30, 40]
    bad = SelfLabeling(logreg(), sample_rate=lambda it: 2.5, threshold=None)
    with pytest.raises(ValueError, match=r"sample_rate\(1\) returned 2.5"):
        bad.fit(X, y_semi)
    bad = SelfLabeling(logreg(), threshold=lambda it: 1.5)
    with pytest.raises(ValueError, match=r"threshold\(1\) returned 1.5"):
        bad.fit(X, y_semi)


@pytest.mark.parametrize("pseudo_weight", [0.3, "confidence", lambda it: it / 10])
def test_pseudo_weight_reaches_inner_estimator(data, pseudo_weight):
    X, _, y_semi = data
    FIT_LOG.clear()
    clf = SelfLabeling(
        SpyClassifier(),
        pseudo_weight=pseudo_weight,
        sample_rate=0.5,
        per_class_quota=False,
        threshold=None,
        random_state=0,
    ).fit(X, y_semi)
    n_labeled = int(np.sum(y_semi != -1))
    assert FIT_LOG[0]["weights"] is not None
    np.testing.assert_array_equal(FIT_LOG[0]["weights"], np.ones(n_labeled))
    last = FIT_LOG[-1]["weights"]
    assert len(last) == X.shape[0]
    np.testing.assert_array_equal(last[:n_labeled], 1.0)
    pseudo = last[n_labeled:]
    if pseudo_weight == "confidence":
        assert 1 / 3 <= pseudo.min() and pseudo.max() <= 1 and pseudo.std() > 0
    elif callable(pseudo_weight):
        np.testing.assert_allclose(pseudo, clf.n_iter_ / 10)
    else:
        np.testing.assert_allclose(pseudo, 0.3)


def test_pseudo_weight_needs_sample_weight_support(data):
    from sklearn.neighbors import KNeighborsClassifier

    X, _, y_semi = data
    with pytest.raises(ValueError, match="pseudo_weight=0.5 weights pseudo-labeled"):
        PseudoLabelClassifier(KNeighborsClassifier(), pseudo_weight=0.5).fit(X, y_semi)


def test_teacher_labels_the_pool(data):
    from sklearn.ensemble import RandomForestClassifier

    X, _, y_semi = data
    teacher = RandomForestClassifier(n_estimators=20, random_state=0)
    clf = PseudoLabelClassifier(
        logreg(),
        teacher=teacher,
        sample_rate=1.0,
        per_class_quota=False,
        threshold=None,
        random_state=0,
    ).fit(X, y_semi)
    unlabeled = y_semi == -1
    np.testing.assert_array_equal(
        clf.transduction_[unlabeled], clf.teacher_.predict(X[unlabeled])
    )
    # a plain teacher is fitted on the labeled rows only
    assert clf.teacher_.n_features_in_ == 10
    assert sum(t.tree_.n_node_samples[0] for t in clf.teacher_.estimators_) <= 20 * (
        (~unlabeled).sum()
    )


def test_semi_supervised_teacher_is_fitted_on_every_row(data):
    from sklearn.semi_supervised import LabelSpreading

    X, _, y_semi = data
    clf = PseudoLabelClassifier(
        logreg(),
        teacher=LabelSpreading(kernel="knn", n_neighbors=7),
        sample_rate=0.5,
        random_state=0,
    ).fit(X, y_semi)
    assert clf.teacher_.transduction_.shape == (600,)
    assert clf.teacher_.label_distributions_.shape == (600, 3)


class WrongTeacher(ClassifierMixin, BaseEstimator):
    """Fits a real model but predicts the next class: deliberately wrong."""

    def fit(self, X, y):
        self.model_ = LogisticRegression(max_iter=500).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return np.roll(self.model_.predict_proba(X), 1, axis=1)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(1)]


def test_guard_returns_supervised_model_when_pseudo_labels_are_wrong(data):
    X, y, y_semi = data
    clf = PseudoLabelClassifier(
        logreg(),
        teacher=WrongTeacher(),
        validation_fraction=0.25,
        sample_rate=0.25,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="did not beat the supervised fit"):
        clf.fit(X, y_semi)
    assert clf.best_iteration_ == 0
    assert clf.validation_scores_.shape == (clf.n_iter_ + 1,)
    assert clf.validation_scores_[1:].max() <= clf.validation_scores_[0]
    assert [r["validation_score"] for r in clf.history_] == list(
        clf.validation_scores_[1:]
    )
    # the fallback is exactly the plain supervised fit on every labeled row
    labeled = y_semi != -1
    plain = logreg().fit(X[labeled], y_semi[labeled])
    np.testing.assert_array_equal(clf.estimator_.coef_, plain.coef_)
    np.testing.assert_array_equal(clf.predict(X), plain.predict(X))
    pseudo = y_semi == -1
    assert np.mean(clf.transduction_[pseudo] == y[pseudo]) < 0.5


def test_guard_with_no_iteration_that_added_rows_returns_the_supervised_fit(data):
    # A threshold no pseudo-label reaches: the first iteration adds nothing,
    # so the guard has nothing to compare and nothing to warn about.
    X, _, y_semi = data
    clf = SelfLabeling(
        logreg(), threshold=0.999999, validation_fraction=0.25, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.fit(X, y_semi)
    assert clf.termination_condition_ == "no_change"
    assert clf.best_iteration_ == 0 and clf.validation_scores_.shape == (2,)
    labeled = y_semi != -1
    plain = logreg().fit(X[labeled], y_semi[labeled])
    np.testing.assert_array_equal(clf.predict(X), plain.predict(X))


class OracleTeacher(ClassifierMixin, BaseEstimator):
    """Ignores the labels it is given and learns from the true ones."""

    def __init__(self, X_true=None, y_true=None):
        self.X_true = X_true
        self.y_true = y_true

    def fit(self, X, y):
        self.model_ = LogisticRegression(max_iter=500).fit(self.X_true, self.y_true)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X):
        return self.model_.predict_proba(X)

    def predict(self, X):
        return self.model_.predict(X)


def test_guard_keeps_an_iteration_that_clearly_helps():
    # Separable enough that labels matter: all true labels give ~0.90
    # accuracy, 15 labels ~0.69.
    X, y = make_classification(
        n_samples=600,
        n_features=10,
        n_informative=6,
        n_classes=3,
        class_sep=2.0,
        flip_y=0,
        random_state=0,
    )
    y_few = np.full_like(y, -1)
    few = np.concatenate([np.flatnonzero(y == c)[:10] for c in range(3)])
    y_few[few] = y[few]
    clf = PseudoLabelClassifier(
        logreg(),
        teacher=OracleTeacher(X, y),
        validation_fraction=0.5,
        sample_rate=0.5,
        random_state=0,
    ).fit(X, y_few)
    assert clf.best_iteration_ > 0
    scores = clf.validation_scores_
    assert scores[clf.best_iteration_] > scores[0]
    plain = logreg().fit(X[few], y_few[few])
    assert clf.score(X, y) > plain.score(X, y) + 0.05


def test_guard_best_iteration_and_early_stop_are_consistent(data):
    X, y, y_semi = data
    params = dict(validation_fraction=0.3, n_iter_no_change=2, sample_rate=0.1)
    params.update(per_class_quota=False, threshold=None)
    # A teacher that labels at random never beats the supervised fit: the
    # guard stops after two iterations and keeps iteration 0.
    random_teacher = OracleTeacher(X, np.random.RandomState(1).permutation(y))
    bad = PseudoLabelClassifier(
        logreg(), teacher=random_teacher, random_state=0, **params
    )
    with pytest.warns(UserWarning, match="did not beat the supervised fit"):
        bad.fit(X, y_semi)
    assert bad.termination_condition_ == "no_improvement"
    assert (bad.best_iteration_, bad.n_iter_) == (0, 2)
    assert bad.validation_scores_.shape == (bad.n_iter_ + 1,)

    # With 10 labels per class an oracle teacher beats it after one iteration;
    # two more that do not improve stop the fit, which keeps iteration 1.
    y_few = np.full_like(y, -1)
    few = np.concatenate([np.flatnonzero(y == c)[:10] for c in range(3)])
    y_few[few] = y[few]
    params.update(validation_fraction=0.5, sample_rate=0.2)
    good = PseudoLabelClassifier(
        logreg(), teacher=OracleTeacher(X, y), random_state=0, **params
    ).fit(X, y_few)
    assert good.termination_condition_ == "no_improvement"
    assert (good.best_iteration_, good.n_iter_) == (1, 3)
    scores = good.validation_scores_
    assert scores.shape == (good.n_iter_ + 1,)
    assert scores[1] == scores.max() > scores[0]


def test_guard_errors(data):
    X, _, y_semi = data
    with pytest.raises(ValueError, match="validation_fraction is None"):
        PseudoLabelClassifier(logreg(), n_iter_no_change=2).fit(X, y_semi)
    y_few = np.full(600, -1)
    y_few[:3] = [0, 1, 2]
    with pytest.raises(ValueError, match="validation_fraction=0.2 cannot hold out"):
        PseudoLabelClassifier(logreg(), validation_fraction=0.2).fit(X, y_few)
