import pytest

torch = pytest.importorskip("torch")

import math  # noqa: E402
import pickle  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from numpy.testing import assert_allclose, assert_array_equal  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from pseudo_sklearn.torch import (  # noqa: E402
    Compose,
    Cutout,
    FixMatchClassifier,
    MLPModule,
    RandomAffine,
    RandomShift,
    _graphs,
)
from pseudo_sklearn.torch._thresholds import _Threshold  # noqa: E402


def small(**params):
    defaults = dict(
        max_epochs=3, warmup_epochs=2, unlabeled_batch_size=100, batch_size=16,
        random_state=0, device="cpu",
    )  # fmt: skip
    return FixMatchClassifier(**{**defaults, **params})


# As for PseudoLabelClassifier in tests/test_common.py, and as scikit-learn
# exempts its SelfTrainingClassifier: -1 marks unlabeled rows, so the check's
# labels [-1, 1] leave one class (string labels are tested below).
EXPECTED_FAILED_CHECKS = {
    "check_classifiers_classes": "the label -1 marks unlabeled rows."
}


@parametrize_with_checks(
    [
        FixMatchClassifier(device="cpu"),
        FixMatchClassifier(device="cpu", threshold_mode="flexmatch", ema_decay=None),
        FixMatchClassifier(device="cpu", threshold_mode="freematch"),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_history_records_each_epoch_with_team_keys(semi):
    X, y, y_semi = semi
    clf = small().fit(X, y_semi, eval_set=(X, y))
    assert clf.n_iter_ == 5 and len(clf.history_) == 5 and len(clf.loss_curve_) == 5
    assert [h["iteration"] for h in clf.history_] == [1, 2, 3, 4, 5]
    assert [h["phase"] for h in clf.history_] == ["supervised"] * 2 + ["pseudo"] * 3
    for h in clf.history_:
        assert h["fit_time"] > 0
        assert 0 <= h["labeled_score"] <= 1 and 0 <= h["validation_score"] <= 1
    for h in clf.history_[:2]:
        assert h["n_added"] == 0
        assert math.isnan(h["unlabeled_loss"]) and math.isnan(h["mean_confidence"])
    for h in clf.history_[2:]:
        # 370 unlabeled rows in batches of 100: 3 steps on 300 rows a pass.
        assert 0 <= h["n_added"] <= 300
        assert 1 / 3 <= h["mean_confidence"] <= 1
    assert "validation_score" not in small().fit(X, y_semi).history_[0]
    assert set(clf.classes_) == {0, 1, 2}


def test_threshold_none_keeps_every_pseudo_label(semi):
    X, _, y_semi = semi
    everything = small(threshold=None).fit(X, y_semi)
    assert [h["n_added"] for h in everything.history_[2:]] == [300] * 3
    assert everything.class_thresholds_ is None
    strict = small(threshold=0.999999).fit(X, y_semi)
    assert sum(h["n_added"] for h in strict.history_) < 900
    assert_array_equal(strict.class_thresholds_, np.full(3, 0.999999))


def one_hot_rows(confidence, target, n_classes=3):
    """Probability rows whose top class is ``target`` with ``confidence``,
    the rest spread evenly."""
    rest = (1 - confidence) / (n_classes - 1)
    probabilities = rest[:, None].repeat(1, n_classes)
    probabilities[torch.arange(len(target)), target] = confidence
    return probabilities


def test_flexmatch_thresholds_follow_the_published_rule():
    state = _Threshold(0.9, "flexmatch", n_unlabeled=10, n_classes=3, device="cpu")
    # Nothing predicted confidently yet: every threshold is 0.
    assert_allclose(state.class_thresholds(), [0, 0, 0])
    confidence = torch.tensor([0.95, 0.99, 0.5, 0.97, 0.4])
    target = torch.tensor([0, 0, 1, 2, 1])
    labels, kept_confidence, mask = state.pseudo_labels(
        one_hot_rows(confidence, target), torch.tensor([0, 1, 2, 3, 4])
    )
    assert_array_equal(labels, target)
    assert_allclose(kept_confidence, confidence)
    assert_array_equal(mask, [1, 1, 1, 1, 1])
    # Counts: class 0 twice, class 2 once, 7 rows unused -> beta = s / 7.
    beta = np.array([2, 0, 1]) / 7
    assert_allclose(state.class_thresholds(), 0.9 * beta / (2 - beta), rtol=1e-6)
    # Rows 5..9 confident for class 0: 7 of 0, 1 of 2, 2 unused -> beta = s / 7.
    state.pseudo_labels(one_hot_rows(torch.full((5,), 0.96),
                                     torch.zeros(5, dtype=torch.long)),
                        torch.arange(5, 10))  # fmt: skip
    beta = np.array([7, 0, 1]) / 7
    thresholds = 0.9 * beta / (2 - beta)
    assert_allclose(state.class_thresholds(), thresholds, rtol=1e-6)
    # A row's latest confident prediction replaces its earlier one.
    _, _, mask = state.pseudo_labels(
        one_hot_rows(torch.tensor([0.92, 0.4]), torch.tensor([2, 2])),
        torch.tensor([0, 1]),
    )
    assert_array_equal(mask, [0.92 >= thresholds[2], 0.4 >= thresholds[2]])
    beta = np.array([6, 0, 2]) / 6
    assert_allclose(state.class_thresholds(), 0.9 * beta / (2 - beta), rtol=1e-6)


def test_freematch_thresholds_follow_the_published_rule():
    m = 0.999  # FreeMatch's momentum
    state = _Threshold(0.95, "freematch", n_unlabeled=10, n_classes=3, device="cpu")
    # Uniform start: every threshold is 1 / n_classes.
    assert_allclose(state.class_thresholds(), [1 / 3] * 3, rtol=1e-6)
    probabilities = torch.tensor(
        [[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4], [0.5, 0.25, 0.25]]
    )
    _, _, mask = state.pseudo_labels(probabilities, torch.arange(4))
    tau = m / 3 + (1 - m) * np.mean([0.9, 0.7, 0.4, 0.5])
    p = m / 3 + (1 - m) * probabilities.numpy().mean(axis=0)
    thresholds = tau * p / p.max()
    assert_allclose(state.class_thresholds(), thresholds, rtol=1e-6)
    assert_array_equal(mask, [1, 1, 1, 1])
    # The levels take a batch in before it is masked: a row between the
    # threshold before and after this batch's update is dropped.
    before = state.class_thresholds()[0].item()
    confident = one_hot_rows(torch.full((99,), 0.999), torch.zeros(99, dtype=int))
    between = one_hot_rows(torch.tensor([before + 1e-4]), torch.tensor([0]))
    _, _, mask = state.pseudo_labels(torch.cat([confident, between]), torch.arange(100))
    assert state.class_thresholds()[0] > before + 1e-4
    assert mask[-1] == 0 and mask[:-1].all()
    # A confident labeler raises the global level, capped by ``threshold``.
    confident = one_hot_rows(torch.full((6,), 0.999), torch.tensor([0, 1, 2] * 2))
    for _ in range(20_000):
        state.pseudo_labels(confident, torch.arange(6))
    assert state.levels[0] > 0.99  # the running mean itself is not capped
    assert_allclose(state.class_thresholds(), [0.95] * 3, rtol=1e-4)
    _, _, mask = state.pseudo_labels(
        one_hot_rows(torch.tensor([0.96, 0.94]), torch.tensor([1, 2])),
        torch.tensor([0, 1]),
    )
    assert_array_equal(mask, [1, 0])


@pytest.mark.parametrize("mode", ["flexmatch", "freematch"])
def test_adaptive_thresholds_stay_below_threshold_and_keep_more(semi, mode):
    X, _, y_semi = semi
    clf = small(threshold_mode=mode, threshold=0.9).fit(X, y_semi)
    assert clf.class_thresholds_.shape == (3,)
    assert (clf.class_thresholds_ >= 0).all() and (clf.class_thresholds_ <= 0.9).all()
    fixed = small(threshold=0.9).fit(X, y_semi)
    assert sum(h["n_added"] for h in clf.history_) >= sum(
        h["n_added"] for h in fixed.history_
    )


class Tagging:
    """A view that adds a constant, so the rows a network sees show their view."""

    def __init__(self, offset):
        self.offset = offset

    def __call__(self, x):
        return x + self.offset


class RecordingMLP(MLPModule):
    calls = []

    def forward(self, x):
        RecordingMLP.calls.append((self.training, torch.is_grad_enabled(), x.clone()))
        return super().forward(x)


def test_weak_view_labels_in_eval_mode_and_strong_view_trains(semi):
    X, _, y_semi = semi
    X = np.abs(X)  # all rows >= 0, so the offsets tell the views apart
    RecordingMLP.calls = []
    small(
        module=RecordingMLP, weak_augment=Tagging(100.0), strong_augment=Tagging(1e4),
        max_epochs=1, warmup_epochs=1, ema_decay=None,
    ).fit(X, y_semi)  # fmt: skip
    calls = RecordingMLP.calls
    warmup = [c for c in calls if c[0] and len(c[2]) <= 16]
    assert warmup and all(((x >= 100) & (x < 1e4)).all() for _, _, x in warmup)
    labeling = [c for c in calls if not c[0] and not c[1]]
    # 3 unlabeled steps: each labels 100 weak rows in eval mode, no gradient.
    labeling = [c for c in labeling if len(c[2]) == 100]
    assert len(labeling) == 3
    assert all(((x >= 100) & (x < 1e4)).all() for _, _, x in labeling)
    training = [c for c in calls if c[0] and c[1] and len(c[2]) == 116]
    assert len(training) == 3
    for _, _, x in training:
        assert ((x[:16] >= 100) & (x[:16] < 1e4)).all()
        assert (x[16:] >= 1e4).all()


def test_image_views_get_image_shaped_tensors():
    seen = []

    def view(x):
        seen.append(tuple(x.shape[1:]))
        return x

    X = np.random.RandomState(0).rand(60, 12).astype(np.float32)
    y = np.where(np.arange(60) < 12, np.arange(60) % 2, -1)
    small(image_shape=(3, 4), weak_augment=view, strong_augment=view).fit(X, y)
    assert set(seen) == {(1, 3, 4)}
    seen.clear()
    small(weak_augment=view, strong_augment=view).fit(X, y)
    assert set(seen) == {(12,)}
    with pytest.raises(ValueError, match="image_shape=.*12 features"):
        small(image_shape=(1, 28, 28)).fit(X, y)


def test_default_views_on_mnist_shaped_rows_train():
    rng = np.random.RandomState(0)
    X = rng.rand(200, 64).astype(np.float32)
    y = (X[:, :32].sum(axis=1) > X[:, 32:].sum(axis=1)).astype(int)
    y_semi = np.where(np.arange(200) < 40, y, -1)
    clf = small(image_shape=(8, 8), max_epochs=2).fit(X, y_semi)
    assert type(clf._views[0]).__name__ == "RandomShift"
    assert type(clf._views[1]).__name__ == "Compose"
    assert clf.predict(X).shape == (200,)


def test_prediction_uses_the_weight_average(semi):
    X, _, y_semi = semi
    clf = small(ema_decay=0.9).fit(X, y_semi)
    for average, weight in zip(
        clf.ema_module_.parameters(), clf.module_.parameters(), strict=True
    ):
        assert not torch.equal(average, weight)
    with torch.no_grad():
        expected = torch.softmax(clf.ema_module_.eval()(torch.from_numpy(X)), dim=1)
    assert_allclose(clf.predict_proba(X), expected.numpy(), rtol=1e-5, atol=1e-6)
    # Decay 0: the average is the trained network itself.
    same = small(ema_decay=0.0).fit(X, y_semi)
    for average, weight in zip(
        same.ema_module_.parameters(), same.module_.parameters(), strict=True
    ):
        assert torch.equal(average, weight)
    assert small(ema_decay=None).fit(X, y_semi).ema_module_ is None


def test_learning_rate_schedules(semi):
    X, _, y_semi = semi
    clf = small(lr=0.1, max_epochs=4).fit(X, y_semi)
    lrs = [h["lr"] for h in clf.history_]
    assert lrs[:2] == [0.1, 0.1]
    # 3 steps a pass, 12 in all; the last step of pass p is step 3p - 1.
    expected = [
        0.1 * math.cos(7 * math.pi * (3 * p - 1) / (16 * 12)) for p in (1, 2, 3, 4)
    ]
    assert_allclose(lrs[2:], expected)
    constant = small(lr=0.1, lr_schedule="constant").fit(X, y_semi)
    assert {h["lr"] for h in constant.history_} == {0.1}


def test_sgd_defaults_are_fixmatch_settings(semi):
    X, _, y_semi = semi
    group = small().fit(X, y_semi).optimizer_.param_groups[0]
    assert (group["momentum"], group["nesterov"], group["weight_decay"]) == (
        0.9,
        True,
        5e-4,
    )
    group = small(optimizer_params={"momentum": 0.5}).fit(X, y_semi)
    assert group.optimizer_.param_groups[0]["nesterov"] is False


def test_same_random_state_same_model_and_different_seeds_differ(semi):
    X, _, y_semi = semi
    a = small(threshold_mode="flexmatch").fit(X, y_semi).predict_proba(X)
    b = small(threshold_mode="flexmatch").fit(X, y_semi).predict_proba(X)
    c = small(threshold_mode="flexmatch", random_state=1).fit(X, y_semi)
    assert_array_equal(a, b)
    assert not np.array_equal(a, c.predict_proba(X))


def test_string_and_integer_labels_give_identical_predictions(semi):
    X, _, y_semi = semi
    names = np.array(["a", "b", "c"])
    y_str = np.where(y_semi == -1, "-1", names[np.clip(y_semi, 0, 2)])
    ints = small().fit(X, y_semi)
    strings = small().fit(X, y_str.astype(object))
    assert_array_equal(strings.classes_, names)
    assert_array_equal(names[ints.predict(X)], strings.predict(X))


def test_max_epochs_zero_is_the_supervised_warm_up(semi):
    X, _, y_semi = semi
    clf = small(max_epochs=0, warmup_epochs=4).fit(X, y_semi)
    assert [h["phase"] for h in clf.history_] == ["supervised"] * 4
    labeled_only = small(max_epochs=0, warmup_epochs=4).fit(
        X[y_semi != -1], y_semi[y_semi != -1]
    )
    assert_array_equal(clf.predict_proba(X), labeled_only.predict_proba(X))


@pytest.mark.parametrize("mode", ["flexmatch", "freematch"])
def test_fit_equals_partial_fit_epochs(semi, mode):
    X, _, y_semi = semi
    full = small(threshold_mode=mode).fit(X, y_semi)
    step = small(threshold_mode=mode)
    for _ in range(5):
        step.partial_fit(X, y_semi)
    assert [h["phase"] for h in step.history_] == [h["phase"] for h in full.history_]
    assert_allclose(step.predict_proba(X), full.predict_proba(X), rtol=1e-6)
    # The thresholds' state carries over from one call to the next.
    assert_allclose(step.class_thresholds_, full.class_thresholds_, rtol=1e-6)
    assert not np.allclose(full.class_thresholds_, 1 / 3, rtol=1e-4)
    with pytest.raises(ValueError, match="not in classes_"):
        small().partial_fit(X, np.where(y_semi == 2, -1, y_semi)).partial_fit(X, y_semi)


def test_partial_fit_after_set_params_uses_the_new_threshold_rule(semi):
    X, _, y_semi = semi
    clf = small(max_epochs=1).partial_fit(X, y_semi).partial_fit(X, y_semi)
    assert_array_equal(clf.class_thresholds_, [0.95] * 3)
    clf.set_params(threshold_mode="freematch", threshold=0.5).partial_fit(X, y_semi)
    assert clf._threshold_state.mode == "freematch"
    assert (clf.class_thresholds_ <= 0.5).all()
    assert not np.allclose(clf.class_thresholds_, 0.95)


@pytest.mark.parametrize("mode", ["flexmatch", "freematch"])
def test_pickle_round_trip_keeps_average_and_thresholds(semi, mode):
    X, _, y_semi = semi
    clf = small(threshold_mode=mode).fit(X, y_semi)
    loaded = pickle.loads(pickle.dumps(clf))
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded.ema_module_ is not None
    state, loaded_state = clf._threshold_state, loaded._threshold_state
    for name in ("selected", "levels"):
        if getattr(state, name) is None:
            assert getattr(loaded_state, name) is None
        else:
            assert torch.equal(getattr(loaded_state, name), getattr(state, name))
    # A state pickled before FreeMatch existed has no ``levels``.
    older = pickle.loads(pickle.dumps(state))
    older.__dict__.pop("levels", None)
    assert older.to("cpu").levels is None
    # Training goes on from the same state.
    clf.partial_fit(X, y_semi)
    loaded.partial_fit(X, y_semi)
    assert_allclose(loaded.predict_proba(X), clf.predict_proba(X), rtol=1e-6)


def test_clone_and_grid_search(semi):
    X, y, _ = semi
    search = GridSearchCV(small(max_epochs=1), {"threshold": [0.5, 0.9]}, cv=2)
    search.fit(X, y)
    assert search.best_params_["threshold"] in (0.5, 0.9)
    assert clone(small(threshold=0.5)).get_params()["threshold"] == 0.5


def test_errors_name_the_parameter_and_the_fix(semi):
    X, _, y_semi = semi
    with pytest.raises(ValueError, match="no labeled row"):
        small().fit(X, np.full(len(X), -1))
    with pytest.raises(ValueError, match="threshold"):
        small(threshold=1.0).fit(X, y_semi)
    with pytest.raises(ValueError, match="eval_set must be a pair"):
        small().fit(X, y_semi, eval_set=(X,))


class CapturedStepCode(FixMatchClassifier):
    """Runs the code a CUDA graph captures, eagerly on CPU: the fixed-size
    step on static buffers with device-scalar learning rate and EMA weight,
    and the optimizer a graph fit builds (fused SGD)."""

    def _graph_steps(self, data):
        return True

    def _set_lr(self, n_batches):
        # A graph reads the learning-rate tensor it was captured with: every
        # step of a fit must refill that one tensor.
        lr = super()._set_lr(n_batches)
        tensor = self.optimizer_.param_groups[0]["lr"]
        if isinstance(tensor, torch.Tensor):
            # Held, so that no two tensors share an id.
            self.lr_tensors_.append(tensor)
        return lr

    def fit(self, X, y, eval_set=None):
        self.lr_tensors_ = []
        return super().fit(X, y, eval_set)

    def _make_optimizer(self, module):
        self._wants_graphs = lambda: True
        try:
            return super()._make_optimizer(module)
        finally:
            del self._wants_graphs


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"threshold_mode": "flexmatch", "image_shape": (2, 2)},
        {"threshold_mode": "freematch"},
        {"ema_decay": None, "lr_schedule": "constant", "threshold": None},
        {"optimizer": "sgd", "optimizer_params": {"momentum": 0.5, "foreach": True}},
    ],
)
def test_captured_step_code_trains_as_the_eager_step(semi, params):
    X, _, y_semi = semi
    eager = small(**params).fit(X, y_semi)
    fixed = CapturedStepCode(**small(**params).get_params()).fit(X, y_semi)
    group = fixed.optimizer_.param_groups[0]
    assert bool(group.get("fused")) is ("foreach" not in str(params))
    # Fused SGD rounds differently from foreach SGD; the rest is the same code.
    assert_allclose(fixed.predict_proba(X), eager.predict_proba(X), atol=1e-6)
    for f, e in zip(fixed.history_, eager.history_, strict=True):
        assert f["lr"] == e["lr"] and f["n_added"] == e["n_added"]
        assert_allclose(
            [f["labeled_loss"], f["unlabeled_loss"], f["mean_confidence"]],
            [e["labeled_loss"], e["unlabeled_loss"], e["mean_confidence"]],
            rtol=1e-5,
        )
    if eager.class_thresholds_ is not None:
        assert_allclose(fixed.class_thresholds_, eager.class_thresholds_, rtol=1e-5)
    cosine = fixed.lr_schedule == "cosine"
    assert len({id(t) for t in fixed.lr_tensors_}) == (1 if cosine else 0)
    # The device scalar the captured step read is a float again once fitted.
    assert isinstance(group["lr"], float)
    assert group["lr"] == fixed.history_[-1]["lr"]
    if eager.ema_module_ is not None:
        for f, e in zip(
            fixed.ema_module_.parameters(), eager.ema_module_.parameters(), strict=True
        ):
            assert_allclose(f.detach().numpy(), e.detach().numpy(), atol=1e-6)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"threshold_mode": "flexmatch", "image_shape": (2, 2)},
        {"threshold_mode": "freematch", "module_params": {"dropout": 0.2}},
        {"module_params": {"dropout": 0.2}, "lr_schedule": "constant"},
        {"ema_decay": None, "threshold": None, "amp": True},
    ],
)
def test_captured_step_replays_the_same_ops_on_the_same_storages(
    semi, step_recorder, params
):
    # What a CUDA graph needs, checked on CPU: every call of the step after
    # capture runs the same ops with the same Python scalars on the same
    # persistent tensors, and nothing reads a value back to the host.
    X, _, y_semi = semi
    clf = CapturedStepCode(**small(max_epochs=2, **params).get_params())
    clf.fit(X, y_semi)
    assert sum(len(calls) for calls in step_recorder.calls.values()) == 6
    step_recorder.check()


