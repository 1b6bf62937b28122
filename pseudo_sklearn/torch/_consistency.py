"""Augmentation-consistency pseudo-labeling (FixMatch; FlexMatch and FreeMatch
thresholds)."""

import copy
import math
import time
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._compat import Interval, StrOptions
from ._augment import check_view, default_strong, default_weak
from ._classifier import TorchClassifier
from ._consistency_steps import _ConsistencyStepsMixin, _Data, _Stats
from ._device import _DeviceArray, load_state_bytes, state_bytes
from ._network import check_output
from ._params import _Count
from ._semi_supervised import _PseudoLabelingNetwork
from ._thresholds import _Threshold

# Rows per prediction forward pass; the last chunk is padded to this size.
_PREDICT_CHUNK = 512

# FixMatch's SGD settings, used when ``optimizer_params`` is None.
_SGD_DEFAULTS = {"momentum": 0.9, "nesterov": True, "weight_decay": 5e-4}


class FixMatchClassifier(_ConsistencyStepsMixin, _PseudoLabelingNetwork):
    """Augmentation-consistency pseudo-labeling of a neural network (FixMatch).

    Rows with ``y == -1`` are unlabeled. Training first runs ``warmup_epochs``
    supervised epochs on the labeled rows, seen through the weak view. Then
    each epoch is one pass over the unlabeled rows in batches of
    ``unlabeled_batch_size``. For each batch the network (its weight average
    when ``ema_decay`` is set) labels a *weakly* augmented view in eval mode,
    without gradient; the labels whose confidence clears the threshold are the
    targets of a *strongly* augmented view of the same rows. One gradient step
    is taken on the labeled loss of ``batch_size`` labeled rows (weak view,
    drawn with replacement) plus ``unlabeled_weight`` times the mean masked
    loss on the strong view, both in one forward pass (Sohn et al., 2020).

    Parameters
    ----------
    module : subclass of torch.nn.Module, default=None
        Class of the network; ``None`` means :class:`MLPModule`. Use
        :class:`ReferenceCNN` for MNIST.
    module_params : dict, default=None
        Keyword arguments of ``module``.
    criterion : subclass of torch.nn.Module, default=None
        Loss class, built with ``reduction="none"``; ``None`` means
        ``torch.nn.CrossEntropyLoss``.
    criterion_params : dict, default=None
        Keyword arguments of ``criterion``.
    optimizer : {"sgd", "adam", "adamw"} or subclass of torch.optim.Optimizer, \
            default="sgd"
        Optimizer of all steps.
    lr : float, default=0.03
        Base learning rate.
    optimizer_params : dict, default=None
        Further keyword arguments of the optimizer. ``None`` means FixMatch's
        ``{"momentum": 0.9, "nesterov": True, "weight_decay": 5e-4}`` for
        ``optimizer="sgd"`` and nothing for the others.
    lr_schedule : {"cosine", "constant"}, default="cosine"
        Learning rate of the pseudo-labeling steps: FixMatch's cosine decay
        ``lr * cos(7 * pi * k / (16 * K))`` at step ``k`` of ``K`` (it ends at
        about ``0.2 * lr``), or ``lr`` throughout. Warm-up epochs use ``lr``.
        With ``partial_fit``, ``K`` is ``max_epochs`` passes over the rows of
        the call and the rate stays at its final value after them.
    max_epochs : int, default=40
        Number of passes over the unlabeled rows after the warm-up.
    warmup_epochs : int, default=10
        Number of supervised epochs on the labeled rows first.
    batch_size : int, default=64
        Labeled rows per step.
    unlabeled_batch_size : int, default=256
        Unlabeled rows per step. A pass takes ``n_unlabeled //
        unlabeled_batch_size`` steps on distinct rows (the remainder waits for
        a later pass), or one step on all rows when there are fewer.
    image_shape : tuple of int, default=None
        ``(channels, height, width)`` or ``(height, width)`` of the images
        whose flattened pixels are the rows of ``X``, e.g. ``(1, 28, 28)``
        for MNIST. Transforms see the rows in that shape.
    weak_augment : "auto", callable or None, default="auto"
        Weak view, used for labeling and for the labeled rows. ``"auto"`` is
        :class:`RandomShift` by up to 2 pixels when ``image_shape`` is set,
        none otherwise. A callable takes and returns a float tensor of shape
        ``(n, *image_shape)`` (``(n, n_features)`` without ``image_shape``) on
        the training device; ``None`` means no augmentation.
    strong_augment : "auto", callable or None, default="auto"
        Strong view, trained against the pseudo-labels. ``"auto"`` is a
        :class:`RandomAffine` (rotation up to 15 degrees, zoom +-15%, shear up
        to 12 degrees, shift up to 3 pixels) then a 9x9 :class:`Cutout` when
        ``image_shape`` is set, with the shift and the cut-out scaled by the
        image's shorter side over 28 (3x3 on 8x8 images); none otherwise (the
        two views then differ only by dropout and weak augmentation). The
        built-in transforms need ``image_shape``; their parameters are checked
        when ``fit`` starts.
    threshold : float in [0, 1), default=0.95
        Confidence a pseudo-label needs to count in the loss; the others get
        weight 0 (the loss is still divided by the batch size). ``None`` keeps
        them all, whatever ``threshold_mode``. With
        ``threshold_mode="freematch"``, the cap of the self-adaptive
        thresholds.
    threshold_mode : {"fixed", "flexmatch", "freematch"}, default="fixed"
        ``"fixed"`` applies ``threshold`` to every class. ``"flexmatch"``
        scales it per class by how well the class is learned (Zhang et al.,
        2021): a class that few unlabeled rows are confidently predicted as
        gets a lower threshold. ``"freematch"`` (Wang et al., 2023) derives
        the thresholds from running means of the labeler's confidence and of
        its mean class probabilities. See Notes.
    unlabeled_weight : float, default=1.0
        Weight of the unlabeled loss (FixMatch's lambda_u).
    ema_decay : float in [0, 1), default=0.999
        Decay of an exponential moving average of the weights, used for
        labeling and prediction; ``None`` uses the trained weights. The decay
        of update ``k`` is ``min(ema_decay, (1 + k) / (10 + k))`` so that the
        average follows the first steps. Changed with ``set_params`` between
        ``partial_fit`` calls, a decay set where there was none starts an
        average from the current weights, and ``None`` drops the average.
    device : str, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:<index>"`` (``"mps"`` where available).
    amp : bool, default=False
        Train and label under bfloat16 autocast; CUDA only.
    cuda_graphs : "auto" or bool, default="auto"
        Capture the pseudo-labeling step (both views, the labeling pass, the
        training step, the learning rate and the weight average) as one CUDA
        graph and replay it, as :class:`TorchClassifier` does with its steps;
        warm-up epochs run eagerly. ``"auto"`` uses graphs on CUDA and not on
        CPU; ``True`` requires a CUDA device. With SGD the optimizer is built
        with ``fused=True`` (unless ``optimizer_params`` sets ``foreach`` or
        ``fused``), whose step reads the scheduled learning rate from the
        device (an optimizer that reads it on the host falls back to eager
        steps). A step that cannot be captured falls back to eager training
        with one warning saying why. A graph replays what it recorded: custom
        views must draw their random numbers with torch on the device (as the
        built-in ones do), not in Python or on the host. On one H100 the
        captured step made ReferenceCNN's 1000-label MNIST fit 5.3x faster
        per pass than eager steps (0.166 against 0.877 s).
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, dropout, batches and augmentations; with an
        int, training on CPU is deterministic.
    verbose : int, default=0
        Print a line per epoch when positive.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels seen among the labeled rows.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen in ``fit``, when ``X`` has string column names.
    module_ : torch.nn.Module
        The trained network.
    ema_module_ : torch.nn.Module or None
        The weight average that labels and predicts; None without
        ``ema_decay``.
    optimizer_ : torch.optim.Optimizer
        The optimizer.
    device_ : str
        Device the networks live on.
    n_iter_ : int
        Number of epochs trained, warm-up included.
    loss_curve_ : list of float
        Mean training loss (labeled plus weighted unlabeled) of each epoch.
    class_thresholds_ : ndarray of shape (n_classes,) or None
        Threshold of each class after the last epoch; None without
        ``threshold``.
    history_ : list of dict
        One dict per epoch with keys ``"iteration"`` (1-based), ``"phase"``
        (``"supervised"`` or ``"pseudo"``), ``"fit_time"`` (seconds of
        training, evaluation excluded), ``"lr"`` (at the end of the epoch),
        ``"labeled_loss"``, ``"unlabeled_loss"`` (mean masked loss on the
        strong view before ``unlabeled_weight``; NaN in warm-up),
        ``"n_added"`` (pseudo-labels that counted in the loss),
        ``"mean_confidence"`` (mean top probability on the weak view; NaN in
        warm-up), ``"labeled_score"`` (accuracy on the labeled training rows)
        and, with ``eval_set``, ``"validation_score"``.

    See Also
    --------
    OnlinePseudoLabelClassifier : Lee's (2013) pseudo-labeling, without views.
    RandomShift, RandomAffine, Cutout, Compose : The batched transforms.

    Notes
    -----
    ``X`` is cast to float32 and used as given: scale pixels beforehand
    (MNIST: divide by 255, optionally standardise). The default transforms
    fill pixels from outside the image with the nearest edge pixel and
    cut-outs with each image's minimum, so they need no knowledge of the
    scaling.

    FlexMatch thresholds: the threshold of class ``c`` is ``threshold *
    b_c / (2 - b_c)`` with ``b_c = s_c / max(max_k s_k, n_unused)``, where
    ``s_c`` counts the unlabeled rows whose latest weak-view prediction was
    ``c`` with confidence >= ``threshold`` and ``n_unused`` those never
    predicted that confidently. Early on every threshold is near 0 (all
    pseudo-labels count); as the rows get confident predictions the
    thresholds rise towards ``threshold``, less for classes that are
    predicted less often.

    FreeMatch thresholds: the threshold of class ``c`` is ``min(tau,
    threshold) * p_c / max_k p_k``, where ``tau`` is a running mean
    (momentum 0.999, one update per step) of each unlabeled batch's mean top
    probability on the weak view and ``p`` a running mean of its mean
    probability vector, both starting at ``1 / n_classes``. At first every
    pseudo-label counts (a top probability is at least ``1 / n_classes``);
    the thresholds rise with the labeler's confidence, and classes predicted
    less often than the most frequent one get lower thresholds. FreeMatch's
    fairness loss is not implemented.

    References
    ----------
    .. [1] K. Sohn et al., "FixMatch: Simplifying Semi-Supervised Learning with
       Consistency and Confidence", NeurIPS 2020.
    .. [2] B. Zhang et al., "FlexMatch: Boosting Semi-Supervised Learning with
       Curriculum Pseudo Labeling", NeurIPS 2021.
    .. [3] Y. Wang et al., "FreeMatch: Self-adaptive Thresholding for
       Semi-supervised Learning", ICLR 2023.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from pseudo_sklearn.torch import FixMatchClassifier
    >>> X, y = make_blobs(300, centers=3, random_state=0)
    >>> y_semi = np.where(np.arange(300) < 30, y, -1)
    >>> clf = FixMatchClassifier(
    ...     max_epochs=3, warmup_epochs=5, unlabeled_batch_size=64, random_state=0
    ... ).fit(X, y_semi)
    >>> clf.n_iter_, clf.history_[-1]["phase"]
    (8, 'pseudo')
    >>> float(clf.score(X, y)) > 0.8
    True
    """

    _parameter_constraints = {
        **{
            name: constraint
            for name, constraint in TorchClassifier._parameter_constraints.items()
            if name not in ("shuffle", "compile")
        },
        "lr_schedule": [StrOptions({"cosine", "constant"})],
        "warmup_epochs": [_Count(0)],
        "unlabeled_batch_size": [_Count(1)],
        "image_shape": [tuple, None],
        "weak_augment": [StrOptions({"auto"}), callable, None],
        "strong_augment": [StrOptions({"auto"}), callable, None],
        "threshold": [Interval(Real, 0, 1, closed="left"), None],
        "threshold_mode": [StrOptions({"fixed", "flexmatch", "freematch"})],
        "unlabeled_weight": [Interval(Real, 0, None, closed="left")],
        "ema_decay": [Interval(Real, 0, 1, closed="left"), None],
    }

    # Not calling TorchClassifier.__init__: it would set ``shuffle`` and
    # ``compile``, which this estimator does not take.
    def __init__(
        self,
        module=None,
        *,
        module_params=None,
        criterion=None,
        criterion_params=None,
        optimizer="sgd",
        lr=0.03,
        optimizer_params=None,
        lr_schedule="cosine",
        max_epochs=40,
        warmup_epochs=10,
        batch_size=64,
        unlabeled_batch_size=256,
        image_shape=None,
        weak_augment="auto",
        strong_augment="auto",
        threshold=0.95,
        threshold_mode="fixed",
        unlabeled_weight=1.0,
        ema_decay=0.999,
        device="auto",
        amp=False,
        cuda_graphs="auto",
        random_state=None,
        verbose=0,
    ):
        self.module = module
        self.module_params = module_params
        self.criterion = criterion
        self.criterion_params = criterion_params
        self.optimizer = optimizer
        self.lr = lr
        self.optimizer_params = optimizer_params
        self.lr_schedule = lr_schedule
        self.max_epochs = max_epochs
        self.warmup_epochs = warmup_epochs
        self.batch_size = batch_size
        self.unlabeled_batch_size = unlabeled_batch_size
        self.image_shape = image_shape
        self.weak_augment = weak_augment
        self.strong_augment = strong_augment
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.unlabeled_weight = unlabeled_weight
        self.ema_decay = ema_decay
        self.device = device
        self.amp = amp
        self.cuda_graphs = cuda_graphs
        self.random_state = random_state
        self.verbose = verbose

    def _n_warmup(self):
        return self.warmup_epochs

    def _image_shape(self, n_features):
        shape = self.image_shape
        if shape is None:
            return None
        if len(shape) == 2:
            shape = (1, *shape)
        if len(shape) != 3 or not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in shape
        ):
            raise ValueError(
                f"image_shape={self.image_shape!r} is not a shape; pass two or "
                "three positive ints, (channels, height, width) or (height, "
                "width), e.g. (1, 28, 28)."
            )
        if math.prod(shape) != n_features:
            raise ValueError(
                f"image_shape={self.image_shape!r} does not match X's "
                f"{n_features} features; pass (channels, height, width) of the "
                "images whose flattened pixels are the rows of X, e.g. (1, 28, 28)."
            )
        return tuple(int(s) for s in shape)

    def _start(self, n_features, classes):
        """Build the network, optimizer, views and weight average; reset state."""
        shape = self._image_shape(n_features)
        # Before the network is built: a bad view costs nothing.
        views = self._make_views(shape)
        self._initialize(n_features, classes)
        self._shape, self._views = shape, views
        # Made by _data (_sync_average), which every fit and partial_fit runs.
        self.ema_module_ = None
        self._n_updates = 0
        self._pseudo_steps = 0
        self._threshold_state = None
        self.class_thresholds_ = None
        self.history_ = []

    def _make_views(self, shape):
        """The weak and strong views, checked before any training."""
        views = []
        for name, view, default in (
            ("weak_augment", self.weak_augment, default_weak),
            ("strong_augment", self.strong_augment, default_strong),
        ):
            if isinstance(view, str):
                view = None if shape is None else default(shape)
            check_view(view, name, shape)
            views.append(view)
        return tuple(views)

    def _sync_average(self):
        """Start or drop the weight average after ``set_params(ema_decay=...)``.

        A new average starts from the current weights, with the low decay of
        the first updates.
        """
        if self.ema_decay is None:
            self.ema_module_ = None
        elif self.ema_module_ is None:
            self.ema_module_ = copy.deepcopy(self.module_).requires_grad_(False)
            self._n_updates = 0

    def _optimizer_params(self, optimizer):
        params = super()._optimizer_params(optimizer)
        if self.optimizer_params is None and self.optimizer == "sgd":
            params = {**_SGD_DEFAULTS, **params}
        # A captured step must read the scheduled learning rate from the
        # device: SGD's fused step does, its foreach step reads it back to the
        # host (Adam's is capturable, set by TorchClassifier).
        if (
            self._wants_graphs()
            and optimizer is torch.optim.SGD
            and not {"foreach", "fused"} & set(params)
        ):
            params["fused"] = True
        return params

    def _data(self, X, y, labeled):
        self._sync_average()
        y_index = self._class_index(y[labeled])
        data = _Data(X[labeled], y_index, X[~labeled], torch.device(self.device_))
        state = self._threshold_state
        if (
            state is None
            or (state.mode, state.threshold) != (self.threshold_mode, self.threshold)
            or (state.selected is not None and len(state.selected) != data.n_unlabeled)
        ):
            # FlexMatch's counts belong to the rows of one fit; a partial_fit
            # after set_params starts the new rule afresh.
            self._threshold_state = _Threshold(
                self.threshold,
                self.threshold_mode,
                data.n_unlabeled,
                len(self.classes_),
                data.device,
            )
        return data

    def _predicting_module(self):
        return self.module_ if self.ema_module_ is None else self.ema_module_

    def _forward_all(self, X):
        # Overrides TorchClassifier's so that predict, predict_proba and
        # predict_log_proba use the weight average.
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        X = _DeviceArray(X, torch.device(self.device_), torch.float32)
        module = self._predicting_module()
        module.eval()
        outputs = [np.zeros((0, len(self.classes_)))]
        with torch.inference_mode(), self._autocast():
            for start in range(0, len(X), _PREDICT_CHUNK):
                index = torch.arange(
                    start, min(start + _PREDICT_CHUNK, len(X)), device=self.device_
                )
                rows = X.take(index)
                # Every chunk has the same size, so a row's output does not
                # depend on how many rows it is predicted with (float32
                # kernels pick their blocking by batch size).
                padded = torch.cat(
                    [rows, rows.new_zeros(_PREDICT_CHUNK - len(rows), rows.shape[1])]
                )
                output = module(padded)[: len(rows)]
                check_output(output, len(self.classes_), self.module_params)
                outputs.append(output.double().cpu().numpy())
        return np.concatenate(outputs)

    def _fit_epoch(self, data, eval_set):
        start = time.perf_counter()
        stats = _Stats(data.device)
        if self.n_iter_ < self.warmup_epochs or data.n_unlabeled == 0:
            phase = "supervised"
            lr = self._set_lr(0)
            self._supervised_epoch_views(data, stats)
        else:
            phase = "pseudo"
            lr = self._consistency_epoch(data, stats)
        # Reading the sums waits for the device, so the time is complete.
        record = {"iteration": self.n_iter_ + 1, "phase": phase, **stats.means()}
        self._check_finite(self.module_)
        record["fit_time"] = time.perf_counter() - start
        record["lr"] = lr
        self.n_iter_ += 1
        self.loss_curve_.append(
            record["labeled_loss"]
            + self.unlabeled_weight * np.nan_to_num(record["unlabeled_loss"])
        )
        thresholds = self._threshold_state.class_thresholds()
        if thresholds is not None:
            self.class_thresholds_ = thresholds.cpu().numpy().astype(np.float64)
        record["labeled_score"] = self._device_accuracy(
            self._predicting_module(), data.X_labeled, data.y_labeled
        )
        if eval_set is not None:
            record["validation_score"] = float(self.score(*eval_set))
        self.history_.append(record)
        if self.verbose:
            self._print_record(record)

    def __getstate__(self):
        state = dict(super().__getstate__())
        if state.get("ema_module_") is not None:
            state["_ema_state"] = state_bytes(state.pop("ema_module_").state_dict())
        threshold_state = state.get("_threshold_state")
        if threshold_state is not None:
            # Host copies: a model trained on CUDA loads where CUDA is missing.
            state["_threshold_state"] = threshold_state.to("cpu")
        return state

    def __setstate__(self, state):
        ema_state = state.pop("_ema_state", None)
        super().__setstate__(state)
        if ema_state is not None:
            self.ema_module_ = copy.deepcopy(self.module_).requires_grad_(False)
            self.ema_module_.load_state_dict(load_state_bytes(ema_state))
        threshold_state = getattr(self, "_threshold_state", None)
        if threshold_state is not None:
            self._threshold_state = threshold_state.to(self.device_)
