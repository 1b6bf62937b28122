"""Prediction on a Dask collection, block by block, as dask-ml's ParallelPostFit."""

import uuid

import numpy as np

from ._inputs import as_row_chunked
from ._tasks import predict_block


def predict_blockwise(clf, method, X, params):
    """``clf.estimator_.method`` on each chunk of rows of ``X``: a Dask array.

    Nothing is computed: the result has the row chunks of ``X`` and, for a
    2-D output (``predict_proba``), one chunk of columns. The fitted estimator
    travels with each task.
    """
    X, _ = as_row_chunked(X)
    if X.shape[1] != clf.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(clf).__name__} is expecting "
            f"{clf.n_features_in_} features as input."
        )
    estimator = clf.estimator_
    # One row of zeros tells the output's dtype and columns without reading X.
    sample = getattr(estimator, method)(
        np.zeros((1, X.shape[1]), dtype=X.dtype), **params
    )
    # A name of its own: Dask names an estimator by its parameters, which two
    # different fits share.
    name = f"{method}-{uuid.uuid4().hex}"
    if sample.ndim == 1:
        return X.map_blocks(
            predict_block,
            estimator,
            method,
            params,
            drop_axis=1,
            dtype=sample.dtype,
            meta=np.empty((0,), dtype=sample.dtype),
            name=name,
        )
    return X.map_blocks(
        predict_block,
        estimator,
        method,
        params,
        chunks=(X.chunks[0], (sample.shape[1],)),
        dtype=sample.dtype,
        meta=np.empty((0, 0), dtype=sample.dtype),
        name=name,
    )
