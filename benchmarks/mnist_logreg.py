"""MNIST logistic-path benchmark: pseudo-labeling vs the alternatives, same run.

The reference protocol: 1000 labeled MNIST images (100 per class), the other
59,000 training images unlabeled, the official 10,000 test images. Features:
``Normalizer()`` -> ``PCA(50)`` -> ``PolynomialFeatures(2)`` (1326 features), then
``SGDClassifier(loss="log_loss", alpha=1e-5)``.

Rows of the table, each measured on the same class-balanced splits:

* "PCA fit on labeled" rows fit the Normalizer/PCA on the 1000 labeled rows only,
  as the published run did; "PCA fit on all" rows fit them on all 60,000
  training rows, as a Pipeline around PseudoLabelClassifier does (``-1`` rows
  reach the unsupervised steps). The features of each way are computed once per
  split and shared by every method of that way, so wall times are those of the
  classifier alone (feature time is printed apart).
* supervised: the 1000 labeled rows only, mean of ``--fits`` SGD seeds per split.
* PseudoLabelClassifier with the published settings (``sample_rate=0.04``: 25
  iterations of 2,360 rows), with its default ``refit`` and, with
  ``--refit-modes``, each other refit mode.
* scikit-learn's SelfTrainingClassifier on the same features: its default
  ``threshold=0.75`` (``max_iter=10``), and ``criterion="k_best"`` with
  ``k_best=2360`` until the pool is empty.
* PseudoLabelClassifier with the guard (``validation_fraction=0.1``: 100 of
  the labeled rows held out to pick the best iteration).
* PseudoLabelClassifier with a teacher: ``LabelSpreading(kernel="knn",
  n_neighbors=10)`` on the 50 PCA components labels the whole pool at once
  (``sample_rate=1.0``) and the logistic pipeline is fitted on those labels
  (``refit="full"``).
* the ceiling: the same pipeline on all 60,000 true labels.

Accuracy is the mean and std over splits; time is wall-clock seconds of ``fit``
(mean over splits); "x ST" is that time divided by SelfTrainingClassifier
(threshold=0.75)'s in the same split. Test accuracy after every refit is
recorded (outside the timed part) and plotted against the iteration.

Run ``python benchmarks/mnist_logreg.py`` (27.5 minutes on 2 busy cores, 25 of them
in the SelfTrainingClassifier rows), or
``--quick`` (5,000 unlabeled rows, one split, a few minutes).
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import Normalizer, PolynomialFeatures
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier

from pseudo_sklearn import PseudoLabelClassifier
from pseudo_sklearn.datasets import fetch_mnist, mask_labels

PUBLISHED = {"supervised": 90.86, "pseudo-labeling": 92.42, "ceiling": 95.9}

# Test accuracy after each fit of the inner model, collected outside the timing.
_TRACE = {"X": None, "y": None, "acc": [], "overhead": 0.0}


def _record(model):
    if _TRACE["X"] is None:
        return
    start = time.perf_counter()
    _TRACE["acc"].append(float(np.mean(model.predict(_TRACE["X"]) == _TRACE["y"])))
    _TRACE["overhead"] += time.perf_counter() - start


class TracedSGD(SGDClassifier):
    """SGDClassifier that records its test accuracy after every (partial) fit."""

    def fit(self, X, y, **kwargs):
        super().fit(X, y, **kwargs)
        _record(self)
        return self

    def partial_fit(self, X, y, **kwargs):
        super().partial_fit(X, y, **kwargs)
        _record(self)
        return self


def sgd(seed):
    return TracedSGD(loss="log_loss", alpha=1e-5, random_state=seed)


def timed_fit(model, X, y, X_test, y_test):
    """Fit, returning test accuracy, fit seconds and the accuracy trace."""
    _TRACE.update(X=X_test, y=y_test, acc=[], overhead=0.0)
    start = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - start - _TRACE["overhead"]
    trace = list(_TRACE["acc"])
    _TRACE.update(X=None, y=None, acc=[], overhead=0.0)
    accuracy = float(np.mean(model.predict(X_test) == y_test))
    return accuracy, seconds, trace


def features(X_fit, X_all, n_components=50):
    transform = make_pipeline(
        Normalizer(), PCA(n_components, random_state=0), PolynomialFeatures(2)
    ).fit(X_fit)
    return transform.transform(X_all)


def run_split(split, args, X_train, y_train, X_test, y_test, feats_all, log):
    """All methods on one split; returns {method key: result dict}."""
    seed = split
    y_semi = mask_labels(y_train, args.n_labeled, per_class=True, random_state=seed)
    labeled = y_semi != -1
    n_train = X_train.shape[0]
    results = {}

    start = time.perf_counter()
    feats_lab = features(X_train[labeled], np.vstack([X_train, X_test]))
    log(f"features (PCA fit on labeled) in {time.perf_counter() - start:.1f}s")
    ways = {"labeled": feats_lab, "all": feats_all}

    def add(key, label, way, model, X, y, published=None):
        acc, seconds, trace = timed_fit(model, X, y, ways[way][n_train:], y_test)
        results[key] = dict(
            label=label,
            way=way,
            accuracy=acc,
            seconds=seconds,
            trace=trace,
            published=published,
        )
        log(f"{label:<44} PCA on {way:<8} {100 * acc:6.2f}%  {seconds:7.1f}s")

    for way in [way for way in ("labeled", "all") if way not in args.skip]:
        F = ways[way][:n_train]
        accs, secs = [], []
        for fit_seed in range(args.fits):
            acc, seconds, _ = timed_fit(
                sgd(1000 * seed + fit_seed),
                F[labeled],
                y_semi[labeled],
                ways[way][n_train:],
                y_test,
            )
            accs.append(acc)
            secs.append(seconds)
        results[f"supervised/{way}"] = dict(
            label=f"supervised, {args.n_labeled} labels (mean of {args.fits} fits)",
            way=way,
            accuracy=float(np.mean(accs)),
            seconds=float(np.mean(secs)),
            trace=[float(np.mean(accs))],
            published=PUBLISHED["supervised"] if way == "labeled" else None,
        )
        log(
            f"{results[f'supervised/{way}']['label']:<44} PCA on {way:<8} "
            f"{100 * np.mean(accs):6.2f}%  {np.mean(secs):7.1f}s"
        )
        modes = ["auto"] + (["full", "warm", "partial"] if args.refit_modes else [])
        for mode in modes:
            if way == "labeled" and mode not in ("auto", "full"):
                continue
            model = PseudoLabelClassifier(
                sgd(seed), sample_rate=0.04, refit=mode, random_state=seed
            )
            resolved = "partial" if mode == "auto" else mode
            add(
                f"ours/{resolved}/{way}" if mode != "auto" else f"ours/{way}",
                f"PseudoLabelClassifier(sample_rate=0.04, {mode})",
                way,
                model,
                F,
                y_semi,
                published=PUBLISHED["pseudo-labeling"] if way == "labeled" else None,
            )

    F = feats_all[:n_train]
    add(
        "ours/guard",
        "PseudoLabelClassifier(0.04, validation_fraction=0.1)",
        "all",
        PseudoLabelClassifier(
            sgd(seed), sample_rate=0.04, validation_fraction=0.1, random_state=seed
        ),
        F,
        y_semi,
    )
    # The teacher sees the student's features and keeps the 50 PCA components,
    # columns 1..50 of PolynomialFeatures' output; its knn graph is sparse.
    teacher = make_pipeline(
        ColumnTransformer([("pca", "passthrough", slice(1, 51))]),
        LabelSpreading(kernel="knn", n_neighbors=10),
    )
    add(
        "ours/teacher",
        "PseudoLabelClassifier(teacher=LabelSpreading)",
        "all",
        PseudoLabelClassifier(
            sgd(seed),
            teacher=teacher,
            sample_rate=1.0,
            refit="full",
            random_state=seed,
        ),
        F,
        y_semi,
    )
    add(
        "selftraining/threshold",
        "SelfTrainingClassifier(threshold=0.75)",
        "all",
        SelfTrainingClassifier(sgd(seed), threshold=0.75),
        F,
        y_semi,
    )
    k_best = int(np.ceil(0.04 * np.sum(~labeled)))
    if "k_best" not in args.skip:
        add(
            "selftraining/k_best",
            f"SelfTrainingClassifier(k_best={k_best})",
            "all",
            SelfTrainingClassifier(
                sgd(seed), criterion="k_best", k_best=k_best, max_iter=None
            ),
            F,
            y_semi,
        )
    if "ceiling" not in args.skip:
        add(
            "ceiling",
            f"ceiling: all {n_train} true labels",
            "all",
            sgd(seed),
            F,
            y_train,
            published=PUBLISHED["ceiling"],
        )
    return results


def summarize(per_split):
    keys = list(per_split[0])
    reference = "selftraining/threshold"
    rows = []
    for key in keys:
        accs = np.array([split[key]["accuracy"] for split in per_split])
        secs = np.array([split[key]["seconds"] for split in per_split])
        ratio = np.array(
            [split[key]["seconds"] / split[reference]["seconds"] for split in per_split]
        )
        first = per_split[0][key]
        rows.append(
            dict(
                key=key,
                label=first["label"],
                way=first["way"],
                mean=float(100 * accs.mean()),
                std=float(100 * accs.std()),
                seconds=float(secs.mean()),
                time_ratio=float(ratio.mean()),
                published=first["published"],
            )
        )
    return rows


def print_table(rows, n_splits):
    header = (
        f"{'method':<50} {'PCA fit on':<10} {'test acc % (mean +- std)':>25} "
        f"{'published':>9} {'fit s':>7} {'x ST(0.75)':>10}"
    )
    print(f"\nMNIST logistic path, {n_splits} split(s)")
    print(header)
    print("-" * len(header))
    for row in rows:
        published = f"{row['published']:.2f}" if row["published"] else ""
        print(
            f"{row['label']:<50} {row['way']:<10} "
            f"{row['mean']:>16.2f} +- {row['std']:<5.2f} {published:>9} "
            f"{row['seconds']:>7.1f} {row['time_ratio']:>10.2f}"
        )


def plot(per_split, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for result in per_split[0].values():
        trace = result["trace"]
        if len(trace) < 2:
            ax.axhline(100 * trace[0], ls=":", lw=1, label=f"{result['label']}")
            continue
        ax.plot(
            range(len(trace)),
            100 * np.array(trace),
            marker=".",
            label=f"{result['label']} (PCA on {result['way']})",
        )
    ax.set_xlabel("iteration (0 = fit on the labeled rows)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("MNIST, 1000 labels: test accuracy after each refit (split 0)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--splits", type=int, default=3, help="random splits")
    parser.add_argument("--fits", type=int, default=10, help="supervised fits/split")
    parser.add_argument("--n-labeled", type=int, default=1000)
    parser.add_argument(
        "--n-unlabeled", type=int, default=None, help="subsample the unlabeled pool"
    )
    parser.add_argument(
        "--refit-modes", action="store_true", help="add a row per refit mode"
    )
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["labeled", "k_best", "ceiling"],
        help="leave out the PCA-on-labeled rows, the k_best row or the ceiling",
    )
    parser.add_argument(
        "--quick", action="store_true", help="5,000 unlabeled rows, one split"
    )
    parser.add_argument("--out", default="benchmarks/results", help="JSON+PNG folder")
    args = parser.parse_args(argv)
    if args.quick:
        args.splits, args.fits = 1, 3
        args.n_unlabeled = args.n_unlabeled or 5_000

    t0 = time.perf_counter()

    def log(message):
        print(f"[{time.perf_counter() - t0:7.1f}s] {message}", flush=True)

    log("loading MNIST")
    mnist = fetch_mnist(subset="all")
    X = mnist.data.astype(np.float64)
    X_train, y_train = X[:60_000], mnist.target[:60_000]
    X_test, y_test = X[60_000:], mnist.target[60_000:]
    if args.n_unlabeled is not None:
        # Keep a class-balanced labeled set possible: subsample the training rows.
        rng = np.random.RandomState(0)
        keep = rng.choice(60_000, args.n_labeled + args.n_unlabeled, replace=False)
        X_train, y_train = X_train[np.sort(keep)], y_train[np.sort(keep)]

    start = time.perf_counter()
    feats_all = features(X_train, np.vstack([X_train, X_test]))
    log(
        f"features (PCA fit on all training rows) in {time.perf_counter() - start:.1f}s"
    )

    per_split = []
    for split in range(args.splits):

        def split_log(message, split=split):
            log(f"split {split + 1}/{args.splits}: {message}")

        per_split.append(
            run_split(
                split, args, X_train, y_train, X_test, y_test, feats_all, split_log
            )
        )
    rows = summarize(per_split)
    print_table(rows, args.splits)
    log("done")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = "mnist_logreg_quick" if args.quick else "mnist_logreg"
    with open(out / f"{name}.json", "w") as f:
        json.dump({"args": vars(args), "rows": rows, "splits": per_split}, f, indent=1)
    try:
        plot(per_split, out / f"{name}.png")
    except ImportError:
        print("matplotlib is missing (pip install 'pseudo-sklearn[bench]'): no plot")
    print(f"wrote {out / name}.json and .png")
    return rows


if __name__ == "__main__":
    main()
