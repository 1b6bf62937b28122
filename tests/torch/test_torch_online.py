import pytest

torch = pytest.importorskip("torch")

import math  # noqa: E402
import pickle  # noqa: E402

import numpy as np  # noqa: E402
from numpy.testing import (  # noqa: E402
    assert_allclose,
    assert_array_equal,
    assert_equal,
)

from pseudo_sklearn._schedules import alpha_schedule  # noqa: E402
from pseudo_sklearn.torch import MLPModule, OnlinePseudoLabelClassifier  # noqa: E402


class RecordingMLP(MLPModule):
    """Logs each forward call: train/eval mode, grad mode and its input."""

    calls = []

    def forward(self, x):
        RecordingMLP.calls.append((self.training, torch.is_grad_enabled(), x.clone()))
        return super().forward(x)


def test_alpha_follows_schedule_in_labeled_epochs(semi):
    X, _, y_semi = semi
    clf = OnlinePseudoLabelClassifier(
        max_epochs=4, T1=3, T2=9, alpha_f=2.0, unlabeled_batch_size=100,
        labeled_every=2, random_state=0,
    ).fit(X, y_semi)  # fmt: skip
    # 370 unlabeled rows -> 4 batches -> labeled epochs at batches 0 and 2.
    assert [h["phase"] for h in clf.history_] == ["supervised"] * 3 + ["pseudo"] * 4
    assert [h["t"] for h in clf.history_] == [1, 2, 3, 5, 7, 9, 11]
    assert clf.t_ == 11 and clf.n_iter_ == 7
    for h in clf.history_:
        assert h["alpha"] == alpha_schedule(h["t"], T1=3, T2=9, alpha_f=2.0)
    assert all(math.isnan(h["unlabeled_loss"]) for h in clf.history_[:3])
    assert all(h["n_added"] == 370 for h in clf.history_[4:])
    assert all(h["fit_time"] > 0 for h in clf.history_)


def test_epochs_reduce_loss_and_record_validation(semi):
    X, y, y_semi = semi
    clf = OnlinePseudoLabelClassifier(
        max_epochs=3, T1=10, T2=12, lr=0.05, random_state=0
    ).fit(X, y_semi, eval_set=(X, y))
    assert len(clf.loss_curve_) == clf.n_iter_ == 13
    assert clf.loss_curve_[9] < 0.5 * clf.loss_curve_[0]
    assert all(0 <= h["validation_score"] <= 1 for h in clf.history_)
    assert clf.history_[-1]["validation_score"] == clf.score(X, y)
    assert clf.score(X, y) > 0.8


def test_pseudo_labels_recomputed_each_batch_on_same_batch(semi):
    X, _, y_semi = semi
    clf = OnlinePseudoLabelClassifier(
        RecordingMLP, max_epochs=1, T1=0, T2=0, unlabeled_batch_size=64,
        labeled_every=100, batch_size=64, shuffle=False, random_state=0,
        cuda_graphs=False,  # a replayed graph calls no Python forward
    )  # fmt: skip
    RecordingMLP.calls = []
    clf.fit(X, y_semi)
    calls = RecordingMLP.calls
    # Eval-mode calls on the 30 labeled rows are the labeled-score checks.
    labeling = [
        i for i, (training, _, x) in enumerate(calls) if not training and len(x) != 30
    ]
    # 370 unlabeled rows in batches of 64: one eval-mode labeling pass per batch,
    # without gradient, followed by the training step on the very same batch.
    assert len(labeling) == 6
    for i in labeling:
        assert not calls[i][1]
        training, grad, x = calls[i + 1]
        assert training and grad
        assert torch.equal(x, calls[i][2])
    assert sum(len(calls[i][2]) for i in labeling) == 370


def test_labels_follow_the_current_network(semi, monkeypatch):
    X, _, y_semi = semi
    clf = OnlinePseudoLabelClassifier(
        max_epochs=1, T1=2, T2=2, unlabeled_batch_size=50, random_state=0,
        cuda_graphs=False,  # the spy must run at every batch
    )  # fmt: skip
    seen = []
    original = OnlinePseudoLabelClassifier._pseudo_labels

    def spy(self, module, xb):
        state = [p.detach().clone() for p in module.parameters()]
        seen.append(state)
        return original(self, module, xb)

    monkeypatch.setattr(OnlinePseudoLabelClassifier, "_pseudo_labels", spy)
    clf.fit(X, y_semi)
    # Each batch is labeled by a network updated since the previous batch.
    assert len(seen) == 8
    for before, after in zip(seen[:-1], seen[1:], strict=True):
        assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))


def test_threshold_drops_unconfident_labels(semi):
    X, _, y_semi = semi
    params = dict(max_epochs=2, T1=2, T2=2, random_state=0)
    everything = OnlinePseudoLabelClassifier(threshold=0.0, **params).fit(X, y_semi)
    nothing = OnlinePseudoLabelClassifier(threshold=0.9999, **params).fit(X, y_semi)
    assert everything.history_[-1]["n_added"] == 370
    # Overlapping blobs: some rows are never labeled with certainty.
    assert nothing.history_[-1]["n_added"] < 370


