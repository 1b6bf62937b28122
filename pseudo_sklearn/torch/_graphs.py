"""Fixed-size training steps, replayed as CUDA graphs where they can be.

A step of a small network on the GPU costs more in Python and kernel launches
than in arithmetic. Capturing it as a CUDA graph and replaying it removes both;
that needs every step to have the same shapes and to read its inputs from the
same device buffers. :class:`_StaticBatch` holds those buffers: the row indices
of a batch (the gather happens inside the step), a 0/1 mask of real rows and
``1 / n_real``. The last, smaller batch of an epoch is padded to full size with
rows of weight 0 and its summed loss divided by the real row count, which gives
the same loss and gradient as the short batch (rows do not interact in the
loss; a module that mixes rows, such as batch norm, runs that batch unpadded).

:class:`_FixedStepsMixin` gives the torch estimators these steps, the eager
ones, and the supervised epoch that runs one kind or the other; the data flow
is estimator -> ``_Step`` (eager or captured) -> ``_StaticBatch``.
"""

import threading
import warnings

import numpy as np
import torch

from ._params import count

# Eager steps on a side stream before capture: they allocate the gradients and
# the optimizer state outside the graph and run lazy library initialisation.
# They are real training steps of the fit, not extra ones.
_WARMUP_STEPS = 2


def mixes_rows(module):
    """Whether a module's output for a row depends on the other rows in train mode."""
    norms = (torch.nn.modules.batchnorm._BatchNorm, torch.nn.SyncBatchNorm)
    return any(isinstance(m, norms) for m in module.modules())


def split_batches(order, size, module):
    """``order`` (row indices) in batches of ``size``; for a module that mixes
    rows, a last batch of one row joins the batch before it.

    Batch norm in train mode cannot normalise a single row ("Expected more
    than 1 value per channel"), and dropping the row would leave it out of
    every epoch when batches are not shuffled.
    """
    batches = list(order.split(int(size)))
    if len(batches) > 1 and len(batches[-1]) == 1 and mixes_rows(module):
        batches[-2:] = [torch.cat(batches[-2:])]
    return batches


def why_not_capturable(optimizer, data):
    """A reason why these training steps cannot be captured, or None.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimizer the steps call.
    data : list of _DeviceArray or None
        Arrays the steps gather batches from.
    """
    if any(d is not None and not d.on_device for d in data):
        return (
            "the training data do not fit in half the free GPU memory and are "
            "copied batch by batch from the host"
        )
    groups = optimizer.param_groups
    name = type(optimizer).__name__
    if "capturable" in optimizer.defaults and not all(
        g.get("capturable") for g in groups
    ):
        return (
            f"the {name} optimizer was built with capturable=False; leave "
            "`capturable` out of optimizer_params or set it to True"
        )
    if not isinstance(optimizer, torch.optim.SGD) and not all(
        g.get("capturable") or g.get("fused") for g in groups
    ):
        # Such an optimizer may keep its step count on the host (Adagrad
        # does): a graph would replay the host value it saw at capture.
        return (
            f"the {name} optimizer is neither SGD nor built with "
            "capturable=True or fused=True, so its step may read host values "
            "that a graph would freeze"
        )
    return None


_HOST_READ = "called a synchronizing CUDA operation"
# Torch's warning, once per process, on first setting the debug mode.
_PROTOTYPE = "Synchronization debug mode is a prototype feature"
_CHECK_LOCK = threading.Lock()


