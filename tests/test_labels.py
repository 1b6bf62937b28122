"""One rule for unlabeled rows, for every kind of y (pseudo_sklearn._labels)."""

import numpy as np
import pandas as pd
import pytest

from pseudo_sklearn._labels import check_partial_labels


@pytest.mark.parametrize(
    "y",
    [
        np.array([0, -1, 1, -1]),
        np.array([0.0, -1.0, 1.0, -1.0]),
        np.array(["a", "-1", "b", "-1"]),
        np.array([b"a", b"-1", b"b", b"-1"]),
        np.array(["a", -1, "b", "-1"], dtype=object),
        np.array([0, "-1", 1, -1], dtype=object),
        pd.Series(["a", "-1", "b", "-1"]),
        pd.Series(["a", "-1", "b", "-1"], dtype="string"),
        pd.Series(["a", "-1", "b", "-1"], dtype="category"),
        pd.Series([0, -1, 1, -1]),
    ],
    ids=[
        "int",
        "float",
        "numpy-str",
        "numpy-bytes",
        "object-str",
        "object-int",
        "pandas-object",
        "pandas-string",
        "pandas-category",
        "pandas-int",
    ],
)
def test_every_kind_of_y_marks_the_same_rows(y):
    y_out, labeled = check_partial_labels(y)
    np.testing.assert_array_equal(labeled, [True, False, True, False])
    assert all(value == -1 and not isinstance(value, str) for value in y_out[1::2])
    assert -1 not in list(y_out[::2]) and "-1" not in list(y_out[::2])


@pytest.mark.parametrize(
    "y", [np.array(["a", 7, -1], dtype=object), pd.Series([7, "b", "-1"])]
)
def test_mixed_label_types_are_refused(y):
    with pytest.raises(ValueError, match="mixes labels of different types"):
        check_partial_labels(y)


def test_error_names_the_parameter():
    with pytest.raises(ValueError, match="y_train mixes labels"):
        check_partial_labels(np.array(["a", 1], dtype=object), param="y_train")
