"""TorchClassifier: a scikit-learn classifier around a ``torch.nn.Module``."""

import contextlib
import inspect
import io
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._modules import MLPModule

_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW"}

# Inputs larger than this share of free GPU memory stay on the host and
# are copied batch by batch; smaller ones are moved to the device once.
_DEVICE_MEMORY_SHARE = 0.5


def _resolve_device(device):
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={str(device)!r} but CUDA is not available here; "
            "use device='auto' or device='cpu'."
        )
    return device


class _DeviceArray:
    """A float or int array placed once where batches are cheapest to take.

    On CPU, and on CUDA when it fits in a share of free memory, the whole array
    lives on the device and a batch is a device-side index gather. Otherwise it
    stays in host memory and each batch is gathered there and copied over
    (slower, but a host array too big for the GPU is not pinned whole).
    """

    def __init__(self, array, device, dtype):
        array = np.asarray(array)
        if not array.flags.writeable or not array.flags.c_contiguous:
            array = np.array(array, order="C")
        tensor = torch.from_numpy(array).to(dtype)
        self.on_device = True
        if device.type == "cuda":
            free, _ = torch.cuda.mem_get_info(device)
            nbytes = tensor.element_size() * tensor.numel()
            self.on_device = nbytes < _DEVICE_MEMORY_SHARE * free
            if self.on_device:
                tensor = tensor.to(device)
        self.tensor = tensor
        self.device = device

    def __len__(self):
        return self.tensor.shape[0]

    def take(self, index):
        """Rows ``index`` (a tensor on ``self.device``) as a device tensor."""
        if self.on_device:
            return self.tensor[index]
        return self.tensor[index.cpu()].to(self.device)


