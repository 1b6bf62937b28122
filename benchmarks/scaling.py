"""Scaling with the unlabeled pool: PseudoLabelClassifier vs SelfTrainingClassifier.

Synthetic data from ``make_classification`` (50 features, 20 informative, 5
classes, float64, ``random_state=0``): ``--n-labeled`` labeled rows (1000), an
unlabeled pool of each size in ``--sizes`` (10^4, 10^5, 10^6 rows) and
``--n-test`` held-out test rows (10,000).

* supervised: ``SGDClassifier(loss="log_loss", random_state=0)`` fitted on the
  labeled rows only, the baseline every pseudo-labeling column should not fall
  below.
* published: ``PseudoLabelClassifier(SGDClassifier(loss="log_loss",
  random_state=0), sample_rate=0.04, random_state=0)`` with every safety
  mechanism off (``_common.PUBLISHED_SETTINGS``), the published loop, with
  ``refit="auto"``, which is ``"partial"`` for SGDClassifier: 25 iterations,
  each labeling a batch of 4% of the pool in chunks of ``chunk_size=10_000``
  rows and calling ``partial_fit`` on the labeled rows plus the batch.
* defaults: ``PseudoLabelClassifier(SGDClassifier(loss="log_loss",
  random_state=0), random_state=0)``: only the estimator given, whatever the
  library's defaults are.
* guard: the published settings with ``validation_fraction=0.1`` (100 of the
  labeled rows held out to pick the best iteration).
* ST: scikit-learn's ``SelfTrainingClassifier(SGDClassifier(loss="log_loss",
  random_state=0), threshold=0.75)`` with its other defaults
  (``criterion="threshold"``, ``max_iter=10``): each iteration predicts the
  whole remaining pool and refits SGD (``max_iter=1000``, ``tol=1e-3``) from
  scratch on every row labeled so far.

Each (method, size) is measured in a fresh subprocess that loads the data from
``.npy`` files written once by this script, so that neither the data generation
nor an earlier measurement leaves memory behind:

* time: wall-clock seconds of one ``fit``, without tracemalloc (whose hooks slow
  Python-level code);
* memory beyond the data: a second, identical ``fit`` under tracemalloc, started
  after the data exists: the peak minus the memory traced at the start. NumPy
  reports its buffers to tracemalloc; memory that C or Cython code gets from
  ``malloc`` directly is not seen. As a cross-check, "RSS" is the growth of the
  process's peak resident memory during the first fit over its resident memory
  before it, which sees every allocation (on Linux the peak, ``VmHWM``, is
  reset just before the fit; elsewhere ``ru_maxrss`` may include an earlier
  peak). A first fit on a slice of 2,000 rows, before both, loads the modules
  that fitting imports lazily. The traced fit is skipped when the first one
  took longer than ``--trace-max-seconds``.
* accuracy on the held-out test rows, outside both measurements.

The table gives every method per size, "x/ST" (time and memory ratios of the
same run, for published and defaults) and the empirical scaling exponent of
time: the slope of log(time) against log(pool size) between consecutive sizes
(1 is linear). The targets: an exponent no larger than 1 and memory beyond the
data under 1 GiB at 10^6 rows, for the published settings and the defaults.
JSON and a log-log PNG go to ``--out``.

SelfTrainingClassifier's cost grows with the pool times the number of SGD epochs
to convergence; at 10^6 rows it runs for far longer than the rest of the
benchmark together. ``--st-max-pool`` leaves it out above a size and the table
says so; ``--timeout`` stops any single measurement and reports it as
timed out (a lower bound, not a time).

Out of core (issue 32): the same library on a pool that is never in memory,
``PseudoLabelClassifier(SGDClassifier(loss="log_loss", random_state=0),
random_state=0)`` (the defaults: partial refits, per-class quota, averaging,
weight cap, drift check) fitted on a Dask array read lazily from ``.npy`` files
(``da.from_npy_stack``, memory-mapped) on a cluster of 2 worker processes of
1 thread each, started by the measuring subprocess (the driver): by default
with the scheduler in a process of its own, as with a real cluster
(``distributed``'s ``SubprocessCluster``), so that the driver's RSS is the
client's; ``--ooc-scheduler in-driver`` runs it inside the driver, as
``LocalCluster`` does (the scheduler's peak RSS is reported either way). The
pool: ``--ooc-sizes`` rows
(10^6, 10^7, 10^8) of 20 float32 features, Gaussian blobs around 5 class
centres (``0.5 * randn(5, 20)``, seed 12345; unit noise), chunk ``i`` seeded
``1000 + i``, in chunks of ``--ooc-chunk`` rows (250,000: 19 MiB), with
``--ooc-labeled`` labeled rows (10^4) drawn uniformly; test accuracy on 10^5
rows (seed 7). The largest pool is written once, chunk by chunk, to
``--ooc-cache`` (``~/scikit_learn_data/pseudo_sklearn_bench``, 8 GB at 10^8
rows) and the smaller pools are its first rows. Reported for each size: fit
time; rows labeled per second (rows drawn and labeled by the workers over the
fit time); peak RSS of the driver and of each worker during the fit (``VmHWM``
reset just before it); the time of one blockwise ``predict_proba`` pass over
the same pool (reduced to its column sums on the workers) and the fit's
multiple of it; test accuracy, and where the pool fits in memory
(``--ooc-in-memory-max``, 10^7) that of the in-memory fit with the same seed
on the same rows, with its time and peak RSS. The targets: driver peak <= 1
GiB at 10^8, worker peaks within the stated bound, t(10^8)/t(10^7) <= 12, the
10^8 fit within 3 passes, and the 10^6 accuracy equal to the in-memory one to
0.1 point.

Run ``python benchmarks/scaling.py`` (``--st-max-pool 100000`` for a run of about
ten minutes on 2 cores, plus the out-of-core rows), ``--tables in-memory`` or
``--tables out-of-core`` for one table, or ``--quick`` for CI (pools of 1,000
and 10,000 rows, 2,000 test rows, ST at 1,000 rows; out of core one pool of
200,000 rows in chunks of 20,000 with 2,000 labeled, SGD only).

Options: ``--sizes N ...``, ``--n-labeled N``, ``--n-test N``,
``--st-max-pool N``, ``--timeout S``, ``--trace-max-seconds S``, ``--quick``,
``--tables {all,in-memory,out-of-core}``, ``--ooc-sizes N ...``,
``--ooc-chunk N``, ``--ooc-labeled N``, ``--ooc-estimators {sgd,gnb} ...``,
``--ooc-in-memory-max N``, ``--ooc-cache DIR``,
``--out DIR`` (JSON and PNG, default ``benchmarks/results``). The data are
seeded (``random_state=0``), so there is no ``--seeds``.
"""

