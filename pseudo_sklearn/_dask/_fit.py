"""``PseudoLabelClassifier.fit`` on a Dask pool: the loop, with the pool on the
workers and the model on the driver."""

import copy
import time
import uuid
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array

from .._checks import check_capabilities, given_teacher, warn_about_pool
from .._guard import _Guard, split_validation
from .._monitor import (
    _N_PROBE,
    _Monitor,
    iteration_record,
    print_record,
    restore_on_drift,
)
from .._schedules import batch_size
from .._selection import select
from .._settings import (
    averager,
    calibrate,
    iteration_threshold,
    max_iterations,
    planned_iterations,
    pseudo_scale,
    refit_mode,
    use_quota,
)
from .._teacher import _accepts_unlabeled, fit_teacher
from .._training_set import _TrainingSet
from ..utils._compat import _check_sample_weight, _raise_for_params, _routing_enabled
from ._draws import _PassOrder, _RowState
from ._inputs import (
    as_row_chunked,
    gather_labels,
    gather_rows,
    import_dask,
    probe_rows,
    weight_blocks,
)
from ._tasks import label_piece, load_chunk, summary, take


def _length(n):
    """An array of ``n`` zeros that takes no memory: the core functions that
    are handed it (``iteration_record``, ``pseudo_scale``) read only its length."""
    return np.broadcast_to(np.intp(0), (n,))


def check_incremental(clf):
    """Raise a ValueError naming the parameter when ``clf`` cannot learn from a
    pool that is never in memory."""
    name = type(clf.estimator).__name__
    if not hasattr(clf.estimator, "partial_fit"):
        raise ValueError(
            f"estimator={name} has no partial_fit, and a Dask X is never held "
            "in memory, so the model must learn from it in increments. Use an "
            "estimator with partial_fit (SGDClassifier(loss='log_loss'), "
            "Perceptron, MultinomialNB...), or fit on a sample of the pool "
            "computed into memory (X[:n].compute(), y[:n])."
        )
    if refit_mode(clf) != "partial":
        raise ValueError(
            f"refit={clf.refit!r} refits on every row labeled so far, which a "
            "Dask X does not hold in memory. Use refit='partial' (or 'auto') "
            f"with a Dask X; {name} has partial_fit."
        )
    if clf.teacher == "bagging":
        raise ValueError(
            "teacher='bagging' labels the whole pool at once and refits the "
            "estimator on every row, which a Dask X does not hold in memory. "
            "Use teacher='auto' (the estimator labels its own batches with a "
            "Dask X), None, or a teacher estimator."
        )
    if given_teacher(clf) is not None and _accepts_unlabeled(clf.teacher):
        raise ValueError(
            f"teacher={type(clf.teacher).__name__} is fitted on every row, "
            "unlabeled ones included, which a Dask X does not hold in memory. "
            "Use a teacher fitted on the labeled rows (any supervised "
            "classifier), or teacher=None."
        )


def clear_fitted(clf):
    """Remove every fitted attribute, so that a failed fit leaves none behind."""
    for name in [n for n in vars(clf) if n.endswith("_") and not n.startswith("_")]:
        del clf.__dict__[name]


def fit_dask(clf, X, y, sample_weight, fit_params):
    """Fit ``clf`` on a Dask ``X``; see :mod:`pseudo_sklearn._dask`."""
    clear_fitted(clf)
    # The core's warnings name the caller of ``fit`` through a stacklevel
    # counted for the in-memory path; here they are raised deeper, so they
    # are caught and raised again from the caller's line.
    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fitted = _DaskFit(clf, X, y, sample_weight, fit_params).run()
        except BaseException as exc:
            error = exc
    for warning in caught:
        # fit_dask <- PseudoLabelClassifier.fit <- _fit_context <- the caller
        warnings.warn(warning.message, warning.category, stacklevel=4)
    if error is not None:
        clear_fitted(clf)
        raise error
    for name, value in fitted.items():
        setattr(clf, name, value)
    return clf