class StaleRate(CapturedStepCode):
    """A new learning-rate tensor for each pass: a graph would keep reading
    the one it was captured with."""

    def _consistency_epoch(self, data, stats):
        for step in self._steps.values():
            step.totals["lr"] = torch.zeros(())
        return super()._consistency_epoch(data, stats)


@pytest.mark.parametrize(
    "cls, params, match",
    [
        (StaleRate, {}, "differs from the captured one"),
        (
            CapturedStepCode,
            {"optimizer_params": {"momentum": 0.9, "foreach": True}},
            "reads back",
        ),
    ],
)
def test_step_recorder_catches_what_graphs_cannot_replay(
    semi, step_recorder, cls, params, match
):
    X, _, y_semi = semi
    cls(**small(max_epochs=2, **params).get_params()).fit(X, y_semi)
    with pytest.raises(AssertionError, match=match):
        step_recorder.check()


def test_captured_step_code_model_unpickles_for_cpu(semi):
    # The fused SGD a graph fit chose goes back to a CPU build's optimizer.
    X, _, y_semi = semi
    clf = CapturedStepCode(**small().get_params()).fit(X, y_semi)
    assert clf.optimizer_.param_groups[0]["fused"] is True
    loaded = pickle.loads(pickle.dumps(clf))
    assert not loaded.optimizer_.param_groups[0]["fused"]
    assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    kept = small(optimizer_params={"momentum": 0.9, "fused": True}).fit(X, y_semi)
    assert pickle.loads(pickle.dumps(kept)).optimizer_.param_groups[0]["fused"]


