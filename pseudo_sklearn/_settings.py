"""PseudoLabelClassifier's parameters: the values each accepts, and what the
"auto" ones (and schedules) become for a given fit.

Each function reads the meta-estimator's parameters (``clf``) and what the fit
has seen, and returns a plain value; none sets fitted attributes except
:func:`calibrate`, which sets ``threshold_``.
"""

import math
import warnings
from numbers import Integral, Real

import numpy as np

from ._averaging import _CoefficientAverage, linear_step
from ._calibration import calibrated_threshold
from ._checks import given_teacher, has_method_parameter
from ._committee import _BaggingCommittee
from ._schedules import batch_size, threshold_at
from .utils._compat import HasMethods, Interval, RealNotInt, StrOptions

# The values each parameter accepts (PseudoLabelClassifier's
# ``_parameter_constraints``).
PARAMETER_CONSTRAINTS = {
    "estimator": [HasMethods(["fit", "predict"])],
    "sample_rate": [
        Interval(RealNotInt, 0, 1, closed="right"),
        Interval(Integral, 1, None, closed="left"),
        callable,
    ],
    "threshold": [
        Interval(Real, 0, 1, closed="left"),
        None,
        callable,
        StrOptions({"auto"}),
    ],
    "per_class_quota": ["boolean", StrOptions({"auto"})],
    "pseudo_weight": [
        Interval(Real, 0, None, closed="left"),
        StrOptions({"confidence"}),
        callable,
    ],
    "teacher": [
        HasMethods(["fit", "predict"]),
        None,
        StrOptions({"auto", "bagging"}),
    ],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
    "max_iter": [
        Interval(Integral, 0, None, closed="left"),
        None,
        StrOptions({"auto"}),
    ],
    "refit": [StrOptions({"auto", "full", "warm", "partial"})],
    "average": ["boolean", StrOptions({"auto"})],
    "max_pseudo_ratio": [Interval(Real, 0, None, closed="neither"), None],
    "drift_check": [StrOptions({"restore", "warn"}), None],
    "chunk_size": [Interval(Integral, 1, None, closed="left")],
    # joblib refuses n_jobs=0, and only when a batch spans several chunks:
    # reject it up front.
    "n_jobs": [
        Interval(Integral, None, -1, closed="right"),
        Interval(Integral, 1, None, closed="left"),
        None,
    ],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


def iteration_threshold(clf, iteration):
    """The confidence threshold of ``iteration`` (None: keep every label)."""
    if callable(clf.threshold):
        return threshold_at(clf.threshold, iteration)
    return clf.threshold_


def calibrate(clf, X, train, rng):
    """Set ``threshold_``; return whether any pseudo-label can be trusted."""
    if clf.threshold != "auto":
        clf.threshold_ = None if callable(clf.threshold) else clf.threshold
        return True
    clf.threshold_ = None
    if (
        clf.max_iter == 0
        or not np.any(train.added_at == -1)
        or refit_mode(clf) == "partial"
        or has_teacher(clf)
        or not hasattr(clf.estimator, "predict_proba")
    ):
        return True
    threshold, reason = calibrated_threshold(
        clf.estimator, X, train.labels, train.labeled_rows, rng.randint(2**31 - 1)
    )
    if threshold is None:
        warnings.warn(
            f"Pseudo-labeling skipped ({reason}): no pseudo-label could be "
            "trusted, so the supervised model is returned. Pass a threshold "
            "(or threshold=None) to pseudo-label anyway.",
            UserWarning,
            stacklevel=4,
        )
        return False
    clf.threshold_ = threshold
    return True


def uses_committee(clf, estimator):
    """Whether the bagging committee labels the pool (``teacher``).

    ``"auto"`` uses it unless the refits are partial updates of a linear model
    (``estimator`` is the supervised fit): those are averaged and settle on
    self-labels (the MNIST benchmark), whereas a model refitted from scratch
    on its own labels reproduces them and learns nothing from them.
    """
    if clf.teacher == "bagging":
        return True
    if clf.teacher != "auto":
        return False
    return not (refit_mode(clf) == "partial" and linear_step(estimator) is not None)


def labeled_by_committee(clf):
    """Whether this fit's bagging committee labels the pool (``teacher_``)."""
    return isinstance(getattr(clf, "teacher_", None), _BaggingCommittee)


def has_teacher(clf):
    """Whether a teacher labels the pool: the user's, or the committee once
    ``fit`` has resolved ``teacher="auto"`` or ``"bagging"`` into ``teacher_``."""
    return given_teacher(clf) is not None or getattr(clf, "teacher_", None) is not None


def use_quota(clf):
    if clf.per_class_quota != "auto":
        return clf.per_class_quota
    # A teacher's labels do not feed back into the teacher: there is no
    # self-reinforcing pile-up for a quota to stop, only labels to lose.
    return not has_teacher(clf) and hasattr(clf.estimator, "predict_proba")


def max_iterations(clf, n_unlabeled):
    if clf.max_iter != "auto":
        return clf.max_iter
    if callable(clf.sample_rate) or n_unlabeled == 0:
        return None
    return _draws_of_pool(clf.sample_rate, n_unlabeled)


def _draws_of_pool(sample_rate, n_unlabeled):
    """Batches of a constant ``sample_rate`` that draw the initial pool once."""
    return math.ceil(n_unlabeled / batch_size(sample_rate, n_unlabeled, 1))


def averager(clf, estimator):
    """A running average of the coefficients, or None when not averaging."""
    wanted = clf.average
    if wanted == "auto":
        wanted = refit_mode(clf) == "partial"
    if not wanted:
        return None
    if linear_step(estimator) is None:
        if clf.average is True:
            raise ValueError(
                f"average=True averages coef_ and intercept_, which "
                f"estimator={type(clf.estimator).__name__} does not have "
                "once fitted. Use average='auto' or average=False."
            )
        return None
    return _CoefficientAverage()


def refit_mode(clf):
    if clf.refit != "auto":
        return clf.refit
    return "partial" if hasattr(clf.estimator, "partial_fit") else "full"


def pseudo_scale(clf, estimator, labeled_rows, new_rows):
    """Weight factor of a partial update's pseudo-labeled rows.

    With ``max_pseudo_ratio``, the new rows together weigh at most that
    many times the labeled rows, so that a huge batch of self-labels
    cannot outvote the true labels in one update.
    """
    ratio = clf.max_pseudo_ratio
    if ratio is None or not has_method_parameter(
        estimator, "partial_fit", "sample_weight"
    ):
        return 1.0
    return min(1.0, ratio * labeled_rows.shape[0] / new_rows.shape[0])


def planned_iterations(clf, n_unlabeled, max_iter, quota):
    """The number of iterations to expect, for progress lines; or None."""
    if callable(clf.sample_rate) or n_unlabeled == 0:
        return max_iter
    if clf.threshold_ is not None or callable(clf.threshold) or quota:
        # Rows go back to the pool: only a cap says when the loop ends.
        return max_iter
    n_planned = _draws_of_pool(clf.sample_rate, n_unlabeled)
    return n_planned if max_iter is None else min(n_planned, max_iter)
