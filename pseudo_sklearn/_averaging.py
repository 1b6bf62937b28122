"""Averaged coefficients of a linear model across pseudo-labeling iterations."""

import copy

import numpy as np
from sklearn.pipeline import Pipeline


def linear_step(estimator):
    """The step holding ``coef_`` and ``intercept_``, or None if there is none.

    That is the estimator itself, or the last step of a Pipeline.
    """
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    if hasattr(final, "coef_") and hasattr(final, "intercept_"):
        return final
    return None


class _CoefficientAverage:
    """Uniform running mean of ``coef_`` and ``intercept_`` over the refits.

    Each partial update moves a linear model toward its own latest batch of
    pseudo-labels, so its accuracy swings from one iteration to the next; the
    mean of the iterates (Polyak averaging) keeps what they agree on and
    settles as iterations accumulate. The supervised fit is not part of the
    mean: it would pull the model back toward the few labeled rows.
    """

    def __init__(self):
        self.n_averaged = 0
        self._coef = None
        self._intercept = None

    def add(self, estimator):
        """Fold the current coefficients of ``estimator`` into the mean."""
        step = linear_step(estimator)
        self.n_averaged += 1
        if self.n_averaged == 1:
            self._coef = np.array(step.coef_, dtype=float)
            self._intercept = np.array(step.intercept_, dtype=float)
            return
        self._coef += (step.coef_ - self._coef) / self.n_averaged
        self._intercept += (step.intercept_ - self._intercept) / self.n_averaged

    def model(self, estimator):
        """A copy of ``estimator`` that predicts with the averaged coefficients."""
        if self.n_averaged == 0:
            return estimator
        averaged = copy.deepcopy(estimator)
        step = linear_step(averaged)
        step.coef_ = self._coef.astype(step.coef_.dtype, copy=True)
        step.intercept_ = self._intercept.astype(step.intercept_.dtype, copy=True)
        return averaged