@pytest.mark.parametrize(
    "params, falls_back",
    [
        ({}, False),
        ({"optimizer_params": {"momentum": 0.9, "foreach": True}}, True),
        ({"optimizer_params": {"fused": False}}, True),
        ({"optimizer_params": {"foreach": True}, "lr_schedule": "constant"}, False),
    ],
)
def test_graphs_refuse_optimizers_that_read_the_rate_on_the_host(
    semi, params, falls_back
):
    X, _, y_semi = semi
    clf = CapturedStepCode(**small(**params).get_params())
    clf._validate_params()
    clf._start(X.shape[1], np.unique(y_semi[y_semi != -1]))
    data = clf._data(X, y_semi, y_semi != -1)
    clf.cuda_graphs_ = True  # as on CUDA; nothing below touches the device
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        used = FixMatchClassifier._graph_steps(clf, data)
    assert used is not falls_back
    assert clf.cuda_graphs_ is not falls_back
    messages = [str(w.message) for w in caught]
    assert len(messages) == (1 if falls_back else 0)
    if falls_back:
        assert "reads the cosine learning rate on the host" in messages[0]


def test_graph_fit_builds_optimizers_that_read_the_rate_on_the_device():
    def built(**params):
        clf = FixMatchClassifier(device="cpu", **params)
        clf._wants_graphs = lambda: True
        module = torch.nn.Linear(2, 2)
        return clf._make_optimizer(module).param_groups[0]

    assert built()["fused"] is True
    assert built()["momentum"] == 0.9
    assert built(optimizer_params={"fused": False})["fused"] is False
    assert not built(optimizer_params={"foreach": True}).get("fused")
    assert built(optimizer="adam")["capturable"] is True
    assert (
        built(optimizer="adamw", optimizer_params={"capturable": False})["capturable"]
        is False
    )


