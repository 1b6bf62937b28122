"""Parameter checks that the three torch estimators share, beyond what
scikit-learn's ``_parameter_constraints`` say on their own."""

from numbers import Integral

import numpy as np

from ..utils._compat import Interval


class _Count(Interval):
    """An ``Interval`` of ints that refuses booleans.

    ``True`` is an ``Integral`` in Python, so ``Interval(Integral, ...)`` takes
    ``batch_size=True`` as a batch of one row; no user means that.
    """

    def __init__(self, left):
        super().__init__(Integral, left, None, closed="left")

    def is_satisfied_by(self, val):
        if isinstance(val, bool | np.bool_):
            return False
        return super().is_satisfied_by(val)


def count(value):
    """A validated count parameter as a Python int.

    NumPy integers (a grid of ``np.array([16, 32])`` gives them) pass
    validation, but torch's shape arguments take only Python ints.
    """
    return int(value)


def cuda_graphs_option(value):
    """``cuda_graphs`` as ``"auto"``, ``True`` or ``False``.

    The ``"boolean"`` constraint takes NumPy booleans too, and
    ``np.True_ is True`` is False.
    """
    return value if isinstance(value, str) else bool(value)