class _DaskFit:
    """One fit: what was gathered to the driver, the per-row state, the draws.

    The labeled rows (``X_lab``, ``y_lab``) and a probe of the pool for the
    monitor are the only rows held here; the pool is ``blocks``, one lazy
    task per chunk of rows.
    """

    def __init__(self, clf, X, y, sample_weight, fit_params):
        routing = _routing_enabled()
        if not routing:
            _raise_for_params(fit_params, clf, "fit")
        elif fit_params:
            raise ValueError(
                f"Fit parameters {sorted(fit_params)} cannot be routed with a "
                "Dask X: only sample_weight is cut into the chunks of the pool. "
                "Drop them, or compute X into memory."
            )
        check_capabilities(clf, sample_weight, routing)
        check_incremental(clf)
        self.clf = clf
        self.X, self.feature_names = as_row_chunked(X)
        self.n_rows, self.n_features = self.X.shape
        self.labeled, self.y_lab = gather_labels(y, self.n_rows)
        if self.labeled.shape[0] == 0:
            raise ValueError(
                "y has no labeled row: every entry is -1. PseudoLabelClassifier "
                "first fits the estimator on the labeled rows; give at least one "
                "labeled row per class (-1 marks the unlabeled ones)."
            )
        self.weights = weight_blocks(sample_weight, self.X)
        self.rng = check_random_state(clf.random_state)

    def _gather(self):
        """The labeled rows, their weights, and the monitor's probe of the pool."""
        probe = probe_rows(self.n_rows, self.labeled, _N_PROBE)
        rows = gather_rows(self.X, np.concatenate([self.labeled, probe]))
        rows = check_array(rows, dtype=None, ensure_all_finite=False)
        n_lab = self.labeled.shape[0]
        self.X_lab, self.X_probe = rows[:n_lab], rows[n_lab:]
        self.w_lab = None
        if self.weights is not None:
            starts = np.cumsum((0,) + self.X.chunks[0])
            chunk_of = np.searchsorted(starts, self.labeled, side="right") - 1
            chunks = np.unique(chunk_of)
            blocks = self._dask.compute(*[self.weights[c] for c in chunks])
            w_lab = np.empty(n_lab)
            for chunk, block in zip(chunks, blocks, strict=True):
                mine = chunk_of == chunk
                w_lab[mine] = np.asarray(block)[self.labeled[mine] - starts[chunk]]
            self.w_lab = _check_sample_weight(w_lab, self.X_lab)

    def run(self):
        """Fit, and return the fitted attributes by name."""
        clf = self.clf
        self._dask, _ = import_dask()
        self._gather()
        n_lab = self.labeled.shape[0]
        train_rows, validation_rows = split_validation(
            np.arange(n_lab), self.y_lab, clf.validation_fraction, self.rng
        )
        self.train = _TrainingSet(
            self.y_lab,
            np.ones(n_lab, dtype=bool),
            train_rows,
            self.w_lab,
            clf.pseudo_weight,
        )
        self.n_unlabeled = self.n_rows - n_lab
        warn_about_pool(clf.sample_rate, self.n_unlabeled)
        estimator = self.train.fit(clone(clf.estimator), self.X_lab, train_rows, 0, {})
        fitted = {"classes_": estimator.classes_}
        self.classes = estimator.classes_
        # Codes index every labeled class, those only held out included.
        self.label_classes = np.unique(self.y_lab)
        self.teacher = None
        # The bagging committee of teacher="auto" needs the pool in memory;
        # with a Dask X the estimator labels its own batches.
        clf.__dict__.pop("teacher_", None)
        if given_teacher(clf) is not None:
            self.teacher = fit_teacher(
                clf.teacher, self.X_lab, self.y_lab, train_rows, validation_rows
            )
            fitted["teacher_"] = self.teacher
        trusted = calibrate(clf, self.X_lab, self.train, self.rng)
        fitted["threshold_"] = clf.threshold_
        self.guard = _Guard(
            self.X_lab,
            self.y_lab,
            validation_rows,
            patience=clf.n_iter_no_change,
            in_place=True,
        )
        self.guard.update(estimator, 0)
        self.max_iter = max_iterations(clf, self.n_unlabeled)
        self.state = _RowState(
            self.n_rows,
            self.labeled,
            np.searchsorted(self.label_classes, self.y_lab),
            self.label_classes.shape[0],
            self.max_iter,
        )
        self.order = _PassOrder(self.X.chunks[0], self.state, self.rng)
        if not trusted:
            self.state.n_pool = 0
        self.blocks = list(self.X.to_delayed().ravel())
        # The chunk that several batches draw from, held by a worker between
        # them so that a pass reads it once: {chunk: persisted block}.
        self._held_chunk = {}
        # The rows of one update on the driver: at most a chunk's worth, so
        # that the driver's memory does not grow with the batch.
        self.part_rows = max(self.X.chunks[0])
        fitted.update(self._iterate(estimator, train_rows))
        if not trusted:
            fitted["termination_condition_"] = "untrusted"
        fitted.update(self._finish(fitted.pop("model")))
        fitted["transduction_"] = self.state.transduction(self.label_classes)
        fitted["labeled_iter_"] = self.state.added_at
        fitted["n_features_in_"] = self.n_features
        if self.feature_names is not None:
            fitted["feature_names_in_"] = self.feature_names
        return fitted

    def _iterate(self, estimator, train_rows):
        """The loop of ``PseudoLabelClassifier._iterate``, batch by batch."""
        clf = self.clf
        history = []
        n_iter = 0
        termination = "all_labeled"
        y_train = self.y_lab[train_rows]
        shares = np.array([np.mean(y_train == c) for c in self.classes])
        # The quota compares label codes: each class by its code.
        self.class_prior = (np.searchsorted(self.label_classes, self.classes), shares)
        quota = use_quota(clf)
        n_planned = planned_iterations(clf, self.n_unlabeled, self.max_iter, quota)
        average = averager(clf, estimator)
        n_train = train_rows.shape[0]
        X_monitor = np.concatenate([self.X_lab[train_rows], self.X_probe])
        y_monitor = np.concatenate(
            [y_train, np.full(self.X_probe.shape[0], -1, dtype=self.y_lab.dtype)]
        )
        monitor = _Monitor(
            X_monitor,
            y_monitor,
            np.arange(n_train),
            np.arange(n_train, X_monitor.shape[0]),
        )
        monitor.update(estimator)
        # Partial refits change the supervised fit in place.
        restore = clf.drift_check == "restore"
        supervised = copy.deepcopy(estimator) if restore else estimator
        model = estimator
        try:
            while self.state.n_pool > 0:
                if self.max_iter is not None and n_iter >= self.max_iter:
                    termination = "max_iter"
                    break
                n_iter = it = n_iter + 1
                size = batch_size(clf.sample_rate, self.n_unlabeled, it)
                pieces = self.order.batch(size)
                labeler = estimator if self.teacher is None else self.teacher
                held, chosen = self._label(labeler, pieces, it)
                keep = np.concatenate([k for _, _, _, k in chosen])
                confidence = np.concatenate([c for _, _, c, _ in chosen])
                n_drawn = sum(positions.shape[0] for _, positions in pieces)
                record = iteration_record(
                    it, _length(n_drawn), keep, confidence, self.state.n_pool
                )
                stop = False
                if keep.any():
                    start = time.perf_counter()
                    estimator = self._update(
                        estimator, pieces, held, chosen, train_rows, it
                    )
                    if average is not None:
                        average.add(estimator)
                    record["fit_time"] = time.perf_counter() - start
                    model = estimator if average is None else average.model(estimator)
                    monitor.update(model, record)
                    stop = self.guard.update(model, it)
                else:
                    self.guard.repeat()
                del held
                if self.guard.active:
                    record["validation_score"] = self.guard.scores[-1]
                history.append(record)
                if clf.verbose:
                    print_record(record, n_planned)
                if not keep.any():
                    termination = "no_change"
                    break
                if stop:
                    termination = "no_improvement"
                    break
        except Exception as exc:
            if hasattr(exc, "add_note"):
                exc.add_note(
                    f"PseudoLabelClassifier.fit on a Dask X stopped in iteration "
                    f"{n_iter}; the estimator is left unfitted."
                )
            raise
        labeled_scores = np.asarray(monitor.labeled_scores)
        drift_restored = False
        acts = not self.guard.active and given_teacher(clf) is None
        if n_iter and monitor.drifted and acts:
            model, drift_restored = restore_on_drift(
                clf.drift_check, labeled_scores, model, supervised
            )
        return {
            "model": model,
            "history_": history,
            "n_iter_": n_iter,
            "termination_condition_": termination,
            "labeled_scores_": labeled_scores,
            "drift_restored_": drift_restored,
        }

    def _label(self, labeler, pieces, iteration):
        """Label a batch on the workers; choose the rows to keep on the driver.

        Returns the candidates held on the workers (one per piece) and, per
        piece, ``(positions, codes, confidence, keep)`` of its candidates.
        """
        dask = self._dask
        clf = self.clf
        how = {
            "threshold": iteration_threshold(clf, iteration),
            "use_proba": hasattr(labeler, "predict_proba"),
            "chunk_size": clf.chunk_size,
            "classes": self.label_classes,
            "code_dtype": self.state.codes.dtype,
        }
        # Keys of their own: Dask names an estimator by its parameters, and
        # every iteration's model has the same ones.
        token = uuid.uuid4().hex
        labeler = dask.delayed(labeler, traverse=False, name=f"labeler-{token}")
        tasks = [
            dask.delayed(label_piece, pure=True)(
                labeler,
                self._source(chunk),
                positions,
                None if self.weights is None else self.weights[chunk],
                how=how,
                dask_key_name=f"pseudo-label-{token}-{i}",
            )
            for i, (chunk, positions) in enumerate(pieces)
        ]
        held = dask.persist(*tasks)
        current = self.order.current_chunk
        self._held_chunk = {c: b for c, b in self._held_chunk.items() if c == current}
        summaries = dask.compute(*[dask.delayed(summary)(h) for h in held])
        codes = np.concatenate([codes for _, codes, _ in summaries])
        confidence = np.concatenate([conf for _, _, conf in summaries])
        keep = select(codes, confidence, None, self.class_prior, use_quota(clf))
        splits = np.cumsum([p.shape[0] for p, _, _ in summaries])[:-1]
        chosen = [
            (positions, codes, conf, k)
            for (positions, codes, conf), k in zip(
                summaries, np.split(keep, splits), strict=True
            )
        ]
        return held, chosen

    def _source(self, chunk):
        """The chunk a piece is labeled from: the one held on a worker when the
        next batch will draw from it too, else a read of its block."""
        if chunk in self._held_chunk:
            return self._held_chunk[chunk]
        if chunk != self.order.current_chunk:
            return self.blocks[chunk]
        dask = self._dask
        key = f"pseudo-chunk-{uuid.uuid4().hex}"
        (held,) = dask.persist(
            dask.delayed(load_chunk)(self.blocks[chunk], dask_key_name=key)
        )
        self._held_chunk[chunk] = held
        return held

    def _update(self, estimator, pieces, held, chosen, train_rows, iteration):
        """Bring the kept rows to the driver, a part at a time, and
        ``partial_fit`` on each part with its share of the labeled rows.

        One part (the kept rows of at most a chunk) is the in-memory update:
        one ``partial_fit`` on the labeled rows and the new ones. More parts
        split both over several calls, so that each labeled and each new row
        is seen once per iteration, as in memory.
        """
        dask = self._dask
        n_added = sum(int(k.sum()) for _, _, _, k in chosen)
        scale = pseudo_scale(self.clf, estimator, train_rows, _length(n_added))
        for (chunk, _), (positions, codes, _, keep) in zip(pieces, chosen, strict=True):
            if keep.any():
                self.state.add(
                    self.order.starts[chunk], positions[keep], codes[keep], iteration
                )
        parts, rows = [[]], 0
        for i, (_, _, _, keep) in enumerate(chosen):
            n_kept = int(keep.sum())
            if not n_kept:
                continue
            if parts[-1] and rows + n_kept > self.part_rows:
                parts.append([])
                rows = 0
            parts[-1].append(i)
            rows += n_kept
        shares = [train_rows]
        if len(parts) > 1:
            shares = np.array_split(self.rng.permutation(train_rows), len(parts))
        for part, share in zip(parts, shares, strict=True):
            fetched = dask.compute(
                *[dask.delayed(take)(held[i], chosen[i][3]) for i in part]
            )
            new = [chosen[i] for i in part]
            estimator = self._partial_fit(
                estimator,
                share,
                [rows for rows, _ in fetched],
                None if self.w_lab is None else [w for _, w in fetched],
                np.concatenate([codes[keep] for _, codes, _, keep in new]),
                np.concatenate([conf[keep] for _, _, conf, keep in new]),
                iteration,
                scale,
            )
            del fetched
        return estimator

    def _partial_fit(self, estimator, share, rows, weights, codes, conf, it, scale):
        """One ``partial_fit`` on labeled rows ``share`` and new ``rows``,
        through a ``_TrainingSet`` of that part (its weights, its call)."""
        n_lab = share.shape[0]
        n_new = codes.shape[0]
        X_part = np.concatenate([self.X_lab[share], *rows])
        y_part = np.concatenate(
            [self.y_lab[share], np.full(n_new, -1, dtype=self.y_lab.dtype)]
        )
        labeled = np.arange(n_lab + n_new) < n_lab
        sample_weight = None
        if weights is not None:
            sample_weight = np.concatenate([self.w_lab[share], *weights])
        part = _TrainingSet(
            y_part, labeled, np.arange(n_lab), sample_weight, self.clf.pseudo_weight
        )
        part.add(np.arange(n_lab, n_lab + n_new), self.label_classes[codes], conf, it)
        return part.fit(
            estimator,
            X_part,
            part.rows,
            it,
            {},
            method="partial_fit",
            classes=self.classes,
            scale=scale,
        )

    def _finish(self, model):
        """The guard's choice, or ``model``; as ``PseudoLabelClassifier._finish``."""
        guard = self.guard
        if not guard.active:
            return {"estimator_": model}
        fitted = {
            "best_iteration_": guard.best_iteration,
            "validation_scores_": np.asarray(guard.scores),
        }
        if guard.best_iteration > 0:
            fitted["estimator_"] = guard.best_estimator
            return fitted
        if len(guard.scores) > 1:
            guard.warn_fallback()
        every = np.arange(self.labeled.shape[0])
        fitted["estimator_"] = self.train.fit(
            clone(self.clf.estimator), self.X_lab, every, 0, {}
        )
        return fitted
