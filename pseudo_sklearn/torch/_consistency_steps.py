"""FixMatchClassifier's training steps: the rows of a fit on the device, the
sums of an epoch, the weight average, and the warm-up and consistency steps,
eager or captured as one CUDA graph."""

import math

import torch

from ._augment import apply_view
from ._device import _DeviceArray
from ._graphs import _StaticBatch, split_batches, why_not_capturable
from ._params import count


class _Data:
    """The rows of one ``fit`` on the device, split into labeled and unlabeled."""

    def __init__(self, X_labeled, y_index, X_unlabeled, device):
        self.X_labeled = _DeviceArray(X_labeled, device, torch.float32)
        self.y_labeled = _DeviceArray(y_index, device, torch.long)
        self.X_unlabeled = _DeviceArray(X_unlabeled, device, torch.float32)
        self.device = device

    @property
    def n_labeled(self):
        return len(self.X_labeled)

    @property
    def n_unlabeled(self):
        return len(self.X_unlabeled)


class _Stats:
    """Sums over one epoch, kept on the device until the epoch ends."""

    def __init__(self, device):
        zero = torch.zeros((), device=device)
        self.labeled_loss, self.unlabeled_loss = zero.clone(), zero.clone()
        self.n_added, self.confidence = zero.clone(), zero.clone()
        self.n_steps = 0
        self.n_seen = 0

    def add(self, labeled_loss, unlabeled_loss, mask, confidence):
        """Add one pseudo-labeling step's sums (device ops only: a captured
        step runs this at every replay; the host counts go through count)."""
        self.labeled_loss.add_(labeled_loss)
        self.unlabeled_loss.add_(unlabeled_loss)
        self.n_added.add_(mask.sum())
        self.confidence.add_(confidence.sum())

    def count(self, n_seen):
        """Count one pseudo-labeling step of ``n_seen`` unlabeled rows."""
        self.n_steps += 1
        self.n_seen += n_seen

    def zero(self):
        for total in self._totals():
            total.zero_()

    def merge(self, other):
        """Add another record's device sums to this one's."""
        for mine, theirs in zip(self._totals(), other._totals(), strict=True):
            mine.add_(theirs)

    def _totals(self):
        return self.labeled_loss, self.unlabeled_loss, self.n_added, self.confidence

    def means(self):
        """Host floats; reading them waits for the device."""
        steps, seen = max(self.n_steps, 1), self.n_seen
        return {
            "labeled_loss": float(self.labeled_loss) / steps,
            "unlabeled_loss": float(self.unlabeled_loss) / steps if seen else math.nan,
            "n_added": int(self.n_added),
            "mean_confidence": float(self.confidence) / seen if seen else math.nan,
        }


@torch.no_grad()
def _update_average(average, module, decay):
    """Move ``average``'s weights towards ``module``'s; copy its buffers.

    ``decay`` is a float, or a list holding one 0-d device tensor of
    ``1 - decay`` per parameter: a CUDA graph reads a tensor at every replay,
    a float only once, at capture.
    """
    weight = decay if isinstance(decay, list) else 1 - decay
    # A float weight: one fused kernel for all parameters. Tensor weights take
    # one kernel per parameter, launched only at capture.
    torch._foreach_lerp_(list(average.parameters()), list(module.parameters()), weight)
    for mean, buffer in zip(average.buffers(), module.buffers(), strict=True):
        mean.copy_(buffer)


