"""PyTorch estimators: the only part of pseudo_sklearn that imports torch.

Installed with the ``torch`` extra: ``pip install "pseudo-sklearn[torch]"``.
"""

try:
    import torch  # noqa: F401
except ImportError as exc:
    raise ImportError(
        'pseudo_sklearn.torch requires PyTorch: pip install "pseudo-sklearn[torch]"'
    ) from exc

from ._augment import Compose, Cutout, RandomAffine, RandomShift
from ._classifier import TorchClassifier
from ._consistency import FixMatchClassifier
from ._modules import MLPModule, ReferenceCNN
from ._online import OnlinePseudoLabelClassifier

__all__ = [
    "Compose",
    "Cutout",
    "FixMatchClassifier",
    "MLPModule",
    "OnlinePseudoLabelClassifier",
    "RandomAffine",
    "RandomShift",
    "ReferenceCNN",
    "TorchClassifier",
]
