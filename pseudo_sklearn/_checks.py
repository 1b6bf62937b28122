"""Checks of PseudoLabelClassifier's parameters against its estimator and data."""

import inspect
import warnings
from numbers import Integral

from sklearn.base import is_classifier
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import has_fit_parameter, validate_data

from ._delegation import _is_dataframe
from ._labels import check_partial_labels
from ._training_set import is_unit_weight
from .utils._compat import _check_sample_weight, process_routing


def check_capabilities(clf, sample_weight, routing):
    """Raise a ValueError naming the parameter when ``clf``'s settings conflict.

    Parameters
    ----------
    clf : PseudoLabelClassifier
        The (unfitted) meta-estimator; only its parameters are read.
    sample_weight : ndarray or None
        The weights given to ``fit``.
    routing : bool
        Whether metadata routing is enabled.
    """
    _check_classifiers(clf)
    if clf.n_iter_no_change is not None and clf.validation_fraction is None:
        raise ValueError(
            f"n_iter_no_change={clf.n_iter_no_change} counts iterations without "
            "improvement on held-out labeled rows, but validation_fraction is "
            "None. Set validation_fraction (e.g. 0.2) or n_iter_no_change=None."
        )
    _check_proba(clf)
    _check_refit(clf)
    _check_weights(clf, sample_weight, routing)


def given_teacher(clf):
    """The teacher estimator the user passed, or None (also for "auto" and
    "bagging", which name the library's own committee)."""
    return None if isinstance(clf.teacher, str) else clf.teacher


def _check_classifiers(clf):
    if not is_classifier(clf.estimator):
        raise ValueError(
            f"estimator={type(clf.estimator).__name__} is not a classifier: "
            "PseudoLabelClassifier needs one, such as LogisticRegression() or "
            "SGDClassifier(loss='log_loss'), or a Pipeline that ends in a "
            "classifier."
        )
    if given_teacher(clf) is not None and not is_classifier(clf.teacher):
        raise ValueError(
            f"teacher={type(clf.teacher).__name__} is not a classifier; pass "
            "a classifier (or LabelSpreading), or teacher=None to let the "
            "estimator label the pool itself."
        )


def _check_proba(clf):
    teacher = given_teacher(clf)
    labeler = clf.estimator if teacher is None else teacher
    labeler_name = "estimator" if teacher is None else "teacher"
    # parameter -> (whether it needs predict_proba, the value that does not)
    needs_proba = {
        "threshold": (clf.threshold not in (None, "auto"), None),
        "per_class_quota": (clf.per_class_quota is True, False),
        "pseudo_weight": (isinstance(clf.pseudo_weight, str), 1.0),
    }
    for param, (needed, neutral) in needs_proba.items():
        if needed and not hasattr(labeler, "predict_proba"):
            raise ValueError(
                f"{param}={getattr(clf, param)!r} needs predict_proba, which "
                f"{labeler_name}={type(labeler).__name__} does not provide. "
                f"Set {param}={neutral!r}, or use a classifier with "
                "predict_proba (for example wrap it in "
                "sklearn.calibration.CalibratedClassifierCV)."
            )


def _check_refit(clf):
    name = type(clf.estimator).__name__
    if clf.refit == "warm" and "warm_start" not in clf.estimator.get_params():
        raise ValueError(
            f"refit='warm' needs an estimator with a warm_start parameter, and "
            f"{name} has none. Use refit='full', or refit='partial' if it has "
            "partial_fit."
        )
    if clf.refit == "partial" and not hasattr(clf.estimator, "partial_fit"):
        raise ValueError(
            f"refit='partial' needs an estimator with partial_fit, and {name} "
            "has none. Use refit='full' (or 'warm' if it has warm_start)."
        )


def _check_weights(clf, sample_weight, routing):
    name = type(clf.estimator).__name__
    takes_weight = has_fit_parameter(clf.estimator, "sample_weight")
    if sample_weight is not None and not (routing or takes_weight):
        raise ValueError(
            f"sample_weight was given but estimator={name} does not accept "
            "sample_weight in fit. Drop sample_weight, use an estimator that "
            "takes it, or enable metadata routing for a Pipeline."
        )
    if not is_unit_weight(clf.pseudo_weight) and not takes_weight:
        raise ValueError(
            f"pseudo_weight={clf.pseudo_weight!r} weights pseudo-labeled rows "
            f"through sample_weight, which estimator={name} does not accept in "
            "fit. Use pseudo_weight=1.0, or an estimator that takes "
            "sample_weight."
        )


def validate_fit_data(clf, X, y):
    """``X`` and ``y`` checked, with the mask of labeled rows."""
    y, labeled = check_partial_labels(y)
    X_checked, y = validate_data(
        clf,
        X,
        y,
        accept_sparse=["csr", "csc"],
        dtype=None,
        # The inner estimator decides what it accepts (an imputer in a
        # Pipeline takes NaN), as in scikit-learn's SelfTrainingClassifier.
        ensure_all_finite=False,
    )
    if not labeled.any():
        raise ValueError(
            "y has no labeled row: every entry is -1. PseudoLabelClassifier "
            "first fits the estimator on the labeled rows; give at least one "
            "labeled row per class (-1 marks the unlabeled ones)."
        )
    check_classification_targets(y[labeled])
    # Sparse input is indexed by rows many times: CSR makes that cheap.
    if hasattr(X_checked, "tocsr"):
        X_checked = X_checked.tocsr()
    # A DataFrame travels as it is, so that an inner Pipeline can select
    # columns by name.
    return (X if _is_dataframe(X) else X_checked), y, labeled


def route_fit_params(clf, X, sample_weight, fit_params, routing):
    """``sample_weight`` and the inner estimator's other ``fit`` parameters."""
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, X)
    if not routing:
        return sample_weight, {}
    # A weight that was not given is not routed: routing would refuse it
    # for an estimator that does not ask for sample_weight.
    if sample_weight is not None:
        fit_params = {**fit_params, "sample_weight": sample_weight}
    est_params = dict(process_routing(clf, "fit", **fit_params).estimator.fit)
    return est_params.pop("sample_weight", None), est_params


def warn_about_pool(sample_rate, n_unlabeled):
    """Warn when there is nothing to pseudo-label or the batch exceeds the pool."""
    if n_unlabeled == 0:
        warnings.warn(
            "y contains no unlabeled row (-1): PseudoLabelClassifier fits the "
            "estimator on the labeled rows only, as a plain supervised fit.",
            UserWarning,
            stacklevel=4,
        )
    elif isinstance(sample_rate, Integral) and sample_rate > n_unlabeled:
        warnings.warn(
            f"sample_rate={sample_rate} is more than the {n_unlabeled} "
            "unlabeled rows: the whole pool is drawn in the first iteration. "
            "Pass a smaller int or a fraction in (0, 1].",
            UserWarning,
            stacklevel=4,
        )


def has_method_parameter(estimator, method, parameter):
    """Whether ``estimator.method`` takes ``parameter`` (scikit-learn's
    ``has_fit_parameter`` for any method)."""
    function = getattr(estimator, method, None)
    return function is not None and parameter in inspect.signature(function).parameters