import argparse
import itertools
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (
    PUBLISHED_SETTINGS,
    Log,
    add_common_options,
    save_plot,
    write_json,
)

METHODS = ("supervised", "published", "defaults", "guard", "ST")
# Methods whose time and memory are compared with ST's and checked against the
# targets.
OURS = ("published", "defaults")
MiB = 2**20


def _make_estimator(method):
    from sklearn.linear_model import SGDClassifier

    sgd = SGDClassifier(loss="log_loss", random_state=0)
    if method == "supervised":
        return sgd
    if method == "ST":
        from sklearn.semi_supervised import SelfTrainingClassifier

        return SelfTrainingClassifier(sgd, threshold=0.75)
    from pseudo_sklearn import PseudoLabelClassifier

    if method == "defaults":
        return PseudoLabelClassifier(sgd, random_state=0)
    guard = {"validation_fraction": 0.1} if method == "guard" else {}
    return PseudoLabelClassifier(sgd, random_state=0, **guard, **PUBLISHED_SETTINGS)


def _current_rss():
    """Resident memory of this process now, in bytes (Linux), else None."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def _reset_peak_rss():
    """Reset the peak resident memory to the current one (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _peak_rss():
    """Peak resident memory of this process since the last reset, in bytes."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def measure(method, data_dir, trace_max_seconds):
    """Fit one method on the saved data; runs in its own subprocess."""
    import gc
    import tracemalloc
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    # SGD inside SelfTrainingClassifier may stop at max_iter; that is its cost.
    warnings.simplefilter("ignore", ConvergenceWarning)
    data = {name: np.load(Path(data_dir) / f"{name}.npy") for name in "XyTt"}
    X, y, X_test, y_test = data["X"], data["y"], data["T"], data["t"]
    if method == "supervised":
        X, y = X[y != -1], y[y != -1]
    gc.collect()

    # A first fit on a small slice loads the modules that fitting imports
    # lazily, so that they are not counted as memory used by the fit.
    n_warm = min(X.shape[0], int(np.sum(y != -1)) + 1000)
    _make_estimator(method).fit(X[:n_warm], y[:n_warm])
    gc.collect()
    _reset_peak_rss()
    rss_before = _current_rss() or _peak_rss()
    model = _make_estimator(method)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        fit_time = time.perf_counter() - start
    rss_extra = max(0, _peak_rss() - rss_before)
    accuracy = float(np.mean(model.predict(X_test) == y_test))
    result = {
        "fit_time": fit_time,
        "rss_extra": rss_extra,
        "accuracy": accuracy,
        "n_iter": int(model.n_iter_),
        "termination": getattr(model, "termination_condition_", "supervised"),
        "n_pseudo_labeled": 0,
        "trace_extra": None,
        # Warnings are how the defaults say that they rolled back.
        "warnings": sorted({str(w.message) for w in caught}),
    }
    if hasattr(model, "transduction_"):
        pseudo = (model.transduction_ != -1) & (y == -1)
        result["n_pseudo_labeled"] = int(np.sum(pseudo))
    del model
    gc.collect()

    if fit_time <= trace_max_seconds:
        model = _make_estimator(method)
        tracemalloc.start()
        at_start = tracemalloc.get_traced_memory()[0]
        model.fit(X, y)
        result["trace_extra"] = tracemalloc.get_traced_memory()[1] - at_start
        tracemalloc.stop()
    return result


def make_data(n_pool, n_labeled, n_test, data_dir):
    from sklearn.datasets import make_classification

    n_train = n_labeled + n_pool
    X, y = make_classification(
        n_samples=n_train + n_test,
        n_features=50,
        n_informative=20,
        n_redundant=10,
        n_classes=5,
        random_state=0,
    )
    X = X.astype(np.float64, copy=False)
    # make_classification shuffles its rows: the first n_labeled are a random,
    # roughly class-balanced labeled set.
    y_semi = y[:n_train].copy()
    y_semi[n_labeled:] = -1
    for name, array in [
        ("X", X[:n_train]),
        ("y", y_semi),
        ("T", X[n_train:]),
        ("t", y[n_train:]),
    ]:
        np.save(Path(data_dir) / f"{name}.npy", np.ascontiguousarray(array))
    return X[:n_train].nbytes


def run_one(method, data_dir, args):
    command = [
        sys.executable,
        __file__,
        "--measure",
        method,
        data_dir,
        "--trace-max-seconds",
        str(args.trace_max_seconds),
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=args.timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"status": f"timed out after {args.timeout:g} s"}
    if done.returncode != 0:
        return {"status": "failed: " + done.stderr.strip().splitlines()[-1]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["status"] = "ok"
    return result


def _exponents(rows, method):
    """Slope of log(time) vs log(pool size) between consecutive measured sizes."""
    points = [
        (row["n_pool"], row[method]["fit_time"])
        for row in rows
        if row[method].get("status") == "ok"
    ]
    slopes = {}
    for (n0, t0), (n1, t1) in itertools.pairwise(points):
        slopes[n1] = math.log(t1 / t0) / math.log(n1 / n0)
    return slopes


def _mib(value):
    return "-" if value is None else f"{value / MiB:.0f}"


def _vs_supervised(row, method):
    """Accuracy minus the supervised fit's on the same data, in points."""
    sup = row.get("supervised", {})
    if method == "supervised" or sup.get("status") != "ok":
        return "-"
    return f"{100 * (row[method]['accuracy'] - sup['accuracy']):+.1f}"


def print_table(rows):
    # The supervised fit does not see the pool: no exponent for it.
    slopes = {method: _exponents(rows, method) for method in METHODS}
    slopes["supervised"] = {}
    header = (
        f"{'pool':>9} | {'method':<10} | {'fit s':>8} | {'exp':>5} | "
        f"{'trace MiB':>9} | {'RSS MiB':>8} | {'iters':>5} | {'acc':>6} | "
        f"{'vs sup':>6} | note"
    )
    print("\nScaling with the unlabeled pool (memory is beyond the data)")
    print(header)
    print("-" * len(header))
    for row in rows:
        for method in METHODS:
            result = row[method]
            if result.get("status") != "ok":
                print(
                    f"{row['n_pool']:>9} | {method:<10} | {'-':>8} | {'-':>5} | "
                    f"{'-':>9} | {'-':>8} | {'-':>5} | {'-':>6} | {'-':>6} | "
                    f"{result['status']}"
                )
                continue
            slope = slopes[method].get(row["n_pool"])
            print(
                f"{row['n_pool']:>9} | {method:<10} | {result['fit_time']:>8.2f} | "
                f"{'-' if slope is None else f'{slope:.2f}':>5} | "
                f"{_mib(result['trace_extra']):>9} | {_mib(result['rss_extra']):>8} | "
                f"{result['n_iter']:>5} | {result['accuracy']:>6.3f} | "
                f"{_vs_supervised(row, method):>6} | {result['termination']}"
            )
        st = row["ST"]
        for method in OURS:
            ours = row[method]
            if ours.get("status") == "ok" and st.get("status") == "ok":
                mem = "-"
                if ours["trace_extra"] and st["trace_extra"]:
                    mem = f"{ours['trace_extra'] / st['trace_extra']:.3f}"
                print(
                    f"{'':>9} | {method}/ST: time "
                    f"{ours['fit_time'] / st['fit_time']:.3f}, traced memory {mem}"
                )
    print(f"(data X of the largest pool: {rows[-1]['data_mib']:.0f} MiB)")
    print_targets(rows, slopes)


def print_targets(rows, slopes):
    """Linear time and memory under 1 GiB, for the published settings and defaults."""
    for method in OURS:
        if slopes[method]:
            print(
                f"target, time no faster than linear, {method}: exponents "
                + ", ".join(f"{s:.2f}" for s in slopes[method].values())
            )
        last = rows[-1][method]
        if last.get("status") == "ok":
            extra = last["trace_extra"] if last["trace_extra"] is not None else 0
            extra = max(extra, last["rss_extra"])
            verdict = "met" if extra < 2**30 else "MISSED"
            print(
                f"target, memory beyond the data < 1 GiB at {rows[-1]['n_pool']} "
                f"rows, {method}: {verdict} ({extra / MiB:.0f} MiB, the larger of "
                "traced and RSS)"
            )
    for row in rows:
        for method in OURS:
            for message in row[method].get("warnings", []):
                print(f"pool {row['n_pool']}, {method} warned: {message}")


def draw(rows):
    """A figure drawer for save_plot: time and memory against the pool size."""
    styles = {
        "published": ("o", "C0"),
        "defaults": ("s", "C1"),
        "guard": ("d", "C2"),
        "ST": ("^", "C3"),
    }

    def draw_figure(plt):
        fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(11, 4.2))
        for method, (marker, color) in styles.items():
            done = [row for row in rows if row[method].get("status") == "ok"]
            sizes = [row["n_pool"] for row in done]
            ax_time.loglog(
                sizes,
                [row[method]["fit_time"] for row in done],
                marker=marker,
                color=color,
                label=method,
            )
            traced = [row for row in done if row[method]["trace_extra"]]
            ax_mem.loglog(
                [row["n_pool"] for row in traced],
                [row[method]["trace_extra"] / MiB for row in traced],
                marker=marker,
                color=color,
                label=f"{method} (tracemalloc)",
            )
            ax_mem.loglog(
                sizes,
                [max(row[method]["rss_extra"], MiB) / MiB for row in done],
                marker=marker,
                color=color,
                linestyle=":",
                label=f"{method} (RSS)",
            )
        _decorate(rows, ax_time, ax_mem)
        fig.suptitle("Pseudo-labeling vs SelfTrainingClassifier, 50 features")
        fig.tight_layout()
        return fig

    return draw_figure


