"""Ramps over training time, such as Lee's (2013) alpha(t), as pure functions."""

import math
from numbers import Integral, Real

import numpy as np


def alpha_schedule(t, *, T1=100, T2=700, alpha_f=3.0):
    """Weight of the pseudo-label loss at time ``t``, as in Lee (2013).

    ``alpha(t) = 0`` for ``t < T1``, rises linearly from 0 at ``T1`` to ``alpha_f``
    at ``T2``, and stays at ``alpha_f`` for ``t >= T2``.

    Parameters
    ----------
    t : float or array-like of float
        Time: an epoch number for the neural path, an iteration for the
        meta-estimator.
    T1 : float, default=100
        Last time at which the weight is 0.
    T2 : float, default=700
        First time at which the weight reaches ``alpha_f``. Must be >= ``T1``.
    alpha_f : float, default=3.0
        Final weight.

    Returns
    -------
    alpha : float or ndarray of float
        The weight at each ``t``, of the same shape as ``t``.

    References
    ----------
    .. [1] D.-H. Lee, "Pseudo-Label: The Simple and Efficient Semi-Supervised
       Learning Method for Deep Neural Networks", ICML 2013 Workshop on
       Challenges in Representation Learning.

    Examples
    --------
    >>> from pseudo_sklearn import alpha_schedule
    >>> [float(alpha_schedule(t)) for t in (50, 400, 900)]
    [0.0, 1.5, 3.0]
    """
    if T2 < T1:
        raise ValueError(
            f"T2={T2} is before T1={T1}: the ramp needs T1 <= T2; swap them."
        )
    t = np.asarray(t, dtype=float)
    if T2 == T1:
        alpha = np.where(t < T1, 0.0, float(alpha_f))
    else:
        alpha = float(alpha_f) * np.clip((t - T1) / (T2 - T1), 0.0, 1.0)
    return alpha if alpha.ndim else float(alpha)


def batch_size(sample_rate, n_unlabeled, iteration):
    """Rows to draw from the pool at ``iteration`` (counted from 1).

    ``sample_rate`` is the parameter of :class:`PseudoLabelClassifier`: a float
    in (0, 1] is a fraction of the ``n_unlabeled`` rows of the initial pool
    (rounded up), an int a number of rows, and a callable of the iteration
    returns either.

    Examples
    --------
    >>> from pseudo_sklearn._schedules import batch_size
    >>> batch_size(0.04, 59_000, 1), batch_size(100, 59_000, 1)
    (2360, 100)
    """
    rate = sample_rate
    if callable(rate):
        rate = rate(iteration)
        valid = (
            isinstance(rate, Integral) and rate >= 1
            if isinstance(rate, Integral | np.integer)
            else isinstance(rate, Real) and 0 < rate <= 1
        )
        if not valid:
            raise ValueError(
                f"sample_rate({iteration}) returned {rate!r}; a sample_rate "
                "schedule must return a float in (0, 1] or an int >= 1."
            )
    if isinstance(rate, Integral | np.integer):
        return int(rate)
    # round() first: 0.04 * 59_000 is 2360.0000000000005 in floating point.
    return max(1, math.ceil(round(rate * n_unlabeled, 9)))


def threshold_at(threshold, iteration):
    """The confidence threshold at ``iteration``: a constant, None or a schedule."""
    if not callable(threshold):
        return threshold
    value = threshold(iteration)
    if value is not None and not 0 <= value < 1:
        raise ValueError(
            f"threshold({iteration}) returned {value!r}; a threshold schedule "
            "must return a float in [0, 1) or None."
        )
    return value
