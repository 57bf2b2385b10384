"""What to write instead of a NumPy or SciPy ufunc call that cannot take a traced array.

``Tracer.__array_ufunc__`` routes ``np.exp(t)`` to funcgrad's op of the same name; the
calls it cannot route (a ufunc funcgrad has no op for, a ufunc method such as
``np.add.reduce``, a keyword such as ``out=``) raise an error whose hint comes from
:func:`ufunc_hint`, which names only functions that exist.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

# ufunc methods -> the funcgrad.numpy function that computes the same thing.
_METHODS = {("add", "reduce"): "sum", ("multiply", "reduce"): "prod",
            ("maximum", "reduce"): "max", ("minimum", "reduce"): "min",
            ("logical_and", "reduce"): "all", ("logical_or", "reduce"): "any",
            ("add", "accumulate"): "cumsum", ("multiply", "accumulate"): "cumprod",
            ("multiply", "outer"): "outer"}


def ufunc_display_name(ufunc: np.ufunc) -> str:
    """``np.exp`` for NumPy's ufuncs, ``scipy.special.expit`` for SciPy's, else the bare name.

    Examples:
        >>> ufunc_display_name(np.add)
        'np.add'
    """
    name = ufunc.__name__
    if getattr(np, name, None) is ufunc:
        return f"np.{name}"
    special = sys.modules.get("scipy.special")
    if special is not None and getattr(special, name, None) is ufunc:
        return f"scipy.special.{name}"
    return name


def _existing(name: str) -> str | None:
    """``fnp.name`` or ``funcgrad.scipy.special.name``, whichever exists (funcgrad.numpy first)."""
    import funcgrad.numpy as fnp

    if callable(getattr(fnp, name, None)):
        return f"fnp.{name}"
    from funcgrad.scipy import special

    if name in special.__all__:
        return f"funcgrad.scipy.special.{name}"
    return None


def ufunc_hint(ufunc: np.ufunc, method: str, kwargs: dict[str, Any]) -> str:
    """The sentence saying what to call instead of ``ufunc.method(..., **kwargs)`` on a tracer.

    Examples:
        >>> ufunc_hint(np.add, "reduce", {})
        'use fnp.sum (import funcgrad.numpy as fnp)'
    """
    name = ufunc.__name__
    if method != "__call__":
        instead = _METHODS.get((name, method))
        if instead:
            return f"use fnp.{instead} (import funcgrad.numpy as fnp)"
        if method == "at":
            return f"use x.at[idx] (x = x.at[idx].set(v), .add(v), ...) for an in-place {name}.at"
        return ("ufunc methods (reduce, accumulate, outer, at, reduceat) are not traced; write "
                "the computation with funcgrad.numpy functions (fnp.sum, fnp.cumsum, fnp.outer, "
                "...; import funcgrad.numpy as fnp)")
    found = _existing(name)
    if kwargs:
        keywords = ", ".join(f"{k}=" for k in sorted(kwargs))
        call = found or "the funcgrad.numpy function of the same name"
        return (f"NumPy's ufunc keywords ({keywords}) are not traced; call {call} without "
                "them (results are new arrays: no out=; x.astype(dtype) for dtype=; fnp.where "
                "for where=)")
    if found:
        return f"use {found} (import funcgrad.numpy as fnp)" if found.startswith("fnp.") \
            else f"use {found} (import funcgrad.scipy.special)"
    return (f"funcgrad has no {name}: write it with funcgrad.numpy operations (which "
            "differentiate), or define its derivative with funcgrad.custom_vjp")
