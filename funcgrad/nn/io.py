"""Save and load parameter pytrees as ``.npz`` files, atomically and bit-exactly.

The file is an ordinary NumPy ``.npz`` archive: the leaves are ``arr_0``,
``arr_1``, ... (``np.load(path)`` reads them without funcgrad), and the
member ``__tree__`` holds a JSON description of the structure: dicts (with
their ``str``/``int`` keys, in insertion order), lists, tuples and ``None``,
and for each leaf whether it was a NumPy array, a NumPy scalar or a Python
number.  Loading rebuilds the same containers with leaves of the same type,
dtype, shape and bits.  Nothing is pickled.

``save`` writes to a temporary file in the destination's directory, flushes
it to disk (``fsync``) and renames it over ``path`` (``os.replace``), so a
crash or an error in the middle leaves the previous file intact.

Examples:
    >>> import os, tempfile
    >>> import numpy as np
    >>> params = [{"w": np.ones((2, 3), np.float32), "b": np.zeros(3)}, None, (1.5, np.int64(7))]
    >>> path = os.path.join(tempfile.mkdtemp(), "params.npz")
    >>> save(path, params)
    >>> load(path)
    [{'w': array([[1., 1., 1.],
           [1., 1., 1.]], dtype=float32), 'b': array([0., 0., 0.])}, None, (1.5, np.int64(7))]
"""

from __future__ import annotations

import io as _io
import json
import os
import secrets
from typing import Any

import numpy as np

from funcgrad import tree
from funcgrad._core.trace import user_location
from funcgrad.errors import (
    DTypeError,
    SaveError,
    SerializationError,
    ShapeError,
    TreeStructureError,
)

__all__ = ["load", "save"]

PyTree = Any
PathLike = str | os.PathLike[str]

_FORMAT = "funcgrad.nn.params"
_VERSION = 1
_TREE_KEY = "__tree__"
_PYTHON_SCALARS = {"bool": bool, "int": int, "float": float, "complex": complex}


# ---------------------------------------------------------------------------
# The structure as JSON
# ---------------------------------------------------------------------------

def _child_path(path: str, key: Any) -> str:
    return f"{path}[{key!r}]"


def _encode(node: Any, path: str, leaves: list[np.ndarray]) -> dict[str, Any]:
    """The JSON description of ``node``; its leaves are appended to ``leaves`` as arrays."""
    kind = type(node)
    if node is None:
        return {"type": "none"}
    if kind is dict:
        items = []
        for key, child in node.items():
            if type(key) not in (str, int):
                raise SerializationError(f"nn.save: the dict at {path} has a key {key!r} of type "
                                         f"{type(key).__name__}; only str and int keys can be saved")
            items.append([[type(key).__name__, key], _encode(child, _child_path(path, key), leaves)])
        return {"type": "dict", "items": items}
    if kind is list or kind is tuple:
        return {"type": kind.__name__,
                "items": [_encode(c, _child_path(path, i), leaves) for i, c in enumerate(node)]}
    leaf: dict[str, Any]
    if isinstance(node, np.ndarray) and kind is np.ndarray:
        leaf = {"type": "leaf", "kind": "ndarray"}
        array = node
    elif isinstance(node, np.generic):
        leaf = {"type": "leaf", "kind": "numpy_scalar"}
        array = np.asarray(node)
    elif kind in (bool, int, float, complex):
        leaf = {"type": "leaf", "kind": "python", "pytype": kind.__name__}
        array = np.asarray(node)
    else:
        raise SerializationError(
            f"nn.save: {path} is a {kind.__module__}.{kind.__qualname__}; only dicts, lists, "
            "tuples, None, NumPy arrays and numbers can be saved (convert other containers, "
            "and pass concrete arrays, not traced values)")
    if array.dtype.hasobject:
        raise SerializationError(f"nn.save: {path} has dtype {array.dtype}, which cannot be saved "
                                 "without pickling; convert it to a numeric dtype")
    leaf["index"] = len(leaves)
    leaves.append(array)
    return leaf


def _decode(desc: Any, arrays: dict[str, np.ndarray]) -> Any:
    """Rebuild a pytree from its JSON description and the archive's arrays."""
    kind = desc["type"]
    if kind == "none":
        return None
    if kind == "dict":
        out = {}
        for (key_type, key), child in desc["items"]:
            if key_type not in ("str", "int") or type(key).__name__ != key_type:
                raise ValueError(f"bad dict key {key!r} of type {key_type!r}")
            out[key] = _decode(child, arrays)
        return out
    if kind == "list":
        return [_decode(c, arrays) for c in desc["items"]]
    if kind == "tuple":
        return tuple(_decode(c, arrays) for c in desc["items"])
    if kind == "leaf":
        array = arrays[f"arr_{int(desc['index'])}"]
        if desc["kind"] == "ndarray":
            return array
        if desc["kind"] == "numpy_scalar":
            return array[()]
        if desc["kind"] == "python":
            return _PYTHON_SCALARS[desc["pytype"]](array.item())
    raise ValueError(f"unknown node description {desc!r:.80}")


# ---------------------------------------------------------------------------
# save
# ---------------------------------------------------------------------------

