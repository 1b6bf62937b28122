"""The network and what trains it, built from an estimator's parameters: the
module with the sizes it takes from the data, the loss (which checks the
module's output), the optimizer, and the check that training has not
diverged.

Functions of plain values, so that ``TorchClassifier`` builds the same network
in ``fit`` and when it is unpickled.
"""

import inspect

import torch

from ._modules import MLPModule

_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW"}


def module_class(module):
    """The class of the ``module`` parameter: ``None`` means :class:`MLPModule`."""
    return MLPModule if module is None else module


def module_arguments(module, module_params, n_features, n_classes):
    """The module class (see :func:`module_class`) and the keyword arguments
    it is built with: ``module_params`` plus ``n_features`` and ``n_classes``
    where the class takes them and ``module_params`` does not set them."""
    module = module_class(module)
    kwargs = dict(module_params or {})
    accepted = inspect.signature(module).parameters
    for name, value in {"n_features": n_features, "n_classes": n_classes}.items():
        if name in accepted:
            kwargs.setdefault(name, value)
    return module, kwargs


def optimizer_class(optimizer):
    """The optimizer class of the ``optimizer`` parameter (a name or a class)."""
    if isinstance(optimizer, str):
        return getattr(torch.optim, _OPTIMIZERS[optimizer])
    return optimizer


def make_optimizer(optimizer, module, lr, params):
    """``optimizer`` (a class) over ``module``'s parameters."""
    built = optimizer(module.parameters(), lr=lr, **params)
    # The steps before capture run eagerly by design: torch's warning that a
    # capturable optimizer runs outside a graph would only mislead.
    built._warned_capturable_if_run_uncaptured = True
    return built


def make_criterion(criterion, criterion_params, device, n_classes, module_params):
    """The loss with ``reduction="none"``, on ``device`` (a tensor parameter
    such as a class ``weight`` must sit beside the outputs), checking that
    the module outputs ``n_classes`` columns."""
    criterion = criterion or torch.nn.CrossEntropyLoss
    loss = criterion(reduction="none", **(criterion_params or {})).to(device)
    return _CheckedCriterion(loss, n_classes, module_params)


def check_output(output, n_classes, module_params):
    """Refuse a module output that is not one column per class.

    Read from shapes only: no wait for the device, and a CUDA graph capture
    runs it once.
    """
    if output.dim() == 2 and output.shape[1] == n_classes:
        return
    shape = tuple(output.shape)
    if "n_classes" in (module_params or {}):
        raise ValueError(
            f"module_params sets n_classes={module_params['n_classes']!r}, so the "
            f"module outputs shape {shape}, but y has {n_classes} classes; set "
            f"n_classes to {n_classes} or leave it out of module_params (it is "
            "filled in from y)."
        )
    raise ValueError(
        f"The module outputs shape {shape}, but y has {n_classes} classes; make "
        "the module output one column per class (it gets n_classes from y when "
        "its __init__ takes an n_classes argument)."
    )


class _CheckedCriterion:
    """The loss, after :func:`check_output` on the module's output: every
    training path goes through the criterion, so one check covers them all,
    before the first optimizer step."""

    def __init__(self, loss, n_classes, module_params):
        self.loss = loss
        self.n_classes = n_classes
        self.module_params = module_params

    def __call__(self, output, target):
        check_output(output, self.n_classes, self.module_params)
        return self.loss(output, target)


def check_finite(module, epoch, lr):
    """Refuse a network whose weights are no longer finite after ``epoch``
    (1-based), as scikit-learn's MLPClassifier does; one wait for the device."""
    flags = [torch.isfinite(p.detach()).all() for p in module.parameters()]
    if flags and not bool(torch.stack(flags).all()):
        raise ValueError(
            f"Training diverged: the network's weights became NaN or infinite in "
            f"epoch {epoch}; lower lr (now {lr!r}) or scale X (e.g. with a "
            "StandardScaler in a Pipeline)."
        )


def unpin_for_cpu(optimizer, wanted):
    """Options a graph fit on CUDA chose (not the user), back to a CPU build's:
    torch allows ``capturable`` on GPUs only, and ``fused`` that ``wanted``
    (the CPU build's options) does not ask for is dropped."""
    for group in optimizer.param_groups:
        if group.get("capturable"):
            group["capturable"] = False
        if group.get("fused") and not wanted.get("fused"):
            group["fused"] = False