def first_host_read(fn):
    """Run ``fn`` on CUDA; torch's message for its first read back to the host,
    or None.

    Such a read (``.item()``, ``nonzero``, a copy to the host) cannot be
    captured. Finding it in an eager step avoids most failed captures, which
    some torch versions do not clean up (the graph's memory pool stays
    reserved). Torch's sync debug mode is one setting for the process: a lock
    keeps two checks apart, only this thread's warnings count, and the mode
    is restored even where warnings are errors (torch warns after setting
    it). Other warnings go through the caller's filters and display as usual.
    """
    thread, found = threading.get_ident(), []
    with _CHECK_LOCK, warnings.catch_warnings():
        warnings.filterwarnings("always", message=_HOST_READ)
        warnings.filterwarnings("ignore", message=_PROTOTYPE)
        show = warnings.showwarning

        def keep(message, category, filename, lineno, file=None, line=None):
            if threading.get_ident() == thread and _HOST_READ in str(message):
                found.append(str(message))
            else:
                show(message, category, filename, lineno, file, line)

        warnings.showwarning = keep
        previous = torch.cuda.get_sync_debug_mode()
        try:
            torch.cuda.set_sync_debug_mode("warn")
            fn()
        finally:
            torch.cuda.set_sync_debug_mode(previous)
    return found[0] if found else None


class _StaticBatch:
    """Device buffers a fixed-size step reads: row indices, real-row mask, 1/n.

    Parameters
    ----------
    size : int
        Rows per step, the padded size of every batch.
    device : torch.device
        Where the buffers live.
    """

    def __init__(self, size, device):
        self.size = size
        self.index = torch.zeros(size, dtype=torch.long, device=device)
        self.valid = torch.ones(size, device=device)
        self.inv_n = torch.full((), 1.0 / size, device=device)
        self._n = size

    def fill(self, index):
        """Copy a batch's indices in; a short batch keeps stale, masked pad rows."""
        n = index.shape[0]
        self.index[:n].copy_(index)
        if n != self._n:
            # Only when the batch length changes: full batches cost one copy.
            self.valid.fill_(1.0)
            self.valid[n:] = 0.0
            self.inv_n.fill_(1.0 / n)
            self._n = n


class _Step:
    """A training step on a :class:`_StaticBatch`, eager or as a CUDA graph.

    Parameters
    ----------
    fn : callable
        Runs one step reading only device tensors that outlive it (the static
        batch, the data, accumulators); returns nothing.
    batch : _StaticBatch
        The buffers ``fn`` reads.
    graphs : _GraphContext or None
        Where to capture and whom to tell of a failure; None runs eagerly.
    """

    def __init__(self, fn, batch, graphs=None):
        self.fn = fn
        self.batch = batch
        self.graphs = graphs
        self.graph = None
        self._n_warm = 0
        self._stream = None

    def __call__(self, index):
        self.batch.fill(index)
        graphs = self.graphs
        if graphs is None or not graphs.active:
            self.fn()
        elif self.graph is not None:
            self.graph.replay()
        elif self._n_warm < _WARMUP_STEPS:
            self._warm_up()
        else:
            self._capture()

    def _warm_up(self):
        if self._stream is None:
            self._stream = torch.cuda.Stream(self.graphs.device)
        current = torch.cuda.current_stream(self.graphs.device)
        self._stream.wait_stream(current)
        read = None
        with torch.cuda.stream(self._stream):
            if self._n_warm == _WARMUP_STEPS - 1:
                # The step before capture, as the graph would record it.
                read = first_host_read(self.fn)
            else:
                self.fn()
        current.wait_stream(self._stream)
        self._n_warm += 1
        if read is not None:
            self.graphs.give_up(
                f"a training step reads a value back to the host ({read}: "
                "`.item()`, `nonzero` or a copy to the CPU), which no CUDA graph "
                "can hold"
            )

    def _capture(self):
        graph = torch.cuda.CUDAGraph()
        device = self.graphs.device
        # A stream of its own, entered with a plain stream context: if capture
        # fails, the context still exits and the failed capture's stream is
        # never used again (torch.cuda.graph would leave it current).
        stream = torch.cuda.Stream(device)
        torch.cuda.synchronize(device)
        error = None
        with torch.cuda.stream(stream):
            graph.capture_begin(pool=self.graphs.pool())
            try:
                self.fn()
            except BaseException as exc:  # noqa: BLE001 - end the capture first
                error = exc
            try:
                graph.capture_end()
            except Exception as exc:  # noqa: BLE001
                error = error or exc
        # capture_begin resets torch's device-side RNG offset to 0 with an
        # eager fill on the capture stream; a replay on the current stream
        # writes the generator's offset into the same tensor. Unordered, the
        # reset could land after that write and the first replay would reuse
        # the random numbers of the fit's first step (a repeated dropout mask).
        torch.cuda.current_stream(device).wait_stream(stream)
        if error is not None:
            _end_capture_state(device)
            if not isinstance(error, Exception):
                raise error  # KeyboardInterrupt, after the capture ended
            self.graphs.give_up(f"capturing a training step failed ({error})")
            # Capture ran nothing: take this step for real.
            self.fn()
            return
        self.graph = graph
        # Capture records the step without running it.
        graph.replay()


