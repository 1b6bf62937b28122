"""Sphinx configuration of the pseudo_sklearn documentation.

Build with warnings as errors and the gallery executed::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os
from datetime import date

from threadpoolctl import threadpool_limits

import pseudo_sklearn

# The gallery fits many small models on a few thousand rows. For them one BLAS
# thread is fastest; several threads spin against each other and against other
# jobs on a 2-core CI runner, which once made a 0.1 s fit take 6 s.
threadpool_limits(1)
os.environ.setdefault("MPLBACKEND", "Agg")

project = "pseudo_sklearn"
author = "The pseudo_sklearn developers"
copyright = f"{date.today().year}, {author}"
version = release = pseudo_sklearn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "examples/GALLERY_HEADER.rst"]
default_role = "literal"

autosummary_generate = True
# numpydoc writes the member tables; autosummary's would duplicate them.
numpydoc_show_class_members = False
# Types become cross-references; this also keeps names such as n_features_in_
# in "ndarray of shape (n_features_in_,)" from being read as link targets.
numpydoc_xref_param_type = True
numpydoc_xref_ignore = {"of", "or", "shape", "default", "optional", "and", "instance"}
# numpydoc's default targets for these live in Python's and NumPy's inventories,
# which an offline build (no intersphinx) does not have.
numpydoc_xref_aliases = {
    "bool": "bool",
    "array_like": "array-like",
    "array-like": "array-like",
}
# numpydoc checks each docstring that the API pages show; with -W a failed check
# fails the build.
# RT02 is left out: it rejects the "name : type" lines of scikit-learn's Returns
# sections, which this project follows.
numpydoc_validation_checks = {"GL06", "GL07", "PR01", "PR02", "PR03"}
# Methods that scikit-learn generates or defines on every estimator: their
# docstrings are scikit-learn's, not ours.
numpydoc_validation_exclude = {
    r"\.set_\w+_request$",
    r"\.get_params$",
    r"\.set_params$",
}

html_theme = "pydata_sphinx_theme"
html_title = f"pseudo_sklearn {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "backreferences_dir": "gen_modules",
    "doc_module": ("pseudo_sklearn",),
    "reference_url": {"pseudo_sklearn": None},
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    # An example that raises fails the build instead of becoming a page with a
    # traceback.
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "matplotlib_animations": False,
    "min_reported_time": 1,
}


def _skip_metadata_request_methods(app, what, name, obj, skip, options):
    # scikit-learn attaches set_{method}_request to each estimator class; their
    # docstrings link into scikit-learn's own user guide, which this site lacks.
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return skip


def setup(app):
    app.connect("autodoc-skip-member", _skip_metadata_request_methods)
