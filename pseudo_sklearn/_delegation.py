"""Prediction methods delegated to the fitted inner estimator, with routing."""

from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from .utils._compat import (
    _estimator_has,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)


def _is_dataframe(X):
    return hasattr(X, "iloc") and hasattr(X, "columns")


def is_dask_collection(X):
    """Whether ``X`` is a Dask collection (the protocol, without importing Dask)."""
    return hasattr(X, "__dask_graph__") and callable(X.__dask_graph__)


class _DelegateToEstimatorMixin:
    """``predict`` and its kin call ``estimator_``'s, routing their metadata.

    Each method exists only when the inner estimator has it (checked on
    ``estimator_`` once fitted). With metadata routing enabled, the keyword
    arguments a method receives go to the inner estimator's method of the same
    name, as the estimator requested them; without it, any keyword argument is
    refused with scikit-learn's error.
    """

    def _check_X_predict(self, X):
        X_checked = validate_data(
            self,
            X,
            reset=False,
            accept_sparse=["csr", "csc"],
            dtype=None,
            ensure_all_finite=False,
        )
        return X if _is_dataframe(X) else X_checked

    def _route(self, method, params):
        """Parameters of the inner estimator's ``method``, routed or refused."""
        if _routing_enabled():
            return getattr(process_routing(self, method, **params).estimator, method)
        _raise_for_params(params, self, method)
        return {}

    def _delegate(self, method, X, params):
        check_is_fitted(self)
        if is_dask_collection(X):
            # Blockwise, as dask-ml's ParallelPostFit: a Dask array comes back.
            from ._dask import predict_blockwise

            return predict_blockwise(self, method, X, self._route(method, params))
        X = self._check_X_predict(X)
        return getattr(self.estimator_, method)(X, **self._route(method, params))

    @available_if(_estimator_has("predict"))
    def predict(self, X, **params):
        """Predict the class of each row of `X` with the fitted estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Rows to predict.

        **params : dict
            Parameters of the inner estimator's ``predict``; only with metadata
            routing enabled.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted classes.
        """
        return self._delegate("predict", X, params)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X, **params):
        """Class probabilities of each row of `X`.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Rows to predict.

        **params : dict
            Parameters of the inner estimator's ``predict_proba``; only with
            metadata routing enabled.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities, columns ordered as ``classes_``.
        """
        return self._delegate("predict_proba", X, params)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X, **params):
        """Logarithm of the class probabilities of each row of `X`.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Rows to predict.

        **params : dict
            Parameters of the inner estimator's ``predict_log_proba``; only with
            metadata routing enabled.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns ordered as ``classes_``.
        """
        return self._delegate("predict_log_proba", X, params)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X, **params):
        """Decision function of the fitted estimator on `X`.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Rows to score.

        **params : dict
            Parameters of the inner estimator's ``decision_function``; only with
            metadata routing enabled.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The inner estimator's decision function.
        """
        return self._delegate("decision_function", X, params)

    @available_if(_estimator_has("score"))
    def score(self, X, y, sample_weight=None, **params):
        """Mean accuracy of the fitted estimator on `X` and `y`.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Test rows.

        y : array-like of shape (n_samples,)
            True labels of `X`.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows.

        **params : dict
            Parameters of the inner estimator's ``score``; only with metadata
            routing enabled (``sample_weight`` is then routed too).

        Returns
        -------
        score : float
            The inner estimator's score, accuracy for a classifier.
        """
        check_is_fitted(self)
        X = self._check_X_predict(X)
        if not _routing_enabled():
            _raise_for_params(params, self, "score")
            return self.estimator_.score(X, y, sample_weight=sample_weight)
        if sample_weight is not None:
            params = {**params, "sample_weight": sample_weight}
        return self.estimator_.score(X, y, **self._route("score", params))

    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        Returns
        -------
        routing : MetadataRouter
            Routes ``fit`` metadata (``sample_weight`` among it) to the inner
            estimator's ``fit``, and each prediction method's to its namesake.
        """
        router = MetadataRouter(owner=self)
        router.add(
            estimator=self.estimator,
            method_mapping=MethodMapping()
            .add(callee="fit", caller="fit")
            .add(callee="predict", caller="predict")
            .add(callee="predict_proba", caller="predict_proba")
            .add(callee="predict_log_proba", caller="predict_log_proba")
            .add(callee="decision_function", caller="decision_function")
            .add(callee="score", caller="score"),
        )
        return router
