"""What the two pseudo-labeling networks share: ``fit`` and ``partial_fit`` over
labeled and unlabeled rows, the rule for labels, and the epoch's record."""

import numpy as np
import torch
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d, validate_data

from .._labels import check_partial_labels
from ._classifier import TorchClassifier


def _numbers_as_numbers(labels):
    """Numbers in an object array as a numeric array (type_of_target refuses
    them as they are), in the type NumPy finds for all of them: ``[1, 1.5]``
    becomes float, not the first label's int. Strings stay as they are."""
    if labels.dtype == object and len(labels) and not isinstance(labels[0], str):
        return np.array(labels.tolist())
    return labels


class _PseudoLabelingNetwork(TorchClassifier):
    """Base of :class:`OnlinePseudoLabelClassifier` and
    :class:`FixMatchClassifier`.

    A subclass provides ``_n_warmup()`` (supervised epochs before the first
    pseudo-labeling pass), ``_start(n_features, classes)`` (build the network
    and reset the state), ``_data(X, y, labeled)`` (the rows on the device)
    and ``_fit_epoch(data, eval_set)`` (one epoch and its ``history_``
    record); it may extend ``_check_params()`` and ``_end_fit()``.
    """

    def fit(self, X, y, eval_set=None):
        """Warm up on the labeled rows, then pseudo-label for ``max_epochs``.

        The warm-up is ``T1`` supervised epochs for
        :class:`OnlinePseudoLabelClassifier` and ``warmup_epochs`` for
        :class:`FixMatchClassifier`. A fit that raises leaves the estimator as
        it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Labeled and unlabeled rows.
        y : array-like of shape (n_samples,)
            Labels, with -1 for unlabeled rows.
        eval_set : tuple (X_val, y_val), default=None
            Labeled validation data whose accuracy is recorded in ``history_``
            after each epoch; checked before training starts.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._validate_params()
        self._check_params()
        with self._keep_state_on_error():
            data, eval_set = self._prepare(X, y, eval_set, start=True)
            with self._rng_context():
                for _ in range(self._n_warmup() + self.max_epochs):
                    self._fit_epoch(data, eval_set)
                self._end_fit()
        return self

    def partial_fit(self, X, y, classes=None, eval_set=None):
        """Train one epoch: a supervised epoch during the warm-up, else one
        pseudo-labeling pass over the unlabeled rows.

        A call that raises leaves the estimator as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Labeled and unlabeled rows.
        y : array-like of shape (n_samples,)
            Labels, with -1 for unlabeled rows.
        classes : array-like of shape (n_classes,), default=None
            All classes, without the -1 of unlabeled rows; required on the
            first call unless the labeled rows hold them all, ignored
            afterwards.
        eval_set : tuple (X_val, y_val), default=None
            Labeled validation data whose accuracy is recorded in ``history_``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        first_call = not hasattr(self, "module_")
        if first_call:
            self._validate_params()
            self._check_params()
        with self._keep_state_on_error():
            data, eval_set = self._prepare(
                X, y, eval_set, start=first_call, classes=classes
            )
            with self._rng_context():
                self._fit_epoch(data, eval_set)
        return self

    def _prepare(self, X, y, eval_set, *, start, classes=None):
        """The rows on the device and the checked ``eval_set``; with ``start``,
        a fresh network for ``classes`` (default: the labels seen)."""
        X, y = validate_data(self, X, y, dtype=np.float32, reset=start)
        y, labeled, seen = self._split_y(y)
        # Before any training: a bad eval_set must not cost an epoch.
        eval_set = self._check_eval_set(eval_set)
        if start:
            classes = seen if classes is None else self._check_classes(classes)
            self._start(X.shape[1], classes)
        self._check_known(seen)
        return self._data(X, y, labeled), eval_set

    @staticmethod
    def _check_classes(classes):
        """``classes`` of a first ``partial_fit``, sorted, without the marker
        of unlabeled rows (a class for it would let ``predict`` return -1)."""
        classes, labeled = check_partial_labels(classes, param="classes")
        if not labeled.all():
            raise ValueError(
                "classes holds -1, which marks unlabeled rows and is not a class; "
                "pass the labels only, e.g. classes=np.unique(y[y != -1])."
            )
        return np.unique(_numbers_as_numbers(classes))

    def _check_eval_set(self, eval_set):
        """``eval_set`` as ``(X_val, y_val)`` checked against the fitted columns."""
        if eval_set is None:
            return None
        if len(eval_set) != 2:
            raise ValueError(
                f"eval_set must be a pair (X_val, y_val); got {len(eval_set)} items."
            )
        X_val, y_val = eval_set
        X_val = validate_data(self, X_val, dtype=np.float32, reset=False)
        y_val = column_or_1d(y_val)
        if len(y_val) != len(X_val):
            raise ValueError(
                f"eval_set has {len(X_val)} rows in X_val but {len(y_val)} labels "
                "in y_val; pass one label per row."
            )
        return X_val, y_val

    def _check_params(self):
        """Checks across parameters, beyond ``_parameter_constraints``."""

    def _end_fit(self):
        """What ``fit`` does after its last epoch."""

    def _split_y(self, y):
        """Labels with -1 on unlabeled rows, the labeled mask, the classes seen."""
        y, labeled = check_partial_labels(y)
        if not labeled.any():
            raise ValueError(
                "y has no labeled row (every label is -1); label at least one "
                "row per class."
            )
        y_labeled = _numbers_as_numbers(y[labeled])
        check_classification_targets(y_labeled)
        return y, labeled, np.unique(y_labeled)

    def _class_index(self, y):
        """Position in ``classes_`` of each label of ``y`` (all known)."""
        return np.searchsorted(self.classes_, y.astype(self.classes_.dtype))

    def _device_accuracy(self, module, X, y):
        """Accuracy of ``module`` on device rows ``X`` with class indices ``y``."""
        module.eval()
        correct = torch.zeros((), device=self.device_)
        index = torch.arange(len(X), device=self.device_)
        with torch.inference_mode(), self._autocast():
            for chunk in index.split(4096):
                predicted = module(X.take(chunk)).argmax(dim=1)
                correct += (predicted == y.take(chunk)).sum()
        return float(correct) / max(len(X), 1)

    def _print_record(self, record):
        shown = ", ".join(
            f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
            for k, v in record.items()
        )
        print(shown, flush=True)
