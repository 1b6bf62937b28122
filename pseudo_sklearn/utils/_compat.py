"""The one place that imports scikit-learn's private helpers.

scikit-learn does not promise these names across releases; keeping them here
means a rename upstream is fixed in one file.
"""

from sklearn.base import _fit_context
from sklearn.model_selection._split import _BaseKFold
from sklearn.semi_supervised._label_propagation import BaseLabelPropagation
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    Options,
    RealNotInt,
    StrOptions,
)
from sklearn.utils.metadata_routing import (
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import (
    _check_method_params,
    _check_sample_weight,
    _estimator_has,
)

__all__ = [
    "BaseLabelPropagation",
    "HasMethods",
    "Interval",
    "Options",
    "RealNotInt",
    "StrOptions",
    "_BaseKFold",
    "_check_method_params",
    "_check_sample_weight",
    "_estimator_has",
    "_fit_context",
    "_raise_for_params",
    "_routing_enabled",
    "_safe_indexing",
    "process_routing",
]
