import pytest

torch = pytest.importorskip("torch")

import pickle  # noqa: E402
import re  # noqa: E402

import numpy as np  # noqa: E402
from numpy.testing import assert_allclose, assert_array_equal  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_blobs  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from pseudo_sklearn import PseudoLabelClassifier  # noqa: E402
from pseudo_sklearn.torch import MLPModule, ReferenceCNN, TorchClassifier  # noqa: E402


@pytest.fixture
def blobs():
    X, y = make_blobs(300, centers=3, n_features=5, random_state=0)
    return X.astype(np.float32), y


def test_epochs_reduce_loss(blobs):
    X, y = blobs
    clf = TorchClassifier(max_epochs=10, lr=0.05, random_state=0).fit(X, y)
    assert clf.n_iter_ == 10
    assert len(clf.loss_curve_) == 10
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]
    assert clf.score(X, y) > 0.95


def test_same_random_state_same_model(blobs):
    X, y = blobs
    a = TorchClassifier(max_epochs=3, random_state=1).fit(X, y)
    b = TorchClassifier(max_epochs=3, random_state=1).fit(X, y)
    c = TorchClassifier(max_epochs=3, random_state=2).fit(X, y)
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.loss_curve_ == b.loss_curve_
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_global_torch_rng_untouched(blobs):
    X, y = blobs
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    TorchClassifier(max_epochs=1, random_state=0).fit(X, y)
    assert torch.equal(torch.rand(3), expected)


def test_string_labels_match_integer_labels(blobs):
    X, y = blobs
    names = np.array(["ant", "bee", "cat"], dtype=object)[y]
    a = TorchClassifier(max_epochs=3, random_state=0).fit(X, y)
    b = TorchClassifier(max_epochs=3, random_state=0).fit(X, names)
    assert_array_equal(b.classes_, ["ant", "bee", "cat"])
    assert_array_equal(np.array(["ant", "bee", "cat"])[a.predict(X)], b.predict(X))


def test_partial_fit_continues_and_checks_classes(blobs):
    X, y = blobs
    clf = TorchClassifier(random_state=0)
    clf.partial_fit(X[:50], y[:50], classes=[0, 1, 2])
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 2
    assert_array_equal(clf.classes_, [0, 1, 2])
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, np.full_like(y, 7))


def test_sample_weight_zero_ignores_rows(blobs):
    X, y = blobs
    y_noisy = y.copy()
    y_noisy[:100] = (y[:100] + 1) % 3
    weight = np.r_[np.zeros(100), np.ones(200)]
    clf = TorchClassifier(max_epochs=10, lr=0.05, random_state=0)
    clf.fit(X, y_noisy, sample_weight=weight)
    assert clf.score(X[:100], y[:100]) > 0.9


