"""KEEL balanced tables: self-labeling against the supervised fit (Triguero et al.).

The protocol of Triguero, Garcia and Herrera, "Self-labeled techniques for
semi-supervised learning" (KAIS 2015), on the balanced KEEL tables read by
:func:`pseudo_sklearn.datasets.fetch_keel`:

- stratified folds (``--folds``, 10); in each fold, a labeled ratio of the
  training rows (``--labeled``, 10%) keeps its labels, drawn per class (at
  least one row of each class), the rest are unlabeled (-1); the test rows are
  the fold's;
- one preprocessing per fold, fitted WITHOUT labels on the fold's training rows
  and shared by every method (numeric columns: SimpleImputer then
  StandardScaler; text columns: OneHotEncoder(handle_unknown="ignore")), so
  that the methods differ only in how they use the labels;
- learners LogisticRegression(max_iter=1000), KNeighborsClassifier(3),
  GaussianNB(), DecisionTreeClassifier(random_state=0),
  HistGradientBoostingClassifier(random_state=0);
- methods (``METHODS`` below, a name -> factory(learner, seed) dict to which a
  developer can add variants; ``--methods`` picks some): the learner fitted
  on the labeled rows (supervised, always run: it is the reference),
  ``PseudoLabelClassifier(learner)`` with the library's defaults as installed
  when the script runs, scikit-learn's
  ``SelfTrainingClassifier(learner, threshold=0.75)``, and sslearn's
  ``Setred(learner)`` and ``TriTraining(learner)`` when sslearn is installed
  (``pip install sslearn==1.1.0``). A method that raises is recorded as a
  crash for that case, with its error, not dropped.

Class labels are encoded as integers 0..k-1 per table (the same encoding for
every method; sslearn does not take string labels).

Printed: one row per table x learner (accuracy in %, mean over folds, and each
method's gain over supervised in points), then a summary per labeled ratio:
mean accuracy per method, average Friedman rank (over the table x learner
cases where every method ran; rank 1 is best), wins/ties/losses against
supervised with the Wilcoxon signed-rank p-value (scipy), cases more than one
point below supervised, the worst case, and the mean fit time. Written under
``--out``: ``keel.json`` (every fold's record and the summary) and
``keel_gain.png`` (each method's gain per table, sorted, one panel per learner).

Modes:

default
    The 14 tables of the issue (iris, wine, sonar, heart, crx, pima, vehicle,
    german, contraceptive, titanic, segment, spambase, banana, phoneme), the
    five learners, and, so that the run takes minutes on 2 cores, 5 folds (not
    10) and at most 500 rows per table (a stratified draw, seeded; it cuts all
    but iris, wine, sonar and heart). HistGradientBoosting's self-training fits
    are most of the time, the more so with many classes: with a 1,000-row cap
    the run took 8.6 CPU-minutes (12.5 minutes on a shared machine), segment
    alone 4. ``--folds 10 --max-rows 0`` gives the full protocol on these
    tables.
``--full``
    All 43 balanced tables, 10 folds, no row cap (hours on 2 cores).
``--quick``
    CI: iris, wine and heart, 2 folds, LogisticRegression and the tree (under
    a minute).

Other options: ``--folds N``, ``--labeled R [R ...]`` (e.g. ``0.1 0.2 0.3
0.4``), ``--datasets NAME ...``, ``--learners NAME ...``, ``--methods NAME
...``, ``--max-rows N``, ``--seeds SEED ...`` (each seed draws other folds and
labeled rows; results are averaged over seeds and folds), ``--jobs N``
(folds in parallel with joblib; default 1), ``--out DIR``.

Run: ``python benchmarks/keel.py``.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.semi_supervised import SelfTrainingClassifier
from sklearn.tree import DecisionTreeClassifier

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Log, Progress, add_common_options, fit_timed, save_plot, write_json

from pseudo_sklearn import PseudoLabelClassifier
from pseudo_sklearn.datasets import fetch_keel, list_keel_datasets

try:
    from sslearn.wrapper import Setred, TriTraining
except ImportError:  # sslearn is optional: its two methods are then left out
    Setred = TriTraining = None


class LabeledRowsOnly(ClassifierMixin, BaseEstimator):
    """The supervised reference: the learner fitted on the labeled rows alone."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        labeled = y != -1
        self.estimator_ = clone(self.estimator).fit(X[labeled], y[labeled])
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X):
        return self.estimator_.predict(X)


