"""Model selection with unlabeled rows: splitter, scorer, GridSearchCV."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from pseudo_sklearn import PseudoLabelClassifier, make_pseudo_label_pipeline
from pseudo_sklearn.model_selection import (
    SemiSupervisedStratifiedKFold,
    make_labeled_scorer,
)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=400,
        n_features=12,
        n_informative=6,
        n_classes=3,
        n_clusters_per_class=1,
        class_sep=2.0,
        random_state=0,
    )
    y_semi = y.copy()
    y_semi[np.random.RandomState(1).rand(400) < 0.7] = -1
    return X, y, y_semi


def test_folds_partition_labeled_rows_and_keep_unlabeled_in_training(data):
    X, _, y_semi = data
    labeled = np.flatnonzero(y_semi != -1)
    unlabeled = np.flatnonzero(y_semi == -1)
    cv = SemiSupervisedStratifiedKFold(n_splits=4, shuffle=True, random_state=0)
    tests = []
    for train, test in cv.split(X, y_semi):
        assert np.all(y_semi[test] != -1)
        assert np.isin(unlabeled, train).all()
        assert not np.intersect1d(train, test).size
        # stratified: each class's share in the fold is close to its share overall
        for cls in range(3):
            share = np.mean(y_semi[test] == cls)
            assert abs(share - np.mean(y_semi[labeled] == cls)) < 0.08
        tests.append(test)
    all_tests = np.sort(np.concatenate(tests))
    np.testing.assert_array_equal(all_tests, labeled)
    assert cv.get_n_splits() == 4


def test_splitter_needs_y():
    with pytest.raises(ValueError, match="y is required"):
        list(SemiSupervisedStratifiedKFold(2).split(np.zeros((4, 1)), None))


def test_splitter_all_unlabeled():
    with pytest.raises(ValueError, match="no labeled row"):
        list(SemiSupervisedStratifiedKFold(2).split(np.zeros((4, 1)), [-1] * 4))


def test_plain_cross_val_counts_unlabeled_rows_as_errors_and_scorer_fixes_it(data):
    X, y, y_semi = data
    model = PseudoLabelClassifier(
        LogisticRegression(max_iter=500), sample_rate=0.5, random_state=0
    )
    cv = KFold(4, shuffle=True, random_state=0)
    naive = cross_val_score(model, X, y_semi, cv=cv)
    fixed = cross_val_score(model, X, y_semi, cv=cv, scoring=make_labeled_scorer())
    # unlabeled rows (70%) can never match -1, so the naive score is at most 0.3
    assert naive.max() < 0.35
    assert fixed.min() > 0.6
    # the fixed score is the accuracy on the labeled rows of each test fold
    for (train, test), score in zip(cv.split(X, y_semi), fixed, strict=True):
        fitted = model.fit(X[train], y_semi[train])
        lab = test[y_semi[test] != -1]
        expected = accuracy_score(y_semi[lab], fitted.predict(X[lab]))
        assert score == pytest.approx(expected)


def test_labeled_scorer_indexes_sample_weight():
    from sklearn.dummy import DummyClassifier

    X = np.zeros((4, 1))
    model = DummyClassifier(strategy="constant", constant=1).fit(X, [1, 1, 0, 1])
    scorer = make_labeled_scorer("accuracy")
    y = np.array([1, -1, -1, 0])
    assert scorer(model, X, y, sample_weight=np.array([3.0, 1, 1, 1])) == 0.75
    with pytest.raises(ValueError, match="no labeled row"):
        scorer(model, X, np.array([-1, -1, -1, -1]))
    with pytest.raises(ValueError, match="scoring=3"):
        make_labeled_scorer(3)


def test_grid_search_scores_equal_labeled_fold_accuracy(data):
    X, y, y_semi = data
    X = np.abs(X) + 0.1  # Normalizer and PCA need no sign; keep rows non-zero
    pipe = make_pseudo_label_pipeline(
        SGDClassifier(loss="log_loss", alpha=1e-4, random_state=0),
        n_components=6,
        random_state=0,
    )
    grid = {
        "pseudolabel__sample_rate": [0.25, 0.5],
        "pseudolabel__threshold": [None, 0.6],
        "pseudolabel__estimator__alpha": [1e-4, 1e-2],
    }
    cv = SemiSupervisedStratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    search = GridSearchCV(pipe, grid, cv=cv).fit(X, y_semi)
    assert len(search.cv_results_["params"]) == 8
    splits = list(cv.split(X, y_semi))
    for i, params in enumerate(search.cv_results_["params"]):
        for k, (train, test) in enumerate(splits):
            model = pipe.set_params(**params).fit(X[train], y_semi[train])
            expected = accuracy_score(y_semi[test], model.predict(X[test]))
            assert search.cv_results_[f"split{k}_test_score"][i] == pytest.approx(
                expected
            )
    assert search.best_score_ > 0.5
    assert search.predict(X).shape == (400,)
