"""Safe defaults: PseudoLabelClassifier with only its estimator, on data where
the published loop hurts, next to the supervised fit and the published loop.

For each case and seed: the inner estimator fitted on the labeled rows
(supervised), ``PseudoLabelClassifier(estimator, **PUBLISHED_SETTINGS)``
(published) and ``PseudoLabelClassifier(estimator)`` (defaults), all on the
same rows, in one run. Reported: test accuracy (mean +- std over the seeds),
the defaults' change against supervised (mean and worst seed), and the
defaults' fit time over the published loop's.

The cases (``make_classification``, 5 classes, 40 features, ``class_sep=0.6``,
``flip_y=0.08``: a hard task where the supervised model is about 30% right):

- SGD (log loss) and LogisticRegression, 1000 labels with a 76,000-row pool and
  200 labels with a 15,000-row pool;
- SVC(probability=True), 200 labels, 1,000-row pool;
- RandomForest (50 trees) and HistGradientBoosting (50 iterations), 1000
  labels, 5,000-row pool;
- LogisticRegression on two moons with 6 labels.

Options:

``--quick``
    Small pools and one seed; for CI (under a minute).
``--out DIR``
    JSON folder (default ``benchmarks/results``).
``--seeds SEED [SEED ...]``
    Seeds, one draw of the data and the model per seed (default 0 1 2).
``--cases NAME [NAME ...]``
    Only these cases (names as printed).

Run: ``python benchmarks/safe_defaults.py``.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.datasets import make_classification, make_moons
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.svm import SVC

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PUBLISHED_SETTINGS, Log, add_common_options, fit_timed, write_json

from pseudo_sklearn import PseudoLabelClassifier

N_TEST = 20_000


def hard_task(seed, n_labeled, n_pool, n_test=N_TEST):
    """The hard synthetic task: ``X, y`` (-1 for the pool) and a test set."""
    X, y = make_classification(
        n_samples=n_labeled + n_pool + n_test,
        n_classes=5,
        n_features=40,
        n_informative=10,
        class_sep=0.6,
        flip_y=0.08,
        random_state=seed,
    )
    n_train = n_labeled + n_pool
    y_semi = np.full(n_train, -1)
    y_semi[:n_labeled] = y[:n_labeled]
    return X[:n_train], y_semi, X[n_train:], y[n_train:]


def moons_task(seed, n_labeled=6, n_pool=1000, n_test=2000):
    X, y = make_moons(n_pool + n_test + 200, noise=0.1, random_state=seed)
    X_train, y_train = X[: n_pool + 200], y[: n_pool + 200]
    rng = np.random.RandomState(seed)
    labeled = np.concatenate(
        [
            rng.choice(np.flatnonzero(y_train == c), n_labeled // 2, False)
            for c in (0, 1)
        ]
    )
    y_semi = np.full(y_train.shape[0], -1)
    y_semi[labeled] = y_train[labeled]
    return X_train, y_semi, X[n_pool + 200 :], y[n_pool + 200 :]


def cases(quick):
    """name -> (data(seed), estimator(seed))."""
    scale = 10 if quick else 1
    sgd = lambda s: SGDClassifier(loss="log_loss", random_state=s)  # noqa: E731
    lr = lambda s: LogisticRegression(max_iter=1000)  # noqa: E731
    return {
        "SGD, 1000 labels": (lambda s: hard_task(s, 1000, 76_000 // scale), sgd),
        "SGD, 200 labels": (lambda s: hard_task(s, 200, 15_000 // scale), sgd),
        "LogReg, 1000 labels": (lambda s: hard_task(s, 1000, 76_000 // scale), lr),
        "LogReg, 200 labels": (lambda s: hard_task(s, 200, 15_000 // scale), lr),
        "SVC(prob), 200 labels": (
            lambda s: hard_task(s, 200, 1000 // scale),
            lambda s: SVC(probability=True, random_state=s),
        ),
        "RandomForest, 1000 labels": (
            lambda s: hard_task(s, 1000, 5000 // scale),
            lambda s: RandomForestClassifier(50, random_state=s),
        ),
        "HistGradBoost, 1000 labels": (
            lambda s: hard_task(s, 1000, 5000 // scale),
            lambda s: HistGradientBoostingClassifier(max_iter=50, random_state=s),
        ),
        "two moons, 6 labels": (moons_task, lr),
    }


def run_case(name, data, make_estimator, seeds, log):
    rows = []
    for seed in seeds:
        X, y, X_test, y_test = data(seed)
        labeled = y != -1
        estimator = make_estimator(seed)
        supervised = clone(estimator)
        sup_s, _ = fit_timed(supervised, X[labeled], y[labeled])
        published = PseudoLabelClassifier(
            estimator, random_state=seed, **PUBLISHED_SETTINGS
        )
        pub_s, _ = fit_timed(published, X, y)
        defaults = PseudoLabelClassifier(estimator, random_state=seed)
        def_s, warned = fit_timed(defaults, X, y)
        rows.append(
            {
                "seed": seed,
                "supervised": supervised.score(X_test, y_test),
                "published": published.score(X_test, y_test),
                "defaults": defaults.score(X_test, y_test),
                "published_s": pub_s,
                "defaults_s": def_s,
                "defaults_threshold": defaults.threshold_,
                "defaults_termination": defaults.termination_condition_,
                "defaults_warnings": warned,
            }
        )
        r = rows[-1]
        log(
            f"{name}, seed {seed}: supervised {100 * r['supervised']:.2f}, "
            f"published {100 * r['published']:.2f}, "
            f"defaults {100 * r['defaults']:.2f} ({def_s:.1f} s)"
        )
    return rows


def summary(name, rows):
    acc = {
        k: 100 * np.array([r[k] for r in rows])
        for k in ("supervised", "published", "defaults")
    }
    delta = acc["defaults"] - acc["supervised"]
    ratio = sum(r["defaults_s"] for r in rows) / sum(r["published_s"] for r in rows)
    cells = [f"{acc[k].mean():6.2f} +-{acc[k].std():5.2f}" for k in acc]
    return (
        f"{name:28s} {cells[0]}  {cells[1]}  {cells[2]}  "
        f"{delta.mean():+6.2f} {delta.min():+6.2f}  {ratio:6.2f}"
    ), delta.mean()


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_options(parser, quick_help="small pools, one seed (CI)")
    parser.add_argument("--cases", nargs="+", metavar="NAME", help="only these cases")
    args = parser.parse_args(argv)
    seeds = args.seeds[:1] if args.quick else args.seeds
    log = Log()
    all_cases = cases(args.quick)
    chosen = args.cases or list(all_cases)
    results = {}
    for name in chosen:
        data, make_estimator = all_cases[name]
        results[name] = run_case(name, data, make_estimator, seeds, log)

    header = (
        f"{'case':28s} {'supervised':>14s}  {'published':>14s}  {'defaults':>14s}  "
        f"{'d mean':>6s} {'d worst':>6s}  {'t def/pub':>9s}"
    )
    print(
        f"\nTest accuracy %, mean +- std over seeds {seeds}; d = defaults - supervised"
    )
    print(header)
    print("-" * len(header))
    worst = []
    for name in chosen:
        line, mean_delta = summary(name, results[name])
        worst.append(mean_delta)
        print(line)
    print(
        f"\nDefaults end at worst {min(worst):+.2f} points from supervised (mean over "
        "seeds; the target is no worse than -1)."
    )
    path = write_json(args.out, "safe_defaults", {"seeds": seeds, "cases": results})
    print(f"JSON: {path}")
    return results


if __name__ == "__main__":
    main()