SUPERVISED = "supervised"
# name -> factory(learner, seed): an unfitted estimator that takes the fold's
# transformed training rows with -1 for the unlabeled ones. Add variants here.
METHODS = {
    SUPERVISED: lambda learner, seed: LabeledRowsOnly(learner),
    "pseudo-label": lambda learner, seed: PseudoLabelClassifier(
        learner, random_state=seed
    ),
    "self-training": lambda learner, seed: SelfTrainingClassifier(
        learner, threshold=0.75
    ),
}
if Setred is not None:
    METHODS["setred"] = lambda learner, seed: Setred(learner, random_state=seed)
    METHODS["tritraining"] = lambda learner, seed: TriTraining(
        learner, random_state=seed
    )

LEARNERS = {
    "logreg": lambda: LogisticRegression(max_iter=1000),
    "knn": lambda: KNeighborsClassifier(3),
    "nb": lambda: GaussianNB(),
    "tree": lambda: DecisionTreeClassifier(random_state=0),
    "hgb": lambda: HistGradientBoostingClassifier(random_state=0),
}

DEFAULT_DATASETS = (
    "iris wine sonar heart crx pima vehicle german contraceptive titanic segment "
    "spambase banana phoneme"
).split()
QUICK_DATASETS = ["iris", "wine", "heart"]
QUICK_LEARNERS = ["logreg", "tree"]
DEFAULT_FOLDS = 5
DEFAULT_MAX_ROWS = 500


def load_table(name, max_rows, seed):
    """Features (DataFrame), integer labels and class names of a KEEL table.

    With ``max_rows``, a stratified draw of that many rows (seeded).
    """
    bunch = fetch_keel(name)
    X = bunch.data
    classes, y = np.unique(np.asarray(bunch.target, dtype=object), return_inverse=True)
    if max_rows and len(y) > max_rows:
        keep = stratified_rows(y, max_rows, seed)
        X, y = X.iloc[keep].reset_index(drop=True), y[keep]
    return X, y, [str(c) for c in classes]


def stratified_rows(y, n, seed):
    """Sorted indices of ``n`` rows of ``y``, classes in proportion (seeded).

    Each class gets the floor of its share, at least one row; the rows left go
    to the largest remainders.
    """
    counts = np.bincount(y)
    share = n * counts / counts.sum()
    quota = np.maximum(1, np.floor(share)).astype(int)
    for k in np.argsort(quota - share)[: max(0, n - quota.sum())]:
        quota[k] += 1
    rng = np.random.RandomState(seed)
    order = rng.permutation(len(y))
    keep = np.concatenate(
        [order[y[order] == k][: quota[k]] for k in range(len(counts))]
    )
    return np.sort(keep)


