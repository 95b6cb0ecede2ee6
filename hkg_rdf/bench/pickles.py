"""Sparse-matrix pickles that load under SSLRec's numpy 1.22 / scipy 1.7 and under today's.

A plain ``pickle.dumps(coo_matrix)`` names private modules (``numpy._core.multiarray`` in
numpy 2, ``scipy.sparse._coo`` since scipy 1.8) and stores the object's ``__dict__``, whose
fields changed in scipy 1.13 (``coords`` instead of ``row``/``col``): old environments fail on
it. This pickler instead writes the matrix as a call of its public constructor,
``scipy.sparse.coo_matrix((data, (row, col)), shape, None, True)``, with each array rebuilt by
``numpy.frombuffer(bytes, dtype-string)``; every global it names is reached as
``getattr(importlib.import_module(module), name)``, names both old and new versions resolve.
"""

from __future__ import annotations

import importlib
import io
import pickle

PROTOCOL = 4  # Python 3.4+; SSLRec runs on 3.8-3.10


class _Public:
    """Stands for ``module.name``; pickles as ``getattr(import_module(module), name)``."""

    def __init__(self, module: str, name: str):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle requires the callable of a reduce to be callable
        raise TypeError("a placeholder for pickling only")

    def __reduce__(self):
        return getattr, (_Module(self.module), self.name)


class _Module:
    def __init__(self, name: str):
        self.name = name

    def __reduce__(self):
        return importlib.import_module, (self.name,)


_FROMBUFFER = _Public("numpy", "frombuffer")
_COO = _Public("scipy.sparse", "coo_matrix")


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj):
        import numpy as np
        from scipy import sparse

        if isinstance(obj, np.ndarray):
            array = np.ascontiguousarray(obj)
            return _FROMBUFFER, (array.tobytes(), array.dtype.str)
        if sparse.issparse(obj):
            coo = sparse.coo_matrix(obj)
            return _COO, ((coo.data, (coo.row, coo.col)), coo.shape, None, True)
        return NotImplemented


def dumps_sparse(matrix) -> bytes:
    """A pickle of ``matrix`` as a scipy ``coo_matrix``, loadable by old and new numpy/scipy."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=PROTOCOL).dump(matrix)
    return buffer.getvalue()