class _ConsistencyStepsMixin:
    """The steps of :class:`FixMatchClassifier`'s epochs.

    The estimator provides its parameters (``lr``, ``lr_schedule``,
    ``max_epochs``, ``batch_size``, ``unlabeled_batch_size``,
    ``unlabeled_weight``, ``ema_decay``), the fitted ``module_``,
    ``ema_module_`` and ``optimizer_``, and ``_views``, ``_shape``,
    ``_threshold_state``, ``_n_updates`` and ``_pseudo_steps``, besides what
    ``TorchClassifier``'s steps use.
    """

    def _release_graphs(self):
        # The captured steps' learning rate goes back to a float: a fitted
        # optimizer holds no device scalar (pickling, a later eager step).
        # First, so that an error the device reports below leaves no tensor.
        optimizer = getattr(self, "optimizer_", None)
        for group in [] if optimizer is None else optimizer.param_groups:
            if isinstance(group["lr"], torch.Tensor):
                group["lr"] = self._lr_now
        super()._release_graphs()

    def _set_lr(self, n_batches):
        """Set the learning rate of the next step; a device tensor (captured
        steps read it) is refilled in place."""
        lr = self.lr
        total = self.max_epochs * n_batches
        if self.lr_schedule == "cosine" and n_batches and total:
            progress = min(self._pseudo_steps / total, 1.0)
            lr = self.lr * math.cos(7 * math.pi * progress / 16)
        for group in self.optimizer_.param_groups:
            if isinstance(group["lr"], torch.Tensor):
                group["lr"].fill_(lr)
            else:
                group["lr"] = lr
        # The exact value, for when the float32 device scalar is dropped.
        self._lr_now = lr
        return lr

    def _next_decay(self):
        """Count an update of the weight average; its decay (lower for the
        first updates, so that the average follows the early steps)."""
        self._n_updates += 1
        k = self._n_updates
        return min(self.ema_decay, (1 + k) / (10 + k))

    def _optimize(self, loss):
        self.optimizer_.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer_.step()
        if self.ema_module_ is not None:
            _update_average(self.ema_module_, self.module_, self._next_decay())

    def _supervised_epoch_views(self, data, stats):
        weak = self._views[0]
        self.module_.train()
        order = torch.randperm(data.n_labeled, device=data.device)
        for index in split_batches(order, count(self.batch_size), self.module_):
            xb = apply_view(weak, data.X_labeled.take(index), self._shape)
            with self._autocast():
                losses = self._criterion(self.module_(xb), data.y_labeled.take(index))
            loss = losses.float().mean()
            self._optimize(loss)
            stats.labeled_loss += loss.detach()
            stats.n_steps += 1

    def _consistency_losses(self, data, index_u, index_l):
        """Labeled loss, masked unlabeled loss, mask and confidences of a step."""
        weak, strong = self._views
        xl, yl = data.X_labeled.take(index_l), data.y_labeled.take(index_l)
        xu = data.X_unlabeled.take(index_u)
        n_labeled = len(xl)
        # Both weak views in one call: on a GPU each transform costs kernel
        # launches, not arithmetic.
        weak_views = apply_view(weak, torch.cat([xl, xu]), self._shape)
        labeler = self._predicting_module()
        labeler.eval()
        with torch.no_grad(), self._autocast():
            output = labeler(weak_views[n_labeled:]).float()
        target, confidence, mask = self._threshold_state.pseudo_labels(
            torch.softmax(output, dim=1), index_u
        )
        inputs = torch.cat(
            [weak_views[:n_labeled], apply_view(strong, xu, self._shape)]
        )
        self.module_.train()
        with self._autocast():
            losses = self._criterion(
                self.module_(inputs), torch.cat([yl, target])
            ).float()
        labeled_loss = losses[:n_labeled].mean()
        unlabeled_loss = (losses[n_labeled:] * mask).mean()
        return labeled_loss, unlabeled_loss, mask, confidence

    def _consistency_step(self, data, index_u, index_l, stats):
        labeled_loss, unlabeled_loss, mask, confidence = self._consistency_losses(
            data, index_u, index_l
        )
        self._optimize(labeled_loss + self.unlabeled_weight * unlabeled_loss)
        stats.add(labeled_loss.detach(), unlabeled_loss.detach(), mask, confidence)
        stats.count(len(confidence))

    def _fixed_step(self, data, n_labeled, n_unlabeled):
        """The consistency step on static buffers, captured as a CUDA graph.

        Its batch holds the labeled then the unlabeled row indices (full
        batches: no padding); the learning rate and the weight average's
        ``1 - decay`` are device scalars refilled before each call. A graph
        reads the tensors it was captured with, so these are made once per
        step and reused by every pass.
        """
        key = ("consistency", id(data), n_labeled, n_unlabeled)
        if key in self._steps:
            return self._steps[key]
        batch = _StaticBatch(n_labeled + n_unlabeled, data.device)
        sums = _Stats(data.device)
        ema_weight = torch.zeros((), device=data.device)
        lr = torch.zeros((), device=data.device)
        module = self.module_
        # One weight per parameter, all the same device scalar.
        ema_weights = [ema_weight] * len(list(module.parameters()))

        def fn():
            index_l, index_u = batch.index[:n_labeled], batch.index[n_labeled:]
            labeled_loss, unlabeled_loss, mask, confidence = self._consistency_losses(
                data, index_u, index_l
            )
            # Gradients stay allocated: a graph writes into the same memory.
            self.optimizer_.zero_grad(set_to_none=False)
            (labeled_loss + self.unlabeled_weight * unlabeled_loss).backward()
            self.optimizer_.step()
            if self.ema_module_ is not None:
                _update_average(self.ema_module_, module, ema_weights)
            sums.add(labeled_loss.detach(), unlabeled_loss.detach(), mask, confidence)

        return self._new_step(key, fn, batch, sums=sums, ema_weight=ema_weight, lr=lr)

    def _graph_steps(self, data):
        """Whether this pass runs the fixed, captured step (CUDA graphs on)."""
        if not self.cuda_graphs_:
            return False
        arrays = [data.X_labeled, data.y_labeled, data.X_unlabeled]
        reason = why_not_capturable(self.optimizer_, arrays)
        groups = self.optimizer_.param_groups
        if (
            reason is None
            and self.lr_schedule == "cosine"
            and not all(g.get("fused") or g.get("capturable") for g in groups)
        ):
            # Its step would read the learning-rate tensor back to the host,
            # which no graph can hold.
            reason = (
                f"the {type(self.optimizer_).__name__} optimizer is neither fused "
                "nor capturable, so it reads the cosine learning rate on the host; "
                "leave foreach and fused out of optimizer_params (SGD), set "
                "fused=True or capturable=True, or pass lr_schedule='constant'"
            )
        if reason is not None:
            self._graph_context().give_up(reason)
            return False
        return True

    def _consistency_epoch(self, data, stats):
        """One pass over the unlabeled rows; the learning rate of its last step."""
        size = min(count(self.unlabeled_batch_size), data.n_unlabeled)
        n_labeled = count(self.batch_size)
        n_batches = data.n_unlabeled // size
        order = torch.randperm(data.n_unlabeled, device=data.device)
        order = order[: n_batches * size].view(n_batches, size)
        labeled = torch.randint(
            0, data.n_labeled, (n_batches, n_labeled), device=data.device
        )
        if not self._graph_steps(data):
            for i in range(n_batches):
                lr = self._set_lr(n_batches)
                self._consistency_step(data, order[i], labeled[i], stats)
                self._pseudo_steps += 1
            return lr
        step = self._fixed_step(data, n_labeled, size)
        sums, ema_weight = step.totals["sums"], step.totals["ema_weight"]
        sums.zero()
        if self.lr_schedule == "cosine":
            for group in self.optimizer_.param_groups:
                group["lr"] = step.totals["lr"]
        indices = torch.cat([labeled, order], dim=1)
        filled = None
        for i in range(n_batches):
            lr = self._set_lr(n_batches)
            if self.ema_module_ is not None:
                weight = 1 - self._next_decay()
                if weight != filled:
                    # Constant after the first few thousand steps: no refill.
                    ema_weight.fill_(weight)
                    filled = weight
            step(indices[i])
            stats.count(size)
            self._pseudo_steps += 1
        stats.merge(sums)
        return lr
