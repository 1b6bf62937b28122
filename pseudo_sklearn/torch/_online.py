"""Online pseudo-labeling of a neural network, as in Lee (2013)."""

import math
import time
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d, validate_data

from .._schedules import alpha_schedule
from ._classifier import TorchClassifier, _DeviceArray


def _unlabeled_mask(y):
    if y.dtype.kind in "iufO":
        return np.asarray(y == -1, dtype=bool)
    return np.zeros(y.shape, dtype=bool)


class OnlinePseudoLabelClassifier(TorchClassifier):
    """Online pseudo-labeling of a neural network, as in Lee (2013).

    Rows with ``y == -1`` are unlabeled. Training first runs ``T1`` supervised
    epochs on the labeled rows (the warm-up). Then each epoch is one pass over
    the unlabeled rows in batches of ``unlabeled_batch_size``, as in the
    published PyTorch loop: for each batch, the current network labels it in
    eval mode (no dropout, no gradient), then takes one training step, in
    train mode on the same device batch, on ``alpha(t)`` times the loss
    against those labels; before the first batch and after every
    ``labeled_every`` batches, it trains one full epoch on the labeled rows.

    Time ``t`` counts labeled epochs: each warm-up epoch and each labeled epoch
    inside the pseudo-labeling passes adds one, so the first pass starts at
    ``t = T1``. ``alpha(t)`` (:func:`pseudo_sklearn.alpha_schedule`)
    is 0 up to ``T1``, linear up to ``alpha_f`` at ``T2``, and ``alpha_f``
    after. With the published 59,000 unlabeled MNIST images, batches of 256
    and ``labeled_every=50``, each pass holds 231 batches and advances ``t``
    by 5, so ``alpha`` reaches ``alpha_f`` after 120 passes. While
    ``alpha(t) = 0`` the unlabeled step is skipped (the published loop takes a
    zero-loss step there, which changes nothing for its plain SGD).

    Parameters
    ----------
    module : subclass of torch.nn.Module, default=None
        Class of the network; ``None`` means :class:`MLPModule`. Use
        :class:`ReferenceCNN` for the published MNIST setting.
    module_params : dict, default=None
        Keyword arguments of ``module``.
    criterion : subclass of torch.nn.Module, default=None
        Loss class, built with ``reduction="none"``; ``None`` means
        ``torch.nn.CrossEntropyLoss`` (the negative log-likelihood for modules
        that output log-probabilities, as ``ReferenceCNN`` does).
    criterion_params : dict, default=None
        Keyword arguments of ``criterion``.
    optimizer : {"sgd", "adam", "adamw"} or subclass of torch.optim.Optimizer, \
            default="sgd"
        Optimizer, shared by labeled and unlabeled steps.
    lr : float, default=0.1
        Learning rate.
    optimizer_params : dict, default=None
        Further keyword arguments of the optimizer.
    max_epochs : int, default=150
        Number of pseudo-labeling passes over the unlabeled rows after the
        warm-up; ``fit`` runs ``T1 + max_epochs`` epochs in all.
    batch_size : int, default=32
        Rows per step on labeled data.
    unlabeled_batch_size : int, default=256
        Rows per step on unlabeled data.
    T1 : int, default=100
        Number of supervised warm-up epochs; ``alpha`` is 0 up to ``t = T1``.
    T2 : int, default=700
        Time at which ``alpha`` reaches ``alpha_f``. Must be >= ``T1``.
    alpha_f : float, default=3.0
        Final weight of the pseudo-label loss.
    labeled_every : int, default=50
        Train one labeled epoch every ``labeled_every`` unlabeled batches.
    threshold : float, default=None
        When set, only pseudo-labels whose predicted probability is at least
        ``threshold`` count in the loss (the others get weight 0; the batch
        loss is still divided by the batch size). ``None`` keeps them all, as
        published.
    shuffle : bool, default=True
        Whether to draw batches in a random order.
    device : str, default="auto"
        Torch device; ``"auto"`` is CUDA when available, else CPU.
    amp : bool, default=False
        Train and label under bfloat16 autocast; CUDA only.
    compile : bool, default=False
        Run the module through ``torch.compile``; CUDA only.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, dropout and batch order; with an int, training
        on CPU is deterministic.
    verbose : int, default=0
        Print a line per epoch when positive.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels seen among the labeled rows.
    n_features_in_ : int
        Number of features seen in ``fit``.
    module_ : torch.nn.Module
        The trained network.
    optimizer_ : torch.optim.Optimizer
        The optimizer.
    device_ : str
        Device the network lives on.
    n_iter_ : int
        Number of epochs trained, warm-up included.
    t_ : int
        Current time of the alpha schedule (labeled epochs trained).
    loss_curve_ : list of float
        Mean labeled loss of each epoch, of length ``n_iter_``.
    history_ : list of dict
        One dict per epoch with keys ``"epoch"`` (1-based), ``"phase"``
        (``"supervised"`` or ``"pseudo"``), ``"t"`` and ``"alpha"`` (at the
        end of the epoch), ``"labeled_loss"``, ``"unlabeled_loss"`` (mean
        batch loss on pseudo-labels before the ``alpha`` factor, NaN when no
        unlabeled step was taken),
        ``"n_pseudo"`` (pseudo-labels that counted in the loss), ``"time"``
        (seconds of training in the epoch, evaluation excluded) and
        ``"val_accuracy"`` (on ``eval_set``, NaN without one).

    See Also
    --------
    TorchClassifier : The supervised estimator this one extends.
    pseudo_sklearn.PseudoLabelClassifier : Offline pseudo-labeling of any
        classifier.

    Notes
    -----
    ``X`` is cast to float32 and used as given: scale MNIST pixels to [0, 1]
    (and optionally standardise them) beforehand, as
    ``benchmarks/mnist_cnn.py`` does. Labeled and unlabeled rows are moved to
    the device once per ``fit`` and batched by index; the labeling pass and the
    training step use the same device batch, with no per-batch host-device copy
    unless the data do not fit in half the free GPU memory.

    References
    ----------
    .. [1] D.-H. Lee, "Pseudo-Label: The Simple and Efficient Semi-Supervised
       Learning Method for Deep Neural Networks", ICML 2013 Workshop on
       Challenges in Representation Learning.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from pseudo_sklearn.torch import OnlinePseudoLabelClassifier
    >>> X, y = make_blobs(200, centers=2, random_state=0)
    >>> y_semi = np.where(np.arange(200) < 20, y, -1)
    >>> clf = OnlinePseudoLabelClassifier(
    ...     max_epochs=3, T1=5, T2=8, unlabeled_batch_size=32, labeled_every=2,
    ...     random_state=0,
    ... ).fit(X, y_semi)
    >>> clf.n_iter_, clf.t_
    (8, 14)
    >>> clf.history_[-1]["phase"]
    'pseudo'
    """

    _parameter_constraints = {
        **TorchClassifier._parameter_constraints,
        "unlabeled_batch_size": [Interval(Integral, 1, None, closed="left")],
        "T1": [Interval(Integral, 0, None, closed="left")],
        "T2": [Interval(Integral, 0, None, closed="left")],
        "alpha_f": [Interval(Real, 0, None, closed="left")],
        "labeled_every": [Interval(Integral, 1, None, closed="left")],
        "threshold": [Interval(Real, 0, 1, closed="both"), None],
    }

    def __init__(
        self,
        module=None,
        *,
        module_params=None,
        criterion=None,
        criterion_params=None,
        optimizer="sgd",
        lr=0.1,
        optimizer_params=None,
        max_epochs=150,
        batch_size=32,
        unlabeled_batch_size=256,
        T1=100,
        T2=700,
        alpha_f=3.0,
        labeled_every=50,
        threshold=None,
        shuffle=True,
        device="auto",
        amp=False,
        compile=False,
        random_state=None,
        verbose=0,
    ):
        super().__init__(
            module,
            module_params=module_params,
            criterion=criterion,
            criterion_params=criterion_params,
            optimizer=optimizer,
            lr=lr,
            optimizer_params=optimizer_params,
            max_epochs=max_epochs,
            batch_size=batch_size,
            shuffle=shuffle,
            device=device,
            amp=amp,
            compile=compile,
            random_state=random_state,
            verbose=verbose,
        )
        self.unlabeled_batch_size = unlabeled_batch_size
        self.T1 = T1
        self.T2 = T2
        self.alpha_f = alpha_f
        self.labeled_every = labeled_every
        self.threshold = threshold

    def fit(self, X, y, eval_set=None):
        """Warm up for ``T1`` epochs, then pseudo-label for ``max_epochs``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Labeled and unlabeled rows.
        y : array-like of shape (n_samples,)
            Labels, with -1 for unlabeled rows.
        eval_set : tuple (X_val, y_val), default=None
            Labeled validation data whose accuracy is recorded in
            ``history_`` after each epoch.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._validate_params()
        self._check_schedule()
        X, y = validate_data(self, X, y, dtype=np.float32)
        labeled, classes = self._split_y(y)
        self._initialize(X.shape[1], classes)
        self.t_ = 0
        self.history_ = []
        data = self._online_data(X, y, labeled)
        eval_set = self._check_eval_set(eval_set)
        with self._rng_context():
            for _ in range(self.T1 + self.max_epochs):
                self._online_epoch(*data, eval_set)
        return self

    def partial_fit(self, X, y, classes=None, eval_set=None):
        """Train one epoch: a warm-up epoch while ``t_ < T1``, else one pass.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Labeled and unlabeled rows.
        y : array-like of shape (n_samples,)
            Labels, with -1 for unlabeled rows.
        classes : array-like of shape (n_classes,), default=None
            All classes; required on the first call unless the labeled rows
            hold them all, ignored afterwards.
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
            self._check_schedule()
        X, y = validate_data(self, X, y, dtype=np.float32, reset=first_call)
        labeled, seen = self._split_y(y)
        if first_call:
            self._initialize(
                X.shape[1], seen if classes is None else np.unique(classes)
            )
            self.t_ = 0
            self.history_ = []
        unknown = np.setdiff1d(seen, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y holds labels {unknown.tolist()} not in classes_ "
                f"{self.classes_.tolist()}; pass every class in `classes` on the "
                "first call to partial_fit."
            )
        data = self._online_data(X, y, labeled)
        with self._rng_context():
            self._online_epoch(*data, self._check_eval_set(eval_set))
        return self

    def _check_schedule(self):
        if self.T2 < self.T1:
            raise ValueError(
                f"T2={self.T2} is before T1={self.T1}: alpha must reach alpha_f "
                "after the warm-up; pass T2 >= T1."
            )

    def _split_y(self, y):
        y = column_or_1d(y, warn=True)
        labeled = ~_unlabeled_mask(y)
        if not labeled.any():
            raise ValueError(
                "y has no labeled row (every label is -1); label at least one "
                "row per class."
            )
        y_labeled = y[labeled]
        if y_labeled.dtype == object:
            y_labeled = y_labeled.astype(type(y_labeled[0]))
        check_classification_targets(y_labeled)
        return labeled, np.unique(y_labeled)

    def _online_data(self, X, y, labeled):
        device = torch.device(self.device_)
        y_index = np.searchsorted(self.classes_, y[labeled].astype(self.classes_.dtype))
        return (
            _DeviceArray(X[labeled], device, torch.float32),
            _DeviceArray(y_index, device, torch.long),
            _DeviceArray(X[~labeled], device, torch.float32),
        )

    def _check_eval_set(self, eval_set):
        if eval_set is None:
            return None
        if len(eval_set) != 2:
            raise ValueError(
                f"eval_set must be a pair (X_val, y_val); got {len(eval_set)} items."
            )
        X_val, y_val = eval_set
        X_val = validate_data(self, X_val, dtype=np.float32, reset=False)
        return X_val, column_or_1d(y_val)

    def _alpha(self):
        return alpha_schedule(self.t_, T1=self.T1, T2=self.T2, alpha_f=self.alpha_f)

    def _pseudo_labels(self, module, xb):
        """Labels of a device batch by the current network in eval mode.

        Returns the class indices and, with ``threshold``, a 0/1 weight per
        row; both stay on the device.
        """
        module.eval()
        with torch.no_grad(), self._autocast():
            output = module(xb).float()
        confidence, target = torch.softmax(output, dim=1).max(dim=1)
        weight = None
        if self.threshold is not None:
            weight = (confidence >= self.threshold).float()
        return target, weight

    def _online_epoch(self, X_labeled, y_labeled, X_unlabeled, eval_set):
        start = time.perf_counter()
        module = self._forward_module()
        zero = torch.zeros((), device=self.device_)
        unlabeled_loss, n_pseudo, n_steps = zero.clone(), zero.clone(), 0
        labeled_losses = []
        if self.t_ < self.T1 or len(X_unlabeled) == 0:
            phase = "supervised"
            labeled_losses.append(
                self._supervised_epoch(X_labeled, y_labeled, None, record=False)
            )
            self.t_ += 1
        else:
            phase = "pseudo"
            batches = self._batches(len(X_unlabeled), self.unlabeled_batch_size)
            for i, index in enumerate(batches):
                alpha = self._alpha()
                if alpha > 0:
                    xb = X_unlabeled.take(index)
                    target, weight = self._pseudo_labels(module, xb)
                    module.train()
                    unlabeled_loss += self._step(module, xb, target, weight, alpha)
                    n_pseudo += len(target) if weight is None else weight.sum()
                    n_steps += 1
                if i % self.labeled_every == 0:
                    labeled_losses.append(
                        self._supervised_epoch(X_labeled, y_labeled, None, record=False)
                    )
                    self.t_ += 1
        self.n_iter_ += 1
        # float() waits for the device, so the epoch's time is complete.
        labeled_loss = float(np.mean(labeled_losses))
        unlabeled_loss, n_pseudo = float(unlabeled_loss), int(n_pseudo)
        elapsed = time.perf_counter() - start
        self.loss_curve_.append(labeled_loss)
        record = {
            "epoch": self.n_iter_,
            "phase": phase,
            "t": self.t_,
            "alpha": float(self._alpha()),
            "labeled_loss": labeled_loss,
            "unlabeled_loss": unlabeled_loss / n_steps if n_steps else math.nan,
            "n_pseudo": n_pseudo,
            "time": elapsed,
            "val_accuracy": math.nan,
        }
        if eval_set is not None:
            record["val_accuracy"] = float(
                np.mean(self.predict(eval_set[0]) == eval_set[1])
            )
        self.history_.append(record)
        if self.verbose:
            print(
                f"epoch {record['epoch']} ({phase}): t={record['t']} "
                f"alpha={record['alpha']:.3f} labeled_loss={labeled_loss:.4f} "
                f"unlabeled_loss={record['unlabeled_loss']:.4f} "
                f"val_accuracy={record['val_accuracy']:.4f}"
            )
