"""Where the Numba backend keeps its compiled kernels on disk.

Numba's ``cache=True`` writes next to the source file (``__pycache__``) when it
can.  When funcgrad is installed read-only, :func:`configure` points
``NUMBA_CACHE_DIR`` at a per-user cache directory *before* anything compiles,
so every process after the first loads the kernels instead of compiling them.
The generated fused-elementwise kernels are written as small modules under
:func:`kernel_source_dir` so that Numba can cache them the same way.

This module must not import numba: it runs before numba is imported.
"""

from __future__ import annotations

import os
import sys
import tempfile

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_configured: dict[str, str | None] = {}


def _writable(path: str) -> bool:
    """``path`` exists (or can be made) and a file can be created in it."""
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
        return True
    except OSError:
        return False


def user_cache_dir() -> str:
    """``$XDG_CACHE_HOME/funcgrad`` (``~/.cache/funcgrad``), or a per-user temp dir if that is not writable."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "funcgrad")
    if _writable(path):
        return path
    uid = os.getuid() if hasattr(os, "getuid") else os.getpid()
    return os.path.join(tempfile.gettempdir(), f"funcgrad-{uid}")


def _in_tree_writable() -> bool:
    """Numba's default (``__pycache__`` next to this package's sources) works."""
    pycache = os.path.join(_PACKAGE_DIR, "__pycache__")
    if os.path.isdir(pycache):
        return os.access(pycache, os.W_OK | os.X_OK)
    return os.access(_PACKAGE_DIR, os.W_OK | os.X_OK)


def configure() -> str | None:
    """Set ``NUMBA_CACHE_DIR`` when the package directory is read-only; return the cache dir in use.

    A value the user set is respected.  ``None`` means Numba's in-tree default.
    Called by the backend before it imports numba; idempotent.
    """
    if "dir" in _configured:
        return _configured["dir"]
    chosen = os.environ.get("NUMBA_CACHE_DIR") or None
    if chosen is None and not _in_tree_writable():
        chosen = os.path.join(user_cache_dir(), "numba")
        os.environ["NUMBA_CACHE_DIR"] = chosen
        config = getattr(sys.modules.get("numba"), "config", None)
        if config is not None:  # numba was imported already: it read the variable at import
            config.CACHE_DIR = chosen
    _configured["dir"] = chosen
    return chosen


def kernel_source_dir() -> str | None:
    """A writable directory for the generated kernel modules, or ``None`` (compile in memory)."""
    if "src" not in _configured:
        numba_dir = configure()
        path = (os.path.join(numba_dir, "funcgrad_kernels") if numba_dir
                else os.path.join(user_cache_dir(), "kernels"))
        _configured["src"] = path if _writable(path) else None
    return _configured["src"]
