"""What a fit that raises puts back: the estimator as it was before the call."""

import copy

import torch

# Caches the estimator rebuilds on use; kept as they are.
_REBUILT = ("_compiled", "_steps", "_graphs", "_criterion")

# Values that training replaces but never changes in place.
_IMMUTABLE = (bool, int, float, complex, str, bytes, tuple, type, type(None))


class _Snapshot:
    """The state of a torch estimator, to put back if a fit raises.

    A shallow copy of ``__dict__`` is not enough: an epoch changes the
    network's weights, the optimizer's state, the loss and history lists and
    the random state in place. So the network and optimizer keep their
    identity and get their saved ``state_dict`` back, and every other mutable
    fitted value (lists, NumPy random state, threshold counters) is restored
    from a deep copy. Parameters are put back as they were (not copied).

    Parameters
    ----------
    owner : TorchClassifier
        The estimator about to fit.
    """

    def __init__(self, owner):
        self._dict = dict(owner.__dict__)
        params = set(owner.get_params(deep=False))
        self._states, self._copies = {}, {}
        for name, value in self._dict.items():
            if name in params or name in _REBUILT or isinstance(value, _IMMUTABLE):
                continue
            if isinstance(value, torch.nn.Module | torch.optim.Optimizer):
                self._states[name] = copy.deepcopy(value.state_dict())
            else:
                self._copies[name] = copy.deepcopy(value)

    def restore(self, owner):
        """Put ``owner`` back as it was when the snapshot was taken."""
        owner.__dict__.clear()
        owner.__dict__.update(self._dict)
        owner.__dict__.update(self._copies)
        for name, state in self._states.items():
            getattr(owner, name).load_state_dict(state)
