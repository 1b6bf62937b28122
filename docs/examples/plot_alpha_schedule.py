"""
===============================================
The alpha(t) ramp and its offline counterpart
===============================================

Lee (2013) trains a network on the loss of the labeled rows plus ``alpha(t)``
times the loss of the pseudo-labeled rows. The weight ``alpha(t)`` is 0 while the
network learns from the labeled rows alone (``t < T1``), then rises linearly to
``alpha_f`` at ``T2``, so that the pseudo-labels of an untrained network do not
steer it. :func:`~pseudo_sklearn.alpha_schedule` computes it, and
:class:`~pseudo_sklearn.torch.OnlinePseudoLabelClassifier` uses it with the
published values ``T1=100``, ``T2=700``, ``alpha_f=3``.

:class:`~pseudo_sklearn.PseudoLabelClassifier` has no loss to weight: it ramps
up the *number* of pseudo-labeled rows instead. Each iteration adds a batch of
``sample_rate`` times the unlabeled rows, so the share of pseudo-labeled rows in
the training set grows step by step, and the true labels weigh most early on.
"""

# %%
# The schedule
# ------------
import matplotlib.pyplot as plt
import numpy as np

from pseudo_sklearn import alpha_schedule

t = np.arange(0, 1001)
fig, ax = plt.subplots(figsize=(6.4, 3.2))
ax.plot(t, alpha_schedule(t), label="T1=100, T2=700, alpha_f=3 (published)")
ax.plot(t, alpha_schedule(t, T1=50, T2=300, alpha_f=1.0), "--", label="T1=50, T2=300")
ax.axvspan(0, 100, color="0.9", zorder=0)
ax.text(50, 2.6, "supervised\nwarm-up", ha="center", va="center")
ax.set_xlabel("t (labeled epochs)")
ax.set_ylabel("alpha(t)")
ax.set_title("Weight of the pseudo-label loss")
ax.legend(loc="lower right")
fig.tight_layout()

# %%
# In the published MNIST run, one pass over the 59,000 unlabeled images holds
# 231 batches of 256 and a labeled epoch every 50 batches, so each pass moves
# ``t`` by 5: ``alpha`` is at its final value after ``(700 - 100) / 5 = 120``
# passes.
print([alpha_schedule(t) for t in (100, 250, 400, 700, 900)])

# %%
# The offline counterpart
# -----------------------
# With ``sample_rate=0.04`` (the default) and no ``threshold``,
# :class:`~pseudo_sklearn.PseudoLabelClassifier` pseudo-labels the whole pool in
# 25 iterations. Here are the shares of pseudo-labels in the training set for
# the 1,000 labeled and 59,000 unlabeled rows of the MNIST benchmark, computed
# from the batch sizes alone.
n_labeled, n_unlabeled = 1_000, 59_000
fig, ax = plt.subplots(figsize=(6.4, 3.2))
for sample_rate in (0.04, 0.1, 0.25):
    batch = int(np.ceil(sample_rate * n_unlabeled))
    n_iter = int(np.ceil(n_unlabeled / batch))
    added = np.minimum(np.arange(n_iter + 1) * batch, n_unlabeled)
    share = added / (n_labeled + added)
    ax.step(np.arange(n_iter + 1), share, where="post", label=f"{sample_rate=}")
ax.set_xlabel("iteration")
ax.set_ylabel("pseudo-labeled share\nof training rows")
ax.set_title("PseudoLabelClassifier: the ramp is in the data")
ax.legend(loc="lower right")
fig.tight_layout()