def _end_capture_state(device):
    """Capture and end a one-kernel graph on ``device``, after a failed capture.

    A capture that fails before ``capture_end`` completes leaves torch's CUDA
    generator marked as capturing in the versions that keep one such mark per
    generator (torch clears it in ``capture_end``, after the check that
    raised), and every later eager random draw on the device then raises
    "Offset increment outside graph capture encountered unexpectedly". A
    capture that ends cleanly clears the mark; on versions that keep the mark
    per capture, this only costs one tiny graph.
    """
    scratch = torch.zeros(1, device=device)
    graph = torch.cuda.CUDAGraph()
    stream = torch.cuda.Stream(device)
    stream.wait_stream(torch.cuda.current_stream(device))
    with torch.cuda.stream(stream):
        graph.capture_begin()
        scratch.add_(1)
        graph.capture_end()
    torch.cuda.synchronize(device)


class _GraphContext:
    """The CUDA graphs of one fit: a shared memory pool and the one warning.

    Parameters
    ----------
    owner : TorchClassifier
        Estimator whose ``cuda_graphs_`` is set to False on a failure.
    device : torch.device
        The CUDA device.
    """

    def __init__(self, owner, device):
        self.owner = owner
        self.device = device
        self._pool = None

    @property
    def active(self):
        return self.owner.cuda_graphs_

    def pool(self):
        # One pool for all graphs: they never run concurrently and no tensor
        # allocated inside one outlives its replay.
        if self._pool is None:
            self._pool = torch.cuda.graph_pool_handle()
        return self._pool

    def give_up(self, reason):
        """Switch the rest of the fit to eager steps, with one warning."""
        if self.owner.cuda_graphs_:
            self.owner.cuda_graphs_ = False
            warnings.warn(
                f"{type(self.owner).__name__} trains without CUDA graphs because "
                f"{reason}. Pass cuda_graphs=False to silence this warning.",
                UserWarning,
                stacklevel=4,
            )


