"""The teacher: a separate classifier that labels the pool for the student."""

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.semi_supervised import SelfTrainingClassifier

from ._committee import _BaggingCommittee
from .utils._compat import BaseLabelPropagation, _check_method_params, _safe_indexing


def _accepts_unlabeled(estimator):
    """Whether ``estimator`` is fitted on -1 rows as a semi-supervised model."""
    from ._pseudo_label import PseudoLabelClassifier

    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    return isinstance(
        final, BaseLabelPropagation | SelfTrainingClassifier | PseudoLabelClassifier
    )


def fit_teacher(teacher, X, y, train_rows, validation_rows):
    """Fit a clone of ``teacher`` on the labeled training rows, or on every row
    if it takes -1 rows itself; the held-out rows are hidden from it."""
    teacher = clone(teacher)
    if _accepts_unlabeled(teacher):
        y_teacher = np.copy(y)
        y_teacher[validation_rows] = -1
        teacher.fit(X, y_teacher)
    else:
        teacher.fit(_safe_indexing(X, train_rows), y[train_rows])
    return teacher


def fit_committee(clf, X, train, fit_params, rng):
    """The bagging committee of ``clf.estimator`` on the labeled training rows,
    with the weights and routed fit parameters of those rows; warns when its
    out-of-bag predictions are not better than the estimator's own."""
    rows = train.labeled_rows
    committee = _BaggingCommittee(clf.estimator, random_state=rng.randint(2**31 - 1))
    committee.fit(
        _safe_indexing(X, rows),
        train.labels[rows],
        sample_weight=train.weights(rows, 0),
        fit_params=_check_method_params(X, fit_params, indices=rows),
    )
    if not committee.trusted:
        warnings.warn(
            f"Pseudo-labeling skipped ({committee.reason}): the supervised model "
            "is returned. teacher=None pseudo-labels with the estimator's own "
            "predictions instead.",
            UserWarning,
            stacklevel=4,
        )
    return committee
