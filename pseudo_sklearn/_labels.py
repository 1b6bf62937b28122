"""The one rule for which rows of ``y`` are unlabeled.

Every estimator and splitter of the package reads ``y`` through
:func:`check_partial_labels`, so a row is unlabeled for all of them or for none:

- numeric ``y`` (int, float, bool): the number ``-1``;
- object ``y`` (strings or numbers, a pandas ``Series`` of strings, a
  categorical, pandas' ``string`` dtype): the integer ``-1`` and the string
  ``"-1"``;
- NumPy string ``y`` (dtype ``U`` or ``S``), which cannot hold the integer
  ``-1``: the string ``"-1"``.

Labels themselves must be all strings or all numbers: a mix would sort
unpredictably and make ``7`` and ``"7"`` two classes, so it is refused.
"""

from numbers import Number

import numpy as np
from sklearn.utils.validation import column_or_1d

__all__ = ["UNLABELED", "check_partial_labels"]

UNLABELED = -1


def _is_unlabeled_value(value):
    if isinstance(value, str | bytes):
        return value in ("-1", b"-1")
    return isinstance(value, Number) and not isinstance(value, bool) and value == -1


def check_partial_labels(y, *, param="y"):
    """Validate a partially labeled target and mark its unlabeled rows.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels with unlabeled rows marked as described in the module.

    param : str, default="y"
        Name of the argument, used in error messages.

    Returns
    -------
    y : ndarray of shape (n_samples,)
        The labels, with the integer -1 in every unlabeled row: an object array
        when the labels are strings, a numeric array otherwise.

    labeled : ndarray of bool of shape (n_samples,)
        True for the labeled rows.
    """
    # np.asarray first: pandas' string, categorical and nullable dtypes become
    # object arrays of their values, which the rule reads like any other.
    y = column_or_1d(np.asarray(y), warn=True)
    if y.dtype.kind in "US":
        labeled = np.asarray(y != y.dtype.type("-1"), dtype=bool)
        y = y.astype(object)
        y[~labeled] = UNLABELED
        return y, labeled
    if y.dtype.kind != "O":
        return y, np.asarray(y != UNLABELED, dtype=bool)

    labeled = ~np.fromiter(
        (_is_unlabeled_value(v) for v in y), dtype=bool, count=y.shape[0]
    )
    y = y.copy()
    y[~labeled] = UNLABELED
    kinds = {_label_kind(v) for v in y[labeled]}
    if "other" in kinds or len(kinds) > 1:
        examples = _examples(y[labeled])
        raise ValueError(
            f"{param} mixes labels of different types ({examples}); give every "
            f"labeled row the same type, e.g. {param} = {param}.astype(str) with "
            '"-1" (or the integer -1) for the unlabeled rows.'
        )
    return y, labeled


def _label_kind(value):
    if isinstance(value, str):
        return "str"
    if isinstance(value, Number) and not isinstance(value, bool):
        return "number"
    return "other"


def _examples(values):
    seen = {}
    for value in values:
        seen.setdefault(type(value).__name__, value)
    return ", ".join(f"{value!r} ({name})" for name, value in seen.items())