class _FixedStepsMixin:
    """The training steps of a torch estimator: batches of row indices, the
    eager step, and the fixed-size steps keyed by what they train on, with a
    supervised epoch that runs one kind or the other.

    Used by :class:`TorchClassifier` and its subclasses, which provide
    ``module_``, ``optimizer_``, ``cuda_graphs_``, ``compile``, ``shuffle``,
    ``batch_size``, ``_rng``, ``_compiled``, ``_criterion`` and
    ``_autocast``; ``_steps`` is reset by each ``_rng_context``.
    """

    def _forward_module(self):
        """The module to train: compiled on CUDA when ``compile=True`` and the
        steps are not captured as CUDA graphs."""
        if (
            self.compile
            and torch.device(self.device_).type == "cuda"
            and not self.cuda_graphs_
        ):
            if self._compiled is None:
                # Static shapes: padded batches never change them, and the
                # train/eval switch costs one cached graph each, no recompile.
                self._compiled = torch.compile(self.module_, dynamic=False)
            return self._compiled
        return self.module_

    def _batches(self, n, batch_size):
        """Index tensors on the device, one per batch of an epoch."""
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        order = torch.from_numpy(order)
        if torch.device(self.device_).type == "cuda":
            # From pinned memory the copy is asynchronous: no wait for the GPU.
            order = order.pin_memory().to(self.device_, non_blocking=True)
        return split_batches(order, count(batch_size), self.module_)

    def _step(self, module, xb, yb, weight=None, scale=1.0):
        """One gradient step on ``scale`` times the (weighted) mean loss."""
        with self._autocast():
            losses = self._criterion(module(xb), yb).float()
        if weight is not None:
            losses = losses * weight
        loss = losses.mean()
        # Captured graphs write into the gradients: keep them allocated then.
        self.optimizer_.zero_grad(set_to_none=not getattr(self, "_steps", None))
        (loss * scale).backward()
        self.optimizer_.step()
        return loss.detach()

    def _labeled_epoch(self, X, y, weight):
        """One pass over labeled rows; the mean batch loss as a device scalar."""
        batches = self._batches(len(X), count(self.batch_size))
        n_batches = max(len(batches), 1)
        if not self._use_fixed_steps([X, y, weight]):
            module = self._forward_module()
            module.train()
            total = torch.zeros((), device=self.device_)
            for index in batches:
                wb = None if weight is None else weight.take(index)
                total += self._step(module, X.take(index), y.take(index), wb)
            return total / n_batches
        step = self._labeled_step(X, y, weight)
        total = step.totals["loss"]
        total.zero_()
        unpadded = mixes_rows(self.module_)
        for index in batches:
            # A merged tail (see split_batches) is longer than the step.
            if unpadded and len(index) != step.batch.size:
                wb = None if weight is None else weight.take(index)
                module = self._forward_module()
                module.train()
                total.add_(self._step(module, X.take(index), y.take(index), wb))
            else:
                step(index)
        return total / n_batches

    def _release_graphs(self):
        if getattr(self, "_steps", None) and torch.device(self.device_).type == "cuda":
            # A graph's memory returns to the allocator when it is freed: let
            # its last replay finish first.
            torch.cuda.synchronize(self.device_)
        self._steps = {}
        self._graphs = None

    def _fixed_loss(self, module, xb, yb, rows, inv_n):
        """Mean loss over the real rows of a padded batch (``rows`` is 0 on pads)."""
        with self._autocast():
            losses = self._criterion(module(xb), yb).float()
        return (losses * rows).sum() * inv_n

    def _use_fixed_steps(self, data):
        """Whether to train on padded, fixed-size steps (graphs or compile)."""
        if torch.device(self.device_).type != "cuda":
            return False
        if self.cuda_graphs_:
            reason = why_not_capturable(self.optimizer_, data)
            if reason is not None:
                self._graph_context().give_up(reason)
        on_device = all(d is None or d.on_device for d in data)
        return on_device and (self.cuda_graphs_ or bool(self.compile))

    def _graph_context(self):
        if getattr(self, "_graphs", None) is None:
            self._graphs = _GraphContext(self, torch.device(self.device_))
        return self._graphs

    def _new_step(self, key, fn, batch, **totals):
        step = _Step(fn, batch, self._graph_context() if self.cuda_graphs_ else None)
        step.totals = totals
        self._steps[key] = step
        return step

    def _labeled_step(self, X, y, weight):
        """The fixed-size labeled step on these arrays, built on first use."""
        key = ("labeled", id(X), id(y), id(weight))
        if key in self._steps:
            return self._steps[key]
        module = self._forward_module()
        batch = _StaticBatch(min(count(self.batch_size), len(X)), X.device)
        total = torch.zeros((), device=X.device)

        def fn():
            module.train()
            index = batch.index
            rows = batch.valid
            if weight is not None:
                rows = rows * weight.tensor[index]
            self.optimizer_.zero_grad(set_to_none=False)
            loss = self._fixed_loss(
                module, X.tensor[index], y.tensor[index], rows, batch.inv_n
            )
            loss.backward()
            self.optimizer_.step()
            total.add_(loss.detach())

        # The step holds X, y and weight, so their ids stay valid as keys.
        return self._new_step(key, fn, batch, loss=total, data=(X, y, weight))
