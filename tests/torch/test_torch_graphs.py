import pytest

torch = pytest.importorskip("torch")

import contextlib  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from numpy.testing import assert_allclose  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from pseudo_sklearn.torch import (  # noqa: E402
    OnlinePseudoLabelClassifier,
    TorchClassifier,
    _graphs,  # noqa: E402
)
from pseudo_sklearn.torch._device import _DeviceArray  # noqa: E402
from pseudo_sklearn.torch._graphs import why_not_capturable  # noqa: E402

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")

OPTIMIZERS = [
    ("sgd", None),
    ("sgd", {"momentum": 0.9}),
    ("adam", None),
    ("adamw", {"weight_decay": 0.1}),
]


@pytest.fixture
def blobs():
    X, y = make_blobs(300, centers=3, n_features=5, random_state=0)
    return X.astype(np.float32), y


def _fresh(cls, X, y, **params):
    """An estimator built for X, y, as fit builds it, before any step."""
    clf = cls(device="cpu", random_state=0, **params)
    clf._validate_params()
    clf._initialize(X.shape[1], np.unique(y))
    return clf


def _parameters(clf):
    return [p.detach().clone() for p in clf.module_.parameters()]


@pytest.mark.parametrize("optimizer, optimizer_params", OPTIMIZERS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("class_weight", [False, True])
def test_padded_labeled_step_equals_short_batch(
    blobs, optimizer, optimizer_params, weighted, class_weight
):
    # The graph path pads the last batch with weight-0 rows and divides by the
    # real row count: loss and update must equal the short batch's.
    X, y = blobs
    params = dict(optimizer=optimizer, optimizer_params=optimizer_params, batch_size=32)
    if class_weight:
        params["criterion_params"] = {"weight": torch.tensor([0.5, 1.0, 2.0])}
    sample_weight = np.linspace(0.1, 2.0, len(X)) if weighted else None
    eager = _fresh(TorchClassifier, X, y, **params)
    padded = _fresh(TorchClassifier, X, y, **params)
    X_e, y_e, w_e = eager._device_data(X, y, sample_weight)
    data = padded._device_data(X, y, sample_weight)
    # A full batch first, so momentum and Adam's moments are in play.
    for index in (torch.arange(40, 72), torch.arange(100, 107)):
        with eager._rng_context():
            wb = None if w_e is None else w_e.take(index)
            loss = eager._step(eager.module_, X_e.take(index), y_e.take(index), wb)
        with padded._rng_context():
            step = padded._labeled_step(*data)
            step.totals["loss"].zero_()
            step(index)
            assert step.batch.size == 32
        assert_allclose(step.totals["loss"].item(), loss.item(), rtol=1e-5)
        for a, b in zip(_parameters(padded), _parameters(eager), strict=True):
            assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("threshold", [None, 0.6])
def test_padded_unlabeled_step_equals_short_batch(blobs, threshold):
    X, y = blobs
    params = dict(
        optimizer_params={"momentum": 0.9}, unlabeled_batch_size=64,
        threshold=threshold,
    )  # fmt: skip
    eager = _fresh(OnlinePseudoLabelClassifier, X, y, **params)
    padded = _fresh(OnlinePseudoLabelClassifier, X, y, **params)
    X_e = _DeviceArray(X, torch.device("cpu"), torch.float32)
    X_p = _DeviceArray(X, torch.device("cpu"), torch.float32)
    alpha = 2.5
    for index in (torch.arange(0, 64), torch.arange(200, 219)):
        totals = {"loss": torch.zeros(()), "n_pseudo": torch.zeros(())}
        with eager._rng_context():
            eager._eager_unlabeled_step(eager.module_, X_e.take(index), alpha, totals)
        with padded._rng_context():
            step = padded._unlabeled_step(X_p)
            step.totals["alpha"].fill_(alpha)
            for name in ("loss", "n_pseudo"):
                step.totals[name].zero_()
            step(index)
        assert_allclose(step.totals["loss"].item(), totals["loss"].item(), rtol=1e-5)
        assert step.totals["n_pseudo"].item() == totals["n_pseudo"].item()
        for a, b in zip(_parameters(padded), _parameters(eager), strict=True):
            assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_why_not_capturable_names_the_reason(blobs):
    X, y = blobs
    data = [_DeviceArray(X, torch.device("cpu"), torch.float32)]
    adam = _fresh(
        TorchClassifier, X, y, optimizer="adam", optimizer_params={"capturable": False}
    )
    assert "capturable=False" in why_not_capturable(adam.optimizer_, data)
    sgd = _fresh(TorchClassifier, X, y)
    assert why_not_capturable(sgd.optimizer_, data) is None
    data[0].on_device = False  # as when the data do not fit on the GPU
    assert "half the free GPU memory" in why_not_capturable(sgd.optimizer_, data)
    # Optimizers other than SGD must keep their step on the device.
    data[0].on_device = True
    params = list(sgd.module_.parameters())
    adagrad = torch.optim.Adagrad(params, lr_decay=0.1)
    assert "neither SGD nor" in why_not_capturable(adagrad, data)
    rmsprop = torch.optim.RMSprop(params, capturable=True)
    assert why_not_capturable(rmsprop, data) is None


def test_cpu_ignores_auto_graphs_and_builds_plain_optimizer(blobs):
    X, y = blobs
    clf = TorchClassifier(optimizer="adam", device="cpu", max_epochs=1).fit(X, y)
    assert clf.cuda_graphs_ is False
    assert clf.optimizer_.param_groups[0]["capturable"] is False


class _FakeStream:
    def __init__(self, name, events):
        self.name, self.events = name, events

    def wait_stream(self, other):
        self.events.append(f"{self.name} waits for {other.name}")


class _FakeCuda:
    """A recording stand-in, on CPU, for the torch.cuda calls a _Step makes,
    and the _GraphContext it reports to; ``host_read`` is what the check of
    the last eager step finds."""

    def __init__(self, monkeypatch):
        self.events = events = []
        self.active, self.device, self.reasons = True, torch.device("cpu"), []
        self.host_read = None
        names = iter(["warm-up stream", "capture stream", "scratch stream"])
        current = _FakeStream("current stream", events)

        class Graph:
            def capture_begin(self, pool=None):
                events.append("capture_begin")

            def capture_end(self):
                events.append("capture_end")

            def replay(self):
                events.append("replay")

        cuda = torch.cuda
        monkeypatch.setattr(cuda, "CUDAGraph", Graph)
        monkeypatch.setattr(
            cuda, "Stream", lambda dev: _FakeStream(next(names), events)
        )
        self.current = current

        @contextlib.contextmanager
        def stream(s):
            # As torch.cuda.stream: the stream is current inside the block.
            outer, self.current = self.current, s
            try:
                yield
            finally:
                self.current = outer

        monkeypatch.setattr(cuda, "stream", stream)
        monkeypatch.setattr(cuda, "current_stream", lambda device: self.current)
        monkeypatch.setattr(cuda, "synchronize", lambda device: events.append("sync"))
        monkeypatch.setattr(_graphs, "first_host_read", self._check)

    def _check(self, fn):
        fn()
        self.events.append("checked")
        return self.host_read

    def pool(self):
        return None

    def give_up(self, reason):
        self.active = False
        self.reasons.append(reason)

    def run(self, fn, n_steps):
        step = _graphs._Step(fn, _graphs._StaticBatch(4, "cpu"), self)
        for _ in range(n_steps):
            step(torch.arange(4))


def test_first_replay_waits_for_the_capture_stream(monkeypatch):
    # capture_begin resets torch's device-side RNG offset with a write on the
    # capture stream; the replay, on the current stream, must come after it or
    # it may redraw the first step's random numbers.
    cuda = _FakeCuda(monkeypatch)
    cuda.run(lambda: cuda.events.append("step"), _graphs._WARMUP_STEPS + 2)
    events = cuda.events
    assert events.count("checked") == 1  # the last eager step only
    assert events[events.index("capture_begin") :] == [
        "capture_begin", "step", "capture_end",
        "current stream waits for capture stream", "replay", "replay",
    ]  # fmt: skip
    assert not cuda.reasons


def test_host_read_in_the_last_eager_step_skips_capture(monkeypatch):
    # A failed capture is not cleaned up by some torch versions: a step that
    # reads a value back to the host is found before capture is tried.
    cuda = _FakeCuda(monkeypatch)
    cuda.host_read = _graphs._HOST_READ
    cuda.run(lambda: cuda.events.append("step"), _graphs._WARMUP_STEPS + 3)
    assert "capture_begin" not in cuda.events
    assert cuda.events.count("step") == _graphs._WARMUP_STEPS + 3
    assert len(cuda.reasons) == 1
    assert "reads a value back to the host" in cuda.reasons[0]


def test_first_host_read_reports_syncs_and_passes_other_warnings_on(monkeypatch):
    # torch.cuda's debug mode stood in for on CPU: torch warns with _HOST_READ
    # for each synchronising call while the mode is "warn".
    modes = ["default"]
    monkeypatch.setattr(torch.cuda, "get_sync_debug_mode", lambda: modes[-1])
    monkeypatch.setattr(torch.cuda, "set_sync_debug_mode", modes.append)

    def step(fail=False):
        assert modes[-1] == "warn"
        warnings.warn(_graphs._HOST_READ, UserWarning, stacklevel=1)
        warnings.warn("the module's own warning", RuntimeWarning, stacklevel=1)
        if fail:
            raise ValueError("step failed")

    with pytest.warns(RuntimeWarning, match="module's own") as caught:
        assert _graphs.first_host_read(step) == _graphs._HOST_READ
    assert not [w for w in caught if _graphs._HOST_READ in str(w.message)]
    assert modes[-1] == "default"
    with pytest.warns(RuntimeWarning, match="module's own"):
        with pytest.raises(ValueError, match="step failed"):
            _graphs.first_host_read(lambda: step(fail=True))
    assert modes[-1] == "default"
    assert _graphs.first_host_read(lambda: None) is None
    # The caller's filters apply to the step's warnings where they are raised.
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=RuntimeWarning, module=__name__)
        assert _graphs.first_host_read(step) == _graphs._HOST_READ
    assert seen == []


