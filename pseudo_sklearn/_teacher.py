"""The teacher: a separate classifier that labels the pool for the student."""

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.semi_supervised import SelfTrainingClassifier

from .utils._compat import BaseLabelPropagation, _safe_indexing


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
