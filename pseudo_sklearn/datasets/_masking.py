"""Label masking: turn a fully labeled ``y`` into a semi-supervised one.

:func:`mask_labels` hides all but a few labels by replacing them with ``-1``,
the unlabeled marker used throughout scikit-learn.
"""

import numbers

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["mask_labels"]


def _check_n_labeled(n_labeled, n_samples, n_classes, per_class):
    if not isinstance(n_labeled, numbers.Integral) or isinstance(n_labeled, bool):
        raise TypeError(f"n_labeled must be an integer, got {n_labeled!r}.")
    if n_labeled < 1:
        raise ValueError(f"n_labeled must be at least 1, got {n_labeled}.")
    if n_labeled > n_samples:
        raise ValueError(
            f"n_labeled={n_labeled} is larger than the number of rows in y "
            f"({n_samples}); pass n_labeled <= {n_samples}."
        )
    if per_class and n_labeled < n_classes:
        raise ValueError(
            f"n_labeled={n_labeled} is smaller than the number of classes in y "
            f"({n_classes}), so per_class=True cannot label every class; pass "
            f"n_labeled >= {n_classes} or per_class=False."
        )


def mask_labels(y, n_labeled=1000, *, per_class=True, random_state=None):
    """Hide all but ``n_labeled`` labels of ``y`` by setting them to -1.

    Rows to keep labeled are chosen at random; all other rows get ``-1``, the
    unlabeled marker of scikit-learn's semi-supervised estimators.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels, integers or strings (an object array is returned for strings).
        Must not already contain -1.

    n_labeled : int, default=1000
        How many rows keep their label.

    per_class : bool, default=True
        If True, each class keeps ``n_labeled // n_classes`` labels; when
        ``n_labeled`` does not split evenly, the remaining
        ``n_labeled % n_classes`` labels go one each to the first classes in
        sorted order (the convention of :func:`numpy.array_split`). If False,
        the labeled rows are drawn uniformly from all rows, regardless of class.

    random_state : int, RandomState instance or None, default=None
        Controls which rows keep their label. Pass an int for reproducible
        output across multiple function calls.

    Returns
    -------
    y_masked : ndarray of shape (n_samples,)
        A new array (``y`` is not modified). Integer and float labels keep their
        dtype (unsigned and boolean ones become int64 so that -1 fits); string
        labels are returned in an object array.

    Raises
    ------
    ValueError
        If ``y`` already contains -1, if ``n_labeled`` is below 1, above
        ``n_samples``, or (with ``per_class``) below the number of classes, or
        if a class has fewer rows than its share of ``n_labeled``.

    See Also
    --------
    fetch_mnist : Load MNIST, for example to mask its training labels.

    Examples
    --------
    >>> import numpy as np
    >>> from pseudo_sklearn.datasets import mask_labels
    >>> y = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    >>> y_masked = mask_labels(y, n_labeled=3, random_state=0)
    >>> y_masked
    array([-1, -1,  0, -1, -1,  1,  2, -1, -1])
    >>> np.unique(y_masked[y_masked != -1], return_counts=True)
    (array([0, 1, 2]), array([1, 1, 1]))
    >>> mask_labels(["cat", "dog", "cat", "dog"], n_labeled=2, random_state=0)
    array([-1, 'dog', 'cat', -1], dtype=object)
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(
            f"y must be 1-dimensional, got an array of shape {y.shape}; "
            "pass y.ravel() for a single column."
        )
    if y.dtype.kind in "ub":
        y_masked = y.astype(np.int64)
    elif y.dtype.kind in "ifc":
        y_masked = y.copy()
    else:
        y_masked = y.astype(object)
    if np.any(y_masked == -1):
        raise ValueError(
            f"y already contains -1 in {np.count_nonzero(y_masked == -1)} rows; "
            "-1 marks unlabeled rows, so pass only the known labels."
        )

    classes, inverse, counts = np.unique(
        y_masked, return_inverse=True, return_counts=True
    )
    _check_n_labeled(n_labeled, y.shape[0], len(classes), per_class)
    rng = check_random_state(random_state)

    if per_class:
        quotas = np.full(len(classes), n_labeled // len(classes))
        quotas[: n_labeled % len(classes)] += 1
        for cls, count, quota in zip(classes, counts, quotas, strict=True):
            if count < quota:
                # Python scalars print as 1 or 'b' rather than np.int64(1).
                label = cls.item() if isinstance(cls, np.generic) else cls
                raise ValueError(
                    f"n_labeled={n_labeled} with per_class=True needs {quota} "
                    f"labeled rows of class {label!r}, but y has only {count} rows "
                    "of that class; lower n_labeled or pass per_class=False."
                )
        keep = np.concatenate(
            [
                rng.choice(np.flatnonzero(inverse == k), size=quota, replace=False)
                for k, quota in enumerate(quotas)
            ]
        )
    else:
        keep = rng.choice(y.shape[0], size=n_labeled, replace=False)

    unlabeled = np.ones(y.shape[0], dtype=bool)
    unlabeled[keep] = False
    y_masked[unlabeled] = -1
    return y_masked
