"""Pseudo-labeling on a Dask cluster through joblib's dask backend.

A user who outgrows one machine wraps the usual code in
``joblib.parallel_config(backend="dask")``: GridSearchCV then sends its fits to
the cluster, and PseudoLabelClassifier sends the chunks of each drawn batch
there. These tests check that the results are those of the local run, and that
the work did reach the cluster.

The cluster runs its two workers as threads of the test process
(``processes=False``), which starts in about a second, but talks to them over
TCP on 127.0.0.1 (``protocol="tcp://"``, ports picked by the OS), so every task
and its arguments (the fitted estimator, the chunk of rows) are pickled and sent
as they would be to a remote worker; the default in-process transport would hand
over the objects themselves and hide a pickling problem.
"""

import re

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import GridSearchCV

from pseudo_sklearn import PseudoLabelClassifier, make_pseudo_label_pipeline
from pseudo_sklearn.model_selection import SemiSupervisedStratifiedKFold

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            protocol="tcp://",
            host="127.0.0.1",
            scheduler_port=0,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _semi_supervised(n_samples, n_labeled, seed=0):
    X, y = make_classification(
        n_samples=n_samples + 200,
        n_features=20,
        n_informative=8,
        n_classes=3,
        random_state=seed,
    )
    X_test, y_test = X[n_samples:], y[n_samples:]
    X, y = X[:n_samples], y[:n_samples].copy()
    unlabeled = np.random.RandomState(seed).permutation(n_samples)[n_labeled:]
    y[unlabeled] = -1
    return X, y, X_test, y_test


def _calls_to(task_stream, func_name):
    """Number of calls of ``func_name`` that ran on the cluster.

    joblib's dask backend names each task ``batch_of_<function>_<n>_calls-<id>``
    and may batch several calls into one task.
    """
    pattern = re.compile(rf"batch_of_{func_name}_(\d+)_calls")
    matches = [pattern.match(str(task["key"])) for task in task_stream.data]
    return sum(int(match.group(1)) for match in matches if match)


def _workers(task_stream):
    return {task["worker"] for task in task_stream.data}


def test_grid_search_on_cluster_equals_local(client):
    X, y, _, _ = _semi_supervised(n_samples=300, n_labeled=90)
    pipe = make_pseudo_label_pipeline(
        SGDClassifier(loss="log_loss", random_state=0),
        n_components=5,
        random_state=0,
    )
    search = GridSearchCV(
        pipe,
        {
            "pseudolabel__sample_rate": [0.25, 0.5],
            "pseudolabel__threshold": [None, 0.6],
        },
        cv=SemiSupervisedStratifiedKFold(n_splits=3),
        n_jobs=2,
    )

    with joblib.parallel_config(backend="sequential"):
        local = clone(search).fit(X, y)
    with (
        distributed.get_task_stream(client) as task_stream,
        joblib.parallel_config(backend="dask"),
    ):
        remote = clone(search).fit(X, y)

    # The 4 candidates x 3 folds ran as tasks on the workers. The task stream
    # is a sample: under CPU load it was seen to miss some tasks, so only
    # their presence is asserted, not their number.
    assert _calls_to(task_stream, "_fit_and_score") > 0
    assert _workers(task_stream) <= set(client.scheduler_info()["workers"])
    assert remote.best_params_ == local.best_params_
    assert remote.best_index_ == local.best_index_
    keys = ["mean_test_score", "std_test_score", "rank_test_score"]
    keys += [f"split{i}_test_score" for i in range(3)]
    for key in keys:
        assert_array_equal(remote.cv_results_[key], local.cv_results_[key], key)
    assert [p for p in remote.cv_results_["params"]] == list(
        local.cv_results_["params"]
    )
    assert_array_equal(remote.predict(X), local.predict(X))


@pytest.mark.parametrize("threshold", [None, 0.7])
def test_chunked_labeling_on_cluster_equals_local_fit(client, threshold):
    X, y, X_test, _ = _semi_supervised(n_samples=3000, n_labeled=150)
    params = dict(sample_rate=0.2, threshold=threshold, random_state=0)
    # The local reference labels each batch in one piece, in this process.
    local = PseudoLabelClassifier(
        SGDClassifier(loss="log_loss", random_state=0), **params
    ).fit(X, y)
    # Batches of up to 570 rows in chunks of 50: up to 12 chunks per iteration.
    remote = PseudoLabelClassifier(
        SGDClassifier(loss="log_loss", random_state=0),
        chunk_size=50,
        n_jobs=2,
        **params,
    )
    with (
        distributed.get_task_stream(client) as task_stream,
        joblib.parallel_config(backend="dask"),
    ):
        remote.fit(X, y)

    # The batches were cut into chunks, labeled by tasks on the workers (a
    # batch of one chunk is labeled in this process, without joblib).
    n_chunks = [-(-record["n_drawn"] // 50) for record in remote.history_]
    assert sum(n_chunks) > 2 * remote.n_iter_ > 0
    assert 0 < _calls_to(task_stream, "_label_chunk") <= sum(n_chunks)
    workers = _workers(task_stream)
    assert workers <= set(client.scheduler_info()["workers"])
    # ... reached over TCP on the loopback interface, so every chunk and the
    # fitted estimator were pickled and sent as to a remote machine.
    assert workers and all(w.startswith("tcp://127.0.0.1:") for w in workers)
    assert remote.n_iter_ == local.n_iter_
    assert remote.termination_condition_ == local.termination_condition_
    assert_array_equal(remote.transduction_, local.transduction_)
    assert_array_equal(remote.labeled_iter_, local.labeled_iter_)
    assert [r["n_added"] for r in remote.history_] == [
        r["n_added"] for r in local.history_
    ]
    assert_array_equal(remote.estimator_.coef_, local.estimator_.coef_)
    assert_array_equal(remote.predict(X_test), local.predict(X_test))
    assert_array_equal(remote.predict_proba(X_test), local.predict_proba(X_test))
    if threshold is not None:
        # Some drawn rows missed the threshold: the comparison covers rows that
        # went back to the pool, not only rows that were all accepted.
        assert any(r["n_added"] < r["n_drawn"] for r in local.history_)
