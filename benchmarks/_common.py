"""What the benchmark scripts share: options, log, progress, MNIST, timing, output.

Every script under ``benchmarks/`` builds its command line with
:func:`add_common_options`, so that the same options are spelled the same way
everywhere:

``--quick``
    The script's short mode, the one CI runs (each script says what it cuts).
``--out DIR``
    Folder for the JSON results and the PNG plots (``benchmarks/results``).
``--seeds SEED [SEED ...]``
    The random seeds, one split (or run) per seed: ``--seeds 0 1 2 3 4`` runs
    five splits. Scripts without random splits do not have it.

and each script has ``main(argv=None)``, so ``main(["--quick"])`` runs it from
Python. Each script puts its own folder first on ``sys.path`` before
``from _common import ...``, so that it finds this module from any working
directory.

The rest:

* :class:`Log`: ``log("message")`` prints ``[  12.3s] message``, the seconds
  since the script started, without breaking a progress bar.
* :class:`Progress`: the steps of one long row, as a tqdm bar on a terminal
  (``pip install 'pseudo-sklearn[bench]'``), else as a line with the time left
  at most every 20 seconds (CI logs, pipes, no tqdm).
* :func:`load_mnist`, :func:`mnist_features` (the feature steps of
  :func:`pseudo_sklearn.make_pseudo_label_pipeline`, not a copy of them) and
  :func:`mnist_teacher` (the LabelSpreading teacher on those features).
* :func:`fit_timed`: one ``fit``, its wall-clock seconds and its warnings.
* ``PUBLISHED_SETTINGS``: the keyword arguments of PseudoLabelClassifier that
  make it the published loop (``sample_rate=0.04``, every safety mechanism
  off), for every script's "published" row.
* :func:`write_json` and :func:`save_plot`: the results under ``--out``.
"""

import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import make_pipeline
from sklearn.semi_supervised import LabelSpreading

from pseudo_sklearn import PseudoLabelClassifier, make_pseudo_label_pipeline
from pseudo_sklearn.datasets import fetch_mnist

try:
    from tqdm import tqdm
except ImportError:  # tqdm is a `bench` extra; the scripts run without it
    tqdm = None

RESULTS_DIR = "benchmarks/results"
N_MNIST_TRAIN = 60_000
# The published loop: ``PseudoLabelClassifier(estimator, **PUBLISHED_SETTINGS)``
# is the "published" row or column of every script: batches of 4% of the pool,
# every pseudo-label kept, no quota, averaging, weight cap or drift check (as
# the user guide's "published algorithm" lists them). Parameters that
# the installed PseudoLabelClassifier does not have are left out, so that the
# scripts give the published loop before and after the library gains them;
# a new safety mechanism's off switch belongs here too.
_PUBLISHED_LOOP = {
    "sample_rate": 0.04,
    "teacher": None,
    "threshold": None,
    "per_class_quota": False,
    "max_iter": None,
    "average": False,
    "max_pseudo_ratio": None,
    "drift_check": None,
}
PUBLISHED_SETTINGS = {
    name: value
    for name, value in _PUBLISHED_LOOP.items()
    if name in PseudoLabelClassifier(None).get_params(deep=False)
}


def add_common_options(parser, *, quick_help, seeds=(0, 1, 2)):
    """Add ``--quick``, ``--out`` and (unless ``seeds`` is None) ``--seeds``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The script's parser.
    quick_help : str
        What ``--quick`` does in this script.
    seeds : sequence of int or None, default=(0, 1, 2)
        Default of ``--seeds``; None leaves the option out.
    """
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument(
        "--out",
        metavar="DIR",
        default=RESULTS_DIR,
        help=f"folder for the JSON and PNG results (default {RESULTS_DIR})",
    )
    if seeds is not None:
        parser.add_argument(
            "--seeds",
            type=int,
            nargs="+",
            metavar="SEED",
            default=list(seeds),
            help="random seeds, one split per seed "
            f"(default {' '.join(map(str, seeds))})",
        )


class Log:
    """Print messages prefixed with the seconds since the log was created."""

    def __init__(self):
        self.start = time.perf_counter()

    def elapsed(self):
        """Seconds since the log was created."""
        return time.perf_counter() - self.start

    def __call__(self, message):
        line = f"[{self.elapsed():7.1f}s] {message}"
        if tqdm is not None:
            # Printed above an open bar instead of through it.
            tqdm.write(line, file=sys.stdout)
            sys.stdout.flush()
        else:
            print(line, flush=True)