def test_deterministic_on_cpu(semi):
    X, _, y_semi = semi
    params = dict(max_epochs=2, T1=2, T2=3, device="cpu", random_state=3)
    a = OnlinePseudoLabelClassifier(**params).fit(X, y_semi)
    b = OnlinePseudoLabelClassifier(**params).fit(X, y_semi)
    assert_array_equal(a.predict_proba(X), b.predict_proba(X))

    def untimed(history):
        return [{k: v for k, v in h.items() if k != "fit_time"} for h in history]

    assert_equal(untimed(a.history_), untimed(b.history_))


def test_partial_fit_equals_fit(semi):
    X, _, y_semi = semi
    # Dropout makes the check bite: torch's random stream must continue
    # across partial_fit calls as it does inside one fit.
    params = dict(
        module_params={"dropout": 0.3}, max_epochs=2, T1=2, T2=3, device="cpu",
        random_state=0,
    )  # fmt: skip
    fitted = OnlinePseudoLabelClassifier(**params).fit(X, y_semi)
    stepped = OnlinePseudoLabelClassifier(**params)
    for _ in range(4):
        stepped.partial_fit(X, y_semi)
    assert [h["phase"] for h in stepped.history_] == [
        h["phase"] for h in fitted.history_
    ]
    assert stepped.t_ == fitted.t_
    # The same network: same weights, same predictions, same losses.
    for a, b in zip(
        stepped.module_.parameters(), fitted.module_.parameters(), strict=True
    ):
        assert torch.equal(a, b)
    assert_array_equal(stepped.predict_proba(X), fitted.predict_proba(X))
    assert stepped.loss_curve_ == fitted.loss_curve_


def test_string_labels_with_minus_one(semi):
    X, y, y_semi = semi
    names = np.array(["a", "b", "c"], dtype=object)[y]
    names_semi = names.copy()
    names_semi[y_semi == -1] = -1
    params = dict(max_epochs=1, T1=2, T2=2, random_state=0)
    a = OnlinePseudoLabelClassifier(**params).fit(X, y_semi)
    b = OnlinePseudoLabelClassifier(**params).fit(X, names_semi)
    assert_array_equal(b.classes_, ["a", "b", "c"])
    assert_array_equal(np.array(["a", "b", "c"])[a.predict(X)], b.predict(X))


def test_pickle_round_trip(semi):
    X, _, y_semi = semi
    clf = OnlinePseudoLabelClassifier(max_epochs=1, T1=1, T2=1, random_state=0)
    clf.fit(X, y_semi)
    restored = pickle.loads(pickle.dumps(clf))
    assert_allclose(restored.predict_proba(X), clf.predict_proba(X))
    assert_equal(restored.history_, clf.history_)


def test_errors_name_the_fix(semi):
    X, _, y_semi = semi
    with pytest.raises(ValueError, match="T2 >= T1"):
        OnlinePseudoLabelClassifier(T1=5, T2=2).fit(X, y_semi)
    with pytest.raises(ValueError, match="no labeled row"):
        OnlinePseudoLabelClassifier().fit(X, np.full(len(X), -1))
    with pytest.raises(ValueError, match="threshold"):
        OnlinePseudoLabelClassifier(threshold=1.5).fit(X, y_semi)
    # [0, 1) as in PseudoLabelClassifier: a threshold of 1 keeps nothing.
    with pytest.raises(ValueError, match="threshold"):
        OnlinePseudoLabelClassifier(threshold=1.0).fit(X, y_semi)
    with pytest.raises(ValueError, match="drift_check"):
        OnlinePseudoLabelClassifier(drift_check="rollback").fit(X, y_semi)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_online_fit(semi):
    X, y, y_semi = semi
    clf = OnlinePseudoLabelClassifier(
        max_epochs=2, T1=5, T2=6, device="cuda", amp=True, random_state=0
    ).fit(X, y_semi, eval_set=(X, y))
    assert clf.device_.startswith("cuda")
    assert clf.history_[-1]["validation_score"] > 0.5
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict(X), clf.predict(X))


def test_history_speaks_the_shared_vocabulary(semi):
    X, y, y_semi = semi
    params = dict(max_epochs=1, T1=1, T2=2, random_state=0)
    plain = OnlinePseudoLabelClassifier(**params).fit(X, y_semi)
    assert set(plain.history_[0]) == {
        "iteration", "phase", "t", "alpha", "labeled_loss", "unlabeled_loss",
        "n_added", "fit_time", "labeled_score", "labeled_drift",
    }  # fmt: skip
    assert [h["iteration"] for h in plain.history_] == [1, 2]
    labeled = y_semi != -1
    assert plain.history_[-1]["labeled_score"] == plain.score(X[labeled], y[labeled])
    with_eval = OnlinePseudoLabelClassifier(**params).fit(X, y_semi, eval_set=(X, y))
    assert with_eval.history_[-1]["validation_score"] == with_eval.score(X, y)


