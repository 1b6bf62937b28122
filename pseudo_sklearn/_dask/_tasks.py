"""What runs on the workers: pure NumPy functions of one chunk of the pool.

They are pickled by reference into Dask tasks, so they live at module level and
import nothing from Dask. Each is a pure function of its arguments, so that a
task lost with a worker is recomputed to the same result.
"""

from dataclasses import dataclass

import numpy as np

from .._labeling import _label_chunk
from .._selection import select


@dataclass
class Candidates:
    """The rows of one piece of a batch whose pseudo-label passed the threshold.

    Held on the worker that labeled them until the driver has chosen which of
    them to keep (the per-class quota needs the whole batch).

    Attributes
    ----------
    positions : ndarray of int
        Positions of the rows in their chunk, ascending.
    codes : ndarray of int
        Index of each row's pseudo-label in ``classes_``.
    confidence : ndarray of float
        Highest ``predict_proba`` of each row, NaN without it.
    rows : ndarray of shape (n_candidates, n_features)
        The rows themselves, in the dtype of ``X``.
    weights : ndarray of float or None
        The ``sample_weight`` given for each row, if any.
    """

    positions: np.ndarray
    codes: np.ndarray
    confidence: np.ndarray
    rows: np.ndarray
    weights: np.ndarray | None


def label_piece(labeler, block, positions, weights, *, how):
    """Label ``block[positions]`` and keep the rows that pass the threshold.

    ``how`` holds ``threshold``, ``use_proba``, ``chunk_size`` (rows predicted
    at once, which bounds the memory of the predictions), ``classes`` (sorted)
    and ``code_dtype``. ``weights`` is the block of ``sample_weight`` or None.
    """
    rows = np.asarray(block[positions])
    labels, confidence = [], []
    for start in range(0, rows.shape[0], how["chunk_size"]):
        part = rows[start : start + how["chunk_size"]]
        part_labels, part_confidence = _label_chunk(labeler, part, how["use_proba"])
        labels.append(part_labels)
        confidence.append(part_confidence)
    labels = np.concatenate(labels)
    confidence = np.concatenate(confidence)
    # The threshold alone: the quota is shared over the whole batch, on the driver.
    passed = select(labels, confidence, how["threshold"], None, quota=False)
    codes = np.searchsorted(how["classes"], labels[passed]).astype(how["code_dtype"])
    return Candidates(
        positions=positions[passed],
        codes=codes,
        confidence=confidence[passed],
        rows=rows[passed],
        weights=None if weights is None else np.asarray(weights)[positions[passed]],
    )


def load_chunk(block):
    """A chunk in memory: a memory-mapped one is read here, once."""
    return np.array(block) if isinstance(block, np.memmap) else np.asarray(block)


def summary(candidates):
    """What the driver needs to choose: positions, label codes, confidences."""
    return candidates.positions, candidates.codes, candidates.confidence


def take(candidates, keep):
    """The kept rows (and their weights): what travels to the driver."""
    weights = None if candidates.weights is None else candidates.weights[keep]
    return candidates.rows[keep], weights


def labeled_of_block(block, check_labels):
    """The labeled rows of one block of ``y``: positions in the block, labels,
    and the block's length."""
    values, labeled = check_labels(block)
    return np.flatnonzero(labeled), values[labeled], values.shape[0]


def predict_block(block, estimator, method, params):
    """``estimator.method`` on one block of rows."""
    return getattr(estimator, method)(block, **params)
