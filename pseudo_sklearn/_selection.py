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


def per_class_quota_mask(labels, confidence, keep, classes, class_prior):
    """Cap the kept rows of each predicted class at its share of the labeled rows.

    Of the ``n = keep.sum()`` candidate rows, class ``c`` keeps at most
    ``ceil(n * class_prior[c])`` of its most confident rows, so that one class
    cannot swallow the pool; rows above a quota are dropped (and go back to the
    pool). A class never keeps more rows than were predicted for it.

    Parameters
    ----------
    labels : ndarray of shape (n_rows,)
        Predicted class of each row.
    confidence : ndarray of shape (n_rows,)
        Highest predicted probability of each row.
    keep : ndarray of bool, shape (n_rows,)
        Candidate rows (for example those that passed a threshold).
    classes : ndarray of shape (n_classes,)
        The classes.
    class_prior : ndarray of shape (n_classes,)
        Share of each class among the labeled rows; sums to 1.

    Returns
    -------
    mask : ndarray of bool, shape (n_rows,)
        A subset of ``keep``.

    Examples
    --------
    >>> import numpy as np
    >>> from pseudo_sklearn._selection import per_class_quota_mask
    >>> labels = np.array([0, 0, 0, 1])
    >>> confidence = np.array([0.9, 0.6, 0.8, 0.7])
    >>> keep = np.ones(4, dtype=bool)
    >>> per_class_quota_mask(labels, confidence, keep, np.array([0, 1]), [0.5, 0.5])
    array([ True, False,  True,  True])
    """
    keep = np.asarray(keep, dtype=bool)
    confidence = np.asarray(confidence, dtype=float)
    n_keep = int(keep.sum())
    mask = np.zeros(keep.shape[0], dtype=bool)
    for cls, prior in zip(classes, class_prior, strict=True):
        candidates = np.flatnonzero(keep & (labels == cls))
        quota = int(np.ceil(round(n_keep * float(prior), 9)))
        if candidates.shape[0] > quota:
            order = np.argsort(-confidence[candidates], kind="stable")
            candidates = candidates[order[:quota]]
        mask[candidates] = True
    return mask


def select(labels, confidence, threshold, class_prior, quota):
    """Mask of the drawn rows whose pseudo-labels are kept: confident enough,
    then within their class's quota when ``quota`` is set.

    ``class_prior`` is the pair ``(classes, shares)``: each class and its
    share of the labeled rows.
    """
    keep = confident_mask(confidence, threshold)
    if quota:
        classes, shares = class_prior
        keep = per_class_quota_mask(labels, confidence, keep, classes, shares)
    return keep
