"""A confidence threshold chosen from the labeled rows' out-of-fold calibration."""

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from .utils._compat import _safe_indexing

# The pseudo-labels kept must be right at least this often, judged on the
# labeled rows' out-of-fold predictions.
PRECISION = 0.9
_MAX_FOLDS = 3


def calibrated_threshold(estimator, X, y, rows, random_state):
    """The lowest confidence above which out-of-fold predictions are precise.

    ``estimator`` is cross-validated on the labeled ``rows`` (up to 3
    stratified folds). Sorting those rows by their out-of-fold confidence (the
    highest ``predict_proba``), the threshold is the lowest confidence at which
    the rows at or above it are still right at least 90% of the time.

    Returns
    -------
    threshold : float or None
        None when no threshold reaches that precision, or when a class has
        fewer than 2 labeled rows to cross-validate.
    reason : str
        Why there is no threshold, or ``""``.
    """
    y_rows = y[rows]
    _, counts = np.unique(y_rows, return_counts=True)
    n_folds = min(_MAX_FOLDS, int(counts.min()))
    if n_folds < 2:
        return None, "a class has a single labeled row, too few to cross-validate"
    cv = StratifiedKFold(n_folds, shuffle=True, random_state=random_state)
    proba = cross_val_predict(
        clone(estimator), _safe_indexing(X, rows), y_rows, cv=cv, method="predict_proba"
    )
    classes = np.unique(y_rows)
    confidence = proba.max(axis=1)
    correct = classes[proba.argmax(axis=1)] == y_rows
    order = np.argsort(-confidence, kind="stable")
    precision = np.cumsum(correct[order]) / np.arange(1, order.shape[0] + 1)
    precise = np.flatnonzero(precision >= PRECISION)
    if precise.shape[0] == 0:
        return None, (
            "no confidence level kept the labeled rows' out-of-fold predictions "
            f"right {PRECISION:.0%} of the time"
        )
    return float(confidence[order][precise.max()]), ""
