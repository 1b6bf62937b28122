"""
=====================================================================
Augmentation consistency (FixMatch) vs Lee's pseudo-labels on MNIST
=====================================================================

Lee (2013) trains a network on its own most probable labels for the unlabeled
images. :class:`~pseudo_sklearn.torch.FixMatchClassifier` (Sohn et al., 2020)
changes what the pseudo-label is asked to do: the network labels a *weakly*
augmented view of each unlabeled image (shifted by up to 2 pixels), keeps the
labels it is confident about, and learns to give the same label to a *strongly*
augmented view of the same image (rotated, zoomed, sheared, shifted, with a
square cut out). The labels stay the network's own, but it can no longer pass
the test by repeating itself: it must recognise the digit under the distortion.

Training MNIST networks takes longer than this page may run, so the curves
below are read from the ``--curve`` output of ``benchmarks/mnist_fixmatch.py``,
committed under ``docs/examples/data/``; the file records the command, the
device and the date of the measurement. The first part shows the augmentations
themselves, computed here.
"""

# %%
# The two views, batched on the device
# ------------------------------------
# The transforms take a tensor of images ``(n, channels, height, width)`` and
# draw one set of random parameters per image, in a handful of tensor
# operations for the whole batch (no Python loop over images), so they run
# where the network runs. Shown here on scikit-learn's 8x8 digits, with shifts
# and a cut-out scaled to the small images.
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits

from pseudo_sklearn.torch import Compose, Cutout, RandomAffine, RandomShift

digits = load_digits()
images = torch.tensor(digits.images[:6], dtype=torch.float32).unsqueeze(1) / 16
weak = RandomShift(max_shift=1)
strong = Compose(
    [RandomAffine(degrees=15, translate=1, scale=0.15, shear=12), Cutout(size=3)]
)
torch.manual_seed(0)
rows = {"original": images, "weak": weak(images), "strong": strong(images)}
fig, axes = plt.subplots(3, 6, figsize=(6.4, 3.4))
for (name, batch), row in zip(rows.items(), axes, strict=True):
    for image, ax in zip(batch, row, strict=True):
        ax.imshow(image[0], cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(name)
fig.suptitle("One random draw per image")
fig.tight_layout()

# %%
# Accuracy curves on MNIST
# ------------------------
# Test accuracy (official 10,000 test images) after every epoch, for the
# ReferenceCNN of the published loop. An epoch is a supervised pass over the
# labeled images during the warm-up (shaded), then one pass over the unlabeled
# images. The x axis on the right is the training time, evaluation excluded.
try:
    here = Path(__file__).parent
except NameError:  # run cell by cell
    here = Path.cwd()
with open(here / "data" / "mnist_fixmatch_curves.json") as f:
    measured = json.load(f)
print(f"measured with: {measured['command']}")
print(f"device: {measured['device']}, torch {measured['torch']}, {measured['date']}")

STYLE = {"fixmatch": ("C0", "FixMatchClassifier"), "lee": ("C1", "Lee (2013)")}
labels = sorted({c["n_labeled"] for c in measured["curves"]}, reverse=True)
fig, axes = plt.subplots(len(labels), 2, figsize=(8, 3.2 * len(labels)), squeeze=False)
for n_labeled, (by_epoch, by_time) in zip(labels, axes, strict=True):
    for curve in measured["curves"]:
        if curve["n_labeled"] != n_labeled:
            continue
        color, name = STYLE[curve["method"]]
        accuracy = 100 * np.asarray(curve["test_accuracy"], dtype=float)
        # One legend entry per method: the first seed's curve.
        label = name if curve["seed"] == measured["curves"][0]["seed"] else None
        by_epoch.plot(curve["epoch"], accuracy, color=color, alpha=0.8, label=label)
        by_time.plot(curve["fit_time"], accuracy, color=color, alpha=0.8, label=label)
        if curve["method"] == "fixmatch":
            n_warmup = curve["phase"].count("supervised")
            by_epoch.axvspan(0, n_warmup, color="0.92", zorder=0)
    # From just below the worst pseudo-labeling epoch: the warm-up starts low.
    pseudo = [
        100 * a
        for c in measured["curves"]
        if c["n_labeled"] == n_labeled
        for a, phase in zip(c["test_accuracy"], c["phase"], strict=True)
        if phase == "pseudo"
    ]
    for ax in (by_epoch, by_time):
        ax.set_ylim(np.floor(min(pseudo)) - 1, 100)
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
    by_epoch.set_title(f"{n_labeled} labels: per epoch")
    by_time.set_title(f"{n_labeled} labels: per second of training")
    by_epoch.set_xlabel("epoch")
    by_time.set_xlabel("training time (s)")
    by_epoch.legend(loc="lower right")
fig.suptitle(f"measured on {measured['device']}", fontsize=9)
fig.tight_layout()

# %%
# Final test accuracy of each run in the file:
for curve in measured["curves"]:
    print(
        f"{curve['method']:9} {curve['n_labeled']:5} labels, seed {curve['seed']}: "
        f"{100 * curve['accuracy']:.2f}% after {curve['epoch'][-1]} epochs, "
        f"{curve['fit_time'][-1]:.0f} s of training"
    )

# %%
# Using it
# --------
# Rows of ``X`` are flat images; ``image_shape`` tells the estimator how to
# view them, and ``-1`` marks the unlabeled rows, as everywhere in
# scikit-learn::
#
#     from pseudo_sklearn.torch import FixMatchClassifier, ReferenceCNN
#
#     clf = FixMatchClassifier(
#         ReferenceCNN, image_shape=(1, 28, 28), max_epochs=80,
#         unlabeled_batch_size=448, random_state=0,
#     )
#     clf.fit(X_train, y_with_minus_ones, eval_set=(X_test, y_test))
#     clf.history_[-1]["validation_score"]
#
# ``threshold_mode="flexmatch"`` lowers the confidence threshold of the
# classes the network predicts confidently least often; ``ema_decay`` (on by
# default) labels and predicts with an average of the recent weights.