def preprocessing(X):
    """The fold's shared, label-free preprocessing (unfitted)."""
    numeric = [c for c in X.columns if X[c].dtype.kind == "f"]
    text = [c for c in X.columns if c not in numeric]
    steps = []
    if numeric:
        steps.append(("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric))
    if text:
        steps.append(
            (
                "cat",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                text,
            )
        )
    return ColumnTransformer(steps)


def labeled_rows(y, ratio, rng):
    """Indices of a stratified ``ratio`` of ``y``, at least one row per class."""
    chosen = []
    for k in np.unique(y):
        rows = np.flatnonzero(y == k)
        n = min(len(rows), max(1, round(ratio * len(rows))))
        chosen.append(rng.choice(rows, size=n, replace=False))
    return np.sort(np.concatenate(chosen))


def run_fold(task, learners, methods, ratios):
    """Every learner x method x ratio on one fold; a list of records."""
    name, seed, fold, X, y, train, test = task
    X_train, y_train = X.iloc[train], y[train]
    prep = preprocessing(X).fit(X_train)
    Z_train, Z_test = prep.transform(X_train), prep.transform(X.iloc[test])
    records = []
    for ratio in ratios:
        rng = np.random.RandomState([seed, fold, int(round(1000 * ratio))])
        y_semi = np.full(len(y_train), -1)
        keep = labeled_rows(y_train, ratio, rng)
        y_semi[keep] = y_train[keep]
        for learner_name in learners:
            for method in methods:
                model = METHODS[method](LEARNERS[learner_name](), seed)
                record = {
                    "dataset": name,
                    "learner": learner_name,
                    "method": method,
                    "ratio": ratio,
                    "seed": seed,
                    "fold": fold,
                    "n_labeled": len(keep),
                }
                try:
                    seconds, warned = fit_timed(model, Z_train, y_semi)
                    accuracy = float(np.mean(model.predict(Z_test) == y[test]))
                except Exception as exc:  # a peer's crash is a result too
                    record.update(error=f"{type(exc).__name__}: {exc}")
                else:
                    record.update(
                        accuracy=accuracy, seconds=seconds, warnings=len(warned)
                    )
                records.append(record)
    return records


def fold_tasks(datasets, folds, seeds, max_rows, log):
    for name in datasets:
        for seed in seeds:
            X, y, classes = load_table(name, max_rows, seed)
            if seed == seeds[0]:
                log(
                    f"{name}: {X.shape[0]} rows, {X.shape[1]} columns, "
                    f"{len(classes)} classes"
                )
            splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
            for fold, (train, test) in enumerate(splitter.split(X, y)):
                yield name, seed, fold, X, y, train, test


def case_table(records, methods):
    """``{(ratio, dataset, learner): {method: mean accuracy % or error}}``."""
    cases = {}
    for r in records:
        key = (r["ratio"], r["dataset"], r["learner"])
        cases.setdefault(key, {}).setdefault(r["method"], []).append(r)
    table = {}
    for key, by_method in cases.items():
        row = {}
        for method in methods:
            runs = by_method.get(method, [])
            errors = [r["error"] for r in runs if "error" in r]
            if errors:
                row[method] = {"error": errors[0], "crashed_folds": len(errors)}
            else:
                row[method] = {
                    "accuracy": 100 * np.mean([r["accuracy"] for r in runs]),
                    "seconds": float(np.mean([r["seconds"] for r in runs])),
                }
        table[key] = row
    return table


def cell(entry, reference=None):
    if "error" in entry:
        return f"{'crash':>15s}"
    if reference is None or "error" in reference:
        return f"{entry['accuracy']:15.2f}"
    gain = entry["accuracy"] - reference["accuracy"]
    return f"{entry['accuracy']:7.2f} ({gain:+5.2f})"


def print_cases(table, methods, ratio):
    header = f"{'dataset':14s} {'learner':7s} " + " ".join(f"{m:>15s}" for m in methods)
    print(f"\nLabeled ratio {ratio:.0%}: accuracy % (gain over supervised, points)")
    print(header)
    print("-" * len(header))
    for (r, dataset, learner), row in table.items():
        if r != ratio:
            continue
        ref = row[SUPERVISED]
        cells = [cell(row[m], None if m == SUPERVISED else ref) for m in methods]
        print(f"{dataset:14s} {learner:7s} " + " ".join(cells))


def summarize(table, methods, ratio):
    """The summary statistics of one labeled ratio, per method."""
    keys = [k for k in table if k[0] == ratio]
    ran = {m: [k for k in keys if "accuracy" in table[k][m]] for m in methods}
    complete = [k for k in keys if all("accuracy" in table[k][m] for m in methods)]
    ranks = {}
    if complete:
        acc = np.array([[table[k][m]["accuracy"] for m in methods] for k in complete])
        # Rank 1 is the best accuracy; ties share the mean of their ranks.
        r = np.apply_along_axis(stats.rankdata, 1, -acc)
        ranks = dict(zip(methods, r.mean(axis=0), strict=True))
    friedman_p = float("nan")
    if len(complete) > 1 and len(methods) > 2:
        with np.errstate(invalid="ignore", divide="ignore"):
            friedman_p = stats.friedmanchisquare(*acc.T).pvalue
    summary = {"cases": len(keys), "complete_cases": len(complete)}
    summary["friedman_p"] = friedman_p
    per_method = {}
    for m in methods:
        mine = ran[m]
        entry = {
            "cases_run": len(mine),
            "crashes": len(keys) - len(mine),
            "mean_accuracy": float(np.mean([table[k][m]["accuracy"] for k in mine]))
            if mine
            else float("nan"),
            "mean_rank": float(ranks.get(m, float("nan"))),
            "mean_fit_s": float(np.mean([table[k][m]["seconds"] for k in mine]))
            if mine
            else float("nan"),
        }
        if m != SUPERVISED:
            both = [k for k in mine if "accuracy" in table[k][SUPERVISED]]
            gains = np.array(
                [
                    table[k][m]["accuracy"] - table[k][SUPERVISED]["accuracy"]
                    for k in both
                ]
            )
            entry["gains"] = {
                f"{k[1]}/{k[2]}": g for k, g in zip(both, gains, strict=True)
            }
            if len(gains):
                worst = int(np.argmin(gains))
                # Equal means over the same folds: the method changed nothing.
                tied = np.isclose(gains, 0, atol=1e-9)
                try:
                    p = stats.wilcoxon(gains[~tied]).pvalue if (~tied).any() else 1.0
                except ValueError:
                    p = float("nan")
                entry.update(
                    mean_gain=float(gains.mean()),
                    wins=int(np.sum((gains > 0) & ~tied)),
                    ties=int(tied.sum()),
                    losses=int(np.sum((gains < 0) & ~tied)),
                    wilcoxon_p=float(p),
                    below_1pt=int(np.sum(gains < -1)),
                    worst=(f"{both[worst][1]}/{both[worst][2]}", float(gains[worst])),
                )
        per_method[m] = entry
    summary["methods"] = per_method
    return summary


def print_summary(summary, methods, ratio):
    print(
        f"\nSummary, labeled ratio {ratio:.0%}: {summary['cases']} table x learner "
        f"cases; ranks over the {summary['complete_cases']} where every method ran "
        f"(Friedman p = {summary['friedman_p']:.2g})"
    )
    header = (
        f"{'method':14s} {'mean %':>7s} {'gain':>6s} {'rank':>5s} {'W/T/L':>10s} "
        f"{'Wilcoxon p':>10s} {'< -1pt':>6s} {'worst case':>24s} {'fit s':>7s} "
        f"{'crashes':>7s}"
    )
    print(header)
    print("-" * len(header))
    for m in methods:
        e = summary["methods"][m]
        if m == SUPERVISED or "mean_gain" not in e:
            rest = f"{'':6s} {e['mean_rank']:5.2f} {'':10s} {'':10s} {'':6s} {'':24s}"
        else:
            wtl = f"{e['wins']}/{e['ties']}/{e['losses']}"
            worst = f"{e['worst'][0]} {e['worst'][1]:+.2f}"
            rest = (
                f"{e['mean_gain']:+6.2f} {e['mean_rank']:5.2f} {wtl:>10s} "
                f"{e['wilcoxon_p']:10.3g} {e['below_1pt']:6d} {worst:>24s}"
            )
        print(
            f"{m:14s} {e['mean_accuracy']:7.2f} {rest} {e['mean_fit_s']:7.3f} "
            f"{e['crashes']:7d}"
        )


def plot_gains(summaries, learners, methods, ratio):
    """One panel per learner: each method's gain per table, sorted."""
    others = [m for m in methods if m != SUPERVISED]
    summary = summaries[ratio]["methods"]

    def draw(plt):
        fig, axes = plt.subplots(
            1, len(learners), figsize=(4 * len(learners), 4.5), squeeze=False
        )
        for ax, learner in zip(axes[0], learners, strict=True):
            # Sorted by the first other method's gain (the library's defaults).
            lead = summary[others[0]].get("gains", {}) if others else {}
            tables = sorted(
                {
                    key.split("/")[0]
                    for m in others
                    for key in summary[m].get("gains", {})
                    if key.endswith("/" + learner)
                },
                key=lambda t: lead.get(f"{t}/{learner}", np.nan),
            )
            x = np.arange(len(tables))
            for m in others:
                gains = summary[m].get("gains", {})
                ax.plot(
                    x,
                    [gains.get(f"{t}/{learner}", np.nan) for t in tables],
                    "o-",
                    ms=4,
                    lw=1,
                    label=m,
                )
            ax.axhline(0, color="k", lw=0.8)
            ax.axhline(-1, color="r", lw=0.8, ls="--")
            ax.set_xticks(x, tables, rotation=70, fontsize=7)
            ax.set_title(learner)
            ax.set_ylabel("gain over supervised (points)")
        axes[0][0].legend(fontsize=7)
        fig.suptitle(f"KEEL balanced, {ratio:.0%} labeled")
        fig.tight_layout()
        return fig

    return draw


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_options(
        parser, quick_help="3 small tables, 2 folds, 2 learners (CI)", seeds=(0,)
    )
    parser.add_argument("--full", action="store_true", help="all 43 balanced tables")
    parser.add_argument(
        "--folds",
        type=int,
        default=None,
        help=f"folds (default {DEFAULT_FOLDS}; 10 with --full)",
    )
    parser.add_argument(
        "--labeled",
        type=float,
        nargs="+",
        default=[0.1],
        metavar="RATIO",
        help="labeled ratios of each fold's training rows (default 0.1)",
    )
    parser.add_argument("--datasets", nargs="+", metavar="NAME", help="only these")
    parser.add_argument(
        "--learners", nargs="+", choices=list(LEARNERS), help="only these learners"
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        metavar="NAME",
        help=f"only these methods, of {', '.join(METHODS)} (supervised always runs)",
    )
    parser.add_argument(
        "--max-rows",
        type=int,
        default=None,
        metavar="N",
        help=f"stratified cap on rows per table (default {DEFAULT_MAX_ROWS}, "
        "none with --full; 0 for none)",
    )
    parser.add_argument(
        "--jobs", type=int, default=1, help="folds run in parallel (default 1)"
    )
    args = parser.parse_args(argv)

    if args.quick and args.full:
        parser.error("--quick and --full exclude each other; pass one of them.")
    if args.full:
        datasets, folds, max_rows = list_keel_datasets(), 10, 0
    elif args.quick:
        datasets, folds, max_rows = QUICK_DATASETS, 2, DEFAULT_MAX_ROWS
    else:
        datasets, folds, max_rows = DEFAULT_DATASETS, DEFAULT_FOLDS, DEFAULT_MAX_ROWS
    datasets = args.datasets or datasets
    folds = args.folds or folds
    max_rows = max_rows if args.max_rows is None else args.max_rows
    learners = args.learners or (QUICK_LEARNERS if args.quick else list(LEARNERS))
    unknown = sorted(set(args.methods or []) - set(METHODS))
    if unknown:
        parser.error(
            f"unknown methods {unknown}; choose among {list(METHODS)}"
            + ("" if Setred else " (setred and tritraining need sslearn installed)")
        )
    methods = [SUPERVISED] + [m for m in (args.methods or METHODS) if m != SUPERVISED]
    for ratio in args.labeled:
        if not 0 < ratio < 1:
            parser.error(f"--labeled takes ratios in (0, 1), got {ratio}.")
    missing = sorted(set(datasets) - set(list_keel_datasets()))
    if missing:
        parser.error(f"not balanced KEEL tables: {missing}; see list_keel_datasets()")

    log = Log()
    log(
        f"{len(datasets)} tables, {folds} folds, seeds {args.seeds}, labeled "
        f"{args.labeled}, learners {learners}, methods {methods}, "
        f"max rows {max_rows or 'none'}, jobs {args.jobs}"
    )
    if Setred is None:
        log("sslearn is not installed: setred and tritraining are left out")
    start = time.perf_counter()
    records = []
    n_tasks = len(datasets) * len(args.seeds) * folds
    tasks = fold_tasks(datasets, folds, args.seeds, max_rows, log)
    with Progress(log, "KEEL folds", n_tasks) as progress:
        results = Parallel(n_jobs=args.jobs, return_as="generator")(
            delayed(run_fold)(task, learners, methods, args.labeled) for task in tasks
        )
        for fold_records in results:
            records.extend(fold_records)
            progress.update()
    log(f"{len(records)} fits in {time.perf_counter() - start:.0f} s")

    table = case_table(records, methods)
    summaries = {}
    for ratio in args.labeled:
        print_cases(table, methods, ratio)
    for ratio in args.labeled:
        summaries[ratio] = summarize(table, methods, ratio)
        print_summary(summaries[ratio], methods, ratio)

    crashes = sorted(
        {(r["method"], r["learner"], r["error"]) for r in records if "error" in r}
    )
    for method, learner, error in crashes:
        print(f"crash: {method} with {learner}: {error}")

    payload = {
        "protocol": {
            "datasets": datasets,
            "folds": folds,
            "seeds": args.seeds,
            "labeled": args.labeled,
            "learners": learners,
            "methods": methods,
            "max_rows": max_rows,
            "pseudo_label_defaults": {
                k: repr(v)
                for k, v in PseudoLabelClassifier(None).get_params(deep=False).items()
                if k != "estimator"
            },
        },
        "cases": [
            {"ratio": k[0], "dataset": k[1], "learner": k[2], **row}
            for k, row in table.items()
        ],
        "summary": {str(r): s for r, s in summaries.items()},
        "records": records,
        "seconds": time.perf_counter() - start,
    }
    path = write_json(args.out, "keel", payload)
    print(f"JSON: {path}")
    for ratio in args.labeled:
        suffix = "" if len(args.labeled) == 1 else f"_{round(100 * ratio)}"
        png = save_plot(
            plot_gains(summaries, learners, methods, ratio),
            Path(args.out) / f"keel_gain{suffix}.png",
        )
        if png:
            print(f"PNG: {png}")
    return summaries


if __name__ == "__main__":
    main()
