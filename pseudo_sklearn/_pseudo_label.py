"""PseudoLabelClassifier: iterative pseudo-labeling around any classifier."""

import copy
import math
import time
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    clone,
    is_classifier,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.semi_supervised import SelfTrainingClassifier
from sklearn.semi_supervised._label_propagation import BaseLabelPropagation
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    RealNotInt,
    StrOptions,
)
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    has_fit_parameter,
    validate_data,
)

from ._selection import confident_mask, per_class_quota_mask
from .utils._compat import (
    _check_method_params,
    _estimator_has,
    _fit_context,
    _raise_for_params,
    _routing_enabled,
    _safe_indexing,
    process_routing,
)

__all__ = ["PseudoLabelClassifier"]


def _is_dataframe(X):
    return hasattr(X, "iloc") and hasattr(X, "columns")


def _is_unit_weight(pseudo_weight):
    return (
        not isinstance(pseudo_weight, str)
        and not callable(pseudo_weight)
        and float(pseudo_weight) == 1.0
    )


def _accepts_unlabeled(estimator):
    """Whether ``estimator`` is fitted on -1 rows as a semi-supervised model."""
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    return isinstance(
        final, BaseLabelPropagation | SelfTrainingClassifier | PseudoLabelClassifier
    )


class _Guard:
    """Scores each iteration's model on held-out labeled rows; keeps the best.

    An iteration replaces the supervised fit only when it is better on the
    held-out rows by more than one standard error of the paired difference:
    of the rows where the two models disagree, ``b`` are right only with
    pseudo-labels and ``c`` only without, and ``b - c > sqrt(b + c)`` is asked.
    A one-row gain on a handful of held-out rows is noise, and on few labels
    acting on it costs more than it brings.
    """

    def __init__(self, owner, X, y, rows):
        self.active = rows.shape[0] > 0
        self.patience = owner.n_iter_no_change
        # warm and partial refits update the model in place: keep a copy.
        self.copy = owner._refit_mode() != "full"
        self.scores = []
        self.best_iteration = 0
        self.best_estimator = None
        self._since_best = 0
        if self.active:
            self.X, self.y = _safe_indexing(X, rows), y[rows]

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


def _label_chunk(estimator, X_chunk, use_proba):
    """Pseudo-labels and their confidence for one chunk of rows."""
    if use_proba:
        proba = estimator.predict_proba(X_chunk)
        best = np.argmax(proba, axis=1)
        return estimator.classes_[best], proba[np.arange(best.shape[0]), best]
    labels = estimator.predict(X_chunk)
    return labels, np.full(labels.shape[0], np.nan)


