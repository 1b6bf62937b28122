"""The growing training set of the pseudo-labeling loop, and its pool."""

import numpy as np

from .utils._compat import _check_method_params, _safe_indexing


def is_unit_weight(pseudo_weight):
    """Whether ``pseudo_weight`` leaves every pseudo-labeled row at weight 1."""
    return (
        not isinstance(pseudo_weight, str)
        and not callable(pseudo_weight)
        and float(pseudo_weight) == 1.0
    )


class _TrainingSet:
    """Rows the model trains on, their labels, weights and the order they came.

    The training rows are the labeled rows used for training first, then the
    pseudo-labeled rows in the order they were added. ``labels`` and
    ``added_at`` cover every row of ``X``: they become ``transduction_`` and
    ``labeled_iter_``.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Labels, -1 for unlabeled rows.
    labeled : ndarray of bool of shape (n_samples,)
        The labeled rows.
    train_rows : ndarray of int
        The labeled rows used for training (held-out rows excluded).
    sample_weight : ndarray of shape (n_samples,) or None
        Weights given to ``fit``.
    pseudo_weight : float, "confidence" or callable
        The estimator's parameter of that name.
    """

    def __init__(self, y, labeled, train_rows, sample_weight, pseudo_weight):
        n_samples = y.shape[0]
        self.labels = np.copy(y)
        self.added_at = np.where(labeled, 0, -1).astype(np.intp)
        self.confidence = np.ones(n_samples)
        self.labeled_rows = train_rows
        self._order = np.empty(n_samples, dtype=np.intp)
        self._n = train_rows.shape[0]
        self._order[: self._n] = train_rows
        self._sample_weight = sample_weight
        self._pseudo_weight = pseudo_weight

    @property
    def rows(self):
        """Training rows: labeled first, then pseudo-labeled in order of adding."""
        return self._order[: self._n]

    def add(self, rows, labels, confidence, iteration):
        """Add pseudo-labeled ``rows`` at ``iteration``."""
        self.labels[rows] = labels
        self.added_at[rows] = iteration
        self.confidence[rows] = confidence
        self._order[self._n : self._n + rows.shape[0]] = rows
        self._n += rows.shape[0]

    def weights(self, rows, iteration, scale=1.0):
        """Weights of ``rows`` at a refit: the given weight times the pseudo weight.

        Pseudo-labeled rows are further multiplied by ``scale``. ``None`` when
        every weight is 1, so that estimators without ``sample_weight`` are
        called without it.
        """
        unit = is_unit_weight(self._pseudo_weight) and scale == 1.0
        if self._sample_weight is None and unit:
            return None
        weights = (
            np.ones(rows.shape[0])
            if self._sample_weight is None
            else np.array(self._sample_weight[rows], dtype=float)
        )
        pseudo = self.added_at[rows] > 0
        if isinstance(self._pseudo_weight, str):
            factor = self.confidence[rows[pseudo]]
        elif callable(self._pseudo_weight):
            factor = float(self._pseudo_weight(iteration))
        else:
            factor = float(self._pseudo_weight)
        weights[pseudo] *= factor * scale
        return weights

    def fit(self, estimator, X, rows, iteration, fit_params, **how):
        """Call ``estimator.fit`` on ``rows`` and return it.

        ``how`` may hold ``method="partial_fit"`` with the ``classes``, and the
        ``scale`` of the pseudo-labeled rows' weights.
        """
        method = how.get("method", "fit")
        classes = how.get("classes")
        params = _check_method_params(X, fit_params, indices=rows)
        weights = self.weights(rows, iteration, how.get("scale", 1.0))
        if weights is not None:
            params["sample_weight"] = weights
        if method == "partial_fit":
            params["classes"] = classes
        getattr(estimator, method)(_safe_indexing(X, rows), self.labels[rows], **params)
        return estimator


class _Pool:
    """Unlabeled rows not yet pseudo-labeled, drawn at random in batches."""

    def __init__(self, rows, rng):
        self.rows = rows
        self.n_initial = rows.shape[0]
        self._rng = rng

    def __len__(self):
        return self.rows.shape[0]

    def draw(self, size):
        """Positions (in the pool) of ``size`` rows drawn without replacement."""
        return self._rng.choice(len(self), size=min(size, len(self)), replace=False)

    def remove(self, positions):
        self.rows = np.delete(self.rows, positions)
