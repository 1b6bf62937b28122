import pytest

torch = pytest.importorskip("torch")

# The suite runs on shared 2-core machines: one thread avoids oversubscription
# and keeps CPU training bit-for-bit reproducible.
torch.set_num_threads(1)
