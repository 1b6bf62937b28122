"""The reference feature pipeline around a PseudoLabelClassifier."""

from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Normalizer, PolynomialFeatures

from ._pseudo_label import PseudoLabelClassifier

__all__ = ["make_pseudo_label_pipeline"]


def make_pseudo_label_pipeline(
    estimator, *, n_components=50, degree=2, **pseudo_label_params
):
    """Build the reference feature pipeline ending in a PseudoLabelClassifier.

    The steps are ``Normalizer()`` (each row scaled to unit L2 norm) ->
    ``PCA(n_components)`` -> ``PolynomialFeatures(degree)`` ->
    ``PseudoLabelClassifier(estimator, **pseudo_label_params)``, named
    ``"normalize"``, ``"pca"``, ``"poly"`` and ``"pseudolabel"``. With the
    defaults, 784 pixels become 50 components and then 1326 features
    (1 + 50 + 50 * 51 / 2). The unsupervised steps are fitted on all rows,
    labeled and unlabeled (``-1``), because a Pipeline passes every row to them.

    Parameters
    ----------
    estimator : estimator object
        The classifier that PseudoLabelClassifier wraps, for example
        ``SGDClassifier(loss="log_loss", alpha=1e-5)``.
    n_components : int, default=50
        Number of PCA components.
    degree : int, default=2
        Degree of the polynomial features.
    **pseudo_label_params : dict
        Keyword arguments of :class:`PseudoLabelClassifier` (``sample_rate``,
        ``threshold``, ``random_state``, ...).

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        A plain, unfitted scikit-learn Pipeline; its parameters are tuned as
        ``pca__n_components``, ``pseudolabel__threshold``,
        ``pseudolabel__estimator__alpha`` and so on.

    See Also
    --------
    PseudoLabelClassifier : The meta-estimator at the end of the pipeline.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import SGDClassifier
    >>> from pseudo_sklearn import make_pseudo_label_pipeline
    >>> pipe = make_pseudo_label_pipeline(
    ...     SGDClassifier(loss="log_loss", alpha=1e-5, random_state=0),
    ...     n_components=5, sample_rate=0.5, random_state=0,
    ... )
    >>> [name for name, _ in pipe.steps]
    ['normalize', 'pca', 'poly', 'pseudolabel']
    >>> rng = np.random.RandomState(0)
    >>> X = rng.rand(40, 784)
    >>> y = np.tile([0, 1], 20)
    >>> y[10:] = -1
    >>> pipe.fit(X, y)[:-1].transform(X).shape
    (40, 21)
    """
    return Pipeline(
        [
            ("normalize", Normalizer()),
            ("pca", PCA(n_components=n_components)),
            ("poly", PolynomialFeatures(degree=degree)),
            ("pseudolabel", PseudoLabelClassifier(estimator, **pseudo_label_params)),
        ]
    )
