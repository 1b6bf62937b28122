"""Cross-validation and scoring that understand unlabeled (-1) rows.

scikit-learn's splitters put unlabeled rows into test folds, where a scorer counts
them as errors (scikit-learn issue 2593): a model at 99% true accuracy scores
about 33% when two thirds of the rows are unlabeled. The splitter here tests on
labeled rows only and trains on every unlabeled row; the scorer wrapper fixes
other splitters by dropping unlabeled rows before scoring.
"""

import numpy as np
from sklearn.metrics import check_scoring, get_scorer
from sklearn.model_selection import StratifiedKFold

from ._labels import check_partial_labels
from .utils._compat import _BaseKFold, _safe_indexing

__all__ = ["SemiSupervisedStratifiedKFold", "make_labeled_scorer"]


def _partial_labels(y, param="y"):
    if y is None:
        raise ValueError(
            f"{param} is required: the splitter needs the labels to tell labeled "
            "rows from unlabeled (-1) ones. Pass y to split()."
        )
    return check_partial_labels(y, param=param)


class SemiSupervisedStratifiedKFold(_BaseKFold):
    """Stratified K-fold over the labeled rows; unlabeled rows always train.

    The labeled rows (``y != -1``) are split into ``n_splits`` stratified folds,
    each used once as the test fold. Every unlabeled row is in every training
    fold and in no test fold, so a score is the accuracy on held-out labeled
    rows only, while the pseudo-labeling model still sees the whole pool.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds of the labeled rows. Each class needs at least this many
        labeled rows.

    shuffle : bool, default=False
        Whether to shuffle each class's labeled rows before splitting.

    random_state : int, RandomState instance or None, default=None
        Seed of the shuffling; only used when ``shuffle=True``.

    See Also
    --------
    sklearn.model_selection.StratifiedKFold : The splitter applied to the
        labeled rows.
    make_labeled_scorer : Scores only labeled rows, for any other splitter.

    Examples
    --------
    >>> import numpy as np
    >>> from pseudo_sklearn.model_selection import SemiSupervisedStratifiedKFold
    >>> y = np.array([0, 1, 0, 1, -1, -1, 0, 1, -1])
    >>> cv = SemiSupervisedStratifiedKFold(n_splits=3)
    >>> for train, test in cv.split(np.zeros((9, 1)), y):
    ...     print(train, test)
    [2 3 4 5 6 7 8] [0 1]
    [0 1 4 5 6 7 8] [2 3]
    [0 1 2 3 4 5 8] [6 7]
    """

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None):
        super().__init__(n_splits=n_splits, shuffle=shuffle, random_state=random_state)

    def split(self, X, y, groups=None):
        """Generate train and test indices.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; only its length is used.

        y : array-like of shape (n_samples,)
            Labels, with -1 for unlabeled rows.

        groups : None
            Ignored; present for API compatibility.

        Yields
        ------
        train : ndarray
            Indices of the training rows: the other folds' labeled rows and
            every unlabeled row.

        test : ndarray
            Indices of one fold of labeled rows.
        """
        y, labeled = _partial_labels(y)
        if X is not None and len(labeled) != _num_rows(X):
            raise ValueError(
                f"X has {_num_rows(X)} rows but y has {len(labeled)}: pass the "
                "same rows to both."
            )
        labeled_rows = np.flatnonzero(labeled)
        unlabeled_rows = np.flatnonzero(~labeled)
        if labeled_rows.shape[0] == 0:
            raise ValueError(
                "y has no labeled row (every entry is -1), so there is nothing to "
                "test on: label some rows."
            )
        y_labeled = y[labeled_rows]
        inner = StratifiedKFold(
            n_splits=self.n_splits, shuffle=self.shuffle, random_state=self.random_state
        )
        for train, test in inner.split(np.zeros(labeled_rows.shape[0]), y_labeled):
            train_rows = np.sort(np.concatenate([labeled_rows[train], unlabeled_rows]))
            yield train_rows, labeled_rows[test]

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of splits.

        Parameters
        ----------
        X, y, groups : object
            Ignored; present for API compatibility.

        Returns
        -------
        n_splits : int
            The number of folds.
        """
        return self.n_splits


def _num_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


class _LabeledScorer:
    """Scorer that evaluates only the rows whose label is not -1."""

    def __init__(self, scorer):
        self.scorer = scorer

    def __call__(self, estimator, X, y, **kwargs):
        labeled = _partial_labels(y)[1]
        if not labeled.any():
            raise ValueError(
                "This test fold has no labeled row (every y is -1), so it cannot "
                "be scored. Use SemiSupervisedStratifiedKFold, or a splitter whose "
                "test folds hold labeled rows."
            )
        rows = np.flatnonzero(labeled)
        kwargs = {
            key: _safe_indexing(value, rows) if _is_row_param(value, labeled) else value
            for key, value in kwargs.items()
        }
        return self.scorer(
            estimator, _safe_indexing(X, rows), _safe_indexing(y, rows), **kwargs
        )

    def __repr__(self):
        return f"make_labeled_scorer({self.scorer!r})"


def _is_row_param(value, labeled):
    return hasattr(value, "__len__") and len(value) == labeled.shape[0]


def make_labeled_scorer(scoring=None, estimator=None):
    """Wrap a scorer so that it scores only labeled rows (``y != -1``).

    Use it with any splitter whose test folds may hold unlabeled rows, e.g.
    ``cross_val_score(model, X, y, cv=KFold(5), scoring=make_labeled_scorer())``.

    Parameters
    ----------
    scoring : str, callable or None, default=None
        A scorer name such as ``"accuracy"``, or a scorer callable
        ``scorer(estimator, X, y)``. ``None`` uses the ``score`` method of
        ``estimator`` when it is given, and accuracy otherwise.

    estimator : estimator object, default=None
        Only used when ``scoring=None``.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y, **kwargs)`` on the labeled rows of ``X`` and
        ``y``; row-wise keyword arguments such as ``sample_weight`` are indexed
        alike.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from pseudo_sklearn.model_selection import make_labeled_scorer
    >>> X = np.zeros((4, 1))
    >>> model = DummyClassifier(strategy="constant", constant=1).fit(X, [1, 1, 0, 1])
    >>> make_labeled_scorer("accuracy")(model, X, np.array([1, -1, -1, 0]))
    0.5
    """
    if scoring is None:
        if estimator is None:
            scorer = get_scorer("accuracy")
        else:
            scorer = check_scoring(estimator)
    elif isinstance(scoring, str):
        scorer = get_scorer(scoring)
    elif callable(scoring):
        scorer = scoring
    else:
        raise ValueError(
            f"scoring={scoring!r} is neither a scorer name, a callable nor None; "
            "pass e.g. scoring='accuracy'."
        )
    return _LabeledScorer(scorer)
