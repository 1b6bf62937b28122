"""
==========================================
Pseudo-labels on a t-SNE map of the digits
==========================================

The published study draws the pseudo-labels on a 2-D t-SNE map of the
unlabeled images, once at the first iteration and once at the last, with the
wrong ones marked. The same two pictures for the digits: each dot is an
unlabeled training image, placed by :class:`~sklearn.manifold.TSNE` (which
never sees a label), colored by the pseudo-label the model gives it; a black
cross marks a wrong pseudo-label.

At the first iteration the labels come from the supervised model fitted on 20
labeled images; at the last, from the model refitted on every pseudo-label.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE
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

base = LogisticRegression(C=10.0, max_iter=1000)
# teacher=None: the model labels its own pool, iteration after iteration
# (the default bagging committee would label it at once, in one iteration).
clf = PseudoLabelClassifier(base, teacher=None, sample_rate=0.04, random_state=0)
clf.fit(X_train, y_semi)

# %%
# The model of the first iteration is the supervised fit on the labeled rows,
# the one that labels the first batch; the last is ``clf`` itself.
first = clone(base).fit(X_train[~unlabeled], y_semi[~unlabeled])
snapshots = {
    "first iteration": first.predict(X_train[unlabeled]),
    f"last iteration ({clf.n_iter_})": clf.predict(X_train[unlabeled]),
}

embedding = TSNE(init="pca", perplexity=30, random_state=0).fit_transform(X_train)
points = embedding[unlabeled]

fig, axes = plt.subplots(1, 2, figsize=(11, 5.2), sharex=True, sharey=True)
for ax, (title, labels) in zip(axes, snapshots.items(), strict=True):
    wrong = labels != y_train[unlabeled]
    ax.scatter(*points.T, c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=6)
    ax.scatter(*points[wrong].T, marker="x", c="k", s=14, linewidths=0.8)
    ax.scatter(
        *embedding[~unlabeled].T,
        c=y_semi[~unlabeled],
        cmap="tab10",
        vmin=-0.5,
        vmax=9.5,
        marker="*",
        s=220,
        edgecolors="k",
    )
    ax.set_title(f"{title}: {wrong.sum()} of {wrong.size} pseudo-labels wrong")
    ax.set_xticks([])
    ax.set_yticks([])
    for digit in range(10):
        x_mid, y_mid = np.median(points[y_train[unlabeled] == digit], axis=0)
        ax.annotate(str(digit), (x_mid, y_mid), fontsize=14, weight="bold")
fig.suptitle("Pseudo-labels on t-SNE of the digits (stars: the 20 labeled images)")
fig.tight_layout()

# %%
# The bold digits mark where the images of each true digit lie. The wrong
# pseudo-labels of the first iteration sit at the borders of clusters and in
# the clusters that two labeled images describe badly (8, 5, 1). After the last
# iteration the picture has hardly changed: about as many labels are wrong, in
# the same places. Pseudo-labeling fixes few of the first model's mistakes; it
# mostly confirms them, which is why its gain here is small.
#
# ``transduction_`` holds the label each row got when it was drawn, from the
# model of that moment; it is the label that was trained on:
print(f"wrong in transduction_: {np.sum(clf.transduction_ != y_train)}")
