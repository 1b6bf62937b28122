"""Which pseudo-labels count in FixMatchClassifier's loss: a fixed confidence
threshold, FlexMatch's per-class thresholds or FreeMatch's self-adaptive ones."""

import copy

import torch

# FreeMatch's momentum for its running confidence estimates (Wang et al., 2023,
# and USB's implementation).
FREEMATCH_MOMENTUM = 0.999


class _Threshold:
    """Which pseudo-labels count in the loss: fixed, FlexMatch or FreeMatch.

    With ``mode="flexmatch"`` the threshold of class ``c`` is
    ``threshold * M(beta_c)`` with ``M(x) = x / (2 - x)`` (FlexMatch's convex
    mapping) and ``beta_c = sigma_c / max(max_k sigma_k, n_unused)``, where
    ``sigma_c`` counts the unlabeled rows whose latest prediction was class
    ``c`` with confidence above ``threshold`` and ``n_unused`` the rows never
    predicted that confidently (FlexMatch's threshold warm-up).

    With ``mode="freematch"`` the threshold of class ``c`` is
    ``min(tau, threshold) * p_c / max_k p_k``, where ``tau`` is a running
    mean (momentum ``FREEMATCH_MOMENTUM``) of the batches' mean top
    probability and ``p`` a running mean of their mean probability vector,
    both starting at ``1 / n_classes`` and updated with each batch before it
    is masked (FreeMatch's self-adaptive thresholds). ``threshold`` caps the
    threshold, not the running mean itself (USB's optional ``clip_thresh``
    clips the stored mean at 0.95).

    State lives on the device and is updated in place, without a host sync
    (a captured CUDA graph replays the updates).
    """

    # The state of the other modes (and of a model pickled before a mode
    # existed).
    selected = None
    levels = None

    def __init__(self, threshold, mode, n_unlabeled, n_classes, device):
        self.threshold = threshold
        self.mode = mode
        self.n_classes = n_classes
        if threshold is None:
            return
        if mode == "flexmatch":
            self.selected = torch.full((n_unlabeled,), -1, device=device)
            self._ones = torch.ones(n_unlabeled, device=device)
        elif mode == "freematch":
            # Global level first, then one level per class.
            self.levels = torch.full(
                (1 + n_classes,), 1 / n_classes, dtype=torch.float32, device=device
            )

    def class_thresholds(self):
        """Current threshold of each class, a device tensor (or None)."""
        if self.threshold is None:
            return None
        if self.levels is not None:
            level, per_class = self.levels[0], self.levels[1:]
            return level.clamp(max=self.threshold) * per_class / per_class.max()
        if self.selected is None:
            return torch.full(
                (self.n_classes,), float(self.threshold), dtype=torch.float64
            )
        counts = torch.zeros(self.n_classes + 1, device=self.selected.device)
        counts.scatter_add_(0, self.selected + 1, self._ones)
        learned, unused = counts[1:], counts[0]
        beta = learned / torch.maximum(learned.max(), unused).clamp(min=1)
        return self.threshold * beta / (2 - beta)

    def pseudo_labels(self, probabilities, index):
        """Class, confidence and 0/1 weight of each row's pseudo-label.

        ``probabilities`` are the labeler's, of the unlabeled rows ``index``;
        FlexMatch's counts and FreeMatch's levels take them into account.
        """
        confidence, target = probabilities.max(dim=1)
        if self.threshold is None:
            return target, confidence, torch.ones_like(confidence)
        if self.levels is not None:
            batch = torch.cat([confidence.mean().view(1), probabilities.mean(dim=0)])
            self.levels.lerp_(batch, 1 - FREEMATCH_MOMENTUM)
            keep = confidence >= self.class_thresholds()[target]
        elif self.selected is not None:
            keep = confidence >= self.class_thresholds()[target]
            confident = confidence >= self.threshold
            # torch.where instead of boolean indexing: no host sync on CUDA.
            self.selected[index] = torch.where(confident, target, self.selected[index])
        else:
            keep = confidence >= self.threshold
        return target, confidence, keep.float()

    def to(self, device):
        """A copy whose state lives on ``device`` (for pickling)."""
        moved = copy.copy(self)
        if self.selected is not None:
            moved.selected = self.selected.to(device)
            moved._ones = self._ones.to(device)
        if self.levels is not None:
            moved.levels = self.levels.to(device)
        return moved