def test_graph_fit_starts_without_a_compile_parameter():
    # TorchClassifier warns when graphs and compile meet; FixMatchClassifier
    # takes no compile, and a graph fit (CUDA) must still start, silently.
    clf = FixMatchClassifier(device="cpu")
    clf._wants_graphs = lambda: True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf._initialize(4, np.arange(3))
    assert clf.cuda_graphs_ is True
    assert "compile" not in clf.get_params()


def test_cuda_graphs_true_needs_cuda(semi):
    X, _, y_semi = semi
    with pytest.raises(ValueError, match="cuda_graphs=True needs a CUDA device"):
        small(cuda_graphs=True).fit(X, y_semi)
    assert small(cuda_graphs="auto").fit(X, y_semi).cuda_graphs_ is False


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@needs_cuda
@pytest.mark.parametrize(
    "threshold_mode, optimizer",
    [("fixed", "sgd"), ("flexmatch", "sgd"), ("freematch", "sgd"), ("fixed", "adamw")],
)
def test_cuda_graphs_match_eager(threshold_mode, optimizer):
    from sklearn.datasets import make_blobs

    X, y = make_blobs(1500, centers=3, n_features=4, cluster_std=2.0, random_state=0)
    X = X.astype(np.float32)
    y_semi = np.where(np.arange(len(y)) < 60, y, -1)
    params = dict(
        max_epochs=4, warmup_epochs=3, unlabeled_batch_size=128, batch_size=16,
        image_shape=(2, 2), threshold_mode=threshold_mode, optimizer=optimizer,
        lr=0.03 if optimizer == "sgd" else 0.003, device="cuda", random_state=0,
    )  # fmt: skip
    with warnings.catch_warnings():
        # No fallback, and no torch warning about eager capturable steps.
        warnings.simplefilter("error", UserWarning)
        graphs = FixMatchClassifier(cuda_graphs=True, **params).fit(X, y_semi)
    eager = FixMatchClassifier(cuda_graphs=False, **params).fit(X, y_semi)
    assert graphs.cuda_graphs_ and not eager.cuda_graphs_
    assert graphs._steps == {}
    assert np.mean(graphs.predict(X) == eager.predict(X)) >= 0.99
    assert_allclose(graphs.loss_curve_, eager.loss_curve_, rtol=0.05, atol=1e-3)
    for g, e in zip(graphs.history_, eager.history_, strict=True):
        assert g["lr"] == pytest.approx(e["lr"])
        assert abs(g["n_added"] - e["n_added"]) <= 0.05 * len(X)
    assert graphs.score(X, y) > 0.8
    assert_allclose(
        graphs.class_thresholds_, eager.class_thresholds_, rtol=0.05, atol=0.01
    )
    assert isinstance(graphs.optimizer_.param_groups[0]["lr"], float)
    loaded = pickle.loads(pickle.dumps(graphs))
    assert_array_equal(loaded.predict(X), graphs.predict(X))