def test_first_host_read_restores_the_mode_where_warnings_are_errors(monkeypatch):
    # Torch sets the mode, then warns (once per process) that it is a
    # prototype: raised as an error, that warning left the mode on "warn"
    # for the rest of the process (a GPU run's later tests all failed).
    modes = ["default"]

    def set_mode(mode):
        modes.append(mode)
        warnings.warn(
            "Synchronization debug mode is a prototype feature and does not yet "
            "detect all synchronizing operations",
            UserWarning,
            stacklevel=1,
        )

    monkeypatch.setattr(torch.cuda, "get_sync_debug_mode", lambda: modes[-1])
    monkeypatch.setattr(torch.cuda, "set_sync_debug_mode", set_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _graphs.first_host_read(lambda: None) is None
    assert modes == ["default", "warn", "default"]


def test_interrupt_during_capture_ends_the_capture(monkeypatch):
    # Ctrl-C inside the captured step: the capture still ends (a stream left
    # capturing would break every later CUDA call), then the interrupt goes on.
    cuda = _FakeCuda(monkeypatch)

    def step():
        if cuda.events[-1] == "capture_begin":
            raise KeyboardInterrupt
        cuda.events.append("step")

    with pytest.raises(KeyboardInterrupt):
        cuda.run(step, _graphs._WARMUP_STEPS + 1)
    events = cuda.events[cuda.events.index("capture_begin") :]
    assert events[:3] == [
        "capture_begin",
        "capture_end",
        "current stream waits for capture stream",
    ]
    assert events.count("capture_end") == 2  # and the scratch capture's
    assert not cuda.reasons


# CUDA only below.


def _agreement(a, b, X):
    return np.mean(a.predict(X) == b.predict(X))


@needs_cuda
@pytest.mark.parametrize("optimizer, optimizer_params", OPTIMIZERS)
def test_graphs_match_eager_classifier(blobs, optimizer, optimizer_params):
    X, y = blobs
    weight = np.linspace(0.5, 1.5, len(X))
    params = dict(
        optimizer=optimizer, optimizer_params=optimizer_params, max_epochs=4,
        lr=0.05 if optimizer == "sgd" else 0.005, device="cuda", random_state=0,
        criterion_params={"weight": torch.tensor([1.0, 2.0, 0.5])},
    )  # fmt: skip
    graphs = TorchClassifier(cuda_graphs=True, **params).fit(X, y, weight)
    eager = TorchClassifier(cuda_graphs=False, **params).fit(X, y, weight)
    assert graphs.cuda_graphs_ and not eager.cuda_graphs_
    assert _agreement(graphs, eager, X) >= 0.99
    assert_allclose(graphs.loss_curve_, eager.loss_curve_, rtol=0.05)
    assert graphs.score(X, y) > 0.9


@needs_cuda
@pytest.mark.parametrize("threshold", [None, 0.9])
def test_graphs_match_eager_online(threshold):
    X, y = make_blobs(1500, centers=3, n_features=6, cluster_std=2.0, random_state=0)
    X = X.astype(np.float32)
    y_semi = np.where(np.arange(len(y)) < 60, y, -1)
    params = dict(
        max_epochs=4, T1=5, T2=8, unlabeled_batch_size=128, labeled_every=3,
        optimizer_params={"momentum": 0.9}, lr=0.02, threshold=threshold,
        device="cuda", random_state=0,
    )  # fmt: skip
    graphs = OnlinePseudoLabelClassifier(cuda_graphs=True, **params).fit(X, y_semi)
    eager = OnlinePseudoLabelClassifier(cuda_graphs=False, **params).fit(X, y_semi)
    assert graphs.cuda_graphs_
    assert _agreement(graphs, eager, X) >= 0.99
    assert_allclose(graphs.loss_curve_, eager.loss_curve_, rtol=0.05, atol=1e-3)
    for g, e in zip(graphs.history_, eager.history_, strict=True):
        assert g["t"] == e["t"] and g["alpha"] == e["alpha"]
        assert abs(g["n_added"] - e["n_added"]) <= 0.02 * len(X)
    assert graphs.score(X, y) > 0.8


class MaskLog(torch.nn.Module):
    """An MLP whose dropout writes each step's mask (first row) to a buffer.

    Buffer writes run inside a captured graph too, so the log shows what every
    replay drew.
    """

    def __init__(self, n_features=5, n_classes=3, width=64, n_log=256):
        super().__init__()
        self.fc1 = torch.nn.Linear(n_features, width)
        self.fc2 = torch.nn.Linear(width, n_classes)
        self.register_buffer("masks", torch.zeros(n_log, width))
        self.register_buffer("count", torch.zeros(1, dtype=torch.long))

    def forward(self, x):
        h = F.relu(self.fc1(x))
        if self.training:
            mask = F.dropout(torch.ones_like(h), 0.5, training=True)
            self.masks.index_copy_(0, self.count % len(self.masks), mask[:1])
            self.count += 1
            h = h * mask
        return self.fc2(h)


@needs_cuda
def test_dropout_masks_differ_between_replays(blobs):
    X, y = blobs
    clf = TorchClassifier(
        MaskLog, batch_size=10, max_epochs=2, device="cuda", cuda_graphs=True,
        random_state=0,
    ).fit(X, y)  # fmt: skip
    assert clf.cuda_graphs_
    # 30 steps an epoch: 2 eager warm-up steps, then one graph replayed.
    assert int(clf.module_.count) == 60
    masks = clf.module_.masks[:60].cpu().numpy()
    assert 0.3 < masks.astype(bool).mean() < 0.7
    # On failure, name the steps that drew the same mask (steps 0-1 are the
    # eager warm-up, step 2 the capture's first replay).
    first = {}
    repeats = [(first.setdefault(m.tobytes(), i), i) for i, m in enumerate(masks)]
    repeats = [(a, b) for a, b in repeats if a != b]
    assert not repeats, f"steps drew the same dropout mask: {repeats}"


@needs_cuda
def test_capturable_optimizer_runs_its_eager_steps_without_torch_warning(blobs):
    # The steps before capture are eager by design; torch would warn that a
    # capturable optimizer "can impair performance" there.
    X, y = blobs
    clf = TorchClassifier(optimizer="adam", max_epochs=2, device="cuda", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        clf.fit(X, y)
    assert clf.cuda_graphs_
    assert clf.optimizer_.param_groups[0]["capturable"] is True


@needs_cuda
def test_uncapturable_optimizer_falls_back_with_one_warning(blobs):
    X, y = blobs
    clf = TorchClassifier(
        optimizer="adam", optimizer_params={"capturable": False}, max_epochs=3,
        device="cuda", random_state=0,
    )  # fmt: skip
    with pytest.warns(UserWarning, match="capturable=False") as caught:
        clf.fit(X, y)
    assert len([w for w in caught if "CUDA graphs" in str(w.message)]) == 1
    assert not clf.cuda_graphs_
    assert clf.score(X, y) > 0.9


@needs_cuda
def test_graphs_train_the_eager_module_when_compile_is_set(blobs):
    # Captured compiled steps measured slower than captured eager ones: with
    # graphs on, compile=True is not used, and the user is told.
    X, y = blobs
    clf = TorchClassifier(max_epochs=2, device="cuda", compile=True, random_state=0)
    with pytest.warns(UserWarning, match="does not compile the module"):
        clf.fit(X, y)
    assert clf.cuda_graphs_
    assert clf._compiled is None
    assert clf._forward_module() is clf.module_


@needs_cuda
def test_uncapturable_module_falls_back_with_one_warning(blobs, syncing_mlp):
    X, y = blobs
    clf = TorchClassifier(syncing_mlp, max_epochs=3, device="cuda", random_state=0)
    # Found in the last eager step: no capture is tried.
    with pytest.warns(UserWarning, match="reads a value back to the host") as w:
        clf.fit(X, y)
    assert len([m for m in w if "CUDA graphs" in str(m.message)]) == 1
    assert not clf.cuda_graphs_
    assert clf.score(X, y) > 0.9
    # A later fit on the same device still works, with graphs; the check
    # left torch's sync debug mode as it was.
    assert TorchClassifier(max_epochs=2, device="cuda").fit(X, y).cuda_graphs_
    assert torch.cuda.get_sync_debug_mode() == 0


@needs_cuda
def test_random_numbers_work_after_a_failed_capture(monkeypatch, blobs, syncing_mlp):
    # The capture fails mid-step (the module reads a value back to the host,
    # and the check that would find it first is skipped); the eager steps
    # that follow draw dropout masks, which torch refuses while its generator
    # still counts as capturing.
    monkeypatch.setattr(_graphs, "first_host_read", lambda fn: fn())
    X, y = blobs
    clf = TorchClassifier(
        syncing_mlp, module_params={"dropout": 0.5}, max_epochs=3, device="cuda",
        random_state=0,
    )  # fmt: skip
    with pytest.warns(UserWarning, match="capturing a training step failed"):
        clf.fit(X, y)
    assert not clf.cuda_graphs_
    assert clf.score(X, y) > 0.9
    assert torch.rand(4, device="cuda").shape == (4,)


@pytest.mark.parametrize("threshold", [None, 0.7])
def test_fixed_steps_replay_the_same_ops_on_the_same_storages(
    monkeypatch, step_recorder, threshold
):
    # What a CUDA graph needs, checked on CPU for the steps graphs capture
    # (labeled steps with short padded batches, unlabeled steps with the
    # alpha refills, dropout): see conftest.StepRecorder.
    X, y = make_blobs(700, centers=3, n_features=6, cluster_std=2.0, random_state=0)
    X = X.astype(np.float32)
    y_semi = np.where(np.arange(len(y)) < 50, y, -1)
    monkeypatch.setattr(TorchClassifier, "_use_fixed_steps", lambda self, data: True)
    OnlinePseudoLabelClassifier(
        module_params={"dropout": 0.3}, max_epochs=3, T1=3, T2=6,
        unlabeled_batch_size=100, labeled_every=2, batch_size=16,
        optimizer_params={"momentum": 0.9}, threshold=threshold, device="cpu",
        random_state=0,
    ).fit(X, y_semi)  # fmt: skip
    assert len(step_recorder.calls) == 2
    step_recorder.check()
    step_recorder.calls.clear()
    weight = np.linspace(0.5, 2.0, len(y))
    TorchClassifier(
        criterion_params={"weight": torch.tensor([1.0, 2.0, 0.5])}, batch_size=64,
        max_epochs=3, device="cpu", random_state=0,
    ).fit(X, y, sample_weight=weight)  # fmt: skip
    step_recorder.check()


def test_padded_fits_match_eager_fits_on_cpu(monkeypatch):
    # The whole padded path (labeled epochs, unlabeled passes, alpha refills,
    # short batches), run eagerly on CPU as it runs in graphs on CUDA.
    X, y = make_blobs(700, centers=3, n_features=6, cluster_std=2.0, random_state=0)
    X = X.astype(np.float32)
    y_semi = np.where(np.arange(len(y)) < 50, y, -1)
    params = dict(
        max_epochs=3, T1=3, T2=6, unlabeled_batch_size=100, labeled_every=2,
        batch_size=16, optimizer_params={"momentum": 0.9}, lr=0.02, threshold=0.7,
        device="cpu", random_state=0,
    )  # fmt: skip
    eager = OnlinePseudoLabelClassifier(**params).fit(X, y_semi)
    monkeypatch.setattr(TorchClassifier, "_use_fixed_steps", lambda self, data: True)
    padded = OnlinePseudoLabelClassifier(**params).fit(X, y_semi)
    assert set(padded._steps) == set()  # released at the end of fit
    assert_allclose(padded.predict_proba(X), eager.predict_proba(X), atol=1e-4)
    for p, e in zip(padded.history_, eager.history_, strict=True):
        assert p["n_added"] == e["n_added"] and p["t"] == e["t"]
        assert_allclose(p["labeled_loss"], e["labeled_loss"], rtol=1e-4)
        if p["phase"] == "pseudo":
            assert_allclose(p["unlabeled_loss"], e["unlabeled_loss"], rtol=1e-4)
