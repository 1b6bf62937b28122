"""Ramps over training time, such as Lee's (2013) alpha(t), as pure functions."""

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
