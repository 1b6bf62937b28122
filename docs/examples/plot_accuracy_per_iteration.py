"""
=====================================================
Test accuracy and pseudo-label accuracy per iteration
=====================================================

The published study follows two curves while pseudo-labeling runs: the accuracy
of the model on a held-out test set, and the accuracy of the pseudo-labels it
hands out. Both are retold here on scikit-learn's digits, with 2 labeled images
per class and about 1,280 unlabeled ones.

:class:`~pseudo_sklearn.PseudoLabelClassifier` keeps what is needed to redraw
both curves after a single ``fit``: ``labeled_iter_`` says in which iteration
each row got its label, ``transduction_`` says which label, and ``history_``
has one record per iteration. With ``refit="full"`` (what ``"auto"`` picks for an
estimator without ``partial_fit``, like the one here) the model of
iteration ``k`` is a fresh fit on the rows with ``0 <= labeled_iter_ <= k``, so
refitting on those rows gives back each intermediate model.
"""

# %%
# Data: 20 labels, the rest unlabeled
# -----------------------------------
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from pseudo_sklearn import PseudoLabelClassifier
from pseudo_sklearn.datasets import mask_labels

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=500, stratify=y, random_state=0
)
y_semi = mask_labels(y_train, n_labeled=20, random_state=0)
unlabeled = y_semi == -1
print(f"{(~unlabeled).sum()} labeled rows, {unlabeled.sum()} unlabeled rows")

# %%
# Fit once
# --------
# ``sample_rate=0.04`` draws 4% of the pool per iteration: 25 iterations.
base = LogisticRegression(C=10.0, max_iter=1000)
# teacher=None: the model labels its own pool, iteration after iteration
# (the default bagging committee would label it at once, in one iteration).
clf = PseudoLabelClassifier(base, teacher=None, sample_rate=0.04, random_state=0)
clf.fit(X_train, y_semi)
print(clf.n_iter_, clf.termination_condition_)
history = pd.DataFrame(clf.history_)
history.head()

# %%
# Redraw the model of each iteration
# ----------------------------------
# Iteration 0 is the supervised model on the 20 labeled rows.


def model_at(k):
    rows = (clf.labeled_iter_ >= 0) & (clf.labeled_iter_ <= k)
    return clone(base).fit(X_train[rows], clf.transduction_[rows])


iterations = np.arange(clf.n_iter_ + 1)
test_accuracy = [model_at(k).score(X_test, y_test) for k in iterations]
agreement = np.mean(model_at(clf.n_iter_).predict(X_test) == clf.predict(X_test))
print(f"the refit last model agrees with clf on {agreement:.1%} of the test rows")

# %%
# Pseudo-label accuracy: of the batch added in each iteration, and of all the
# pseudo-labels handed out so far.
correct = clf.transduction_ == y_train
batch_accuracy = [correct[clf.labeled_iter_ == k].mean() for k in iterations[1:]]
so_far = [
    correct[(clf.labeled_iter_ >= 1) & (clf.labeled_iter_ <= k)].mean()
    for k in iterations[1:]
]

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
ax1.plot(iterations, test_accuracy, "o-", ms=3, label="PseudoLabelClassifier")
ax1.axhline(test_accuracy[0], color="0.5", ls="--", label="supervised (20 labels)")
full = clone(base).fit(X_train, y_train).score(X_test, y_test)
ax1.axhline(full, color="k", ls=":", label="supervised, all labels")
ax1.set_xlabel("iteration")
ax1.set_ylabel("accuracy")
ax1.set_title("Test accuracy")
ax1.legend(loc="lower right")

ax2.plot(iterations[1:], batch_accuracy, "o", ms=3, label="batch of the iteration")
ax2.plot(iterations[1:], so_far, "-", label="all pseudo-labels so far")
ax2.plot(iterations[1:], history["mean_confidence"], ":", label="mean confidence")
ax2.set_xlabel("iteration")
ax2.set_title("Pseudo-label accuracy")
ax2.legend(loc="lower right")
fig.tight_layout()

# %%
# The first batch is labeled by the supervised model, and its accuracy is that
# model's test accuracy give or take the noise of a small batch. Each refit on
# more rows labels the next batch a little better, and the test accuracy climbs
# along. The gain is bounded twice: by the wrong pseudo-labels, which the model
# now learns as truth, and by what the model could reach with every label (the
# dotted line). The mean confidence of ``predict_proba`` tracks the pseudo-label
# accuracy but stays below it here: a logistic regression with few labels is
# underconfident, so a ``threshold`` on it would throw away many right labels.
#
# Over several draws of the 20 labeled rows
# -----------------------------------------
# One draw of 20 labels is a noisy experiment. Five draws show how far the
# gain varies with which images happen to be labeled.
rows = []
for seed in range(5):
    y_seed = mask_labels(y_train, n_labeled=20, random_state=seed)
    pl = clone(clf).fit(X_train, y_seed)
    sup = clone(base).fit(X_train[y_seed != -1], y_seed[y_seed != -1])
    rows.append(
        {
            "seed": seed,
            "supervised": sup.score(X_test, y_test),
            "pseudo-labeling": pl.score(X_test, y_test),
            "pseudo-label accuracy": np.mean(
                pl.transduction_[y_seed == -1] == y_train[y_seed == -1]
            ),
        }
    )
pd.DataFrame(rows).round(3)