def _decorate(rows, ax_time, ax_mem):
    sizes = [row["n_pool"] for row in rows]
    first = rows[0]["published"]
    if first.get("status") == "ok":
        ax_time.loglog(
            sizes,
            [first["fit_time"] * n / sizes[0] for n in sizes],
            color="gray",
            linestyle="--",
            label="linear",
        )
    ax_mem.axhline(1024, color="gray", linestyle="--", label="1 GiB")
    ax_time.set(xlabel="unlabeled pool (rows)", ylabel="fit time (s)")
    ax_mem.set(xlabel="unlabeled pool (rows)", ylabel="peak memory beyond data (MiB)")
    for ax in (ax_time, ax_mem):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)


OOC_FEATURES = 20
OOC_CLASSES = 5
OOC_N_TEST = 100_000
OOC_CACHE = Path("~/scikit_learn_data/pseudo_sklearn_bench").expanduser()


def _ooc_centers():
    return 0.5 * np.random.RandomState(12345).randn(OOC_CLASSES, OOC_FEATURES)


def _ooc_blobs(seed, n_rows):
    """Rows (float32) and classes (int8) of the out-of-core pool's blobs."""
    rng = np.random.RandomState(seed)
    classes = rng.randint(0, OOC_CLASSES, n_rows).astype(np.int8)
    rows = _ooc_centers()[classes] + rng.randn(n_rows, OOC_FEATURES)
    return rows.astype(np.float32), classes


