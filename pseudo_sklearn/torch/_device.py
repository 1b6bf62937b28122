"""Where training runs: the device, arrays placed on it once, and where a
pickled model lands.

:class:`_DeviceArray` puts the training data on the device once, so that a
batch is an index gather there. The fixed-size steps and CUDA graphs that
read those arrays are in ``_graphs.py``.
"""

import inspect
import io
import warnings

import numpy as np
import torch
from sklearn.utils.validation import column_or_1d

# Inputs larger than this share of free GPU memory stay on the host and
# are copied batch by batch; smaller ones are moved to the device once.
_DEVICE_MEMORY_SHARE = 0.5


def _resolve_device(device):
    """The torch device of the ``device`` parameter, checked against this
    machine: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:<index>"``, and
    ``"mps"`` where Apple's GPU backend is available."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        parsed = None
    if parsed is None or parsed.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"device={device!r} is not a device these estimators train on; pass "
            "'auto', 'cpu', 'cuda' or 'cuda:<index>' (lower case)."
        )
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} but CUDA is not available here; "
                "use device='auto' or device='cpu'."
            )
        n_devices = torch.cuda.device_count()
        if parsed.index is not None and parsed.index >= n_devices:
            raise ValueError(
                f"device={device!r} but this machine has {n_devices} CUDA "
                f"device(s); pass an index below {n_devices}, or device='cuda'."
            )
    if parsed.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            f"device={device!r} but Apple's MPS backend is not available here; "
            "use device='auto' or device='cpu'."
        )
    return parsed


def _accepts(cls, name):
    try:
        return name in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False


def _check_sample_weight(sample_weight, n_samples):
    weight = column_or_1d(np.asarray(sample_weight, dtype=np.float32))
    if weight.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has {weight.shape[0]} weights for {n_samples} "
            "rows of X; pass one weight per row."
        )
    if not np.isfinite(weight).all():
        raise ValueError(
            "sample_weight holds NaN or infinite values; pass finite, "
            "non-negative weights."
        )
    if (weight < 0).any() or not weight.any():
        raise ValueError(
            "sample_weight must be non-negative with at least one positive "
            "weight; got all zeros or a negative weight."
        )
    return weight


class _DeviceArray:
    """A float or int array placed once where batches are cheapest to take.

    On CPU, and on CUDA when it fits in a share of free memory, the whole array
    lives on the device and a batch is a device-side index gather. Otherwise it
    stays in host memory and each batch is gathered there and copied over
    (slower, but a host array too big for the GPU is not pinned whole).
    """

    def __init__(self, array, device, dtype):
        array = np.asarray(array)
        if not array.flags.writeable or not array.flags.c_contiguous:
            array = np.array(array, order="C")
        tensor = torch.from_numpy(array).to(dtype)
        self.on_device = True
        if device.type == "cuda":
            free, _ = torch.cuda.mem_get_info(device)
            nbytes = tensor.element_size() * tensor.numel()
            self.on_device = nbytes < _DEVICE_MEMORY_SHARE * free
            if self.on_device:
                tensor = tensor.to(device)
        self.tensor = tensor
        self.device = device

    def __len__(self):
        return self.tensor.shape[0]

    def take(self, index):
        """Rows ``index`` (a tensor on ``self.device``) as a device tensor."""
        if self.on_device:
            return self.tensor[index]
        return self.tensor[index.cpu()].to(self.device)


def place_module(module, device):
    """``module`` on ``device``; on CPU, in channels-last memory format when its
    class sets ``cpu_channels_last = True`` (see TorchClassifier's Notes)."""
    module = module.to(device)
    if torch.device(device).type == "cpu" and getattr(
        module, "cpu_channels_last", False
    ):
        module = module.to(memory_format=torch.channels_last)
    return module


def state_bytes(state):
    """``torch.save`` of ``state`` (state dicts) into bytes, for pickling."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def load_state_bytes(data):
    """The state saved by :func:`state_bytes`, on the CPU.

    On the CPU first: ``load_state_dict`` moves each tensor where it belongs
    (an optimizer's step counters stay on the CPU, as torch expects).
    """
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def landing_device(saved, name):
    """The device a model trained on ``saved`` loads on here, with a warning
    when that is not ``saved``; ``name`` is the estimator's class name."""
    device = torch.device(saved)
    if device.type != "cuda":
        return saved
    if not torch.cuda.is_available():
        warnings.warn(
            f"This {name} was trained on {saved} but CUDA is not available "
            "here; it is loaded on the CPU.",
            UserWarning,
            stacklevel=3,
        )
        return "cpu"
    if (device.index or 0) >= torch.cuda.device_count():
        warnings.warn(
            f"This {name} was trained on {saved}, which this machine does not "
            "have; it is loaded on cuda:0.",
            UserWarning,
            stacklevel=3,
        )
        return "cuda:0"
    return saved