class TorchClassifier(ClassifierMixin, BaseEstimator):
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
        Torch device; ``"auto"`` is CUDA when available, else CPU.
    amp : bool, default=False
        Train and predict under bfloat16 autocast. Used on CUDA only; ignored
        on CPU.
    compile : bool, default=False
        Run the module through ``torch.compile``. Used on CUDA only; ignored
        on CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout and batch order. With an int,
        training on CPU is deterministic. Torch's global random state is left
        as it was.
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
        "max_epochs": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "device": [str],
        "amp": ["boolean"],
        "compile": ["boolean"],
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
        X, y = validate_data(self, X, y, dtype=np.float32, reset=first_call)
        y = self._check_y(y)
        if first_call:
            self._initialize(X.shape[1], np.unique(y if classes is None else classes))
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"y holds labels {unknown.tolist()} not in classes_ "
                f"{self.classes_.tolist()}; pass every class in `classes` on the "
                "first call to partial_fit."
            )
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

    def _initialize(self, n_features, classes):
        """Build the network and optimizer and reset the fitted state."""
        self.classes_ = classes
        self._rng = check_random_state(self.random_state)
        self.device_ = str(_resolve_device(self.device))
        self.n_iter_ = 0
        self.loss_curve_ = []
        with self._rng_context():
            self._build(n_features)

    def _build(self, n_features):
        module = MLPModule if self.module is None else self.module
        kwargs = dict(self.module_params or {})
        accepted = inspect.signature(module).parameters
        inferred = {"n_features": n_features, "n_classes": len(self.classes_)}
        for name, value in inferred.items():
            if name in accepted:
                kwargs.setdefault(name, value)
        self._module_kwargs = kwargs
        self.module_ = module(**kwargs).to(self.device_)
        self._compiled = None
        self.optimizer_ = self._make_optimizer(self.module_)
        self._criterion = self._make_criterion()

    def _make_criterion(self):
        # On the device: a tensor parameter such as a class ``weight`` must
        # sit beside the outputs.
        criterion = self.criterion or torch.nn.CrossEntropyLoss
        params = self.criterion_params or {}
        return criterion(reduction="none", **params).to(self.device_)

    def _make_optimizer(self, module):
        optimizer = self.optimizer
        if isinstance(optimizer, str):
            optimizer = getattr(torch.optim, _OPTIMIZERS[optimizer])
        return optimizer(
            module.parameters(), lr=self.lr, **(self.optimizer_params or {})
        )

    @contextlib.contextmanager
    def _rng_context(self):
        """Seed a fork of torch's RNG from ``self._rng``, for determinism.

        Torch's global random state is restored on exit.
        """
        device = torch.device(self.device_)
        seed = int(self._rng.randint(np.iinfo(np.int32).max))
        cuda = []
        if device.type == "cuda":
            cuda = [
                torch.cuda.current_device() if device.index is None else device.index
            ]
        with torch.random.fork_rng(devices=cuda):
            torch.default_generator.manual_seed(seed)
            if cuda:
                with torch.cuda.device(cuda[0]):
                    torch.cuda.manual_seed(seed)
            yield

    def _forward_module(self):
        """The module to call: compiled on CUDA when ``compile=True``."""
        if self.compile and torch.device(self.device_).type == "cuda":
            if self._compiled is None:
                self._compiled = torch.compile(self.module_)
            return self._compiled
        return self.module_

    def _autocast(self):
        device = torch.device(self.device_)
        enabled = bool(self.amp) and device.type == "cuda"
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)

    def _device_data(self, X, y, sample_weight):
        device = torch.device(self.device_)
        y_index = np.searchsorted(self.classes_, y)
        weight = None
        if sample_weight is not None:
            weight = column_or_1d(np.asarray(sample_weight, dtype=np.float32))
            if weight.shape[0] != X.shape[0]:
                raise ValueError(
                    f"sample_weight has {weight.shape[0]} weights for {X.shape[0]} "
                    "rows of X; pass one weight per row."
                )
            if (weight < 0).any() or not weight.any():
                raise ValueError(
                    "sample_weight must be non-negative with at least one positive "
                    "weight; got all zeros or a negative weight."
                )
            weight = _DeviceArray(weight, device, torch.float32)
        return (
            _DeviceArray(X, device, torch.float32),
            _DeviceArray(y_index, device, torch.long),
            weight,
        )

    def _batches(self, n, batch_size):
        """Index tensors on the device, one per batch of an epoch."""
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        order = torch.as_tensor(order, device=self.device_)
        return order.split(batch_size)

    def _step(self, module, xb, yb, weight=None, scale=1.0):
        """One gradient step on ``scale`` times the (weighted) mean loss."""
        with self._autocast():
            losses = self._criterion(module(xb), yb).float()
        if weight is not None:
            losses = losses * weight
        loss = losses.mean()
        self.optimizer_.zero_grad(set_to_none=True)
        (loss * scale).backward()
        self.optimizer_.step()
        return loss.detach()

    def _supervised_epoch(self, X, y, weight, *, record=True):
        """One pass over labeled data; returns the mean batch loss."""
        module = self._forward_module()
        module.train()
        total = torch.zeros((), device=self.device_)
        batches = self._batches(len(X), self.batch_size)
        for index in batches:
            wb = None if weight is None else weight.take(index)
            total += self._step(module, X.take(index), y.take(index), wb)
        loss = float(total) / max(len(batches), 1)
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
        module = self._forward_module()
        module.eval()
        chunk = max(self.batch_size, 1024)
        outputs = []
        with torch.inference_mode(), self._autocast():
            for start in range(0, len(X), chunk):
                index = torch.arange(
                    start, min(start + chunk, len(X)), device=self.device_
                )
                outputs.append(module(X.take(index)).float().cpu())
        return torch.cat(outputs).double().numpy()

    def __getstate__(self):
        # object.__getstate__ may return the instance __dict__ itself: copy it.
        state = dict(super().__getstate__())
        state.pop("_compiled", None)
        # Rebuilt on load, on the device the model lands on.
        state.pop("_criterion", None)
        if "module_" in state:
            buffer = io.BytesIO()
            torch.save(
                {
                    "module": state.pop("module_").state_dict(),
                    "optimizer": state.pop("optimizer_").state_dict(),
                },
                buffer,
            )
            state["_torch_state"] = buffer.getvalue()
        return state

    def __setstate__(self, state):
        torch_state = state.pop("_torch_state", None)
        super().__setstate__(state)
        if torch_state is None:
            return
        device = torch.device(self.device_)
        if device.type == "cuda" and not torch.cuda.is_available():
            warnings.warn(
                f"This {type(self).__name__} was trained on {self.device_} but CUDA "
                "is not available here; it is loaded on the CPU.",
                UserWarning,
                stacklevel=2,
            )
            self.device_ = "cpu"
        elif device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
            warnings.warn(
                f"This {type(self).__name__} was trained on {self.device_}, which "
                "this machine does not have; it is loaded on cuda:0.",
                UserWarning,
                stacklevel=2,
            )
            self.device_ = "cuda:0"
        # On the CPU first: load_state_dict moves each tensor where it belongs
        # (the optimizer's step counters stay on the CPU, as torch expects).
        tensors = torch.load(
            io.BytesIO(torch_state), map_location="cpu", weights_only=True
        )
        module = MLPModule if self.module is None else self.module
        self.module_ = module(**self._module_kwargs).to(self.device_)
        self._compiled = None
        self.module_.load_state_dict(tensors["module"])
        self.optimizer_ = self._make_optimizer(self.module_)
        self.optimizer_.load_state_dict(tensors["optimizer"])
        self._criterion = self._make_criterion()
