import pytest

torch = pytest.importorskip("torch")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from pseudo_sklearn.torch import TorchClassifier  # noqa: E402

# Only what mini-batch training cannot do, as sklearn exempts SGDClassifier and
# MLPClassifier for the same reason.
EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "mini-batch SGD: repeating a row changes the number and makeup of the "
        "batches, so it is not equivalent to doubling its weight"
    ),
}


@parametrize_with_checks(
    [TorchClassifier(max_epochs=5, random_state=0, device="cpu")],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
