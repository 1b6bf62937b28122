"""TorchClassifier: a scikit-learn classifier around a ``torch.nn.Module``."""

import contextlib
import warnings
from numbers import Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..utils._compat import Interval, StrOptions
from ._device import (
    _accepts,
    _check_sample_weight,
    _DeviceArray,
    _resolve_device,
    landing_device,
    load_state_bytes,
    place_module,
    state_bytes,
)
from ._graphs import _FixedStepsMixin
from ._network import (
    _OPTIMIZERS,
    check_finite,
    check_output,
    make_criterion,
    make_optimizer,
    module_arguments,
    module_class,
    optimizer_class,
    unpin_for_cpu,
)
from ._params import _Count, count, cuda_graphs_option
from ._snapshot import _Snapshot


class TorchClassifier(_FixedStepsMixin, ClassifierMixin, BaseEstimator):
    """Scikit-learn classifier around a ``torch.nn.Module``.

    The module is given as a class and a dict of its parameters, so the
    estimator can be cloned, grid-searched and pickled. It is trained with
    mini-batch gradient descent on the rows of ``X`` (float32), which are moved
    to the device once and batched by index.

    Parameters
    ----------
    module : subclass of torch.nn.Module, default=None
        Class of the network; ``None`` means :class:`MLPModule`. It is built
        as ``module(**params)`` where ``params`` is ``module_params`` plus
        ``n_features`` and ``n_classes`` from the data when the class accepts
        them and ``module_params`` does not set them. Its output has one
        column per class, read as logits (log-probabilities also work).
    module_params : dict, default=None
        Keyword arguments of ``module``.
    criterion : subclass of torch.nn.Module, default=None
        Loss class, built as ``criterion(reduction="none", **criterion_params)``
        and called on the module output and the class indices; ``None`` means
        ``torch.nn.CrossEntropyLoss``.
    criterion_params : dict, default=None
        Keyword arguments of ``criterion``.
    optimizer : {"sgd", "adam", "adamw"} or subclass of torch.optim.Optimizer, \
            default="sgd"
        Optimizer, built as ``optimizer(params, lr=lr, **optimizer_params)``.
    lr : float, default=0.1
        Learning rate.
    optimizer_params : dict, default=None
        Further keyword arguments of the optimizer, e.g. ``{"momentum": 0.9}``.
    max_epochs : int, default=20
        Number of passes over the training data in ``fit``.
    batch_size : int, default=32
        Rows per gradient step.
    shuffle : bool, default=True
        Whether to draw the batches of each epoch in a random order.
    device : str, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or
        ``"cuda:<index>"`` (``"mps"`` where available).
    amp : bool, default=False
        Train and predict under bfloat16 autocast. Used on CUDA only; ignored
        on CPU. It pays only on networks large enough to keep the GPU busy:
        on ``ReferenceCNN`` (one H100) it measured 0.88x fp32 eager and 0.94x
        fp32 with CUDA graphs.
    compile : bool, default=False
        Run the module through ``torch.compile`` (static shapes) for training.
        Used on CUDA only, and only for steps that are not captured as CUDA
        graphs: captured compiled steps measured 0.74x the speed of captured
        eager ones on ``ReferenceCNN``, so with graphs on, ``compile=True``
        is not used and a warning says so. Without graphs, compiling
        ``ReferenceCNN`` measured 0.64x eager (the loop is bound by kernel
        launches). Ignored on CPU.
    cuda_graphs : "auto" or bool, default="auto"
        Capture each training step as a CUDA graph and replay it, which
        removes Python and kernel-launch overhead (small networks train
        several times faster). ``"auto"`` uses graphs on CUDA and not on CPU;
        ``True`` requires a CUDA device; ``False`` trains eagerly. A step that
        cannot be captured falls back to eager training with one warning
        saying why. See Notes.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout and batch order. With an int,
        training on CPU is deterministic, and ``fit`` equals the same number
        of ``partial_fit`` calls. Torch's global random state is left as it
        was.
    verbose : int, default=0
        Print the loss after each epoch when positive.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, of any type ``np.unique`` sorts.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen in ``fit``, when ``X`` has string column names.
    module_ : torch.nn.Module
        The trained network, on ``device_``.
    optimizer_ : torch.optim.Optimizer
        The optimizer, whose state carries over to ``partial_fit``.
    device_ : str
        Device the network lives on.
    n_iter_ : int
        Number of epochs trained (``fit`` resets it, ``partial_fit`` adds one).
    loss_curve_ : list of float
        Mean training loss of each epoch, of length ``n_iter_``.
    cuda_graphs_ : bool
        Whether the last ``fit`` or ``partial_fit`` trained with CUDA graphs
        (False after a fallback to eager steps).

    See Also
    --------
    OnlinePseudoLabelClassifier : Lee's (2013) online pseudo-labeling.
    pseudo_sklearn.PseudoLabelClassifier : Wraps this estimator like any other.

    Notes
    -----
    ``X`` is cast to float32 and used as given: scale it beforehand (for MNIST
    pixels, divide by 255), e.g. with a ``FunctionTransformer`` in a Pipeline.

    Pickling stores the weights and the optimizer state; a model trained on
    CUDA unpickles on a machine without CUDA onto the CPU, with a warning.

    On CPU, a module whose class sets ``cpu_channels_last = True``
    (:class:`ReferenceCNN` does) keeps its weights in channels-last memory
    format, which lets oneDNN's convolutions skip their layout conversions:
    ReferenceCNN's training step ran about twice as fast on 2 cores. Such a
    module must flatten convolution outputs with ``flatten`` or ``reshape``,
    not ``view``. Results differ from the default format by float rounding.

    With CUDA graphs (or ``compile``) every step has the same shapes: the
    last, smaller batch of an epoch is padded to full size with rows of
    weight 0 and its loss divided by the number of real rows, which gives the
    same loss and gradient (a module with batch norm runs that batch
    unpadded, as its statistics would see the pad rows). The optimizer is
    built with ``capturable=True`` when it takes that argument (Adam, AdamW)
    and ``optimizer_params`` does not set it; another optimizer than SGD is
    captured only when built with ``capturable=True`` or ``fused=True``. The
    last eager step before capture runs under torch's sync debug mode: a step
    that reads a value back to the host is never captured. Dropout draws new
    masks at every replay. Gradients stay allocated between steps (zeroed, not
    freed).

    A module with batch norm never trains on a batch of one row, which batch
    norm cannot normalise: a last batch of one row joins the batch before it.

    A ``fit`` or ``partial_fit`` that raises leaves the estimator as it was
    before the call (weights, optimizer state, ``loss_curve_``, random
    state): a first failed fit leaves it unfitted, a failed refit keeps the
    old model. Training whose weights become NaN or infinite raises a
    ``ValueError`` at the end of that epoch, as scikit-learn's
    ``MLPClassifier`` does; lower ``lr`` or scale ``X``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from pseudo_sklearn.torch import TorchClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = TorchClassifier(max_epochs=30, random_state=0).fit(X, y)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    >>> len(clf.loss_curve_)
    30
    """

    _parameter_constraints = {
        "module": [type, None],
        "module_params": [dict, None],
        "criterion": [type, None],
        "criterion_params": [dict, None],
        "optimizer": [StrOptions(set(_OPTIMIZERS)), type],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "optimizer_params": [dict, None],
        "max_epochs": [_Count(0)],
        "batch_size": [_Count(1)],
        "shuffle": ["boolean"],
        "device": [str],
        "amp": ["boolean"],
        "compile": ["boolean"],
        "cuda_graphs": [StrOptions({"auto"}), "boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
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
        max_epochs=20,
        batch_size=32,
        shuffle=True,
        device="auto",
        amp=False,
        compile=False,
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
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.device = device
        self.amp = amp
        self.compile = compile
        self.cuda_graphs = cuda_graphs
        self.random_state = random_state
        self.verbose = verbose

    def fit(self, X, y, sample_weight=None):
        """Train a fresh network for ``max_epochs`` epochs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Target labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row in the loss; a batch's loss is the mean of its
            weighted row losses.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._validate_params()
        with self._keep_state_on_error():
            X, y = validate_data(self, X, y, dtype=np.float32)
            y = self._check_y(y)
            self._initialize(X.shape[1], np.unique(y))
            data = self._device_data(X, y, sample_weight)
            with self._rng_context():
                for _ in range(self.max_epochs):
                    self._supervised_epoch(*data)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch, continuing from the current network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Target labels.
        classes : array-like of shape (n_classes,), default=None
            All classes that will ever be seen; required on the first call
            unless ``y`` holds them all, ignored afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row in the loss.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        first_call = not hasattr(self, "module_")
        if first_call:
            self._validate_params()
        with self._keep_state_on_error():
            X, y = validate_data(self, X, y, dtype=np.float32, reset=first_call)
            y = self._check_y(y)
            if first_call:
                classes = np.unique(y if classes is None else classes)
                self._initialize(X.shape[1], classes)
            self._check_known(y)
            data = self._device_data(X, y, sample_weight)
            with self._rng_context():
                self._supervised_epoch(*data)
        return self

    def predict(self, X):
        """Predict the class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels, taken from ``classes_``.
        """
        output = self._forward_all(X)
        return self.classes_[np.argmax(output, axis=1)]

    def predict_proba(self, X):
        """Class probabilities: the softmax of the network output.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, in the order of ``classes_``.
        """
        output = torch.from_numpy(self._forward_all(X))
        return torch.softmax(output, dim=1).numpy()

    def predict_log_proba(self, X):
        """Log of the class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class, in the order of ``classes_``.
        """
        output = torch.from_numpy(self._forward_all(X))
        return torch.log_softmax(output, dim=1).numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags

    def _check_y(self, y):
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        return y

    def _check_known(self, y):
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y holds labels {unknown.tolist()} not in classes_ "
                f"{self.classes_.tolist()}; pass every class in `classes` on the "
                "first call to partial_fit."
            )

    @contextlib.contextmanager
    def _keep_state_on_error(self):
        """Put every attribute back as it was if the body raises.

        A fit that fails (a module that raises when built, bad weights, an
        interrupted epoch) must not leave a half-fitted estimator: a first
        fit stays unfitted, a refit keeps the old, consistent model.
        """
        saved = _Snapshot(self)
        try:
            yield
        except BaseException:
            saved.restore(self)
            raise

    def _initialize(self, n_features, classes):
        """Build the network and optimizer and reset the fitted state."""
        self.classes_ = classes
        self._rng = check_random_state(self.random_state)
        device = _resolve_device(self.device)
        if cuda_graphs_option(self.cuda_graphs) is True and device.type != "cuda":
            raise ValueError(
                f"cuda_graphs=True needs a CUDA device but training runs on "
                f"{device}; pass cuda_graphs='auto' or False, or a CUDA device."
            )
        self.device_ = str(device)
        self.cuda_graphs_ = self._wants_graphs()
        # FixMatchClassifier takes no ``compile``: getattr, not the attribute.
        if self.cuda_graphs_ and getattr(self, "compile", False):
            warnings.warn(
                f"{type(self).__name__} does not compile the module while CUDA "
                "graphs capture the training steps (captured compiled steps were "
                "slower); pass cuda_graphs=False to train the compiled module, "
                "or compile=False to silence this warning.",
                UserWarning,
                stacklevel=3,
            )
        self.n_iter_ = 0
        self.loss_curve_ = []
        self._torch_rng_state = None
        with self._rng_context():
            self._build(n_features)

    def _wants_graphs(self):
        on_cuda = torch.device(self.device_).type == "cuda"
        return on_cuda and cuda_graphs_option(self.cuda_graphs) in (True, "auto")

    def _build(self, n_features):
        module, self._module_kwargs = module_arguments(
            self.module, self.module_params, n_features, len(self.classes_)
        )
        self._place(module)

    def _place(self, module):
        """Build ``module`` (a class) on ``device_``, its optimizer and loss."""
        self.module_ = place_module(module(**self._module_kwargs), self.device_)
        self._compiled = None
        self.optimizer_ = self._make_optimizer(self.module_)
        self._criterion = make_criterion(
            self.criterion,
            self.criterion_params,
            self.device_,
            len(self.classes_),
            self.module_params,
        )

    def _check_finite(self, module):
        check_finite(module, self.n_iter_ + 1, self.lr)

    def _make_optimizer(self, module):
        optimizer = optimizer_class(self.optimizer)
        params = self._optimizer_params(optimizer)
        return make_optimizer(optimizer, module, self.lr, params)

    def _optimizer_params(self, optimizer):
        """Keyword arguments of ``optimizer`` (a class) beside the parameters
        and ``lr``."""
        params = dict(self.optimizer_params or {})
        # Adam's step counter must live on the GPU for a graph to advance it.
        if self._wants_graphs() and _accepts(optimizer, "capturable"):
            params.setdefault("capturable", True)
        return params

    @contextlib.contextmanager
    def _rng_context(self):
        """Run torch's RNG from this estimator's own stream.

        The first context of a fit seeds torch from ``self._rng``; later ones
        (each ``partial_fit``) continue where the previous one stopped, so a
        fit equals its epochs run one ``partial_fit`` at a time. Torch's
        global random state is restored on exit, and the CUDA graphs of the
        call are released.
        """
        device = torch.device(self.device_)
        cuda = []
        if device.type == "cuda":
            cuda = [
                torch.cuda.current_device() if device.index is None else device.index
            ]
        state = getattr(self, "_torch_rng_state", None)
        self._steps, self._graphs = {}, None
        with torch.random.fork_rng(devices=cuda):
            if state is None:
                seed = int(self._rng.randint(np.iinfo(np.int32).max))
                torch.default_generator.manual_seed(seed)
                if cuda:
                    with torch.cuda.device(cuda[0]):
                        torch.cuda.manual_seed(seed)
            else:
                torch.set_rng_state(state[0])
                if cuda and state[1] is not None:
                    torch.cuda.set_rng_state(state[1], cuda[0])
            try:
                yield
            finally:
                self._release_graphs()
                self._torch_rng_state = (
                    torch.get_rng_state(),
                    torch.cuda.get_rng_state(cuda[0]) if cuda else None,
                )

    def _autocast(self):
        device = torch.device(self.device_)
        enabled = bool(self.amp) and device.type == "cuda"
        # Cached casts must not outlive a graph capture.
        return torch.autocast(
            device.type,
            dtype=torch.bfloat16,
            enabled=enabled,
            cache_enabled=not getattr(self, "cuda_graphs_", False),
        )

    def _device_data(self, X, y, sample_weight):
        device = torch.device(self.device_)
        y_index = np.searchsorted(self.classes_, y)
        weight = None
        if sample_weight is not None:
            weight = _check_sample_weight(sample_weight, X.shape[0])
            weight = _DeviceArray(weight, device, torch.float32)
        return (
            _DeviceArray(X, device, torch.float32),
            _DeviceArray(y_index, device, torch.long),
            weight,
        )

    def _supervised_epoch(self, X, y, weight, *, record=True):
        """One pass over labeled data; returns the mean batch loss."""
        loss = float(self._labeled_epoch(X, y, weight))
        self._check_finite(self.module_)
        if record:
            self.n_iter_ += 1
            self.loss_curve_.append(loss)
            if self.verbose:
                print(f"epoch {self.n_iter_}: loss {loss:.4f}")
        return loss

    def _forward_all(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        X = _DeviceArray(X, torch.device(self.device_), torch.float32)
        # The eager module: prediction shapes vary, and compiling each one
        # would cost more than it saves.
        module = self.module_
        module.eval()
        chunk = max(count(self.batch_size), 1024)
        outputs = []
        with torch.inference_mode(), self._autocast():
            for start in range(0, len(X), chunk):
                index = torch.arange(
                    start, min(start + chunk, len(X)), device=self.device_
                )
                output = module(X.take(index))
                check_output(output, len(self.classes_), self.module_params)
                outputs.append(output.float().cpu())
        return torch.cat(outputs).double().numpy()

    def __getstate__(self):
        # object.__getstate__ may return the instance __dict__ itself: copy it.
        state = dict(super().__getstate__())
        for name in ("_compiled", "_steps", "_graphs", "_criterion"):
            # Rebuilt on load (the criterion on the device the model lands on).
            state.pop(name, None)
        if "module_" in state:
            state["_torch_state"] = state_bytes(
                {
                    "module": state.pop("module_").state_dict(),
                    "optimizer": state.pop("optimizer_").state_dict(),
                }
            )
        return state

    def __setstate__(self, state):
        torch_state = state.pop("_torch_state", None)
        super().__setstate__(state)
        if torch_state is None:
            return
        self.device_ = landing_device(self.device_, type(self).__name__)
        tensors = load_state_bytes(torch_state)
        # The criterion too, on the device the model lands on.
        self._place(module_class(self.module))
        self.module_.load_state_dict(tensors["module"])
        self.optimizer_.load_state_dict(tensors["optimizer"])
        if torch.device(self.device_).type == "cpu":
            # Saved from a graph-captured CUDA fit; torch allows it on GPUs only.
            self.cuda_graphs_ = False
            unpin_for_cpu(
                self.optimizer_, self._optimizer_params(type(self.optimizer_))
            )