class Progress:
    """Progress through the steps of one long row, with the time left.

    On a terminal with tqdm installed this is a tqdm bar; otherwise a line
    ``desc: 5/26 steps, 12 s so far, about 50 s left`` at most every
    ``every`` seconds, which reads well in CI logs. Use it as a context manager
    and call ``update()`` after each step. Steps past ``total`` are counted
    without an estimate (the total is a plan, not a promise).

    Parameters
    ----------
    log : Log
        Where the lines go without tqdm.
    desc : str
        What the steps belong to.
    total : int or None
        Steps planned; None shows counts only.
    every : float, default=20.0
        Seconds between two lines without tqdm.
    """

    def __init__(self, log, desc, total, every=20.0):
        self.log, self.desc, self.total, self.every = log, desc, total, every
        self.done = 0
        self.start = self.last = time.perf_counter()
        self.bar = None
        if tqdm is not None and sys.stderr.isatty():
            self.bar = tqdm(total=total, desc=desc, unit="step", leave=False)

    def update(self, n=1):
        """Count ``n`` more steps done."""
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.perf_counter()
        if now - self.last < self.every:
            return
        self.last = now
        so_far = now - self.start
        left = ""
        if self.total and self.done < self.total:
            left = f", about {so_far / self.done * (self.total - self.done):.0f} s left"
        total = f"/{self.total}" if self.total else ""
        self.log(f"{self.desc}: {self.done}{total} steps, {so_far:.0f} s so far{left}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()


def load_mnist():
    """MNIST as float64 pixels: ``X_train, y_train, X_test, y_test``.

    The official split: 60,000 training and 10,000 test images. Downloaded
    (about 20 MB) and cached on the first call.
    """
    mnist = fetch_mnist(subset="all")
    X = mnist.data.astype(np.float64)
    y = mnist.target
    return X[:N_MNIST_TRAIN], y[:N_MNIST_TRAIN], X[N_MNIST_TRAIN:], y[N_MNIST_TRAIN:]


def mnist_features(n_components=50, degree=2, random_state=0):
    """The reference feature steps, unfitted: Normalizer -> PCA -> polynomials.

    These are the steps of :func:`pseudo_sklearn.make_pseudo_label_pipeline`
    before its classifier, taken from it so that the benchmarks measure the
    features the library builds; only PCA's ``random_state`` is set, so that
    its randomized solver gives the same components on every run.

    Parameters
    ----------
    n_components, degree : int, default=50, 2
        As in ``make_pseudo_label_pipeline``.
    random_state : int, default=0
        PCA's seed.

    Returns
    -------
    features : sklearn.pipeline.Pipeline
        Steps ``"normalize"``, ``"pca"``, ``"poly"``: ``features[:-1]`` gives
        the PCA components, ``features[-1]`` the polynomial step.
    """
    pipeline = make_pseudo_label_pipeline(
        SGDClassifier(), n_components=n_components, degree=degree
    )
    features = clone(pipeline[:-1])
    return features.set_params(pca__random_state=random_state)


def mnist_teacher(n_components=50, n_neighbors=10):
    """LabelSpreading on the PCA components of :func:`mnist_features`' output.

    The teacher gets the student's features and keeps the ``n_components`` PCA
    components, columns ``1..n_components`` of PolynomialFeatures' output (column
    0 is the constant); its knn graph is sparse, so the whole pool fits.
    """
    return make_pipeline(
        ColumnTransformer([("pca", "passthrough", slice(1, n_components + 1))]),
        LabelSpreading(kernel="knn", n_neighbors=n_neighbors),
    )


def fit_timed(model, X, y, **fit_params):
    """Fit ``model``; return the wall-clock seconds and the warnings it raised.

    ConvergenceWarning is dropped: an SGD that stops at its ``max_iter`` is
    part of the measured method, not news. Other warnings come back as their
    messages, for the results.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y, **fit_params)
        seconds = time.perf_counter() - start
    return seconds, [str(w.message) for w in caught]


def _to_json(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def write_json(out, name, payload):
    """Write ``payload`` to ``out/name.json`` (folder created); return the path.

    NumPy scalars and arrays become numbers and lists, anything else that JSON
    does not know becomes its string.
    """
    path = Path(out) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        json.dump(payload, f, indent=1, default=_to_json)
    return path


def save_plot(draw, path):
    """Call ``draw(plt)`` for a figure and save it to ``path``; return the path.

    Returns None, with a line saying how to install it, when matplotlib is
    missing (it is a `bench` extra).
    """
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is missing (pip install 'pseudo-sklearn[bench]'): no plot")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = draw(plt)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
