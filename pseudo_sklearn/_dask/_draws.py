"""The per-row state of a pool that is not in memory, and the order it is drawn in.

Pure NumPy: the driver holds two small integers per row (the iteration a row
got its label, and the index of that label in ``classes_``), never the rows.
"""

import numpy as np

from .._labels import UNLABELED


def smallest_signed(*values):
    """The smallest signed integer dtype that holds every value (and -1)."""
    low, high = min(-1, *map(int, values)), max(-1, *map(int, values))
    for dtype in (np.int8, np.int16, np.int32):
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


class _RowState:
    """For each row of the pool: when it got its label, and which one.

    ``added_at`` is ``labeled_iter_`` (0 labeled, -1 never labeled, else the
    iteration) and ``codes`` the index of the row's label in ``classes_`` (-1
    for no label), each in the smallest signed dtype that holds its values:
    two bytes a row with up to 127 classes and 127 iterations (200 MB at
    10^8 rows). The rows still in the pool are those with ``added_at == -1``.

    Parameters
    ----------
    n_rows : int
        Rows of ``X``.
    labeled : ndarray of int
        Indices of the labeled rows.
    codes : ndarray of int
        Index in ``classes_`` of each labeled row's label.
    n_classes : int
    max_iter : int or None
        The most iterations the fit can run; None: unknown (grows as needed).
    """

    def __init__(self, n_rows, labeled, codes, n_classes, max_iter):
        iter_dtype = smallest_signed(max_iter if max_iter is not None else 127)
        self.added_at = np.full(n_rows, -1, dtype=iter_dtype)
        self.added_at[labeled] = 0
        self.codes = np.full(n_rows, -1, dtype=smallest_signed(n_classes - 1))
        self.codes[labeled] = codes
        self.n_pool = n_rows - labeled.shape[0]

    def pool_positions(self, start, stop):
        """Positions (from ``start``) of the rows of ``[start, stop)`` in the pool."""
        return np.flatnonzero(self.added_at[start:stop] == -1)

    def add(self, start, positions, codes, iteration):
        """Record that rows ``start + positions`` got labels ``codes``."""
        if iteration > np.iinfo(self.added_at.dtype).max:
            self.added_at = self.added_at.astype(smallest_signed(iteration))
        self.added_at[start + positions] = iteration
        self.codes[start + positions] = codes
        self.n_pool -= positions.shape[0]

    def transduction(self, classes):
        """``transduction_``: each row's label, -1 where it has none; called once,
        at the end of the fit.

        With integer classes, in the smallest signed dtype holding them and -1
        (the codes themselves when the classes are 0, 1, ...); otherwise in the
        classes' dtype (object for strings), as in memory.
        """
        if classes.dtype.kind in "iu":
            if np.array_equal(classes, np.arange(classes.shape[0])):
                # The codes are the labels: no copy (the state ends with the fit).
                return self.codes
            dtype = smallest_signed(classes.min(), classes.max())
        else:
            dtype = classes.dtype
        table = np.concatenate([np.array([UNLABELED], dtype=dtype), classes])
        out = np.empty(self.codes.shape[0], dtype=dtype)
        # In slices, so that no full-length temporary of int64 indices is made.
        step = 1 << 22
        for start in range(0, out.shape[0], step):
            codes = self.codes[start : start + step]
            out[start : start + step] = table[codes.astype(np.intp) + 1]
        return out


class _PassOrder:
    """Batches drawn so that each pass over the pool reads each chunk once.

    A pass visits the chunks in a random order and, within a chunk, its rows
    still in the pool in a random order; a batch is the next ``size`` rows of
    that sequence, a list of pieces ``(chunk, positions)``. A batch never
    crosses into the next pass: the last one of a pass may be smaller (as the
    last draw from a small pool is in memory). Rows drawn but not kept stay in
    the pool and are drawn again in the next pass, which starts when one ends
    and only sees the rows still in the pool.

    Parameters
    ----------
    row_chunks : tuple of int
        Rows of each chunk of ``X``.
    state : _RowState
        Which rows are still in the pool.
    rng : RandomState
    """

    def __init__(self, row_chunks, state, rng):
        self.sizes = np.asarray(row_chunks, dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(self.sizes)[:-1]])
        self._state = state
        self._rng = rng
        self._chunks = []
        self._chunk = None
        self._rest = None
        self.n_passes = 0

    def _next_chunk(self):
        """Move to the next chunk of the pass; False when the pass is over."""
        while self._chunks:
            chunk = self._chunks.pop()
            start = self.starts[chunk]
            positions = self._state.pool_positions(start, start + self.sizes[chunk])
            if positions.shape[0]:
                self._chunk = chunk
                self._rest = self._rng.permutation(positions)
                return True
        return False

    @property
    def current_chunk(self):
        """The chunk that the next batch starts in, if its rows are not all drawn."""
        if self._rest is None or self._rest.shape[0] == 0:
            return None
        return int(self._chunk)

    def batch(self, size):
        """The pieces ``(chunk, sorted positions)`` of the next batch of ``size``."""
        pieces = []
        fresh = False
        while size > 0:
            if self._rest is None or self._rest.shape[0] == 0:
                if not self._next_chunk():
                    if pieces or fresh or self._state.n_pool == 0:
                        break
                    self._chunks = list(self._rng.permutation(self.sizes.shape[0]))
                    self.n_passes += 1
                    fresh = True
                    continue
            taken, self._rest = self._rest[:size], self._rest[size:]
            pieces.append((int(self._chunk), np.sort(taken)))
            size -= taken.shape[0]
        return pieces
