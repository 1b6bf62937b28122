"""
================================================
Will more labels help? Read the learning curve
================================================

Pseudo-labels are extra labels, some of them wrong. They can only help a model
that would gain from more labeled rows. The supervised learning curve (test
accuracy against the number of labeled rows) tells this before any
pseudo-labeling is run, from the labeled rows alone:

- where the curve still climbs at your number of labels, more labels help, and
  pseudo-labels may too;
- where it is flat, the model is limited by its own capacity, not by the data:
  neither more labels nor pseudo-labels will move it.

Here are both, for a simple and a flexible model on the digits, with the
accuracy of :class:`~pseudo_sklearn.PseudoLabelClassifier` at a few numbers
of labeled rows (the rest of the training rows unlabeled).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedShuffleSplit, learning_curve
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from pseudo_sklearn import PseudoLabelClassifier
from pseudo_sklearn.datasets import mask_labels

X, y = load_digits(return_X_y=True)
X = X / 16.0
models = {
    "GaussianNB": GaussianNB(),
    "LogisticRegression": make_pipeline(
        StandardScaler(), LogisticRegression(C=0.1, max_iter=1000)
    ),
}

# %%
# The supervised learning curves
# ------------------------------
# :func:`~sklearn.model_selection.learning_curve` refits each model on growing
# subsets of the training folds and scores it on the test folds.
cv = StratifiedShuffleSplit(n_splits=3, test_size=500, random_state=0)
sizes = np.array([20, 40, 80, 160, 320, 640, 1297])
curves = {}
for name, model in models.items():
    n_labels, _, test_scores = learning_curve(
        model, X, y, train_sizes=sizes, cv=cv, shuffle=True, random_state=0
    )
    curves[name] = (n_labels, test_scores.mean(axis=1), test_scores.std(axis=1))

# %%
# Pseudo-labeling at a few points of the curve
# --------------------------------------------
# With ``n`` labeled rows and the other training rows unlabeled. The test rows
# are those of the first split.
train, test = next(cv.split(X, y))
X_train, y_train, X_test, y_test = X[train], y[train], X[test], y[test]
pseudo = {name: [] for name in models}
points = [20, 80, 320]
for n in points:
    y_semi = mask_labels(y_train, n_labeled=n, random_state=0)
    for name, model in models.items():
        clf = PseudoLabelClassifier(clone(model), sample_rate=0.1, random_state=0)
        pseudo[name].append(clf.fit(X_train, y_semi).score(X_test, y_test))

fig, ax = plt.subplots(figsize=(7, 4.2))
for (name, (n_labels, mean, std)), color in zip(
    curves.items(), ["C0", "C1"], strict=True
):
    ax.plot(n_labels, mean, "o-", color=color, label=f"{name}, supervised")
    ax.fill_between(n_labels, mean - std, mean + std, color=color, alpha=0.2)
    ax.plot(
        points,
        pseudo[name],
        "s",
        color=color,
        ms=9,
        mfc="none",
        mew=2,
        label=f"{name}, pseudo-labeling (+ the rest unlabeled)",
    )
ax.set_xscale("log")
ax.set_xticks(sizes, sizes)
ax.set_xlabel("number of labeled training rows")
ax.set_ylabel("test accuracy")
ax.set_title("Learning curves on the digits")
ax.legend(loc="lower right", fontsize="small")
fig.tight_layout()

# %%
# Reading the picture
# -------------------
# Each square is drawn at the number of *true* labels it had; the curve to its
# right is what the model would reach if the pseudo-labels were all right. A
# square can therefore not rise above the curve's right end, and it rises
# towards it only as far as the pseudo-labels are right.
#
# The supervised curve draws random training rows, so at 20 rows some digits
# may have no example; the squares use 2 labels per digit
# (:func:`~pseudo_sklearn.datasets.mask_labels`), which is why they start
# higher at 20.
#
# Where a curve flattens, as naive Bayes does from about 160 labels, the model
# has learned all it can from the data it sees, and labeling the rest, by hand
# or by itself,
# changes little. Where it still climbs, as the logistic regression does at 20
# or 80 labels, there is room, and pseudo-labeling can take part of it. To
# decide for your own data, draw the supervised curve with the labeled rows you
# have (``learning_curve`` with ``SemiSupervisedStratifiedKFold`` is not needed:
# only labeled rows go in) and look at its slope at the right end.
for name in models:
    gains = np.subtract(pseudo[name], np.interp(points, *curves[name][:2]))
    print(name, "gain over the supervised curve at", points, np.round(gains, 3))
