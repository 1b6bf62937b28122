"""Labeling a batch of pool rows with a fitted model, in bounded chunks."""

import numpy as np
from joblib import Parallel, delayed

from .utils._compat import _safe_indexing


def _label_chunk(estimator, X_chunk, use_proba):
    """Pseudo-labels and their confidence for one chunk of rows."""
    if use_proba:
        proba = estimator.predict_proba(X_chunk)
        best = np.argmax(proba, axis=1)
        return estimator.classes_[best], proba[np.arange(best.shape[0]), best]
    labels = estimator.predict(X_chunk)
    return labels, np.full(labels.shape[0], np.nan)


def label_rows(estimator, X, rows, *, use_proba, chunk_size, n_jobs):
    """Pseudo-labels and confidences of ``rows`` of ``X``.

    The rows are labeled in chunks of at most ``chunk_size``, so the memory
    used by predictions does not grow with the batch; the chunks run in
    parallel through joblib when there are several. The confidence is the
    highest ``predict_proba`` of a row, or NaN without ``use_proba``.
    """
    chunks = [
        rows[start : start + chunk_size]
        for start in range(0, rows.shape[0], chunk_size)
    ]
    if len(chunks) == 1:
        return _label_chunk(estimator, _safe_indexing(X, rows), use_proba)
    results = Parallel(n_jobs=n_jobs)(
        delayed(_label_chunk)(estimator, _safe_indexing(X, chunk), use_proba)
        for chunk in chunks
    )
    labels = np.concatenate([labels for labels, _ in results])
    confidence = np.concatenate([conf for _, conf in results])
    return labels, confidence
