import numpy as np
import pytest
from sklearn.datasets import make_blobs

torch = pytest.importorskip("torch")

# The suite runs on shared 2-core machines: one thread avoids oversubscription
# and keeps CPU training bit-for-bit reproducible.
torch.set_num_threads(1)


@pytest.fixture
def semi():
    """Three blobs of 400 rows, the first 30 labeled: ``(X, y, y_semi)``."""
    X, y = make_blobs(400, centers=3, n_features=4, cluster_std=2.0, random_state=0)
    y_semi = y.copy()
    y_semi[30:] = -1
    return X.astype(np.float32), y, y_semi


@pytest.fixture
def syncing_mlp():
    """An MLPModule class that reads a value back to the host in train mode:
    no CUDA graph can hold that, so capturing its training step fails."""
    from pseudo_sklearn.torch import MLPModule

    class SyncingMLP(MLPModule):
        def forward(self, x):
            out = super().forward(x)
            if self.training and not torch.isfinite(out).all().item():
                raise RuntimeError("non-finite output")
            return out

    return SyncingMLP
