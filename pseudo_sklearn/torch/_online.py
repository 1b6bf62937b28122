"""Online pseudo-labeling of a neural network, as in Lee (2013)."""

import copy
import math
import time
import warnings
from numbers import Real

import numpy as np
import torch

from .._monitor import labeled_drift
from .._schedules import alpha_schedule
from ..utils._compat import Interval, StrOptions
from ._classifier import TorchClassifier
from ._device import _DeviceArray
from ._graphs import _StaticBatch, mixes_rows
from ._params import _Count, count
from ._semi_supervised import _PseudoLabelingNetwork


class OnlinePseudoLabelClassifier(_PseudoLabelingNetwork):
    """Online pseudo-labeling of a neural network, as in Lee (2013).

    Rows with ``y == -1`` are unlabeled (with string labels, the integer -1 or
    the string ``"-1"``, as everywhere in pseudo_sklearn). Training first runs
    ``T1`` supervised epochs on the labeled rows (the warm-up). Then each epoch
    is one pass over the unlabeled rows in batches of ``unlabeled_batch_size``,
    as in the published PyTorch loop: for each batch, the current network
    labels it in eval mode (no dropout, no gradient), then takes one training
    step, in train mode on the same device batch, on ``alpha(t)`` times the
    loss against those labels. After the unlabeled batches numbered 0,
    ``labeled_every``, ``2 * labeled_every``, ... of each pass (counted from
    0, so the first comes after the pass's first batch), it trains one full
    epoch on the labeled rows, as the published loop does.

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
        Train one labeled epoch after every ``labeled_every`` unlabeled
        batches, starting after the first batch of each pass.
    threshold : float in [0, 1), default=None
        When set, only pseudo-labels whose predicted probability is at least
        ``threshold`` count in the loss (the others get weight 0; the batch
        loss is still divided by the batch size). ``None`` keeps them all, as
        published.
    drift_check : {"restore", "warn"} or None, default="restore"
        A check that needs no ``eval_set``: the accuracy of the network on the
        training labeled rows (``history_``'s ``"labeled_score"``). Before the
        first pseudo-labeling pass it is recorded as
        ``warmup_labeled_score_`` and the weights are kept. After each pass,
        ``"labeled_drift"`` says whether it fell below the warm-up's by more
        than noise (2 points, or two standard errors of the difference when
        larger).
        If the fitted network has drifted at the end of ``fit``, ``"warn"``
        warns and ``"restore"`` warns and puts back the warm-up network (the
        supervised model), so pseudo-labeling that destroyed what the labels
        taught is not kept silently. ``None`` turns the check off (the
        published loop). ``partial_fit`` records but never restores.
    shuffle : bool, default=True
        Whether to draw batches in a random order.
    device : str, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:<index>"`` (``"mps"`` where available).
    amp : bool, default=False
        Train and label under bfloat16 autocast; CUDA only.
    compile : bool, default=False
        Run the module through ``torch.compile`` for training; CUDA only.
    cuda_graphs : "auto" or bool, default="auto"
        Capture the labeled step and the unlabeled step (labeling pass and
        training step together) as CUDA graphs; see
        :class:`TorchClassifier`. ``alpha(t)`` and ``threshold`` work inside
        the graphs.
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
        One dict per epoch with keys ``"iteration"`` (1-based epoch count),
        ``"phase"`` (``"supervised"`` or ``"pseudo"``), ``"t"`` and
        ``"alpha"`` (at the end of the epoch), ``"labeled_loss"``,
        ``"unlabeled_loss"`` (mean batch loss on pseudo-labels before the
        ``alpha`` factor, NaN when no unlabeled step was taken),
        ``"n_added"`` (pseudo-labels that counted in the loss),
        ``"fit_time"`` (seconds of training in the epoch, evaluation
        excluded), ``"labeled_score"`` (accuracy on the training labeled
        rows), ``"labeled_drift"`` (see ``drift_check``; False in the
        warm-up) and, with an ``eval_set``, ``"validation_score"`` (accuracy
        on it).
    warmup_labeled_score_ : float
        Accuracy on the training labeled rows before the first
        pseudo-labeling pass; NaN before that pass.
    drift_restored_ : bool
        Whether ``fit`` put back the warm-up network (``drift_check="restore"``).

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
    >>> clf.history_[-1]["labeled_score"] > 0.9
    True
    """

    _parameter_constraints = {
        **TorchClassifier._parameter_constraints,
        "unlabeled_batch_size": [_Count(1)],
        "T1": [_Count(0)],
        "T2": [_Count(0)],
        "alpha_f": [Interval(Real, 0, None, closed="left")],
        "labeled_every": [_Count(1)],
        "threshold": [Interval(Real, 0, 1, closed="left"), None],
        "drift_check": [StrOptions({"restore", "warn"}), None],
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
        drift_check="restore",
        shuffle=True,
        device="auto",
        amp=False,
        compile=False,
        cuda_graphs="auto",
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
            cuda_graphs=cuda_graphs,
            random_state=random_state,
            verbose=verbose,
        )
        self.unlabeled_batch_size = unlabeled_batch_size
        self.T1 = T1
        self.T2 = T2
        self.alpha_f = alpha_f
        self.labeled_every = labeled_every
        self.threshold = threshold
        self.drift_check = drift_check

    def _n_warmup(self):
        return self.T1

    def _start(self, n_features, classes):
        self._initialize(n_features, classes)
        self._reset_online_state()

    def _reset_online_state(self):
        self.t_ = 0
        self.history_ = []
        self.warmup_labeled_score_ = math.nan
        self.drift_restored_ = False
        self._warmup_state = None

    def _check_params(self):
        if self.T2 < self.T1:
            raise ValueError(
                f"T2={self.T2} is before T1={self.T1}: alpha must reach alpha_f "
                "after the warm-up; pass T2 >= T1."
            )

    def _data(self, X, y, labeled):
        device = torch.device(self.device_)
        return (
            _DeviceArray(X[labeled], device, torch.float32),
            _DeviceArray(self._class_index(y[labeled]), device, torch.long),
            _DeviceArray(X[~labeled], device, torch.float32),
        )

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

    def _eager_unlabeled_step(self, module, xb, alpha, totals):
        """Label a batch, then one step on ``alpha`` times its loss."""
        target, weight = self._pseudo_labels(module, xb)
        module.train()
        totals["loss"] += self._step(module, xb, target, weight, alpha)
        totals["n_pseudo"] += len(target) if weight is None else weight.sum()

    def _unlabeled_step(self, X_unlabeled):
        """The fixed-size unlabeled step (labeling pass and training step)."""
        key = ("unlabeled", id(X_unlabeled))
        if key in self._steps:
            return self._steps[key]
        device = X_unlabeled.device
        module = self._forward_module()
        size = min(count(self.unlabeled_batch_size), len(X_unlabeled))
        batch = _StaticBatch(size, device)
        # alpha(t) is a device scalar, refilled when t changes: a graph reads
        # its value at every replay.
        alpha = torch.zeros((), device=device)
        loss_sum = torch.zeros((), device=device)
        n_pseudo = torch.zeros((), device=device)

        def fn():
            xb = X_unlabeled.tensor[batch.index]
            target, confident = self._pseudo_labels(module, xb)
            rows = batch.valid if confident is None else batch.valid * confident
            module.train()
            self.optimizer_.zero_grad(set_to_none=False)
            loss = self._fixed_loss(module, xb, target, rows, batch.inv_n)
            (loss * alpha).backward()
            self.optimizer_.step()
            loss_sum.add_(loss.detach())
            n_pseudo.add_(rows.sum())

        return self._new_step(
            key, fn, batch, alpha=alpha, loss=loss_sum, n_pseudo=n_pseudo,
            data=X_unlabeled,
        )  # fmt: skip

    def _pseudo_pass(self, X_labeled, y_labeled, X_unlabeled):
        """One pass over the unlabeled rows with labeled epochs interleaved.

        Returns the labeled epochs' losses, the unlabeled loss summed over
        steps and the pseudo-label count (device scalars), and the step count.
        """
        fixed = self._use_fixed_steps([X_labeled, y_labeled, X_unlabeled])
        module = self._forward_module()
        if fixed:
            step = self._unlabeled_step(X_unlabeled)
            totals = step.totals
            totals["loss"].zero_()
            totals["n_pseudo"].zero_()
            unpadded = mixes_rows(self.module_)
            filled = None
        else:
            zero = torch.zeros((), device=self.device_)
            totals = {"loss": zero.clone(), "n_pseudo": zero.clone()}
        labeled_losses, n_steps = [], 0
        batches = self._batches(len(X_unlabeled), self.unlabeled_batch_size)
        for i, index in enumerate(batches):
            alpha = self._alpha()
            if alpha > 0:
                if not fixed or (unpadded and len(index) != step.batch.size):
                    xb = X_unlabeled.take(index)
                    self._eager_unlabeled_step(module, xb, alpha, totals)
                else:
                    if alpha != filled:
                        totals["alpha"].fill_(alpha)
                        filled = alpha
                    step(index)
                n_steps += 1
            if i % count(self.labeled_every) == 0:
                labeled_losses.append(self._labeled_epoch(X_labeled, y_labeled, None))
                self.t_ += 1
        return labeled_losses, totals["loss"], totals["n_pseudo"], n_steps

    def _fit_epoch(self, data, eval_set):
        X_labeled, y_labeled, X_unlabeled = data
        pseudo = self.t_ >= self.T1 and len(X_unlabeled) > 0
        if pseudo and self._warmup_state is None:
            self._keep_warmup(X_labeled, y_labeled)
        start = time.perf_counter()
        if pseudo:
            labeled_losses, loss_sum, n_pseudo, n_steps = self._pseudo_pass(
                X_labeled, y_labeled, X_unlabeled
            )
        else:
            labeled_losses = [self._labeled_epoch(X_labeled, y_labeled, None)]
            loss_sum, n_pseudo, n_steps = math.nan, 0, 0
            self.t_ += 1
        self.n_iter_ += 1
        # The epoch's one wait for the device: its record needs the values.
        labeled_loss = float(np.mean([float(loss) for loss in labeled_losses]))
        self._check_finite(self.module_)
        loss_sum, n_pseudo = float(loss_sum), int(n_pseudo)
        if torch.device(self.device_).type == "cuda":
            torch.cuda.synchronize(self.device_)
        fit_time = time.perf_counter() - start
        self.loss_curve_.append(labeled_loss)
        score = self._device_accuracy(self.module_, X_labeled, y_labeled)
        record = {
            "iteration": self.n_iter_,
            "phase": "pseudo" if pseudo else "supervised",
            "t": self.t_,
            "alpha": float(self._alpha()),
            "labeled_loss": labeled_loss,
            "unlabeled_loss": loss_sum / n_steps if n_steps else math.nan,
            "n_added": n_pseudo,
            "fit_time": fit_time,
            "labeled_score": score,
            "labeled_drift": pseudo and self._drifted(score, len(X_labeled)),
        }
        if eval_set is not None:
            record["validation_score"] = float(
                np.mean(self.predict(eval_set[0]) == eval_set[1])
            )
        self.history_.append(record)
        if self.verbose:
            self._print_record(record)

    def _keep_warmup(self, X_labeled, y_labeled):
        """Record the labeled accuracy before pseudo-labeling, keep the weights."""
        self.warmup_labeled_score_ = self._device_accuracy(
            self.module_, X_labeled, y_labeled
        )
        if self.drift_check == "restore":
            self._warmup_state = (
                copy.deepcopy(self.module_.state_dict()),
                copy.deepcopy(self.optimizer_.state_dict()),
            )
        else:
            self._warmup_state = ()

    def _drifted(self, score, n_labeled):
        if self.drift_check is None or math.isnan(self.warmup_labeled_score_):
            return False
        return labeled_drift(score, self.warmup_labeled_score_, n_labeled)

    def _end_fit(self):
        """Warn, and with ``"restore"`` put back the warm-up network, on drift."""
        if not self.history_ or not self.history_[-1]["labeled_drift"]:
            return
        score = self.history_[-1]["labeled_score"]
        message = (
            f"Pseudo-labeling lowered the accuracy on the labeled rows from "
            f"{self.warmup_labeled_score_:.3f} after the warm-up to {score:.3f}"
        )
        if self.drift_check == "restore":
            module_state, optimizer_state = self._warmup_state
            self.module_.load_state_dict(module_state)
            self.optimizer_.load_state_dict(optimizer_state)
            self.drift_restored_ = True
            message += "; the warm-up (supervised) network is kept"
        warnings.warn(
            message + ". Pass drift_check=None to keep the pseudo-labeled network.",
            UserWarning,
            stacklevel=3,
        )

    def __getstate__(self):
        state = super().__getstate__()
        # The warm-up copy serves only the end of fit. None (the warm-up has
        # not ended) must stay None, or the first pseudo-labeling pass after
        # unpickling would never record warmup_labeled_score_.
        if state.get("_warmup_state") is not None:
            state["_warmup_state"] = ()
        return state