@needs_cuda
@pytest.mark.parametrize(
    "case", ["host read", "failed capture", "uncapturable optimizer"]
)
def test_cuda_graphs_fall_back_with_one_warning(monkeypatch, semi, syncing_mlp, case):
    # A module that reads a value back to the host: found in the last eager
    # step, or (check skipped) a capture that fails inside the step; and an
    # optimizer refused before capture. After the failed capture, the eager
    # steps draw views and dropout masks, which needs torch's generator out of
    # capture mode.
    X, y, y_semi = semi
    if case == "host read":
        params = dict(module=syncing_mlp, module_params={"dropout": 0.3})
        match = "reads a value back to the host"
    elif case == "failed capture":
        monkeypatch.setattr(_graphs, "first_host_read", lambda fn: fn())
        params = dict(module=syncing_mlp, module_params={"dropout": 0.3})
        match = "capturing a training step failed"
    else:
        params = dict(optimizer="adam", optimizer_params={"capturable": False})
        match = "capturable=False"
    clf = small(image_shape=(2, 2), device="cuda", cuda_graphs=True, **params)
    with pytest.warns(UserWarning, match=match) as caught:
        clf.fit(X, y_semi)
    assert len([w for w in caught if "CUDA graphs" in str(w.message)]) == 1
    assert not clf.cuda_graphs_
    assert clf.score(X, y) > 0.5
    assert isinstance(clf.optimizer_.param_groups[0]["lr"], float)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_predicts_on_the_host(semi):
    X, y, y_semi = semi
    clf = small(device="cuda", image_shape=(2, 2), threshold_mode="flexmatch")
    clf.fit(X, y_semi)
    assert clf.device_.startswith("cuda")
    assert clf.score(X, y) > 0.5
    loaded = pickle.loads(pickle.dumps(clf))
    assert_array_equal(loaded.predict(X), clf.predict(X))


