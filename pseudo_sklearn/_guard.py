"""The validation guard: scores each iteration's model on held-out labeled rows."""

import copy
import math
import warnings

import numpy as np
from sklearn.model_selection import train_test_split

from .utils._compat import _safe_indexing


class _Guard:
    """Scores each iteration's model on held-out labeled rows; keeps the best.

    An iteration replaces the supervised fit only when it is better on the
    held-out rows by more than one standard error of the paired difference:
    of the rows where the two models disagree, ``b`` are right only with
    pseudo-labels and ``c`` only without, and ``b - c > sqrt(b + c)`` is asked.
    A one-row gain on a handful of held-out rows is noise, and on few labels
    acting on it costs more than it brings.

    Parameters
    ----------
    X, y : every training row and the labels (-1 for unlabeled rows).
    rows : ndarray of int
        The held-out rows; none means the guard is off.
    patience : int or None
        Iterations without a better model before :meth:`update` says stop.
    in_place : bool
        Whether the refits update the model in place (warm and partial refits),
        so that the best model must be copied to be kept.
    """

    def __init__(self, X, y, rows, *, patience, in_place):
        self.active = rows.shape[0] > 0
        self.patience = patience
        self.copy = in_place
        self.scores = []
        self.best_iteration = 0
        self.best_estimator = None
        self._since_best = 0
        self._n_models = 0
        self.X = _safe_indexing(X, rows) if self.active else None
        self.y = y[rows]

    def warn_fallback(self):
        """Warn that no iteration beat the supervised fit on the held-out rows
        (nothing to say when no iteration added rows to be scored)."""
        if self._n_models < 2:
            return
        warnings.warn(
            "Pseudo-labeling did not beat the supervised fit on the "
            f"{self.y.shape[0]} held-out labeled rows (validation "
            f"accuracy {self.scores[0]:.4f} before, at best "
            f"{max(self.scores[1:]):.4f} after): returning the supervised "
            "model. More labeled rows, a threshold or a teacher may help.",
            UserWarning,
            stacklevel=5,
        )

    def repeat(self):
        """Record an iteration that added no row: the model and score stay."""
        if self.active:
            self.scores.append(self.scores[-1])

    def update(self, estimator, iteration):
        """Score ``estimator``; return True when patience has run out."""
        if not self.active:
            return False
        correct = np.asarray(estimator.predict(self.X) == self.y)
        score = float(np.mean(correct))
        self.scores.append(score)
        self._n_models += 1
        if self.best_estimator is None:
            self._correct_supervised = correct
            self.best_estimator = copy.deepcopy(estimator) if self.copy else estimator
            return False
        gained = int(np.sum(correct & ~self._correct_supervised))
        lost = int(np.sum(~correct & self._correct_supervised))
        significant = gained - lost > math.sqrt(gained + lost)
        # Ties keep the earlier model: pseudo-labels must earn their place.
        if significant and score > self.scores[self.best_iteration]:
            self.best_iteration = iteration
            self.best_estimator = copy.deepcopy(estimator) if self.copy else estimator
            self._since_best = 0
            return False
        self._since_best += 1
        return self.patience is not None and self._since_best >= self.patience


def split_validation(labeled_rows, y, validation_fraction, rng):
    """Hold out ``validation_fraction`` of the labeled rows, stratified.

    Returns the training and the held-out rows, each sorted; no row is held
    out when ``validation_fraction`` is None.
    """
    if validation_fraction is None:
        return labeled_rows, labeled_rows[:0]
    try:
        train, validation = train_test_split(
            labeled_rows,
            test_size=validation_fraction,
            stratify=y[labeled_rows],
            random_state=rng,
        )
    except ValueError as exc:
        raise ValueError(
            f"validation_fraction={validation_fraction} cannot hold out a "
            f"stratified part of the {labeled_rows.shape[0]} labeled rows "
            f"({exc}). Label more rows per class, raise validation_fraction so "
            "every class is held out, or set validation_fraction=None."
        ) from exc
    return np.sort(train), np.sort(validation)
