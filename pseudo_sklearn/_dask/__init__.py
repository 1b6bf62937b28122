"""PseudoLabelClassifier on a Dask pool: the only part of pseudo_sklearn that
imports Dask, and only when a Dask collection reaches ``fit`` or a prediction
method (``pip install "pseudo-sklearn[dask]"``).

What runs where
---------------
``fit(X, y)`` with ``X`` a Dask array (or DataFrame) never computes ``X``:

1. The labeled rows of ``y`` (a NumPy array, or a Dask array read block by
   block on the workers) are found by the package's one rule, and only those
   rows of ``X``, with 2,000 rows of the pool for the monitor, come to the
   driver; the supervised model is fitted there.
2. Each iteration draws a batch in pass order (:class:`._draws._PassOrder`):
   the chunks in a random order, each chunk's rows still in the pool in a
   random order, so that a pass over the pool reads each chunk once. Each
   piece of the batch (the rows it takes from one chunk) is labeled and
   thresholded by a task on the worker that reads the chunk, which holds the
   rows that passed (``dask.persist``).
3. Their labels and confidences (a few bytes a row) come to the driver, which
   applies the per-class quota over the whole batch (``_selection.select``,
   the in-memory rule); the rows kept then come to the driver one part (at
   most a chunk of rows) at a time, and each part updates the model with one
   ``partial_fit`` together with its share of the labeled rows.

The work runs wherever ``dask.compute`` runs it: on the cluster of an active
``distributed.Client``, else on Dask's default scheduler. Every task is a pure
function of its inputs, so a task lost with a worker is recomputed to the same
result; when Dask gives up (``KilledWorker``) the error propagates and the
estimator is left unfitted.

Differences from the in-memory fit, by design
---------------------------------------------
- Only ``refit="partial"`` (``"auto"`` with an estimator that has
  ``partial_fit``): the other modes refit on every labeled row, which is the
  pool. Estimators without ``partial_fit`` get a ValueError that says so.
- The draws follow pass order instead of a fresh uniform draw from the whole
  pool each iteration, so the same ``random_state`` gives other batches than
  in memory: results agree in accuracy, not row for row.
- ``transduction_`` and ``labeled_iter_`` are NumPy arrays on the driver in
  compact dtypes: ``labeled_iter_`` in the smallest signed integer type that
  holds ``max_iter`` (int8 for the default 25 iterations), ``transduction_``
  in the smallest signed integer type holding -1 and the classes when those are
  integers (the classes' own dtype otherwise: object for strings). With integer
  classes, 2 bytes a row, 200 MB at 10^8 rows. Dask arrays were rejected: the
  driver learns each kept row's label anyway, and a lazy array over that record
  would cost the same memory while making ``transduction_ != -1`` a computation.
- ``history_`` has the in-memory keys; ``"fit_time"`` includes bringing the
  kept rows to the driver.
- Fit parameters other than ``sample_weight`` are refused, and a teacher that
  is fitted on unlabeled rows (``LabelSpreading``...) is refused.
"""

from ._fit import fit_dask
from ._predict import predict_blockwise

__all__ = ["fit_dask", "predict_blockwise"]