def test_module_params_and_inferred_sizes(blobs):
    X, y = blobs
    clf = TorchClassifier(
        MLPModule, module_params={"hidden_layer_sizes": (7, 5)}, max_epochs=1
    ).fit(X, y)
    linear = [m for m in clf.module_.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [
        (5, 7),
        (7, 5),
        (5, 3),
    ]
    assert clone(clf).get_params()["module_params"] == {"hidden_layer_sizes": (7, 5)}


def test_pickle_round_trip(blobs):
    X, y = blobs
    clf = TorchClassifier(max_epochs=2, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_allclose(restored.predict_proba(X), clf.predict_proba(X))
    # The optimizer state travels too: both continue identically.
    clf.partial_fit(X, y)
    restored.partial_fit(X, y)
    assert_allclose(restored.predict_proba(X), clf.predict_proba(X))


def test_class_weight_criterion_trains_and_pickles(blobs):
    # A tensor parameter of the loss lives on the model's device, and the loss
    # is rebuilt there when the model is loaded.
    X, y = blobs
    n_classes = len(np.unique(y))
    weight = torch.linspace(0.5, 2.0, n_classes)
    params = dict(max_epochs=2, random_state=0)
    weighted = TorchClassifier(criterion_params={"weight": weight}, **params).fit(X, y)
    plain = TorchClassifier(**params).fit(X, y)
    assert not np.allclose(weighted.predict_proba(X), plain.predict_proba(X))
    assert "_criterion" not in weighted.__getstate__()
    restored = pickle.loads(pickle.dumps(weighted))
    assert_array_equal(restored._criterion.loss.weight.cpu(), weight)
    # device_ may be "cuda" while the tensor is on "cuda:0": compare the type.
    assert (
        restored._criterion.loss.weight.device.type
        == torch.device(restored.device_).type
    )
    weighted.partial_fit(X, y)
    restored.partial_fit(X, y)
    assert_allclose(restored.predict_proba(X), weighted.predict_proba(X))


@pytest.mark.skipif(torch.cuda.is_available(), reason="simulates a CPU-only host")
def test_cuda_model_unpickles_on_cpu_with_warning(blobs):
    X, y = blobs
    clf = TorchClassifier(max_epochs=1, random_state=0).fit(X, y)
    clf.device_ = "cuda:0"  # as if trained on a GPU; tensors map to the CPU
    payload = pickle.dumps(clf)
    with pytest.warns(UserWarning, match="CUDA is not available"):
        restored = pickle.loads(payload)
    assert restored.device_ == "cpu"
    assert next(restored.module_.parameters()).device.type == "cpu"
    clf.device_ = "cpu"
    assert_allclose(restored.predict_proba(X), clf.predict_proba(X))


def test_bad_parameter_names_the_fix(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="batch_size"):
        TorchClassifier(batch_size=0).fit(X, y)
    with pytest.raises(ValueError, match="optimizer"):
        TorchClassifier(optimizer="rmsprop").fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_device_without_cuda_errors(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="device='cpu'"):
        TorchClassifier(device="cuda").fit(X, y)


def test_wrapped_by_pseudo_label_classifier(blobs):
    X, y = blobs
    y_semi = y.copy()
    y_semi[30:] = -1
    meta = PseudoLabelClassifier(
        TorchClassifier(max_epochs=5, random_state=0), max_iter=2, random_state=0
    ).fit(X, y_semi)
    assert meta.score(X, y) > 0.9


def test_reference_cnn_shapes():
    model = ReferenceCNN()
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [
        (1, 20, (5, 5)),
        (20, 40, (5, 5)),
    ]
    assert (model.fc1.in_features, model.fc1.out_features) == (640, 150)
    out = model.eval()(torch.rand(4, 784))
    assert_allclose(out.exp().sum(1).detach().numpy(), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="784"):
        ReferenceCNN(n_features=100)


def test_reference_cnn_trains_channels_last_on_cpu():
    # Its class opts in (cpu_channels_last); the format survives training and
    # pickling, and predictions match the default format's up to rounding.
    rng = np.random.RandomState(0)
    X = rng.rand(120, 784).astype(np.float32)
    y = np.repeat(np.arange(3), 40)
    X[np.arange(120), y * 200] = 5.0  # one bright pixel per class
    params = dict(
        module=ReferenceCNN, max_epochs=2, batch_size=32, device="cpu", random_state=0
    )
    clf = TorchClassifier(**params).fit(X, y)
    channels_last = torch.channels_last

    def is_channels_last(model):
        # conv1's weight has one input channel: both formats at once.
        weight = model.module_.conv2.weight
        return weight.is_contiguous(memory_format=channels_last) and not (
            weight.is_contiguous()
        )

    assert is_channels_last(clf)
    loaded = pickle.loads(pickle.dumps(clf))
    assert is_channels_last(loaded)
    assert_allclose(loaded.predict_proba(X), clf.predict_proba(X))

    class Plain(ReferenceCNN):
        cpu_channels_last = False

    default = TorchClassifier(**{**params, "module": Plain}).fit(X, y)
    assert not is_channels_last(default)
    assert_allclose(default.predict_proba(X), clf.predict_proba(X), atol=1e-4)
    # Modules that do not opt in keep the default format.
    mlp = TorchClassifier(max_epochs=1).fit(X[:, :5], y)
    assert mlp.module_.net[0].weight.is_contiguous()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_predict_and_pickle(blobs):
    X, y = blobs
    clf = TorchClassifier(max_epochs=5, device="cuda", amp=True, random_state=0)
    clf.fit(X, y)
    assert clf.device_.startswith("cuda")
    assert clf.score(X, y) > 0.9
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict(X), clf.predict(X))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_class_weight_criterion(blobs):
    # A CPU weight tensor in criterion_params must follow the model to CUDA.
    X, y = blobs
    weight = torch.ones(len(np.unique(y)))
    clf = TorchClassifier(
        max_epochs=2, device="cuda", criterion_params={"weight": weight}
    ).fit(X, y)
    assert clf._criterion.loss.weight.device.type == "cuda"
    restored = pickle.loads(pickle.dumps(clf))
    assert restored._criterion.loss.weight.device.type == "cuda"
    # Both continue identically from the pickled weights and optimizer state.
    restored.partial_fit(X, y)
    clf.partial_fit(X, y)
    assert restored.n_iter_ == clf.n_iter_ == 3
    assert_allclose(restored.predict_proba(X), clf.predict_proba(X), atol=1e-5)


def test_fit_equals_partial_fit_with_dropout(blobs):
    # Torch's random stream continues across partial_fit calls, so dropout
    # draws the same masks as in one fit of as many epochs.
    X, y = blobs
    params = dict(
        module_params={"dropout": 0.5}, max_epochs=3, device="cpu", random_state=0
    )
    fitted = TorchClassifier(**params).fit(X, y)
    stepped = TorchClassifier(**params)
    for _ in range(3):
        stepped.partial_fit(X, y, classes=[0, 1, 2])
    assert stepped.loss_curve_ == fitted.loss_curve_
    assert_array_equal(stepped.predict_proba(X), fitted.predict_proba(X))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_sample_weight_is_refused(blobs, bad):
    X, y = blobs
    weight = np.ones(len(X))
    weight[5] = bad
    with pytest.raises(ValueError, match="sample_weight holds NaN or infinite"):
        TorchClassifier(max_epochs=1).fit(X, y, sample_weight=weight)


class FailsWithThreeClasses(MLPModule):
    def __init__(self, n_features=1, n_classes=2):
        if n_classes == 3:
            raise RuntimeError("no room for a third class")
        super().__init__(n_features, n_classes)


def test_failed_first_fit_leaves_estimator_unfitted(blobs):
    X, y = blobs
    clf = TorchClassifier(FailsWithThreeClasses, max_epochs=1)
    with pytest.raises(RuntimeError, match="third class"):
        clf.fit(X, y)
    assert not hasattr(clf, "classes_") and not hasattr(clf, "n_iter_")
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_failed_refit_keeps_the_old_model(blobs):
    X, y = blobs
    two = y < 2
    clf = TorchClassifier(FailsWithThreeClasses, max_epochs=2, random_state=0)
    clf.fit(X[two], y[two])
    expected = clf.predict_proba(X)
    with pytest.raises(RuntimeError, match="third class"):
        clf.fit(X, y)
    assert_array_equal(clf.classes_, [0, 1])
    assert clf.n_iter_ == 2
    assert_array_equal(clf.predict_proba(X), expected)
    assert set(clf.predict(X)) <= {0, 1}


def test_cuda_graphs_parameter_is_validated(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="cuda_graphs"):
        TorchClassifier(cuda_graphs="always", max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="cuda_graphs=True needs a CUDA device"):
        TorchClassifier(cuda_graphs=True, device="cpu", max_epochs=1).fit(X, y)
    clf = TorchClassifier(device="cpu", max_epochs=1).fit(X, y)
    assert clf.cuda_graphs_ is False


class BatchNormMLP(torch.nn.Module):
    """A network with 1-D batch norm, which cannot normalise one row in train mode."""

    def __init__(self, n_features=1, n_classes=2):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(n_features, 16),
            torch.nn.BatchNorm1d(16),
            torch.nn.ReLU(),
            torch.nn.Linear(16, n_classes),
        )

    def forward(self, x):
        return self.net(x)


