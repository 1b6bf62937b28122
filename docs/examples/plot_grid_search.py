"""
=====================================================
Grid search with unlabeled rows in the training data
=====================================================

:class:`~sklearn.model_selection.GridSearchCV` splits the rows it is given into
training and test folds. With a plain splitter, unlabeled rows (``y == -1``)
land in the test folds, where the scorer counts every one of them as an error:
a model that is right on 90% of the labeled rows scores far lower, and the
scores say more about the share of unlabeled rows than about the model
(scikit-learn issue #2593).

:class:`~pseudo_sklearn.model_selection.SemiSupervisedStratifiedKFold` tests on
labeled rows only, stratified by class, and puts every unlabeled row in every
training fold, where pseudo-labeling needs them. For other splitters,
:func:`~pseudo_sklearn.model_selection.make_labeled_scorer` drops the unlabeled
rows before scoring.
"""

# %%
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    cross_val_score,
    train_test_split,
)

from pseudo_sklearn import PseudoLabelClassifier
from pseudo_sklearn.datasets import mask_labels
from pseudo_sklearn.model_selection import (
    SemiSupervisedStratifiedKFold,
    make_labeled_scorer,
)

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=500, stratify=y, random_state=0
)
y_semi = mask_labels(y_train, n_labeled=100, random_state=0)
model = PseudoLabelClassifier(
    LogisticRegression(max_iter=1000), sample_rate=0.25, random_state=0
)

# %%
# Three ways to cross-validate the same model
# -------------------------------------------
ways = {
    "KFold, accuracy\n(-1 rows count as errors)": dict(
        cv=KFold(3, shuffle=True, random_state=0)
    ),
    "KFold,\nmake_labeled_scorer()": dict(
        cv=KFold(3, shuffle=True, random_state=0), scoring=make_labeled_scorer()
    ),
    "SemiSupervised-\nStratifiedKFold": dict(cv=SemiSupervisedStratifiedKFold(3)),
}
cv_scores = {
    name: cross_val_score(model, X_train, y_semi, **kwargs)
    for name, kwargs in ways.items()
}
test_accuracy = model.fit(X_train, y_semi).score(X_test, y_test)

fig, ax = plt.subplots(figsize=(6.4, 3.6))
ax.boxplot(list(cv_scores.values()))
ax.set_xticks(range(1, len(ways) + 1), list(cv_scores))
ax.axhline(test_accuracy, color="k", ls=":", label="accuracy on the test set")
ax.set_ylabel("cross-validation score")
ax.legend(loc="center right")
fig.tight_layout()
print(
    {
        name.replace("\n", " "): round(float(s.mean()), 3)
        for name, s in cv_scores.items()
    }
)

# %%
# Only the last two estimate the test accuracy. Plain ``KFold`` scores about
# 7% of it, because 92% of the rows are unlabeled.
#
# Grid search
# -----------
# The splitter is an ordinary ``cv`` argument. Here it picks the regularization
# of the inner model and the confidence ``threshold`` together; each candidate
# is scored on held-out labeled rows after pseudo-labeling all unlabeled ones.
param_grid = {
    "estimator__C": [0.1, 1.0, 10.0],
    "threshold": [None, 0.5, 0.9],
}
search = GridSearchCV(model, param_grid, cv=SemiSupervisedStratifiedKFold(3))
search.fit(X_train, y_semi)
print("best:", search.best_params_, f"cv accuracy {search.best_score_:.3f}")
print(f"test accuracy of the best model: {search.score(X_test, y_test):.3f}")

results = pd.DataFrame(search.cv_results_)
results["threshold"] = results["param_threshold"].astype(str)
table = results.pivot(
    index="param_estimator__C", columns="threshold", values="mean_test_score"
)
table.plot(marker="o", logx=True, figsize=(6.4, 3.6))
plt.xlabel("C of the inner LogisticRegression")
plt.ylabel("mean cv accuracy")
plt.title("GridSearchCV with SemiSupervisedStratifiedKFold")
plt.tight_layout()

# %%
# Each class needs at least ``n_splits`` labeled rows, so with 10 labels per
# class, 3 folds leave 6 or 7 training labels per class in each fold: the
# search sees a little less labeled data than the final refit, which uses all
# of it. Comparing with the supervised model under the same splitter tells
# whether pseudo-labeling pays off here at all: ``max_iter=0`` is a plain
# supervised fit, so it is one more point of the grid.
search_iter = GridSearchCV(
    model.set_params(estimator__C=search.best_params_["estimator__C"]),
    {"max_iter": [0, None], "threshold": [search.best_params_["threshold"]]},
    cv=SemiSupervisedStratifiedKFold(3),
).fit(X_train, y_semi)
pd.DataFrame(search_iter.cv_results_)[
    ["param_max_iter", "mean_test_score", "std_test_score"]
].round(3)
