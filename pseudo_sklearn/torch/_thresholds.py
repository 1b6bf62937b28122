"""Which pseudo-labels count in FixMatchClassifier's loss: a fixed confidence
threshold, or FlexMatch's per-class thresholds."""

import copy

import torch


class _Threshold:
    """Which pseudo-labels count in the loss: fixed or FlexMatch thresholds.

    With ``mode="flexmatch"`` the threshold of class ``c`` is
    ``threshold * M(beta_c)`` with ``M(x) = x / (2 - x)`` (FlexMatch's convex
    mapping) and ``beta_c = sigma_c / max(max_k sigma_k, n_unused)``, where
    ``sigma_c`` counts the unlabeled rows whose latest prediction was class
    ``c`` with confidence above ``threshold`` and ``n_unused`` the rows never
    predicted that confidently (FlexMatch's threshold warm-up). Counts live on
    the device and are updated without a host sync.
    """

    def __init__(self, threshold, mode, n_unlabeled, n_classes, device):
        self.threshold = threshold
        self.mode = mode
        self.n_classes = n_classes
        self.selected = None
        if mode == "flexmatch" and threshold is not None:
            self.selected = torch.full((n_unlabeled,), -1, device=device)
            self._ones = torch.ones(n_unlabeled, device=device)

    def class_thresholds(self):
        """Current threshold of each class, a device tensor (or None)."""
        if self.threshold is None:
            return None
        if self.selected is None:
            return torch.full(
                (self.n_classes,), float(self.threshold), dtype=torch.float64
            )
        counts = torch.zeros(self.n_classes + 1, device=self.selected.device)
        counts.scatter_add_(0, self.selected + 1, self._ones)
        learned, unused = counts[1:], counts[0]
        beta = learned / torch.maximum(learned.max(), unused).clamp(min=1)
        return self.threshold * beta / (2 - beta)

    def mask(self, confidence, target, index):
        """0/1 weight of each pseudo-label; records confident predictions."""
        if self.threshold is None:
            return torch.ones_like(confidence)
        if self.selected is None:
            return (confidence >= self.threshold).float()
        keep = confidence >= self.class_thresholds()[target]
        confident = confidence >= self.threshold
        # torch.where instead of boolean indexing: no host sync on CUDA.
        self.selected[index] = torch.where(confident, target, self.selected[index])
        return keep.float()

    def to(self, device):
        """A copy whose FlexMatch counts live on ``device`` (for pickling)."""
        moved = copy.copy(self)
        if self.selected is not None:
            moved.selected = self.selected.to(device)
            moved._ones = self._ones.to(device)
        return moved
