"""How a drawn batch of pseudo-labels is filtered, in pure NumPy."""

import numpy as np


def confident_mask(confidence, threshold):
    """Mask of the rows whose confidence reaches ``threshold``.

    Parameters
    ----------
    confidence : ndarray of shape (n_rows,)
        Highest predicted probability of each row; NaN where unknown.
    threshold : float or None
        Rows with ``confidence >= threshold`` are kept. ``None`` keeps every row.

    Returns
    -------
    mask : ndarray of bool, shape (n_rows,)

    Examples
    --------
    >>> import numpy as np
    >>> from pseudo_sklearn._selection import confident_mask
    >>> confident_mask(np.array([0.5, 0.9, 0.95]), 0.9)
    array([False,  True,  True])
    """
    confidence = np.asarray(confidence, dtype=float)
    if threshold is None:
        return np.ones(confidence.shape[0], dtype=bool)
    return confidence >= threshold