def test_numpy_string_minus_one_is_unlabeled(semi):
    X, y, y_semi = semi
    names = np.array(["a", "b", "c"], dtype="U2")[y]
    names[y_semi == -1] = "-1"
    params = dict(max_epochs=1, T1=2, T2=2, random_state=0)
    a = OnlinePseudoLabelClassifier(**params).fit(X, y_semi)
    b = OnlinePseudoLabelClassifier(**params).fit(X, names)
    assert_array_equal(b.classes_, ["a", "b", "c"])
    assert "-1" not in set(b.predict(X))
    assert_array_equal(np.array(["a", "b", "c"])[a.predict(X)], b.predict(X))


@pytest.mark.parametrize("first", ["a", 7])
def test_mixed_string_and_number_labels_error(semi, first):
    X, _, y_semi = semi
    mixed = y_semi.astype(object)
    mixed[:30] = ["a", 7, "b"] * 10
    mixed[0] = first
    with pytest.raises(ValueError, match="mixes labels of different types"):
        OnlinePseudoLabelClassifier(max_epochs=1, T1=1, T2=1).fit(X, mixed)


def test_drift_check_restores_the_warmup_network(semi):
    # A huge alpha makes the pseudo-label steps wreck the network, so its
    # accuracy on its own labeled rows collapses.
    X, _, y_semi = semi
    params = dict(T1=5, T2=5, alpha_f=1e6, lr=0.5, device="cpu", random_state=0)
    warmup = OnlinePseudoLabelClassifier(max_epochs=0, **params).fit(X, y_semi)
    with pytest.warns(UserWarning, match="warm-up .supervised. network is kept"):
        restored = OnlinePseudoLabelClassifier(max_epochs=2, **params).fit(X, y_semi)
    assert restored.drift_restored_
    assert restored.history_[-1]["labeled_drift"]
    assert restored.warmup_labeled_score_ == warmup.history_[-1]["labeled_score"]
    assert_array_equal(restored.predict_proba(X), warmup.predict_proba(X))
    with pytest.warns(UserWarning, match="lowered the accuracy"):
        warned = OnlinePseudoLabelClassifier(
            max_epochs=2, drift_check="warn", **params
        ).fit(X, y_semi)
    assert not warned.drift_restored_
    assert not np.allclose(warned.predict_proba(X), warmup.predict_proba(X))
    unchecked = OnlinePseudoLabelClassifier(max_epochs=2, drift_check=None, **params)
    unchecked.fit(X, y_semi)  # no warning: warnings are errors in this suite
    assert not any(h["labeled_drift"] for h in unchecked.history_)


def test_drift_check_is_quiet_when_pseudo_labels_help(semi):
    X, _, y_semi = semi
    clf = OnlinePseudoLabelClassifier(max_epochs=3, T1=10, T2=12, random_state=0)
    clf.fit(X, y_semi)
    assert not clf.drift_restored_
    assert not any(h["labeled_drift"] for h in clf.history_)
    assert clf.warmup_labeled_score_ > 0.8


def test_labeled_epochs_come_after_unlabeled_batches_0_k_2k_as_documented(semi):
    X, _, y_semi = semi
    clf = OnlinePseudoLabelClassifier(
        RecordingMLP, max_epochs=2, T1=0, T2=0, unlabeled_batch_size=100,
        labeled_every=2, batch_size=16, shuffle=False, random_state=0,
        cuda_graphs=False,  # a replayed graph calls no Python forward
    )  # fmt: skip
    RecordingMLP.calls = []
    clf.fit(X, y_semi)
    # Training calls only: labeled batches of 16 and 14 rows (30 labeled
    # rows), unlabeled steps of 100 and 70 rows (370 unlabeled rows).
    kinds = {16: "L", 14: "", 100: "U", 70: "U"}
    order = "".join(kinds[len(x)] for training, _, x in RecordingMLP.calls if training)
    # Each pass: batch 0, a labeled epoch, batches 1 and 2, a labeled epoch,
    # batch 3; the second pass starts again with an unlabeled batch.
    assert order == "ULUULU" * 2
    doc = " ".join(OnlinePseudoLabelClassifier.__doc__.split())
    assert "before the first batch" not in doc
    assert "After the unlabeled batches numbered 0, ``labeled_every``" in doc


def test_pickling_during_the_warm_up_keeps_the_drift_check(semi):
    X, _, y_semi = semi
    params = dict(T1=3, T2=3, alpha_f=1e6, lr=0.5, device="cpu", random_state=0)
    stepped = OnlinePseudoLabelClassifier(**params)
    pickled = OnlinePseudoLabelClassifier(**params)
    for _ in range(2):
        stepped.partial_fit(X, y_semi)
        pickled.partial_fit(X, y_semi)
    pickled = pickle.loads(pickle.dumps(pickled))
    for _ in range(3):
        stepped.partial_fit(X, y_semi)
        pickled.partial_fit(X, y_semi)
    assert not math.isnan(pickled.warmup_labeled_score_)
    assert pickled.warmup_labeled_score_ == stepped.warmup_labeled_score_
    # The huge alpha wrecks the network: both see the drift.
    assert pickled.history_[-1]["labeled_drift"]
    assert [h["labeled_drift"] for h in pickled.history_] == [
        h["labeled_drift"] for h in stepped.history_
    ]
