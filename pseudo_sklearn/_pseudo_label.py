"""PseudoLabelClassifier: iterative pseudo-labeling around any classifier."""

import copy
import time

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    clone,
)
from sklearn.utils import check_random_state, get_tags

from ._checks import (
    check_capabilities,
    route_fit_params,
    validate_fit_data,
    warn_about_pool,
)
from ._delegation import _DelegateToEstimatorMixin, is_dask_collection
from ._guard import _Guard, split_validation
from ._labeling import label_rows
from ._monitor import _Monitor, iteration_record, print_record, restore_on_drift
from ._schedules import batch_size
from ._selection import select
from ._settings import (
    PARAMETER_CONSTRAINTS,
    averager,
    calibrate,
    given_teacher,
    has_teacher,
    iteration_threshold,
    labeled_by_committee,
    max_iterations,
    planned_iterations,
    pseudo_scale,
    refit_mode,
    use_quota,
    uses_committee,
)
from ._teacher import fit_committee, fit_teacher
from ._training_set import _Pool, _TrainingSet
from .utils._compat import (
    _fit_context,
    _raise_for_params,
    _routing_enabled,
)

__all__ = ["PseudoLabelClassifier"]

# Fitted attributes that only some settings define: a refit with other settings
# must not leave the previous fit's values behind.
_OPTIONAL_FITTED = ("teacher_", "best_iteration_", "validation_scores_")


