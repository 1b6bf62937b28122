import numpy as np
import pytest
from sklearn.datasets import make_blobs

torch = pytest.importorskip("torch")

# The suite runs on shared 2-core machines: one thread avoids oversubscription
# and keeps CPU training bit-for-bit reproducible.
torch.set_num_threads(1)


@pytest.fixture
def semi():
    """Three blobs of 400 rows, the first 30 labeled: ``(X, y, y_semi)``."""
    X, y = make_blobs(400, centers=3, n_features=4, cluster_std=2.0, random_state=0)
    y_semi = y.copy()
    y_semi[30:] = -1
    return X.astype(np.float32), y, y_semi


@pytest.fixture
def syncing_mlp():
    """An MLPModule class that reads a value back to the host in train mode:
    no CUDA graph can hold that, so capturing its training step fails."""
    from pseudo_sklearn.torch import MLPModule

    class SyncingMLP(MLPModule):
        def forward(self, x):
            out = super().forward(x)
            if self.training and not torch.isfinite(out).all().item():
                raise RuntimeError("non-finite output")
            return out

    return SyncingMLP


class _StepRecord(torch.utils._python_dispatch.TorchDispatchMode):
    """What one call of a training step does, as a CUDA graph would keep it.

    For each aten op: its name, its Python scalars (a graph bakes them in at
    capture) and the storages it reads that the call did not create (a graph
    keeps reading those addresses at every replay). Also the ops that read a
    value back to the host, which no graph can hold.
    """

    _HOST_READS = ("aten._local_scalar_dense", "aten.nonzero", "aten.masked_select")

    def __init__(self):
        super().__init__()
        self.ops, self.host_reads, self._created = [], [], set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        leaves = torch.utils._pytree.tree_leaves((args, kwargs))
        tensors = [t for t in leaves if isinstance(t, torch.Tensor)]
        name = str(func)
        bool_index = name.startswith("aten.index") and any(
            t.dtype == torch.bool for t in tensors
        )
        if name.startswith(self._HOST_READS) or bool_index:
            self.host_reads.append(name)
        read = {_storage(t) for t in tensors}
        scalars = tuple(x for x in leaves if isinstance(x, (bool, int, float)))
        if name.startswith("aten.lift_fresh"):
            # A Python number made a tensor (``x[i] = 1``): a constant that a
            # graph bakes in, so its value counts, not its fresh storage.
            scalars, self._created = (tensors[0].tolist(),), self._created | read
        self.ops.append((name, scalars, tuple(sorted(read - self._created))))
        out = func(*args, **kwargs)
        outputs = torch.utils._pytree.tree_leaves(out)
        self._created |= {
            _storage(t) for t in outputs if isinstance(t, torch.Tensor)
        } - read
        return out


def _storage(tensor):
    return tensor.untyped_storage().data_ptr()


class StepRecorder:
    """Every call of the fixed-size training steps, recorded (see
    ``_StepRecord``); ``check`` asserts what CUDA graph replays need."""

    def __init__(self):
        self.calls = {}

    def check(self, warmup=2):
        """Each step, from its first captured call on, repeats the same ops
        with the same scalars on the same storages, and never reads back."""
        assert self.calls, "no fixed-size step ran"
        for step, calls in self.calls.items():
            assert len(calls) > warmup + 1, "too few calls to compare replays"
            captured = calls[warmup]
            for k, call in enumerate(calls):
                assert not call.host_reads, f"step {step} reads back {call.host_reads}"
                if k <= warmup:
                    continue
                assert len(call.ops) == len(captured.ops), f"call {k} ran other ops"
                for op, first in zip(call.ops, captured.ops, strict=True):
                    assert op == first, (
                        f"call {k} of step {step} differs from the captured one "
                        f"at {op[0]}: scalars {op[1]} vs {first[1]}, storages "
                        f"{op[2]} vs {first[2]}"
                    )


@pytest.fixture
def step_recorder(monkeypatch):
    """Runs every ``_Step`` call eagerly under a recorder (on CPU, the code a
    CUDA graph captures and replays); returns the ``StepRecorder``."""
    from pseudo_sklearn.torch import _graphs

    recorder = StepRecorder()

    def call(self, index):
        self.batch.fill(index)
        record = _StepRecord()
        with record:
            self.fn()
        recorder.calls.setdefault(self, []).append(record)

    monkeypatch.setattr(_graphs._Step, "__call__", call)
    return recorder
