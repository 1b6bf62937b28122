"""scikit-learn's estimator checks on PseudoLabelClassifier."""

from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from pseudo_sklearn import PseudoLabelClassifier

INSTANCES = [
    PseudoLabelClassifier(LogisticRegression(C=1), max_iter=5),
    PseudoLabelClassifier(
        SGDClassifier(loss="log_loss", random_state=0), max_iter=5, random_state=0
    ),
    PseudoLabelClassifier(DecisionTreeClassifier(random_state=0), random_state=0),
    PseudoLabelClassifier(
        LogisticRegression(C=1), threshold=0.6, sample_rate=0.5, random_state=0
    ),
]

# The same exemption that scikit-learn declares for its SelfTrainingClassifier:
# the checks fit on fully labeled data, where no pseudo-labeling iteration runs.
EXPECTED_FAILED = {
    "check_non_transformer_estimators_n_iter": "n_iter_ can be 0.",
    # -1 marks an unlabeled row, so the check's labels [-1, 1] leave one class.
    # scikit-learn exempts its SelfTrainingClassifier from these labels by name
    # (estimator_checks._choose_check_classifiers_labels); string labels are
    # tested in test_pseudo_label.py.
    "check_classifiers_classes": "the label -1 marks unlabeled rows.",
}


# What scikit-learn declares for SGDClassifier itself: the inner estimator's
# stochastic updates make weights differ from repeated rows.
SGD_EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data": (
        "SGDClassifier: sample_weight is not equivalent to repeating samples."
    ),
    "check_sample_weight_equivalence_on_sparse_data": (
        "SGDClassifier: sample_weight is not equivalent to repeating samples."
    ),
}


def _expected_failed_checks(estimator):
    if isinstance(estimator.estimator, SGDClassifier):
        return {**EXPECTED_FAILED, **SGD_EXPECTED_FAILED}
    return EXPECTED_FAILED


@parametrize_with_checks(INSTANCES, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