class PseudoLabelClassifier(
    _DelegateToEstimatorMixin, ClassifierMixin, MetaEstimatorMixin, BaseEstimator
):
    """Pseudo-labeling (self-training) meta-estimator around any classifier.

    Rows whose label is ``-1`` are unlabeled. The classifier is first fitted on
    the labeled rows. Each iteration then draws a random batch from the pool of
    unlabeled rows, labels it with the current model (or ``teacher``), keeps
    the labels that clear ``threshold`` and the per-class quotas, and updates
    the model with them (``refit``). Rows that are not kept go back to the
    pool. The returned model has been trained on every row that was added,
    unless the checks (``drift_check``, ``validation_fraction``) return the
    supervised fit instead. The defaults are the safe settings of the user
    guide; ``teacher=None, threshold=None, per_class_quota=False, max_iter=None,
    average=False, max_pseudo_ratio=None, drift_check=None`` is the published
    algorithm.

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

    threshold : float, callable, "auto" or None, default="auto"
        When set, in [0, 1): keep only the pseudo-labels whose highest
        ``predict_proba`` is at least ``threshold``. ``None`` keeps them all,
        as the published algorithm does. A callable ``threshold(iteration)``
        makes a schedule, e.g. strict first and looser as the model improves.
        ``"auto"`` calibrates one on the labeled rows when the refits are full
        or warm (a model refitted from scratch on its own labels memorises
        them, errors included): the estimator is cross-validated on the
        labeled rows (up to 3 folds) and the threshold is the lowest
        confidence above which its out-of-fold predictions are right 90% of
        the time (``threshold_``). Where no confidence is that precise, or a
        class has a single labeled row, nothing is pseudo-labeled and the
        supervised fit is returned with a warning. With partial refits, a
        teacher, or an estimator without ``predict_proba``, ``"auto"`` is
        ``None``.

    per_class_quota : bool or "auto", default="auto"
        When True, the rows kept from a batch are shared among the predicted
        classes in proportion to the class frequencies of the labeled rows:
        each class keeps at most its share, its most confident rows first, and
        the rest go back to the pool. This stops one class from swallowing the
        pool, the main way pseudo-labeling makes a weak model worse. Needs
        ``predict_proba``. ``"auto"`` is True when the estimator labels the
        pool itself and has ``predict_proba``, False with a ``teacher`` (whose
        labels do not feed back into it) or without ``predict_proba``;
        ``False`` is the published algorithm.

    pseudo_weight : float, "confidence" or callable, default=1.0
        Weight of the pseudo-labeled rows, passed to the estimator's ``fit``
        as ``sample_weight`` (labeled rows keep weight 1, times any
        ``sample_weight`` given to ``fit``). A float is a constant weight;
        ``"confidence"`` weights each row by the probability of its
        pseudo-label; a callable ``pseudo_weight(iteration) -> float`` gives
        the weight of all pseudo-labeled rows at each refit, e.g. Lee's ramp
        ``functools.partial(alpha_schedule, T1=2, T2=10, alpha_f=1.0)``.

    teacher : estimator object, "auto", "bagging" or None, default="auto"
        What labels the pool. ``None``: the current model (self-training, the
        published algorithm). ``"bagging"``: a committee of 10 copies of the
        estimator, each fitted on a bootstrap sample of the labeled rows (drawn
        within each class), labels the whole pool at once by its mean
        probability, and the estimator is refitted once on the labeled rows
        plus those labels. The committee is used only when its out-of-bag
        predictions of the labeled rows beat the estimator's cross-validated
        ones by more than noise (``b - c > sqrt(b + c)``, ``b`` rows right only
        with the committee, ``c`` only with the estimator); otherwise the
        supervised fit is returned with a warning
        (``termination_condition_="untrusted"``). A model refitted from
        scratch on its own labels reproduces them, and a tree exactly; a
        committee gives it labels it could not produce alone. ``"auto"`` is
        ``"bagging"`` unless the refits are partial updates of a linear model
        (``SGDClassifier``...), which are averaged and do learn from their own
        labels (the MNIST benchmark), and is then ``None``. An estimator: this
        classifier labels the pool and the wrapped estimator is
        the student that is trained on the labels. It sees the same ``X`` as
        the student (a Pipeline teacher can select or transform columns). A
        teacher that takes -1 rows itself (``LabelSpreading``,
        ``LabelPropagation``, ``SelfTrainingClassifier`` or a
        PseudoLabelClassifier, possibly at the end of a Pipeline) is fitted on
        every row; any other teacher on the labeled rows. Fitted once, before
        the first iteration. A teacher's labels do not feed back into it, so
        ``threshold`` and ``per_class_quota`` default to off with one.

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

    max_iter : int, None or "auto", default="auto"
        Maximum number of iterations; ``None`` runs until the pool is empty or
        an iteration adds nothing. ``max_iter=0`` is a plain supervised fit.
        ``"auto"`` is the number of batches that draw the initial pool once
        (25 with ``sample_rate=0.04``), and ``None`` with a callable
        ``sample_rate``: rows that a threshold or a quota sends back to the pool
        then stay unlabeled rather than being drawn again and again.

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

    average : bool or "auto", default="auto"
        When True, the returned model of a linear estimator (one with ``coef_``
        and ``intercept_``, or a Pipeline ending in one) has the mean of the
        coefficients the refits produced, iteration 1 to the last (Polyak
        averaging); the current, unaveraged model still labels the next batch.
        A partial update moves the model toward its own latest pseudo-labels,
        so its accuracy swings from one iteration to the next; the average
        settles. ``"auto"`` averages when the refit is ``"partial"`` and the
        estimator is linear; ``False`` is the published algorithm.

    max_pseudo_ratio : float or None, default=3.0
        With ``refit="partial"``: in each partial update, the new
        pseudo-labeled rows together weigh at most ``max_pseudo_ratio`` times
        the labeled rows (each pseudo-labeled row's weight is multiplied by
        ``min(1, max_pseudo_ratio * n_labeled / n_added)``), so that a batch of
        40,000 self-labels from a huge pool cannot outvote 1,000 true labels in
        one update. It changes nothing while batches are at most that many
        times the labeled rows (MNIST: 2,360 for 1,000 labels). Needs
        ``sample_weight`` in ``partial_fit``; ``None`` is the published update.

    drift_check : {"restore", "warn"} or None, default="restore"
        The free check on the labeled training rows. After each iteration the
        model's accuracy on them is recorded in ``history_``
        (``"labeled_score"``), and ``"labeled_drift"`` says whether it fell
        below the supervised fit's by more than noise (2 points, or two
        standard errors of the difference when larger). If the final model has
        drifted, ``"restore"`` returns the supervised fit instead and warns,
        ``"warn"`` only warns, ``None`` does neither. With
        ``validation_fraction`` the guard decides instead, and with a
        ``teacher`` the check is recorded only: a student of a better teacher
        fits its few labeled rows less closely and still generalises better.

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
            "no_improvement", "untrusted"}
        Why fitting stopped: the pool is empty, ``max_iter`` was reached, an
        iteration added no row, ``n_iter_no_change`` iterations did not
        improve the validation score, or ``threshold="auto"`` found no
        confidence precise enough to pseudo-label at all.

    threshold_ : float or None
        The confidence threshold used: ``threshold`` as given (None for a
        schedule), or the one ``threshold="auto"`` calibrated.

    teacher_ : estimator object
        The fitted teacher; only when one labeled the pool (a ``teacher``
        estimator, or the committee of ``teacher="auto"``/``"bagging"``). The
        committee's ``trusted``, ``gained`` and ``lost`` say whether it beat
        the estimator on the labeled rows, and by how many rows.

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
        when none was added), ``"n_pool"`` (unlabeled rows left in the pool),
        ``"fit_time"`` (seconds of the refit), ``"labeled_score"`` (accuracy of
        the model to return on the labeled training rows), ``"labeled_drift"``
        (whether that fell below the supervised fit's by more than noise) and
        ``"prediction_change"`` (share of a fixed sample of up to 2,000
        unlabeled rows whose predicted class changed since the previous
        iteration), plus ``"validation_score"`` with ``validation_fraction``.
        An iteration that added nothing has only the first six keys (and
        ``"validation_score"``). ``pandas.DataFrame(history_)`` makes it a
        table.

    labeled_scores_ : ndarray of shape (n_iterations + 1,)
        Accuracy on the labeled training rows after the supervised fit (index
        0) and after each iteration that added rows.

    drift_restored_ : bool
        Whether ``drift_check="restore"`` returned the supervised fit because
        the final model had drifted on the labeled rows.

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
    unsupervised steps (scaling, PCA) on all rows. With string class labels, the
    integer ``-1`` and the string ``"-1"`` both mark unlabeled rows, in object
    arrays, NumPy string arrays and pandas Series alike (the user guide has the
    rule for each kind of ``y``); ``transduction_`` is then an object array.
    Labels that mix strings and numbers are refused.

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
    ...     LogisticRegression(max_iter=1000), teacher=None, sample_rate=0.25,
    ...     random_state=0,
    ... )
    >>> clf.fit(X, y_semi).n_iter_
    4
    >>> clf.termination_condition_
    'max_iter'
    >>> clf.history_[-1]["labeled_score"], clf.drift_restored_
    (1.0, False)

    The per-class quotas sent some rows back to the pool, which a fifth
    iteration would draw again; the published loop labels every row:

    >>> published = clf.set_params(per_class_quota=False, max_iter=None)
    >>> bool((published.fit(X, y_semi).transduction_ != -1).all())
    True

    A decision tree refitted on its own labels learns nothing from them; by
    default a bagging committee of trees labels the pool, since its
    out-of-bag predictions beat the tree's own on the labeled rows:

    >>> from sklearn.tree import DecisionTreeClassifier
    >>> tree = PseudoLabelClassifier(DecisionTreeClassifier(random_state=0),
    ...                              random_state=0).fit(X, y_semi)
    >>> tree.teacher_.trusted, tree.n_iter_
    (True, 1)
    >>> supervised = DecisionTreeClassifier(random_state=0)
    >>> supervised = supervised.fit(X[y_semi != -1], y[y_semi != -1])
    >>> round(supervised.score(X, y), 3), round(tree.score(X, y), 3)
    (0.771, 0.869)
    """

    _parameter_constraints: dict = PARAMETER_CONSTRAINTS

    def __init__(
        self,
        estimator,
        *,
        sample_rate=0.04,
        threshold="auto",
        per_class_quota="auto",
        pseudo_weight=1.0,
        teacher="auto",
        validation_fraction=None,
        n_iter_no_change=None,
        max_iter="auto",
        refit="auto",
        average="auto",
        max_pseudo_ratio=3.0,
        drift_check="restore",
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
        self.average = average
        self.max_pseudo_ratio = max_pseudo_ratio
        self.drift_check = drift_check
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

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
            Class labels, with -1 for unlabeled rows (see the user guide for
            string labels).

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
        if is_dask_collection(X):
            # A pool larger than memory: the leaf module that imports Dask.
            from ._dask import fit_dask

            return fit_dask(self, X, y, sample_weight, fit_params)
        routing = _routing_enabled()
        if not routing:
            _raise_for_params(fit_params, self, "fit")
        check_capabilities(self, sample_weight, routing)
        X, y, labeled = validate_fit_data(self, X, y)
        sample_weight, est_params = route_fit_params(
            self, X, sample_weight, fit_params, routing
        )
        for attribute in _OPTIONAL_FITTED:
            self.__dict__.pop(attribute, None)

        rng = check_random_state(self.random_state)
        train_rows, validation_rows = split_validation(
            np.flatnonzero(labeled), y, self.validation_fraction, rng
        )
        train = _TrainingSet(y, labeled, train_rows, sample_weight, self.pseudo_weight)
        pool = _Pool(np.flatnonzero(~labeled), rng)
        warn_about_pool(self.sample_rate, len(pool))

        estimator = train.fit(clone(self.estimator), X, train_rows, 0, est_params)
        self.classes_ = estimator.classes_
        trusted = True
        if uses_committee(self, estimator) and len(pool) > 0 and self.max_iter != 0:
            self.teacher_ = fit_committee(self, X, train, est_params, rng)
            trusted = self.teacher_.trusted
        elif given_teacher(self) is not None:
            self.teacher_ = fit_teacher(self.teacher, X, y, train_rows, validation_rows)
        trusted = calibrate(self, X, train, rng) and trusted
        guard = _Guard(
            X,
            y,
            validation_rows,
            patience=self.n_iter_no_change,
            in_place=refit_mode(self) != "full",
        )
        guard.update(estimator, 0)

        if not trusted:
            pool.remove(np.arange(len(pool)))
        estimator = self._iterate(X, train, pool, estimator, guard, est_params)
        if not trusted:
            self.termination_condition_ = "untrusted"
        self.transduction_ = train.labels
        self.labeled_iter_ = train.added_at
        self.estimator_ = self._finish(X, labeled, train, estimator, guard, est_params)
        return self

    def _iterate(self, X, train, pool, estimator, guard, est_params):
        """The loop: draw, label, select, add, refit, check, until done.

        Returns the model to install: the last refit, or the average of the
        refits' coefficients (``average``).
        """
        self.history_ = []
        self.n_iter_ = 0
        self.termination_condition_ = "all_labeled"
        shares = [np.mean(train.labels[train.labeled_rows] == c) for c in self.classes_]
        class_prior = (self.classes_, np.array(shares))
        quota = use_quota(self)
        committee = labeled_by_committee(self)
        max_iter = 1 if committee else max_iterations(self, pool.n_initial)
        n_planned = planned_iterations(self, pool.n_initial, max_iter, quota)
        average = averager(self, estimator)
        monitor = _Monitor(X, train.labels, train.labeled_rows, pool.rows)
        monitor.update(estimator)
        # Partial and warm refits change the supervised fit in place.
        in_place = self.drift_check == "restore" and refit_mode(self) != "full"
        supervised = copy.deepcopy(estimator) if in_place else estimator
        model = estimator
        while len(pool) > 0:
            if max_iter is not None and self.n_iter_ >= max_iter:
                self.termination_condition_ = "max_iter"
                break
            self.n_iter_ = it = self.n_iter_ + 1
            # The committee's labels do not change: the whole pool at once.
            size = len(pool) if committee else self.sample_rate
            taken = pool.draw(batch_size(size, pool.n_initial, it))
            drawn = pool.rows[taken]
            labeler = self.teacher_ if has_teacher(self) else estimator
            labels, confidence = label_rows(
                labeler,
                X,
                drawn,
                use_proba=hasattr(labeler, "predict_proba"),
                chunk_size=self.chunk_size,
                n_jobs=self.n_jobs,
            )
            threshold = iteration_threshold(self, it)
            keep = select(labels, confidence, threshold, class_prior, quota)
            record = iteration_record(it, drawn, keep, confidence, len(pool))
            stop = False
            if keep.any():
                train.add(drawn[keep], labels[keep], confidence[keep], it)
                pool.remove(taken[keep])
                start = time.perf_counter()
                estimator = self._refit(
                    estimator, X, train, drawn[keep], it, est_params
                )
                if average is not None:
                    average.add(estimator)
                record["fit_time"] = time.perf_counter() - start
                model = estimator if average is None else average.model(estimator)
                monitor.update(model, record)
                stop = guard.update(model, it)
            if not keep.any():
                guard.repeat()
            self._log(record, guard, n_planned)
            if not keep.any():
                self.termination_condition_ = "no_change"
                break
            if stop:
                self.termination_condition_ = "no_improvement"
                break
        self.labeled_scores_ = np.asarray(monitor.labeled_scores)
        self.drift_restored_ = False
        # A student of a better teacher fits its few labeled rows less closely
        # and generalises better: there the check records but does not act.
        acts = not guard.active and not has_teacher(self)
        if self.n_iter_ and monitor.drifted and acts:
            model, self.drift_restored_ = restore_on_drift(
                self.drift_check, self.labeled_scores_, model, supervised
            )
        return model

    def _refit(self, estimator, X, train, new_rows, iteration, est_params):
        """The model after adding ``new_rows`` to the training set."""
        # The committee's student is refitted once, on every row.
        mode = "full" if labeled_by_committee(self) else refit_mode(self)
        if mode == "partial":
            # One partial_fit on the new rows with the labeled rows, so that the
            # true labels keep anchoring the model while pseudo-labels stream in.
            # Other fit parameters belong to fit, not to partial_fit.
            rows = np.concatenate([train.labeled_rows, new_rows])
            scale = pseudo_scale(self, estimator, train.labeled_rows, new_rows)
            return train.fit(
                estimator,
                X,
                rows,
                iteration,
                {},
                method="partial_fit",
                classes=self.classes_,
                scale=scale,
            )
        if mode == "full":
            estimator = clone(self.estimator)
        else:
            estimator = estimator.set_params(warm_start=True)
        return train.fit(estimator, X, train.rows, iteration, est_params)

    def _finish(self, X, labeled, train, estimator, guard, est_params):
        """The model to return: the guard's choice, or the last one."""
        if not guard.active:
            return estimator
        self.best_iteration_ = guard.best_iteration
        self.validation_scores_ = np.asarray(guard.scores)
        if guard.best_iteration > 0:
            return guard.best_estimator
        if self.n_iter_ > 0:
            guard.warn_fallback()
        # Falling back: the supervised model on every labeled row, the held-out
        # ones included, exactly as a plain fit would be.
        labeled_rows = np.flatnonzero(labeled)
        return train.fit(clone(self.estimator), X, labeled_rows, 0, est_params)

    def _log(self, record, guard, n_planned):
        if guard.active:
            record["validation_score"] = guard.scores[-1]
        self.history_.append(record)
        if self.verbose:
            print_record(record, n_planned)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        return tags