def _write_stack_info(folder, chunks, dtype):
    """The ``info`` file of ``da.from_npy_stack``, written last: its presence
    says the folder is complete."""
    import pickle

    columns = ((OOC_FEATURES,),) if dtype == "f4" else ()
    info = {"chunks": (tuple(chunks), *columns), "dtype": np.dtype(dtype), "axis": 0}
    with open(Path(folder) / "info", "wb") as f:
        pickle.dump(info, f)


def ooc_pool(n_rows, chunk, cache, log):
    """A folder whose ``X`` and ``truth`` stacks hold at least ``n_rows`` rows,
    written chunk by chunk if no cached one does."""
    if n_rows % chunk:
        raise SystemExit(f"--ooc-sizes must be multiples of --ooc-chunk={chunk}")
    cache.mkdir(parents=True, exist_ok=True)
    for folder in sorted(cache.glob(f"blobs_c{chunk}_n*")):
        if (
            int(folder.name.rsplit("_n", 1)[1]) >= n_rows
            and (folder / "truth" / "info").exists()
        ):
            return folder
    folder = cache / f"blobs_c{chunk}_n{n_rows}"
    n_chunks = n_rows // chunk
    log(f"writing a pool of {n_rows} rows to {folder} ({n_chunks} chunks)")
    for name in ("X", "truth"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    for i in range(n_chunks):
        rows, classes = _ooc_blobs(1000 + i, chunk)
        np.save(folder / "X" / f"{i}.npy", rows)
        np.save(folder / "truth" / f"{i}.npy", classes)
        if (i + 1) % max(1, n_chunks // 10) == 0:
            log(f"  {i + 1}/{n_chunks} chunks written")
    _write_stack_info(folder / "X", (chunk,) * n_chunks, "f4")
    _write_stack_info(folder / "truth", (chunk,) * n_chunks, "i1")
    return folder


def ooc_labels(folder, n_rows, n_labeled, chunk):
    """The ``y`` stack of a pool of ``n_rows``: -1 but for ``n_labeled`` rows."""
    target = folder / f"y_n{n_rows}_l{n_labeled}"
    if (target / "info").exists():
        return target
    target.mkdir(exist_ok=True)
    labeled = np.sort(np.random.default_rng(3).choice(n_rows, n_labeled, replace=False))
    for i in range(n_rows // chunk):
        y = np.full(chunk, -1, dtype=np.int8)
        mine = labeled[(labeled >= i * chunk) & (labeled < (i + 1) * chunk)] - i * chunk
        y[mine] = np.load(folder / "truth" / f"{i}.npy", mmap_mode="r")[mine]
        np.save(target / f"{i}.npy", y)
    _write_stack_info(target, (chunk,) * (n_rows // chunk), "i1")
    return target


def _ooc_model(estimator, seed):
    from sklearn.linear_model import SGDClassifier
    from sklearn.naive_bayes import GaussianNB

    from pseudo_sklearn import PseudoLabelClassifier

    inner = {
        "sgd": SGDClassifier(loss="log_loss", random_state=0),
        "gnb": GaussianNB(),
    }[estimator]
    return PseudoLabelClassifier(inner, random_state=seed)


def ooc_measure(kind, folder, labels, n_rows, seed, estimator, scheduler="process"):
    """One out-of-core fit (``kind="dask"``) or its in-memory reference
    (``"memory"``); runs in its own subprocess, which is the driver."""
    import warnings

    X_test, y_test = _ooc_blobs(7, OOC_N_TEST)
    if kind == "memory":
        import dask.array as da

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X = da.from_npy_stack(str(Path(folder) / "X"))[:n_rows].compute()
            y = da.from_npy_stack(str(labels)).compute()
        _reset_peak_rss()
        rss_before = _current_rss() or _peak_rss()
        model = _ooc_model(estimator, seed)
        start = time.perf_counter()
        model.fit(X, y)
        fit_time = time.perf_counter() - start
        return {
            "fit_time": fit_time,
            "driver_peak": _peak_rss(),
            "driver_extra": max(0, _peak_rss() - rss_before),
            "accuracy": float(np.mean(model.predict(X_test) == y_test)),
            "n_iter": int(model.n_iter_),
            "rows_labeled": int(sum(r["n_drawn"] for r in model.history_)),
        }
    import dask.array as da
    from distributed import Client, LocalCluster
    from distributed.deploy.subprocess import SubprocessCluster

    options = {
        "n_workers": 2,
        "threads_per_worker": 1,
        "host": "127.0.0.1",
        "dashboard_address": None,
    }
    # "process": the scheduler in a process of its own, as with a real
    # cluster, so that the driver's RSS is the client's; "in-driver": the
    # LocalCluster default, the scheduler inside the driver's process.
    if scheduler == "process":
        cluster = SubprocessCluster(**options)
    else:
        cluster = LocalCluster(processes=True, **options)
    with cluster, Client(cluster) as client:
        X = da.from_npy_stack(str(Path(folder) / "X"))[:n_rows]
        y = da.from_npy_stack(str(labels))
        # A first fit on one chunk imports what fitting imports lazily, on the
        # driver and the workers, so that it is not counted.
        chunk = X.chunks[0][0]
        warm = _ooc_model(estimator, seed).set_params(max_iter=1)
        warm.fit(X[:chunk], y[:chunk])
        idle = client.run(_current_rss)
        client.run(_reset_peak_rss)
        client.run_on_scheduler(_reset_peak_rss)
        _reset_peak_rss()
        model = _ooc_model(estimator, seed)
        start = time.perf_counter()
        model.fit(X, y)
        fit_time = time.perf_counter() - start
        driver_peak = _peak_rss()
        worker_peaks = client.run(_peak_rss)
        scheduler_peak = client.run_on_scheduler(_peak_rss)
        client.run(_reset_peak_rss)
        start = time.perf_counter()
        model.predict_proba(X).sum(axis=0).compute()
        pass_time = time.perf_counter() - start
        pass_peaks = client.run(_peak_rss)
    history = model.history_
    return {
        "fit_time": fit_time,
        "pass_time": pass_time,
        "driver_peak": driver_peak,
        "scheduler": scheduler,
        "scheduler_peak": scheduler_peak,
        "worker_idle": sorted(idle.values()),
        "worker_peaks": sorted(worker_peaks.values()),
        "worker_pass_peaks": sorted(pass_peaks.values()),
        "accuracy": float(np.mean(model.predict(X_test) == y_test)),
        "n_iter": int(model.n_iter_),
        "termination": model.termination_condition_,
        "drift_restored": bool(model.drift_restored_),
        "rows_labeled": int(sum(r["n_drawn"] for r in history)),
        "rows_added": int(sum(r["n_added"] for r in history)),
        "largest_batch": int(max((r["n_drawn"] for r in history), default=0)),
        "chunk_rows": int(chunk),
    }


def run_ooc(kind, folder, labels, n_rows, estimator, timeout, scheduler, seed=0):
    command = [
        sys.executable,
        __file__,
        "--ooc-measure",
        kind,
        str(folder),
        str(labels),
        str(n_rows),
        str(seed),
        estimator,
        scheduler,
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"status": f"timed out after {timeout:g} s"}
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["(no output)"]
        return {"status": "failed: " + lines[-1]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["status"] = "ok"
    return result


def worker_bound(result, n_features=OOC_FEATURES):
    """The stated bound of a worker's peak RSS during the fit: its idle RSS,
    plus two chunks (the one being read and the one held between batches),
    plus the rows of one batch (labeled rows waiting for the driver's
    choice, all on one worker at worst), each copied once while being cut,
    plus 32 MiB for Dask's transfer buffers and the predictions of one
    ``chunk_size`` slice.
    """
    row = 4 * n_features
    chunk = result["chunk_rows"] * row
    batch = result["largest_batch"] * row
    return max(result["worker_idle"]) + 2 * chunk + 2 * batch + 32 * MiB


def measure_ooc(args, log):
    rows = []
    folder = ooc_pool(max(args.ooc_sizes), args.ooc_chunk, args.ooc_cache, log)
    for n_rows in sorted(args.ooc_sizes):
        labels = ooc_labels(folder, n_rows, args.ooc_labeled, args.ooc_chunk)
        for estimator in args.ooc_estimators:
            row = {"n_pool": n_rows, "estimator": estimator}
            for kind in ("dask", "memory"):
                if kind == "memory" and n_rows > args.ooc_in_memory_max:
                    row[kind] = {"status": "not run (> --ooc-in-memory-max)"}
                    continue
                row[kind] = result = run_ooc(
                    kind,
                    folder,
                    labels,
                    n_rows,
                    estimator,
                    args.timeout,
                    args.ooc_scheduler,
                )
                if result["status"] != "ok":
                    log(f"out of core {n_rows} {estimator}: {kind} {result['status']}")
                    continue
                log(
                    f"out of core {n_rows} {estimator}: {kind} fit "
                    f"{result['fit_time']:.1f} s, driver peak "
                    f"{_mib(result['driver_peak'])} MiB, accuracy "
                    f"{result['accuracy']:.4f}"
                )
            rows.append(row)
    return rows


def print_ooc_table(rows, args):
    print(
        "\nOut of core: a Dask pool on disk, 2 worker processes x 1 thread, "
        f"{args.ooc_labeled} labeled rows, chunks of {args.ooc_chunk} rows "
        f"({args.ooc_chunk * 4 * OOC_FEATURES / MiB:.0f} MiB); sgd = "
        "SGDClassifier(log_loss), gnb = GaussianNB(); memory in MiB"
    )
    header = (
        f"{'pool':>10} | {'est':<3} | {'fit s':>7} | {'rows/s':>8} | "
        f"{'pass s':>6} | {'fit/pass':>8} | {'driver':>6} | {'sched':>5} | "
        f"{'workers (bound)':>17} | {'acc':>7} | {'in-mem acc':>10} | "
        f"{'mem fit s':>9} | {'mem RSS':>7}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        d, m = row["dask"], row["memory"]
        lead = f"{row['n_pool']:>10} | {row['estimator']:<3} | "
        if d["status"] != "ok":
            print(lead + d["status"])
            continue
        workers = "/".join(_mib(p) for p in d["worker_peaks"])
        workers += f" ({_mib(worker_bound(d))})"
        mem_ok = m["status"] == "ok"
        mem_acc = f"{m['accuracy']:.4f}" if mem_ok else "-"
        mem_time = f"{m['fit_time']:.1f}" if mem_ok else "-"
        mem_rss = _mib(m["driver_peak"]) if mem_ok else "-"
        print(
            lead + f"{d['fit_time']:>7.1f} | "
            f"{d['rows_labeled'] / d['fit_time']:>8.3g} | {d['pass_time']:>6.1f} | "
            f"{d['fit_time'] / d['pass_time']:>8.2f} | {_mib(d['driver_peak']):>6} | "
            f"{_mib(d.get('scheduler_peak')):>5} | "
            f"{workers:>17} | {d['accuracy']:>7.4f} | "
            f"{mem_acc:>10} | {mem_time:>9} | {mem_rss:>7}"
        )
    print(
        "rows/s: rows labeled by the workers per second of fit; pass: one "
        "blockwise predict_proba over the pool; driver, sched(uler), workers: "
        "peak RSS during the fit (each worker's, and the bound of worker_bound())"
    )
    for estimator in dict.fromkeys(row["estimator"] for row in rows):
        print_ooc_targets([row for row in rows if row["estimator"] == estimator])


def _verdict(ok):
    return "met" if ok else "MISSED"


def print_ooc_targets(rows):
    """The issue's targets, met or MISSED, for one estimator's rows."""
    done = {row["n_pool"]: row for row in rows if row["dask"]["status"] == "ok"}
    if not done:
        return
    est = rows[0]["estimator"]
    for n, row in sorted(done.items()):
        d = row["dask"]
        peak = max(d["worker_peaks"])
        print(
            f"target, {est}, worker peak within the bound at {n}: "
            f"{_verdict(peak <= worker_bound(d))} ({_mib(peak)} MiB, bound "
            f"{_mib(worker_bound(d))} MiB)"
        )
    largest = max(done)
    d = done[largest]["dask"]
    print(
        f"target, {est}, driver peak <= 1 GiB at {largest}: "
        f"{_verdict(d['driver_peak'] <= 2**30)} ({_mib(d['driver_peak'])} MiB)"
    )
    ratio = d["fit_time"] / d["pass_time"]
    print(
        f"target, {est}, fit within 3 predict_proba passes at {largest}: "
        f"{_verdict(ratio <= 3)} ({ratio:.2f} passes)"
    )
    for n, row in sorted(done.items()):
        if n * 10 in done:
            ratio = done[n * 10]["dask"]["fit_time"] / row["dask"]["fit_time"]
            print(
                f"target, {est}, t({n * 10})/t({n}) <= 12: {_verdict(ratio <= 12)} "
                f"({ratio:.1f})"
            )
    for n, row in sorted(done.items()):
        if row["memory"]["status"] == "ok":
            gap = 100 * (row["dask"]["accuracy"] - row["memory"]["accuracy"])
            print(
                f"target, {est}, accuracy equal to in-memory to 0.1 point at {n}: "
                f"{_verdict(abs(gap) <= 0.1)} ({gap:+.3f} points)"
            )
        if row["dask"]["drift_restored"]:
            print(f"pool {n}, {est}: the drift check returned the supervised fit")
    if 10**8 not in done:
        print(f"{est}: no 10^8 row in this run (--ooc-sizes)")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_options(
        parser,
        quick_help="pools of 1,000 and 10,000 rows, 2,000 test rows, ST at 1,000 "
        "unless --st-max-pool; out of core 200,000 rows in chunks of 20,000, "
        "2,000 labeled, sgd only",
        seeds=None,
    )
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000]
    )
    parser.add_argument("--n-labeled", type=int, default=1000)
    parser.add_argument("--n-test", type=int, default=10_000)
    parser.add_argument(
        "--st-max-pool",
        type=int,
        default=None,
        help="leave SelfTrainingClassifier out for larger pools",
    )
    parser.add_argument(
        "--timeout", type=float, default=1800, help="seconds per measurement"
    )
    parser.add_argument(
        "--trace-max-seconds",
        type=float,
        default=300,
        help="skip the tracemalloc fit when the timed fit took longer",
    )
    parser.add_argument(
        "--tables",
        choices=["all", "in-memory", "out-of-core"],
        default="all",
        help="which measurements to run (default all)",
    )
    parser.add_argument(
        "--ooc-sizes", type=int, nargs="+", default=[10**6, 10**7, 10**8]
    )
    parser.add_argument("--ooc-chunk", type=int, default=250_000)
    parser.add_argument(
        "--ooc-estimators", nargs="+", choices=["sgd", "gnb"], default=["sgd", "gnb"]
    )
    parser.add_argument("--ooc-labeled", type=int, default=10_000)
    parser.add_argument(
        "--ooc-in-memory-max",
        type=int,
        default=10**7,
        help="largest out-of-core pool also fitted in memory",
    )
    parser.add_argument(
        "--ooc-cache",
        type=Path,
        default=OOC_CACHE,
        help=f"folder of the generated pools (default {OOC_CACHE})",
    )
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument(
        "--ooc-scheduler",
        choices=["process", "in-driver"],
        default="process",
        help="the Dask scheduler in a process of its own (default) or in the "
        "driver's (LocalCluster's default)",
    )
    parser.add_argument("--ooc-measure", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes = [1_000, 10_000]
        args.n_test = 2_000
        if args.st_max_pool is None:
            args.st_max_pool = 1_000
        args.ooc_sizes = [200_000]
        args.ooc_chunk = 20_000
        args.ooc_labeled = 2_000
        args.ooc_estimators = ["sgd"]
    return args


def measure_pool(n_pool, args, log):
    """Every method on one pool size, each in a fresh subprocess."""
    with tempfile.TemporaryDirectory(prefix="pseudo_scaling_") as data_dir:
        data_bytes = make_data(n_pool, args.n_labeled, args.n_test, data_dir)
        log(f"pool {n_pool}: data ready ({data_bytes / MiB:.0f} MiB)")
        row = {"n_pool": n_pool, "data_mib": data_bytes / MiB}
        for method in METHODS:
            if (
                method == "ST"
                and args.st_max_pool is not None
                and n_pool > args.st_max_pool
            ):
                row[method] = {"status": f"not run (--st-max-pool {args.st_max_pool})"}
                log(f"pool {n_pool}: {method} {row[method]['status']}")
                continue
            row[method] = result = run_one(method, data_dir, args)
            if result["status"] == "ok":
                log(
                    f"pool {n_pool}: {method} fit {result['fit_time']:.2f} s, "
                    f"beyond data {_mib(result['trace_extra'])} MiB traced, "
                    f"{_mib(result['rss_extra'])} MiB RSS, "
                    f"accuracy {result['accuracy']:.3f}"
                )
            else:
                log(f"pool {n_pool}: {method} {result['status']}")
    return row


def main(argv=None):
    args = parse_args(argv)
    if args.measure:
        method, data_dir = args.measure
        print(json.dumps(measure(method, data_dir, args.trace_max_seconds)))
        return None
    if args.ooc_measure:
        kind, folder, labels, n_rows, seed, estimator, scheduler = args.ooc_measure
        result = ooc_measure(
            kind, folder, labels, int(n_rows), int(seed), estimator, scheduler
        )
        print(json.dumps(result))
        return None
    log = Log()
    rows, ooc_rows = [], []
    if args.tables in ("all", "in-memory"):
        rows = [measure_pool(n_pool, args, log) for n_pool in sorted(args.sizes)]
        print_table(rows)
    if args.tables in ("all", "out-of-core"):
        ooc_rows = measure_ooc(args, log)
        print_ooc_table(ooc_rows, args)
    name = "scaling_quick" if args.quick else "scaling"
    if args.tables != "all":
        name += "_" + args.tables.replace("-", "_")
    payload = {"args": vars(args), "rows": rows, "out_of_core": ooc_rows}
    path = write_json(args.out, name, payload)
    png = save_plot(draw(rows), Path(args.out) / f"{name}.png") if rows else None
    log(f"done; wrote {path}" + (f" and {png}" if png else ""))
    return rows


if __name__ == "__main__":
    main()
