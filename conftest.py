"""Collection rules and thread limits for the whole repository."""

import importlib.util
import os

# Two cores shared with BLAS/OpenMP thread pools slow a fit up to 100x (the
# pools spin against each other): the suite runs every pool with one thread.
# The variables cover pools started later (joblib workers, torch); threadpoolctl
# caps the ones already loaded.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(1)

# The doctests of pseudo_sklearn.torch need PyTorch, an optional extra: without
# it they are not collected (tests/torch/ skips itself the same way).
collect_ignore_glob = []
if importlib.util.find_spec("torch") is None:
    collect_ignore_glob.append("pseudo_sklearn/torch/*")
