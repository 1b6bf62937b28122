"""The bagging committee: bootstrap copies of the estimator label the pool,
and only where their out-of-bag predictions beat the estimator's own.

A model refitted from scratch on its own pseudo-labels reproduces them (a
decision tree exactly), so self-labels teach it nothing it did not know. A
committee of copies of the same estimator, each fitted on a bootstrap sample of
the labeled rows, labels the pool by its mean probability: that is bagging,
which is more accurate than one copy for unstable learners (trees, boosting on
few rows, nearest neighbours), and the student fitted on the labeled rows plus
the committee's labels inherits part of that accuracy (model compression,
Bucila et al. 2006; "born-again" trees, Breiman & Shang 1996).

Whether the committee is better is measured, not assumed: each labeled row is
predicted by the members that did not see it (out of bag) and by the estimator
cross-validated on the labeled rows. Of the rows where the two disagree, ``b``
are right only with the committee and ``c`` only with the estimator; the
committee labels the pool only when ``b - c > sqrt(b + c)``, one standard error
of the paired difference (the rule of the validation guard). Otherwise the
supervised fit is returned: pseudo-labels that cannot be shown to be better
than the model's own predictions are not used.
"""

import math

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from .utils._compat import _check_method_params, _safe_indexing

N_MEMBERS = 10
_MAX_FOLDS = 5


def _aligned_proba(member, X, classes):
    """Probabilities of ``member`` on ``X`` in the columns of ``classes``;
    one-hot votes for a member without ``predict_proba``."""
    proba = np.zeros((X.shape[0] if hasattr(X, "shape") else len(X), len(classes)))
    columns = np.searchsorted(classes, member.classes_)
    if hasattr(member, "predict_proba"):
        proba[:, columns] = member.predict_proba(X)
    else:
        predicted = np.searchsorted(classes, member.predict(X))
        proba[np.arange(proba.shape[0]), predicted] = 1.0
    return proba


def _stratified_bootstrap(y, classes, rng):
    """A bootstrap sample drawn within each class, so every member sees each."""
    return np.concatenate(
        [rng.choice(np.flatnonzero(y == c), size=int(np.sum(y == c))) for c in classes]
    )


class _BaggingCommittee:
    """Bootstrap copies of ``estimator`` on the labeled rows, and their verdict.

    Parameters
    ----------
    estimator : classifier
        Cloned for every member; never modified.
    n_members : int
        Number of bootstrap copies.
    random_state : int
        Seed of the bootstrap draws and of the cross-validation folds.

    Attributes (after :meth:`fit`)
    ------------------------------
    classes_ : ndarray
        The classes of the labeled rows.
    trusted : bool
        Whether the committee beat the estimator on the labeled rows.
    gained, lost : int
        Labeled rows right only with the committee (out of bag), and right only
        with the estimator (cross-validated).
    reason : str
        Why the committee is not trusted, or ``""``.
    """

    def __init__(self, estimator, *, n_members=N_MEMBERS, random_state=0):
        self.estimator = estimator
        self.n_members = n_members
        self.random_state = random_state

    def fit(self, X, y, sample_weight=None, fit_params=None):
        """Fit the members on bootstrap samples of the labeled rows ``X, y``.

        ``sample_weight`` and ``fit_params`` (those of length ``len(y)``) are
        indexed with each member's rows, and given to the cross-validated fits.
        """
        rng = np.random.RandomState(self.random_state)
        fit_params = dict(fit_params or {})
        if sample_weight is not None:
            fit_params["sample_weight"] = sample_weight
        self.classes_ = classes = np.unique(y)
        n_rows = y.shape[0]
        oob_sum = np.zeros((n_rows, classes.shape[0]))
        self.members_ = []
        for _ in range(self.n_members):
            rows = _stratified_bootstrap(y, classes, rng)
            member = clone(self.estimator).fit(
                _safe_indexing(X, rows),
                y[rows],
                **_check_method_params(X, fit_params, indices=rows),
            )
            self.members_.append(member)
            out = np.setdiff1d(np.arange(n_rows), rows)
            if out.shape[0]:
                oob_sum[out] += _aligned_proba(member, _safe_indexing(X, out), classes)
        self._judge(X, y, oob_sum, fit_params, rng)
        return self

    def _judge(self, X, y, oob_sum, fit_params, rng):
        """Compare the out-of-bag committee with the cross-validated estimator."""
        self.gained = self.lost = 0
        counts = np.array([np.sum(y == c) for c in self.classes_])
        n_folds = min(_MAX_FOLDS, int(counts.min()))
        seen = oob_sum.sum(axis=1) > 0
        if n_folds < 2 or not seen.any():
            self.trusted = False
            self.reason = "a class has a single labeled row, too few to compare"
            return
        cv = StratifiedKFold(n_folds, shuffle=True, random_state=rng.randint(2**31))
        single = cross_val_predict(
            clone(self.estimator), X, y, cv=cv, params=fit_params or None
        )
        committee = self.classes_[oob_sum.argmax(axis=1)]
        right_committee = (committee == y)[seen]
        right_single = (single == y)[seen]
        self.gained = int(np.sum(right_committee & ~right_single))
        self.lost = int(np.sum(~right_committee & right_single))
        self.trusted = self.gained - self.lost > math.sqrt(self.gained + self.lost)
        self.reason = (
            ""
            if self.trusted
            else (
                f"the bagging committee's out-of-bag predictions were right on "
                f"{self.gained} labeled rows where the estimator was wrong and "
                f"wrong on {self.lost} where it was right, not more than noise"
            )
        )

    def predict_proba(self, X):
        """Mean of the members' probabilities (votes for members without)."""
        return np.mean([_aligned_proba(m, X, self.classes_) for m in self.members_], 0)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