def test_numpy_integer_batch_sizes_equal_python_ints(blobs):
    X, y = blobs
    search = GridSearchCV(
        TorchClassifier(max_epochs=1, device="cpu", random_state=0),
        {"batch_size": np.array([16, 32])}, cv=2, error_score="raise",
    ).fit(X, y)  # fmt: skip
    assert search.best_params_["batch_size"] in (16, 32)
    numpy_sized = TorchClassifier(batch_size=np.int64(16), max_epochs=2, random_state=0)
    python_sized = TorchClassifier(batch_size=16, max_epochs=2, random_state=0)
    assert_array_equal(
        numpy_sized.fit(X, y).predict_proba(X), python_sized.fit(X, y).predict_proba(X)
    )


@pytest.mark.parametrize("name", ["batch_size", "max_epochs"])
def test_boolean_counts_are_refused(blobs, name):
    X, y = blobs
    with pytest.raises(ValueError, match=f"'{name}' parameter .* Got True"):
        TorchClassifier(**{name: True}).fit(X, y)


@pytest.mark.parametrize("shuffle", [True, False])
def test_batch_norm_module_trains_with_a_one_row_last_batch(blobs, shuffle):
    X, y = blobs
    clf = TorchClassifier(
        BatchNormMLP, batch_size=32, max_epochs=2, shuffle=shuffle, random_state=0
    ).fit(X[:65], y[:65])
    assert len(clf.loss_curve_) == 2 and np.isfinite(clf.loss_curve_).all()