def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(path: PathLike, params: PyTree) -> None:
    """Write the pytree ``params`` to ``path`` as an ``.npz`` file, atomically.

    ``params`` may nest dicts (``str`` or ``int`` keys), lists, tuples and
    ``None`` around NumPy arrays, NumPy scalars and Python numbers.  The file
    is written exactly at ``path`` (no extension is added).  Anything that
    cannot be saved without pickling (object arrays, other classes, traced
    values) raises :class:`~funcgrad.errors.SerializationError` naming where it
    is, and the file already at ``path``, if any, is left untouched.

    Examples:
        >>> import os, tempfile
        >>> import numpy as np
        >>> path = os.path.join(tempfile.mkdtemp(), "w.npz")
        >>> save(path, {"w": np.arange(3.0)})
        >>> load(path)
        {'w': array([0., 1., 2.])}
    """
    leaves: list[np.ndarray] = []
    description = {"format": _FORMAT, "version": _VERSION,
                   "tree": _encode(params, "params", leaves)}
    members = {_TREE_KEY: np.array(json.dumps(description))}
    members.update((f"arr_{i}", leaf) for i, leaf in enumerate(leaves))

    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        _write_atomically(path, directory, members)
    except OSError as e:
        raise _save_error(path, directory, e) from e
    _fsync_directory(directory)


def _write_atomically(path: str, directory: str, members: dict[str, np.ndarray]) -> None:
    """Write ``members`` to a hidden temporary file next to ``path``, then rename it to ``path``."""
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # os.open with mode 0o666 lets the umask decide the permissions, as open() would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, allow_pickle=False, **members)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _save_error(path: str, directory: str, error: OSError) -> SaveError:
    """A :class:`SaveError` naming ``path`` (not the temporary file) and what to do about ``error``."""
    if not os.path.isdir(directory):
        why = (f"its directory {directory} does not exist; create it first "
               "(os.makedirs(directory, exist_ok=True))")
    elif os.path.isdir(path):
        why = "it is a directory; give the path of a file in it"
    elif isinstance(error, PermissionError):
        why = (f"the directory {directory} is not writable; choose another path or change "
               "its permissions")
    else:
        why = "the operating system refused; any file already there is unchanged"
    loc = user_location()
    where = f" (called at {loc[0]}:{loc[1]})" if loc else ""
    result = SaveError(f"nn.save cannot write {path!r}{where}: {why} "
                       f"({error.strerror or error}, errno {error.errno}).")
    result.errno = error.errno
    return result


# ---------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------

def _read(path: str) -> PyTree:
    with open(path, "rb") as f:            # a missing file is the usual FileNotFoundError
        raw = f.read()
    try:
        with np.load(_io.BytesIO(raw), allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        description = json.loads(str(arrays.pop(_TREE_KEY)[()]))
        if description.get("format") != _FORMAT:
            raise ValueError(f"format is {description.get('format')!r}, expected {_FORMAT!r}")
        if description.get("version") != _VERSION:
            raise ValueError(f"version {description.get('version')!r} is not supported "
                             f"(this funcgrad reads version {_VERSION})")
        params = _decode(description["tree"], arrays)
        if len(tree.leaves(params)) != len(arrays):
            raise ValueError(f"the structure names {len(tree.leaves(params))} leaves but the "
                             f"archive holds {len(arrays)} arrays")
        return params
    except Exception as e:  # any failure to parse means a corrupt or foreign file
        what = "missing member" if isinstance(e, KeyError) else type(e).__name__
        raise SerializationError(
            f"nn.load: {path} is not a readable funcgrad parameter file (truncated, corrupt, or "
            f"not written by nn.save): {what}: {e}") from e


def _check_like(loaded: Any, like: Any, path: str) -> None:
    """Shapes and dtypes of ``loaded`` against ``like``, leaf by leaf (the structures are equal)."""
    if isinstance(like, dict):
        for key in like:
            _check_like(loaded[key], like[key], _child_path(path, key))
    elif isinstance(like, (list, tuple)):
        for i, (a, b) in enumerate(zip(loaded, like)):
            _check_like(a, b, _child_path(path, i))
    elif like is not None:
        got, want = np.asarray(loaded), np.asarray(like)
        if got.shape != want.shape:
            raise ShapeError(f"nn.load: {path} has shape {got.shape} in the file but "
                             f"{want.shape} in like")
        if got.dtype != want.dtype:
            raise DTypeError(f"nn.load: {path} has dtype {got.dtype} in the file but "
                             f"{want.dtype} in like")


def load(path: PathLike, like: PyTree | None = None) -> PyTree:
    """Read a pytree written by :func:`save`: same containers, leaf types, dtypes, shapes and bits.

    With ``like`` (e.g. freshly initialised parameters), also check that the
    file holds the same structure (else :class:`~funcgrad.errors.TreeStructureError`
    showing both structures) and the same shape and dtype at every leaf
    (``ShapeError`` / ``DTypeError`` naming the leaf).  A truncated, corrupt or
    foreign file raises :class:`~funcgrad.errors.SerializationError`.

    Examples:
        >>> import os, tempfile
        >>> import numpy as np
        >>> path = os.path.join(tempfile.mkdtemp(), "p.npz")
        >>> save(path, {"w": np.zeros(2)})
        >>> load(path, like={"w": np.ones(2), "b": np.ones(2)})
        Traceback (most recent call last):
        funcgrad.errors.TreeStructureError: nn.load: ... holds parameters of structure PyTreeDef({'w': *}), but like has structure PyTreeDef({'b': *, 'w': *})
    """
    path = os.fspath(path)
    params = _read(path)
    if like is not None:
        got, want = tree.structure(params), tree.structure(like)
        if got != want:
            raise TreeStructureError(f"nn.load: {path} holds parameters of structure {got!r}, "
                                     f"but like has structure {want!r}")
        _check_like(params, like, "params")
    return params
