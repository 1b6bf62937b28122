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

Run ``python benchmarks/scaling.py`` (``--st-max-pool 100000`` for a run of about
ten minutes on 2 cores), or ``--quick`` for CI (pools of 1,000 to 10,000 rows,
2,000 test rows, ST up to 3,000 rows; about a minute).

Options: ``--sizes N ...``, ``--n-labeled N``, ``--n-test N``,
``--st-max-pool N``, ``--timeout S``, ``--trace-max-seconds S``, ``--quick``,
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


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_options(
        parser,
        quick_help="pools of 1,000, 3,000, 10,000 rows, 2,000 test rows; ST up to "
        "3,000 unless --st-max-pool",
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
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes = [1_000, 3_000, 10_000]
        args.n_test = 2_000
        if args.st_max_pool is None:
            args.st_max_pool = 3_000
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
    log = Log()
    rows = [measure_pool(n_pool, args, log) for n_pool in sorted(args.sizes)]
    print_table(rows)
    name = "scaling_quick" if args.quick else "scaling"
    path = write_json(args.out, name, {"args": vars(args), "rows": rows})
    png = save_plot(draw(rows), Path(args.out) / f"{name}.png")
    log(f"done; wrote {path}" + (f" and {png}" if png else ""))
    return rows


if __name__ == "__main__":
    main()