def test_set_params_ema_decay_between_partial_fits(semi):
    X, _, y_semi = semi
    clf = small(max_epochs=1).fit(X, y_semi)
    assert clf.ema_module_ is not None
    clf.set_params(ema_decay=None).partial_fit(X, y_semi)
    # Without an average, predictions come from the trained weights.
    assert clf.ema_module_ is None
    trained = clf.module_(torch.as_tensor(X)).softmax(dim=1).detach().numpy()
    assert_allclose(clf.predict_proba(X), trained, atol=1e-6)
    clf.set_params(ema_decay=0.9).partial_fit(X, y_semi)
    assert clf.ema_module_ is not None
    # The new average started from the weights of the previous call and
    # moved with this call's steps: it is neither those weights nor the new.
    averaged = clf.ema_module_(torch.as_tensor(X)).softmax(dim=1).detach().numpy()
    assert_allclose(clf.predict_proba(X), averaged, atol=1e-6)
    assert not np.allclose(averaged, trained, atol=1e-4)
    now = clf.module_(torch.as_tensor(X)).softmax(dim=1).detach().numpy()
    assert not np.allclose(averaged, now, atol=1e-4)


@pytest.mark.parametrize(
    "view",
    [
        RandomAffine(degrees=float("nan")),
        RandomAffine(degrees=float("inf")),
        Compose([RandomAffine(translate=float("nan")), Cutout(3)]),
        Compose([RandomAffine(scale=0.1), Cutout(3, fill=float("nan"))]),
    ],
)
def test_non_finite_views_are_refused_before_training(view):
    X = np.random.RandomState(0).rand(60, 16).astype(np.float32)
    y = np.where(np.arange(60) < 12, np.arange(60) % 2, -1)
    clf = small(image_shape=(4, 4), strong_augment=view)
    with pytest.raises(ValueError, match="must be a finite number"):
        clf.fit(X, y)
    assert not hasattr(clf, "module_")


