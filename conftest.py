"""Collection rules for the whole repository."""

import importlib.util

# The doctests of pseudo_sklearn.torch need PyTorch, an optional extra: without
# it they are not collected (tests/torch/ skips itself the same way).
collect_ignore_glob = []
if importlib.util.find_spec("torch") is None:
    collect_ignore_glob.append("pseudo_sklearn/torch/*")
