"""The validation guard: scores each iteration's model on held-out labeled rows."""

import copy
import math

import numpy as np


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
    X, y : held-out rows and their labels, or None when there are none.
    patience : int or None
        Iterations without a better model before :meth:`update` says stop.
    in_place : bool
        Whether the refits update the model in place (warm and partial refits),
        so that the best model must be copied to be kept.
    """

    def __init__(self, X, y, *, patience, in_place):
        self.active = y is not None and y.shape[0] > 0
        self.patience = patience
        self.copy = in_place
        self.scores = []
        self.best_iteration = 0
        self.best_estimator = None
        self._since_best = 0
        self.X, self.y = X, y

    def update(self, estimator, iteration):
        """Score ``estimator``; return True when patience has run out."""
        if not self.active:
            return False
        correct = np.asarray(estimator.predict(self.X) == self.y)
        score = float(np.mean(correct))
        self.scores.append(score)
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
