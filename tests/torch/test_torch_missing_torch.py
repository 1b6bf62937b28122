import pytest

torch = pytest.importorskip("torch")

import subprocess  # noqa: E402
import sys  # noqa: E402

# Runs in a fresh interpreter where any import of torch fails, as if it were
# not installed.
CODE = """
import sys

class BlockTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")

sys.meta_path.insert(0, BlockTorch())

import pseudo_sklearn
assert "torch" not in sys.modules, "import pseudo_sklearn imported torch"
try:
    pseudo_sklearn.TorchClassifier
except ImportError as exc:
    assert "pip install" in str(exc), str(exc)
    assert "pseudo-sklearn[torch]" in str(exc), str(exc)
else:
    raise AssertionError("no ImportError without torch")
try:
    import pseudo_sklearn.torch
except ImportError as exc:
    assert "pip install" in str(exc), str(exc)
else:
    raise AssertionError("pseudo_sklearn.torch imported without torch")
print("ok")
"""


def test_missing_torch_error():
    result = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_import_pseudo_sklearn_does_not_import_torch():
    code = "import sys, pseudo_sklearn; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