def test_padded_steps_run_a_merged_last_batch_eagerly(monkeypatch, blobs):
    # With graphs or compile, a batch-norm module runs batches whose length
    # differs from the step's eagerly; a merged tail is longer than the step.
    X, y = blobs
    params = dict(batch_size=32, max_epochs=2, shuffle=False, random_state=0)
    eager = TorchClassifier(BatchNormMLP, **params).fit(X[:65], y[:65])
    monkeypatch.setattr(TorchClassifier, "_use_fixed_steps", lambda self, data: True)
    fixed = TorchClassifier(BatchNormMLP, **params).fit(X[:65], y[:65])
    assert_allclose(fixed.predict_proba(X), eager.predict_proba(X), atol=1e-5)


class TwelveOutputs(MLPModule):
    def __init__(self, n_features=1):
        super().__init__(n_features, 12)


def test_module_output_width_must_match_the_classes(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="n_classes=12.*y has 3 classes"):
        TorchClassifier(module_params={"n_classes": 12}, max_epochs=1).fit(X, y)
    clf = TorchClassifier(TwelveOutputs, max_epochs=1)
    with pytest.raises(ValueError, match=r"shape \(32, 12\), but y has 3 classes"):
        clf.fit(X, y)
    assert not hasattr(clf, "module_")
    # No training step to check it: prediction checks it.
    clf = TorchClassifier(TwelveOutputs, max_epochs=0).fit(X, y)
    with pytest.raises(ValueError, match="one column per class"):
        clf.predict_proba(X)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_numpy_true_cuda_graphs_needs_cuda_as_true_does(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match="cuda_graphs=True needs a CUDA device"):
        TorchClassifier(cuda_graphs=np.True_, device="cpu", max_epochs=1).fit(X, y)
    clf = TorchClassifier(cuda_graphs=np.False_, device="cpu", max_epochs=1).fit(X, y)
    assert clf.cuda_graphs_ is False


BAD_DEVICES = ["tpu", "CPU", "", "meta", "cpu ", "cuda:-1"]
if not torch.backends.mps.is_available():
    BAD_DEVICES.append("mps")


@pytest.mark.parametrize("device", BAD_DEVICES)
def test_bad_device_strings_name_device(blobs, device):
    X, y = blobs
    with pytest.raises(ValueError, match=re.escape(f"device={device!r}")):
        TorchClassifier(device=device, max_epochs=1).fit(X, y)


def test_cuda_index_beyond_the_devices_is_refused(monkeypatch, blobs):
    X, y = blobs
    # A one-GPU machine, as far as the device check can tell.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match="device='cuda:1' but this machine has 1"):
        TorchClassifier(device="cuda:1", max_epochs=1).fit(X, y)


def test_diverged_fit_raises_and_leaves_the_estimator_unfitted(blobs):
    X, y = blobs
    clf = TorchClassifier(lr=1e12, max_epochs=2, random_state=0)
    with pytest.raises(ValueError, match="diverged.*lower lr"):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X)


class FailingLoss(torch.nn.CrossEntropyLoss):
    """Raises at its ``fail_at``-th call (counted over all instances)."""

    calls = 0
    fail_at = None

    def forward(self, output, target):
        FailingLoss.calls += 1
        if FailingLoss.fail_at is not None and FailingLoss.calls >= FailingLoss.fail_at:
            raise RuntimeError("the loss failed")
        return super().forward(output, target)


def test_failed_partial_fit_changes_nothing(blobs):
    # Halfway through an epoch: the weights, optimizer state, loss curve and
    # random streams must all be put back, so the next call matches a clone
    # that never failed.
    X, y = blobs
    params = dict(
        criterion=FailingLoss, module_params={"dropout": 0.2},
        optimizer_params={"momentum": 0.9}, batch_size=32, random_state=0,
    )  # fmt: skip
    FailingLoss.fail_at = None
    failing = TorchClassifier(**params).partial_fit(X, y)
    clean = TorchClassifier(**params).partial_fit(X, y)
    FailingLoss.calls, FailingLoss.fail_at = 0, 5
    with pytest.raises(RuntimeError, match="the loss failed"):
        failing.partial_fit(X, y)
    FailingLoss.fail_at = None
    assert failing.n_iter_ == 1 and len(failing.loss_curve_) == 1
    failing.partial_fit(X, y)
    clean.partial_fit(X, y)
    assert failing.loss_curve_ == clean.loss_curve_
    assert_array_equal(failing.predict_proba(X), clean.predict_proba(X))
