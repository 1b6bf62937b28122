"""What each iteration's model does on rows that do not change: the trace in
``history_`` of how the model settles, and the drift check on labeled rows."""

import math
import warnings

import numpy as np

from .utils._compat import _safe_indexing

# Unlabeled rows whose predictions are compared from one iteration to the
# next: enough for a change of 0.1% to show, few enough to cost nothing.
_N_PROBE = 2000


# Below the supervised fit's accuracy on the labeled rows by at least this
# much counts as drift, even where noise is smaller: a model that memorised its
# labeled rows loses a point or so of them to pseudo-labels even when it gains
# on new rows.
DRIFT_MARGIN = 0.02


def labeled_drift(score, reference, n_labeled):
    """Whether accuracy ``score`` on ``n_labeled`` labeled rows has drifted
    below ``reference`` by more than noise.

    Noise is two standard errors of the difference of two accuracies on
    ``n_labeled`` rows (pooled), and at least ``DRIFT_MARGIN``: on 20 labeled
    rows losing 3 is noise, on 1000 rows losing 7 points is not.

    Examples
    --------
    >>> from pseudo_sklearn._monitor import labeled_drift
    >>> labeled_drift(0.992, 1.0, 1000), labeled_drift(0.27, 0.34, 1000)
    (False, True)
    >>> labeled_drift(0.85, 1.0, 20), labeled_drift(0.75, 1.0, 20)
    (False, True)
    """
    pooled = (score + reference) / 2
    noise = 2 * math.sqrt(2 * pooled * (1 - pooled) / n_labeled)
    return score < reference - max(DRIFT_MARGIN, noise)


class _Monitor:
    """Scores each iteration's model on the labeled training rows and on a fixed
    sample of unlabeled rows.

    Parameters
    ----------
    X : array-like, sparse matrix or DataFrame
        Every training row.
    labels : ndarray
        Labels of every row (-1 for unlabeled rows).
    labeled_rows, pool_rows : ndarray of int
        The labeled training rows, and the unlabeled rows.
    """

    def __init__(self, X, labels, labeled_rows, pool_rows):
        self._X_labeled = _safe_indexing(X, labeled_rows)
        self._y_labeled = labels[labeled_rows]
        n_probe = min(_N_PROBE, pool_rows.shape[0])
        # A generator of its own: the probe must not change the loop's draws,
        # so that a random_state gives the same fit with or without it.
        probe = np.random.RandomState(0)
        rows = np.sort(probe.choice(pool_rows, size=n_probe, replace=False))
        self._X_probe = _safe_indexing(X, rows) if n_probe else None
        self._last = None
        self.labeled_scores = []

    @property
    def drifted(self):
        """Whether the latest model drifted below the first on the labeled rows."""
        return labeled_drift(
            self.labeled_scores[-1], self.labeled_scores[0], self._y_labeled.shape[0]
        )

    def update(self, model, record=None):
        """Score ``model``; add ``labeled_score``, ``labeled_drift`` and
        ``prediction_change`` to ``record``."""
        score = float(np.mean(model.predict(self._X_labeled) == self._y_labeled))
        self.labeled_scores.append(score)
        change = float("nan")
        if self._X_probe is not None:
            predicted = model.predict(self._X_probe)
            if self._last is not None:
                change = float(np.mean(predicted != self._last))
            self._last = predicted
        if record is not None:
            record["labeled_score"] = score
            record["labeled_drift"] = self.drifted
            record["prediction_change"] = change


def restore_on_drift(drift_check, labeled_scores, model, supervised):
    """Warn that ``model`` drifted on the labeled rows; with ``"restore"``,
    return ``supervised`` instead. Returns the model and whether it was restored.
    """
    if drift_check is None:
        return model, False
    message = (
        "Pseudo-labeling lowered the accuracy on the labeled training rows "
        f"from {labeled_scores[0]:.3f} (supervised fit) to {labeled_scores[-1]:.3f}"
    )
    restore = drift_check == "restore"
    if restore:
        model = supervised
        message += ": returning the supervised model"
    warnings.warn(
        f"{message}. A threshold, a teacher or more labeled rows may help; "
        "drift_check=None keeps the pseudo-labeled model.",
        UserWarning,
        stacklevel=5,
    )
    return model, restore


def iteration_record(iteration, drawn, keep, confidence, n_pool):
    """The start of an iteration's ``history_`` record."""
    return {
        "iteration": iteration,
        "n_drawn": int(drawn.shape[0]),
        "n_added": int(keep.sum()),
        "mean_confidence": (
            float(np.mean(confidence[keep])) if keep.any() else float("nan")
        ),
        "n_pool": int(n_pool - keep.sum()),
        "fit_time": 0.0,
    }


def print_record(record, n_planned):
    """The line that ``verbose`` prints after each iteration."""
    of = f"/{n_planned}" if n_planned is not None else ""
    print(
        f"[PseudoLabelClassifier] iteration {record['iteration']}{of}: "
        f"drew {record['n_drawn']}, added {record['n_added']} "
        f"(mean confidence {record['mean_confidence']:.3f}), "
        f"{record['n_pool']} left in the pool, refit {record['fit_time']:.2f}s",
        flush=True,
    )
