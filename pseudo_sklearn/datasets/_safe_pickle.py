"""Unpickling with an allow-list, for the pickles shipped in pinned wheels.

A pickle can run any code. Callers unpickle only bytes whose sha256 matched a
pin; refusing every global outside a short list as well means that a tampered
file could not run code even if the checksum were bypassed.
"""

import importlib
import io
import pickle


def _resolve(module, name):
    # Pickles written with NumPy 1 name numpy.core, which NumPy 2 renamed to
    # numpy._core (the old name still works but warns).
    if module == "numpy.core" or module.startswith("numpy.core."):
        renamed = "numpy._core" + module[len("numpy.core") :]
        try:
            return getattr(importlib.import_module(renamed), name)
        except ImportError:  # NumPy < 2
            pass
    return getattr(importlib.import_module(module), name)


class _AllowListUnpickler(pickle.Unpickler):
    def __init__(self, file, allowed, where, **kwargs):
        super().__init__(file, **kwargs)
        self._allowed = allowed
        self._where = where

    def find_class(self, module, name):
        if (module, name) not in self._allowed:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name} from {self._where}: only "
                f"{len(self._allowed)} known names are allowed in this file"
            )
        return _resolve(module, name)


def restricted_loads(payload, allowed, where, **kwargs):
    """Unpickle ``payload``, resolving only the ``(module, name)`` in ``allowed``.

    ``where`` names the file in the error; ``kwargs`` go to the unpickler
    (``encoding="latin1"`` for Python 2 pickles).
    """
    return _AllowListUnpickler(io.BytesIO(payload), allowed, where, **kwargs).load()