class PseudoLabelClassifier(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """Pseudo-labeling (self-training) meta-estimator around any classifier.

    Rows whose label is ``-1`` are unlabeled. The classifier is first fitted on
    the labeled rows. Each iteration then draws a random batch from the pool of
    unlabeled rows, labels it with the current model, keeps the labels whose
    confidence reaches ``threshold`` (all of them by default), and refits on the
    labeled rows plus every pseudo-labeled row so far. Rows that miss the
    threshold go back to the pool and may be drawn again by a later, better
    model. The returned model has been trained on every row that was added.

    Parameters
    ----------
    estimator : estimator object
        A classifier implementing ``fit`` and ``predict``; ``predict_proba`` is
        needed when ``threshold`` is set. It is cloned, never modified.

    sample_rate : float, int or callable, default=0.04
        Size of the batch drawn from the pool at each iteration. A float in
        (0, 1] is a fraction of the initial number of unlabeled rows (rounded
        up); an int >= 1 is a number of rows. With the default and no
        ``threshold``, the pool is exhausted after 25 iterations. A callable
        ``sample_rate(iteration) -> float or int`` (iterations count from 1)
        makes a schedule, e.g. small batches first and larger ones later.

    threshold : float, callable or None, default=None
        When set, in [0, 1): keep only the pseudo-labels whose highest
        ``predict_proba`` is at least ``threshold``. ``None`` keeps them all,
        as the published algorithm does. A callable ``threshold(iteration)``
        makes a schedule, e.g. strict first and looser as the model improves.

    per_class_quota : bool, default=False
        When True, the rows kept from a batch are shared among the predicted
        classes in proportion to the class frequencies of the labeled rows:
        each class keeps at most its share, its most confident rows first, and
        the rest go back to the pool. This stops one class from swallowing the
        pool. Needs ``predict_proba``.

    pseudo_weight : float, "confidence" or callable, default=1.0
        Weight of the pseudo-labeled rows, passed to the estimator's ``fit``
        as ``sample_weight`` (labeled rows keep weight 1, times any
        ``sample_weight`` given to ``fit``). A float is a constant weight;
        ``"confidence"`` weights each row by the probability of its
        pseudo-label; a callable ``pseudo_weight(iteration) -> float`` gives
        the weight of all pseudo-labeled rows at each refit, e.g. Lee's ramp
        ``functools.partial(alpha_schedule, T1=2, T2=10, alpha_f=1.0)``.

    teacher : estimator object or None, default=None
        When set, this classifier labels the pool and the wrapped estimator is
        the student that is trained on the labels. It sees the same ``X`` as
        the student (a Pipeline teacher can select or transform columns). A
        teacher that takes -1 rows itself (``LabelSpreading``,
        ``LabelPropagation``, ``SelfTrainingClassifier`` or a
        PseudoLabelClassifier, possibly at the end of a Pipeline) is fitted on
        every row; any other teacher on the labeled rows. Fitted once, before
        the first iteration. ``None``: the current model labels the pool.

    validation_fraction : float or None, default=None
        The guard. When set, in (0, 1): this fraction of the labeled rows is
        held out (stratified); every iteration's model is scored on it
        (accuracy), and the fit returns the best one, the supervised fit
        counting as iteration 0. An iteration must beat the supervised fit by
        more than the noise of the held-out rows (see Notes). When none does,
        the supervised model refitted on every labeled row (exactly a plain
        supervised fit) is returned with a warning; otherwise the returned
        model was trained without the held-out rows.

    n_iter_no_change : int or None, default=None
        With ``validation_fraction``: stop after this many iterations without
        a better validation score. ``None`` runs every iteration and still
        returns the best model.

    max_iter : int or None, default=None
        Maximum number of iterations; ``None`` runs until the pool is empty or
        an iteration adds nothing. ``max_iter=0`` is a plain supervised fit.

    refit : {"auto", "full", "warm", "partial"}, default="auto"
        How the model is updated after each iteration. ``"full"`` fits a fresh
        clone on all rows labeled so far, as the published algorithm does.
        ``"warm"`` fits the previous model again with ``warm_start=True``, so it
        starts from the last solution; the estimator needs a ``warm_start``
        parameter. ``"partial"`` calls ``partial_fit`` once on the rows added in
        the iteration together with the labeled rows: the cost of the whole loop
        is then about one pass over the data instead of one fit per iteration.
        ``"auto"`` is ``"partial"`` when the estimator has ``partial_fit`` and
        ``"full"`` otherwise. On the MNIST benchmark, ``"partial"`` with
        ``SGDClassifier`` was both the fastest and the most accurate mode (see
        ``benchmarks/mnist_logreg.py``).

    chunk_size : int, default=10_000
        Batches are labeled in chunks of at most this many rows, so the memory
        used by predictions does not grow with the batch.

    n_jobs : int or None, default=None
        Number of jobs that label the chunks of a batch in parallel through
        joblib. ``None`` means 1 unless in a :func:`joblib.parallel_config`
        context, whose backend (threads, processes, or a Dask cluster) is used.

    random_state : int, RandomState instance or None, default=None
        Seed of the random draws from the pool. It is not passed to
        ``estimator``: set that estimator's own ``random_state`` for fully
        reproducible fits.

    verbose : int, default=0
        Print one line of progress per iteration when > 0.

    Attributes
    ----------
    estimator_ : estimator object
        The classifier fitted on the labeled and all pseudo-labeled rows.

    classes_ : ndarray of shape (n_classes,)
        The class labels, from the labeled rows.

    transduction_ : ndarray of shape (n_samples,)
        The label of each training row: its true label, the pseudo-label it got,
        or -1 for rows never pseudo-labeled.

    labeled_iter_ : ndarray of shape (n_samples,)
        The iteration in which each row got its label: 0 for labeled rows, -1
        for rows never pseudo-labeled.

    n_iter_ : int
        Number of pseudo-labeling iterations run (0 when there was no unlabeled
        row or ``max_iter=0``).

    termination_condition_ : {"all_labeled", "max_iter", "no_change", \
            "no_improvement"}
        Why fitting stopped: the pool is empty, ``max_iter`` was reached, an
        iteration added no row, or ``n_iter_no_change`` iterations did not
        improve the validation score.

    teacher_ : estimator object
        The fitted teacher; only with ``teacher``.

    best_iteration_ : int
        The iteration whose model was returned (0: the supervised fit); only
        with ``validation_fraction``.

    validation_scores_ : ndarray of shape (n_iter_ + 1,)
        Accuracy on the held-out labeled rows after the supervised fit (index
        0) and after each iteration's refit; only with ``validation_fraction``.
        An iteration that added nothing repeats the previous score.

    history_ : list of dict
        One record per iteration, in order, with the keys ``"iteration"``
        (1-based), ``"n_drawn"`` (rows drawn from the pool), ``"n_added"`` (rows
        pseudo-labeled and added), ``"mean_confidence"`` (mean highest
        ``predict_proba`` of the added rows, NaN without ``predict_proba`` or
        when none was added), ``"n_pool"`` (unlabeled rows left in the pool)
        and ``"fit_time"`` (seconds of the refit), plus ``"validation_score"``
        with ``validation_fraction``. ``pandas.DataFrame(history_)`` makes it a
        table.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``; only defined when ``X`` has
        feature names that are all strings.

    See Also
    --------
    sklearn.semi_supervised.SelfTrainingClassifier : Adds every confident
        prediction of the whole pool at each iteration.
    make_pseudo_label_pipeline : The reference feature pipeline around this
        estimator.

    Notes
    -----
    ``-1`` marks unlabeled rows, as in scikit-learn, so that a Pipeline fits its
    unsupervised steps (scaling, PCA) on all rows. With string class labels, use
    an object array and the integer ``-1`` for unlabeled rows; in an array of
    NumPy string dtype, where ``-1`` becomes the string ``"-1"``, that string
    marks unlabeled rows, and ``transduction_`` is an object array.

    The guard compares each iteration with the supervised fit on the held-out
    rows where they disagree: ``b`` rows right only after pseudo-labeling,
    ``c`` right only before. The iteration counts as better only if
    ``b - c > sqrt(b + c)`` (one standard error of the paired difference), so
    a one-row gain on a few held-out rows does not replace the supervised fit.

    ``sample_weight`` given to ``fit`` is indexed with the rows of each refit:
    a labeled row keeps its weight, and a pseudo-labeled row is weighted by the
    weight given for it.

    References
    ----------
    .. [1] D.-H. Lee, "Pseudo-Label: The Simple and Efficient Semi-Supervised
       Learning Method for Deep Neural Networks", ICML 2013 Workshop on
       Challenges in Representation Learning.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from pseudo_sklearn import PseudoLabelClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> y_semi = y.copy()
    >>> y_semi[np.random.RandomState(0).rand(len(y)) < 0.9] = -1
    >>> clf = PseudoLabelClassifier(
    ...     LogisticRegression(max_iter=1000), sample_rate=0.25, random_state=0
    ... )
    >>> clf.fit(X, y_semi).n_iter_
    4
    >>> clf.termination_condition_
    'all_labeled'
    >>> bool((clf.transduction_ != -1).all())
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "sample_rate": [
            Interval(RealNotInt, 0, 1, closed="right"),
            Interval(Integral, 1, None, closed="left"),
            callable,
        ],
        "threshold": [Interval(Real, 0, 1, closed="left"), None, callable],
        "per_class_quota": ["boolean"],
        "pseudo_weight": [
            Interval(Real, 0, None, closed="left"),
            StrOptions({"confidence"}),
            callable,
        ],
        "teacher": [HasMethods(["fit", "predict"]), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "max_iter": [Interval(Integral, 0, None, closed="left"), None],
        "refit": [StrOptions({"auto", "full", "warm", "partial"})],
        "chunk_size": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator,
        *,
        sample_rate=0.04,
        threshold=None,
        per_class_quota=False,
        pseudo_weight=1.0,
        teacher=None,
        validation_fraction=None,
        n_iter_no_change=None,
        max_iter=None,
        refit="auto",
        chunk_size=10_000,
        n_jobs=None,
        random_state=None,
        verbose=0,
    ):
        self.estimator = estimator
        self.sample_rate = sample_rate
        self.threshold = threshold
        self.per_class_quota = per_class_quota
        self.pseudo_weight = pseudo_weight
        self.teacher = teacher
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.max_iter = max_iter
        self.refit = refit
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _check_estimator_capabilities(self, sample_weight):
        name = type(self.estimator).__name__
        if not is_classifier(self.estimator):
            raise ValueError(
                f"estimator={name} is not a classifier: PseudoLabelClassifier "
                "needs one, such as LogisticRegression() or SGDClassifier("
                "loss='log_loss'), or a Pipeline that ends in a classifier."
            )
        if self.teacher is not None and not is_classifier(self.teacher):
            raise ValueError(
                f"teacher={type(self.teacher).__name__} is not a classifier; pass "
                "a classifier (or LabelSpreading), or teacher=None to let the "
                "estimator label the pool itself."
            )
        if self.n_iter_no_change is not None and self.validation_fraction is None:
            raise ValueError(
                f"n_iter_no_change={self.n_iter_no_change} counts iterations without "
                "improvement on held-out labeled rows, but validation_fraction is "
                "None. Set validation_fraction (e.g. 0.2) or n_iter_no_change=None."
            )
        labeler = self.estimator if self.teacher is None else self.teacher
        labeler_name = "estimator" if self.teacher is None else "teacher"
        # parameter -> (whether it needs predict_proba, the value that does not)
        needs_proba = {
            "threshold": (self.threshold is not None, None),
            "per_class_quota": (self.per_class_quota, False),
            "pseudo_weight": (isinstance(self.pseudo_weight, str), 1.0),
        }
        for param, (needed, neutral) in needs_proba.items():
            if needed and not hasattr(labeler, "predict_proba"):
                raise ValueError(
                    f"{param}={getattr(self, param)!r} needs predict_proba, which "
                    f"{labeler_name}={type(labeler).__name__} does not provide. "
                    f"Set {param}={neutral!r}, or use a classifier with "
                    "predict_proba (for example wrap it in "
                    "sklearn.calibration.CalibratedClassifierCV)."
                )
        if self.refit == "warm" and "warm_start" not in self.estimator.get_params():
            raise ValueError(
                f"refit='warm' needs an estimator with a warm_start parameter, and "
                f"{name} has none. Use refit='full', or refit='partial' if it has "
                "partial_fit."
            )
        if self.refit == "partial" and not hasattr(self.estimator, "partial_fit"):
            raise ValueError(
                f"refit='partial' needs an estimator with partial_fit, and {name} "
                "has none. Use refit='full' (or 'warm' if it has warm_start)."
            )
        takes_weight = _routing_enabled() or has_fit_parameter(
            self.estimator, "sample_weight"
        )
        if sample_weight is not None and not takes_weight:
            raise ValueError(
                f"sample_weight was given but estimator={name} does not accept "
                "sample_weight in fit. Drop sample_weight, use an estimator that "
                "takes it, or enable metadata routing for a Pipeline."
            )
        if not _is_unit_weight(self.pseudo_weight) and not has_fit_parameter(
            self.estimator, "sample_weight"
        ):
            raise ValueError(
                f"pseudo_weight={self.pseudo_weight!r} weights pseudo-labeled rows "
                f"through sample_weight, which estimator={name} does not accept in "
                "fit. Use pseudo_weight=1.0, or an estimator that takes "
                "sample_weight."
            )

    def _validate_fit_data(self, X, y):
        allow_nan = get_tags(self.estimator).input_tags.allow_nan
        X_checked, y = validate_data(
            self,
            X,
            y,
            accept_sparse=["csr", "csc"],
            dtype=None,
            ensure_all_finite="allow-nan" if allow_nan else True,
        )
        if y.dtype.kind in "US":
            # A string array cannot hold the integer -1: NumPy turns it into the
            # string "-1", which therefore marks unlabeled rows here too.
            y = y.astype(object)
            y[y == "-1"] = -1
        # Sparse input is indexed by rows many times: CSR makes that cheap.
        if hasattr(X_checked, "tocsr"):
            X_checked = X_checked.tocsr()
        # A DataFrame travels as it is, so that an inner Pipeline can select
        # columns by name.
        return (X if _is_dataframe(X) else X_checked), y

    def _check_X_predict(self, X):
        allow_nan = get_tags(self.estimator_).input_tags.allow_nan
        X_checked = validate_data(
            self,
            X,
            reset=False,
            accept_sparse=["csr", "csc"],
            dtype=None,
            ensure_all_finite="allow-nan" if allow_nan else True,
        )
        return X if _is_dataframe(X) else X_checked

    def _batch_size(self, n_unlabeled, iteration):
        rate = self.sample_rate
        if callable(rate):
            rate = rate(iteration)
            valid = (
                isinstance(rate, Integral) and rate >= 1
                if isinstance(rate, Integral | np.integer)
                else isinstance(rate, Real) and 0 < rate <= 1
            )
            if not valid:
                raise ValueError(
                    f"sample_rate({iteration}) returned {rate!r}; a sample_rate "
                    "schedule must return a float in (0, 1] or an int >= 1."
                )
        if isinstance(rate, Integral | np.integer):
            return int(rate)
        # round() first: 0.04 * 59_000 is 2360.0000000000005 in floating point.
        return max(1, math.ceil(round(rate * n_unlabeled, 9)))

    def _label_rows(self, estimator, X, rows, use_proba):
        """Pseudo-labels and confidences of ``rows``, in bounded chunks."""
        chunks = [
            rows[start : start + self.chunk_size]
            for start in range(0, rows.shape[0], self.chunk_size)
        ]
        if len(chunks) == 1:
            return _label_chunk(estimator, _safe_indexing(X, rows), use_proba)
        results = Parallel(n_jobs=self.n_jobs)(
            delayed(_label_chunk)(estimator, _safe_indexing(X, chunk), use_proba)
            for chunk in chunks
        )
        labels = np.concatenate([labels for labels, _ in results])
        confidence = np.concatenate([conf for _, conf in results])
        return labels, confidence

    def _fit_rows(self, estimator, X, rows, weights, fit_params, method="fit"):
        params = _check_method_params(X, fit_params, indices=rows)
        if weights is not None:
            params["sample_weight"] = weights
        if method == "partial_fit":
            params["classes"] = self.classes_
        getattr(estimator, method)(
            _safe_indexing(X, rows), self.transduction_[rows], **params
        )
        return estimator

    def _row_weights(self, rows, iteration, sample_weight, confidence):
        """Weights of ``rows`` at a refit: the given weight times the pseudo weight."""
        if sample_weight is None and _is_unit_weight(self.pseudo_weight):
            return None
        weights = (
            np.ones(rows.shape[0]) if sample_weight is None else sample_weight[rows]
        )
        pseudo = self.labeled_iter_[rows] > 0
        if isinstance(self.pseudo_weight, str):
            factor = confidence[rows[pseudo]]
        elif callable(self.pseudo_weight):
            factor = float(self.pseudo_weight(iteration))
        else:
            factor = float(self.pseudo_weight)
        weights = np.array(weights, dtype=float)
        weights[pseudo] *= factor
        return weights

    def _refit_mode(self):
        if self.refit != "auto":
            return self.refit
        return "partial" if hasattr(self.estimator, "partial_fit") else "full"

    def _refit(self, X, labeled_rows, rows, new_rows, iteration, weight_args, params):
        """Update the model after an iteration; ``rows`` are the training rows."""
        mode = self._refit_mode()
        if mode == "full":
            estimator = clone(self.estimator)
        elif mode == "warm":
            estimator = self.estimator_.set_params(warm_start=True)
        else:
            # One partial_fit on the new rows with the labeled rows, so that the
            # true labels keep anchoring the model while pseudo-labels stream in.
            # Other fit parameters belong to fit, not to partial_fit.
            rows = np.concatenate([labeled_rows, new_rows])
            weights = self._row_weights(rows, iteration, *weight_args)
            return self._fit_rows(
                self.estimator_, X, rows, weights, {}, method="partial_fit"
            )
        weights = self._row_weights(rows, iteration, *weight_args)
        return self._fit_rows(estimator, X, rows, weights, params)

    def _split_validation(self, labeled_rows, y, rng):
        """Hold out ``validation_fraction`` of the labeled rows, stratified."""
        if self.validation_fraction is None:
            return labeled_rows, labeled_rows[:0]
        try:
            train, validation = train_test_split(
                labeled_rows,
                test_size=self.validation_fraction,
                stratify=y[labeled_rows],
                random_state=rng,
            )
        except ValueError as exc:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} cannot hold out a "
                f"stratified part of the {labeled_rows.shape[0]} labeled rows "
                f"({exc}). Label more rows per class, raise validation_fraction so "
                "every class is held out, or set validation_fraction=None."
            ) from exc
        return np.sort(train), np.sort(validation)

    def _fit_teacher(self, X, y, train_labeled_rows, validation_rows):
        """Fit the teacher on the labeled rows, or on every row if it takes -1."""
        teacher = clone(self.teacher)
        if _accepts_unlabeled(teacher):
            # The held-out rows are hidden from the teacher too.
            y_teacher = np.copy(y)
            y_teacher[validation_rows] = -1
            teacher.fit(X, y_teacher)
        else:
            teacher.fit(_safe_indexing(X, train_labeled_rows), y[train_labeled_rows])
        return teacher

    @_fit_context(
        # the inner estimator is validated by its own fit
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit on the labeled rows, then pseudo-label and refit iteratively.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Training rows, labeled and unlabeled.

        y : array-like of shape (n_samples,)
            Class labels, with -1 for unlabeled rows.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows, given to the inner estimator's ``fit`` for the
            rows of each refit (labeled and pseudo-labeled).

        **fit_params : dict
            Other parameters for the inner estimator's ``fit``; only with
            metadata routing enabled (``sklearn.set_config(
            enable_metadata_routing=True)``). Parameters of length n_samples
            are indexed with the rows of each refit.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        _raise_for_params(fit_params, self, "fit")
        self._check_estimator_capabilities(sample_weight)
        X, y = self._validate_fit_data(X, y)
        n_samples = y.shape[0]

        labeled = np.asarray(y != -1, dtype=bool)
        if not labeled.any():
            raise ValueError(
                "y has no labeled row: every entry is -1. PseudoLabelClassifier "
                "first fits the estimator on the labeled rows; give at least one "
                "labeled row per class (-1 marks the unlabeled ones)."
            )
        check_classification_targets(y[labeled])
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)

        if _routing_enabled():
            routed = process_routing(
                self, "fit", sample_weight=sample_weight, **fit_params
            )
            est_params = dict(routed.estimator.fit)
            sample_weight = est_params.pop("sample_weight", None)
        else:
            est_params = {}

        rng = check_random_state(self.random_state)
        self.transduction_ = np.copy(y)
        self.labeled_iter_ = np.full(n_samples, -1, dtype=np.intp)
        self.labeled_iter_[labeled] = 0
        self.history_ = []
        self.n_iter_ = 0
        confidence_at_label = np.ones(n_samples)
        weight_args = (sample_weight, confidence_at_label)

        train_labeled, validation_rows = self._split_validation(
            np.flatnonzero(labeled), y, rng
        )
        pool = np.flatnonzero(~labeled)
        # train_order[:n_train] are the rows of the training set, labeled rows
        # first, then pseudo-labeled rows in the order they were added.
        train_order = np.empty(n_samples, dtype=np.intp)
        n_train = train_labeled.shape[0]
        train_order[:n_train] = train_labeled

        self.estimator_ = self._fit_rows(
            clone(self.estimator),
            X,
            train_labeled,
            self._row_weights(train_labeled, 0, *weight_args),
            est_params,
        )
        self.classes_ = self.estimator_.classes_
        class_prior = np.array(
            [np.mean(y[train_labeled] == c) for c in self.classes_], dtype=float
        )
        if self.teacher is not None:
            self.teacher_ = self._fit_teacher(X, y, train_labeled, validation_rows)
        labeler = self.estimator_ if self.teacher is None else self.teacher_
        use_proba = hasattr(labeler, "predict_proba")

        guard = _Guard(self, X, y, validation_rows)
        guard.update(self.estimator_, 0)

        n_unlabeled = pool.shape[0]
        n_planned = self._planned_iterations(n_unlabeled)
        self.termination_condition_ = "all_labeled"
        while pool.shape[0] > 0:
            if self.max_iter is not None and self.n_iter_ >= self.max_iter:
                self.termination_condition_ = "max_iter"
                break
            self.n_iter_ += 1
            it = self.n_iter_
            take = rng.choice(
                pool.shape[0],
                size=min(self._batch_size(n_unlabeled, it), pool.shape[0]),
                replace=False,
            )
            drawn = pool[take]
            labels, confidence = self._label_rows(labeler, X, drawn, use_proba)
            keep = confident_mask(confidence, self._threshold_at(it))
            if self.per_class_quota:
                keep = per_class_quota_mask(
                    labels, confidence, keep, self.classes_, class_prior
                )
            added = drawn[keep]
            record = {
                "iteration": it,
                "n_drawn": int(drawn.shape[0]),
                "n_added": int(added.shape[0]),
                "mean_confidence": (
                    float(np.mean(confidence[keep])) if keep.any() else float("nan")
                ),
                "n_pool": int(pool.shape[0] - added.shape[0]),
                "fit_time": 0.0,
            }
            if added.shape[0] == 0:
                if guard.active:
                    record["validation_score"] = guard.scores[-1]
                self.history_.append(record)
                self.termination_condition_ = "no_change"
                self._report(record, n_planned)
                break

            self.transduction_[added] = labels[keep]
            self.labeled_iter_[added] = it
            confidence_at_label[added] = confidence[keep]
            pool = np.delete(pool, take[keep])
            train_order[n_train : n_train + added.shape[0]] = added
            n_train += added.shape[0]

            start = time.perf_counter()
            self.estimator_ = self._refit(
                X,
                train_labeled,
                train_order[:n_train],
                added,
                it,
                weight_args,
                est_params,
            )
            record["fit_time"] = time.perf_counter() - start
            if self.teacher is None:
                labeler = self.estimator_
            stop = guard.update(self.estimator_, it)
            if guard.active:
                record["validation_score"] = guard.scores[-1]
            self.history_.append(record)
            self._report(record, n_planned)
            if stop:
                self.termination_condition_ = "no_improvement"
                break

        if guard.active:
            self.estimator_ = guard.best_estimator
            self.best_iteration_ = guard.best_iteration
            self.validation_scores_ = np.asarray(guard.scores)
            if guard.best_iteration == 0:
                # Falling back: the supervised model on every labeled row, the
                # held-out ones included, exactly as a plain fit would be.
                labeled_rows = np.flatnonzero(labeled)
                self.estimator_ = self._fit_rows(
                    clone(self.estimator),
                    X,
                    labeled_rows,
                    self._row_weights(labeled_rows, 0, *weight_args),
                    est_params,
                )
            if guard.best_iteration == 0 and self.n_iter_ > 0:
                warnings.warn(
                    "Pseudo-labeling did not beat the supervised fit on the "
                    f"{validation_rows.shape[0]} held-out labeled rows (validation "
                    f"accuracy {guard.scores[0]:.4f} before, at best "
                    f"{max(guard.scores[1:]):.4f} after): returning the supervised "
                    "model. More labeled rows, a threshold or a teacher may help.",
                    UserWarning,
                    stacklevel=2,
                )
        return self

    def _planned_iterations(self, n_unlabeled):
        if callable(self.sample_rate) or self.threshold is not None:
            return None
        if self.per_class_quota or n_unlabeled == 0:
            return None
        n_planned = math.ceil(n_unlabeled / self._batch_size(n_unlabeled, 1))
        if self.max_iter is not None:
            n_planned = min(n_planned, self.max_iter)
        return n_planned

    def _threshold_at(self, iteration):
        if not callable(self.threshold):
            return self.threshold
        value = self.threshold(iteration)
        if value is not None and not 0 <= value < 1:
            raise ValueError(
                f"threshold({iteration}) returned {value!r}; a threshold schedule "
                "must return a float in [0, 1) or None."
            )
        return value

    def _report(self, record, n_planned):
        if not self.verbose:
            return
        of = f"/{n_planned}" if n_planned is not None else ""
        print(
            f"[PseudoLabelClassifier] iteration {record['iteration']}{of}: "
            f"drew {record['n_drawn']}, added {record['n_added']} "
            f"(mean confidence {record['mean_confidence']:.3f}), "
            f"{record['n_pool']} left in the pool, refit {record['fit_time']:.2f}s",
            flush=True,
        )

    @available_if(_estimator_has("predict"))
    def predict(self, X):
        """Predict the class of each row of `X` with the fitted estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Rows to predict.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted classes.
        """
        check_is_fitted(self)
        return self.estimator_.predict(self._check_X_predict(X))

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of each row of `X`.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Rows to predict.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns ordered as ``classes_``.
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(self._check_X_predict(X))

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Logarithm of the class probabilities of each row of `X`.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Rows to predict.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns ordered as ``classes_``.
        """
        check_is_fitted(self)
        return self.estimator_.predict_log_proba(self._check_X_predict(X))

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the fitted estimator on `X`.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Rows to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The inner estimator's decision function.
        """
        check_is_fitted(self)
        return self.estimator_.decision_function(self._check_X_predict(X))

    @available_if(_estimator_has("score"))
    def score(self, X, y, sample_weight=None):
        """Mean accuracy of the fitted estimator on `X` and `y`.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Test rows.

        y : array-like of shape (n_samples,)
            True labels of `X`.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows.

        Returns
        -------
        score : float
            Accuracy of ``predict(X)`` against `y`.
        """
        check_is_fitted(self)
        return self.estimator_.score(
            self._check_X_predict(X), y, sample_weight=sample_weight
        )

    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        Returns
        -------
        routing : MetadataRouter
            Routes ``fit`` metadata (``sample_weight`` among it) to the inner
            estimator's ``fit``, and each prediction method's to its namesake.
        """
        router = MetadataRouter(owner=self)
        router.add(
            estimator=self.estimator,
            method_mapping=MethodMapping()
            .add(callee="fit", caller="fit")
            .add(callee="predict", caller="predict")
            .add(callee="predict_proba", caller="predict_proba")
            .add(callee="predict_log_proba", caller="predict_log_proba")
            .add(callee="decision_function", caller="decision_function")
            .add(callee="score", caller="score"),
        )
        return router

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        return tags
