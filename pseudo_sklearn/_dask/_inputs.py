"""The Dask collections given to ``fit`` and ``predict``, checked, and the few
rows the driver gathers from them."""

import math

import numpy as np

from .._delegation import is_dask_collection
from .._labels import check_partial_labels
from ._tasks import labeled_of_block


def import_dask():
    """``dask`` and ``dask.array``, or an error that says how to install them."""
    try:
        import dask
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - dask is the optional extra
        raise ImportError(
            "Fitting or predicting on a Dask collection requires Dask: "
            "pip install 'pseudo-sklearn[dask]'"
        ) from exc
    return dask, da


def _as_dask_array(data, name):
    """A Dask DataFrame or Series as a Dask array with known chunk sizes."""
    if hasattr(data, "to_dask_array"):
        data = data.to_dask_array(lengths=True)
    _, da = import_dask()
    if not isinstance(data, da.Array):
        raise TypeError(
            f"{name} is a {type(data).__name__}; a Dask {name} must be a "
            "dask.array.Array or a dask.dataframe.DataFrame (or Series)."
        )
    if any(math.isnan(size) for size in data.chunks[0]):
        raise ValueError(
            f"{name} has unknown chunk sizes (NaN), so its rows cannot be "
            f"addressed; call {name} = {name}.compute_chunk_sizes() first."
        )
    return data


def as_row_chunked(X):
    """``X`` as a 2-D Dask array chunked along rows only, and its feature names.

    The names are those of a Dask DataFrame whose column names are all
    strings, else None; the estimator then sees arrays, not DataFrames.
    """
    names = None
    if hasattr(X, "columns"):
        columns = list(X.columns)
        if columns and all(isinstance(column, str) for column in columns):
            names = np.asarray(columns, dtype=object)
    X = _as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(
            f"X has {X.ndim} dimension(s) but must have 2 (rows, features); "
            "reshape it, e.g. X.reshape(-1, 1) for a single feature."
        )
    if len(X.chunks[1]) > 1:
        # One task must see whole rows: chunks split only the rows.
        X = X.rechunk({1: -1})
    return X, names


def gather_labels(y, n_rows):
    """Indices of the labeled rows (ascending) and their labels.

    ``y`` is a NumPy array (or array-like) or a Dask array, Series or
    DataFrame column; a Dask ``y`` is read block by block on the workers, and
    only its labeled rows come back. The unlabeled rows are found with the
    package's one rule (:func:`check_partial_labels`).
    """
    if not is_dask_collection(y):
        values, labeled = check_partial_labels(y)
        _check_length(values.shape[0], n_rows)
        rows = np.flatnonzero(labeled)
        return rows, values[rows]
    dask, _ = import_dask()
    y = _as_dask_array(y, "y")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(
            f"y has shape {y.shape} but must be 1-D: one label per row of X, "
            "-1 for the unlabeled rows."
        )
    _check_length(y.shape[0], n_rows)
    blocks = y.to_delayed().ravel()
    parts = dask.compute(
        *[dask.delayed(labeled_of_block)(b, check_partial_labels) for b in blocks]
    )
    offsets = np.concatenate([[0], np.cumsum([n for _, _, n in parts])[:-1]])
    rows = np.concatenate([p + o for (p, _, _), o in zip(parts, offsets, strict=True)])
    values = np.concatenate([v for _, v, _ in parts])
    if values.dtype.kind == "O":
        # Blocks are checked one by one: a mix of strings and numbers across
        # blocks is caught here.
        values, _ = check_partial_labels(values)
    return rows.astype(np.intp), values


def _check_length(n_y, n_rows):
    if n_y != n_rows:
        raise ValueError(
            f"y has {n_y} rows but X has {n_rows}: give one label per row of "
            "X, with -1 for the unlabeled rows."
        )


def weight_blocks(sample_weight, X):
    """``sample_weight`` cut like the rows of ``X``: one block per chunk.

    A Dask ``sample_weight`` is rechunked like ``X`` (each block stays a
    lazy task); a NumPy one is cut into views, so that a task carries the
    weights of its own chunk only. None without weights.
    """
    if sample_weight is None:
        return None
    n_rows = X.shape[0]
    if is_dask_collection(sample_weight):
        weights = _as_dask_array(sample_weight, "sample_weight")
        _check_weight_shape(weights.shape, n_rows)
        weights = weights.astype(np.float64).rechunk((X.chunks[0],))
        return list(weights.to_delayed().ravel())
    weights = np.asarray(sample_weight, dtype=np.float64)
    _check_weight_shape(weights.shape, n_rows)
    edges = np.cumsum((0,) + X.chunks[0])
    return [weights[a:b] for a, b in zip(edges[:-1], edges[1:], strict=True)]


def _check_weight_shape(shape, n_rows):
    if len(shape) != 1 or shape[0] != n_rows:
        raise ValueError(
            f"sample_weight has shape {shape} but X has {n_rows} rows: give "
            "one weight per row of X, as a 1-D array."
        )


def gather_rows(X, rows):
    """The rows ``rows`` (any order, no repeats) of ``X`` as one NumPy array.

    Only the chunks that hold them are read, and from a memory-mapped file
    only the pages that hold them.
    """
    order = np.argsort(rows, kind="stable")
    if rows.shape[0] == 0:
        return np.empty((0, X.shape[1]), dtype=X.dtype)
    gathered = X[rows[order]].compute()
    out = np.empty_like(gathered)
    out[order] = gathered
    return out


def probe_rows(n_rows, labeled, n_probe):
    """Up to ``n_probe`` unlabeled rows, sorted, with a generator of their own.

    ``_Monitor``'s sample of the pool, drawn without listing the pool's rows
    (800 MB of indices at 10^8 rows): where the unlabeled rows are most rows,
    uniform draws that miss the labeled rows are enough.
    """
    n_unlabeled = n_rows - labeled.shape[0]
    size = min(n_probe, n_unlabeled)
    rng = np.random.RandomState(0)
    if n_rows <= 10**6 or n_unlabeled < 4 * size:
        pool = np.setdiff1d(np.arange(n_rows), labeled, assume_unique=True)
        return np.sort(rng.choice(pool, size=size, replace=False))
    chosen = np.empty(0, dtype=np.intp)
    while chosen.shape[0] < size:
        drawn = rng.randint(0, n_rows, size=2 * size)
        chosen = np.union1d(chosen, np.setdiff1d(drawn, labeled))
    return np.sort(rng.permutation(chosen)[:size])
