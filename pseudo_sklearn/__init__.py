"""Pseudo-labeling (self-training) for scikit-learn.

The torch-backed names (``TorchClassifier``, ``OnlinePseudoLabelClassifier``,
``ReferenceCNN``) are reached lazily: ``import pseudo_sklearn`` never imports torch.
"""

from importlib import import_module

from ._pseudo_label import PseudoLabelClassifier
from ._schedules import alpha_schedule
from .pipeline import make_pseudo_label_pipeline

__version__ = "0.1.0"

_TORCH_NAMES = (
    "TorchClassifier",
    "OnlinePseudoLabelClassifier",
    "ReferenceCNN",
    "FixMatchClassifier",
)

__all__ = [
    "PseudoLabelClassifier",
    "alpha_schedule",
    "make_pseudo_label_pipeline",
    "__version__",
    *_TORCH_NAMES,
]


def __getattr__(name):
    if name in _TORCH_NAMES:
        try:
            module = import_module(".torch", __name__)
        except ImportError as exc:
            raise ImportError(
                f"pseudo_sklearn.{name} requires PyTorch: "
                "pip install 'pseudo-sklearn[torch]'"
            ) from exc
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_TORCH_NAMES))