@pytest.mark.parametrize("name", ["weak_augment", "strong_augment"])
def test_builtin_views_without_image_shape_ask_for_it(semi, name):
    X, _, y_semi = semi
    view = Compose([RandomShift(1)]) if name == "strong_augment" else RandomShift(1)
    clf = small(**{name: view})
    with pytest.raises(ValueError, match=f"{name}=.*pass image_shape="):
        clf.fit(X, y_semi)
    assert not hasattr(clf, "module_")


@pytest.mark.parametrize("shape", [(8.0, 8.0), (1, 8, 8, 1), (True, 8, 8), (0, 8)])
def test_image_shape_that_is_not_a_shape_says_so(shape):
    X = np.random.RandomState(0).rand(60, 64).astype(np.float32)
    y = np.where(np.arange(60) < 12, np.arange(60) % 2, -1)
    with pytest.raises(ValueError, match="is not a shape; pass two or three positive"):
        small(image_shape=shape).fit(X, y)


def test_auto_strong_view_is_scaled_to_the_image():
    X = np.random.RandomState(0).rand(60, 64).astype(np.float32)
    y = np.where(np.arange(60) < 12, np.arange(60) % 2, -1)
    clf = small(image_shape=(8, 8), max_epochs=1).fit(X, y)
    affine, cutout = clf._views[1].transforms
    assert cutout.size == 3 and affine.translate == pytest.approx(3 * 8 / 28)
