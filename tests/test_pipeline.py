"""The reference feature pipeline."""

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import Normalizer, PolynomialFeatures

from pseudo_sklearn import PseudoLabelClassifier, make_pseudo_label_pipeline


def test_steps_and_feature_count_on_784_pixels():
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(120, 784)).astype(float)
    y = np.tile(np.arange(3), 40)
    y[30:] = -1
    pipe = make_pseudo_label_pipeline(
        SGDClassifier(loss="log_loss", alpha=1e-5, random_state=0),
        sample_rate=0.5,
        random_state=0,
    )
    assert isinstance(pipe, Pipeline)
    names = [name for name, _ in pipe.steps]
    assert names == ["normalize", "pca", "poly", "pseudolabel"]
    assert isinstance(pipe["normalize"], Normalizer)
    assert isinstance(pipe["pca"], PCA) and pipe["pca"].n_components == 50
    assert isinstance(pipe["poly"], PolynomialFeatures) and pipe["poly"].degree == 2
    assert isinstance(pipe["pseudolabel"], PseudoLabelClassifier)
    assert pipe["pseudolabel"].sample_rate == 0.5
    pipe.fit(X, y)
    assert pipe[:-1].transform(X).shape == (120, 1326)
    assert pipe["pseudolabel"].n_features_in_ == 1326
    # PCA saw every row, labeled or not
    assert pipe["pca"].n_samples_ == 120
    assert pipe["pseudolabel"].n_iter_ == 2


def test_sizes_are_parameters():
    pipe = make_pseudo_label_pipeline(SGDClassifier(), n_components=10, degree=3)
    assert pipe.get_params()["pca__n_components"] == 10
    assert pipe.get_params()["poly__degree"] == 3
