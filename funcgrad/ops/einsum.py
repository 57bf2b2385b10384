"""``einsum``: NumPy's Einstein summation, differentiable, as one primitive on normalized subscripts.

The primitive ``einsum`` only ever sees *normalized* subscripts: explicit
(``"ij,jk->ik"``), no ellipsis, no letter twice in one operand, every letter of one
size in every operand.  The public :func:`einsum` gets there from anything NumPy
accepts: the sublist form (``einsum(a, [0, 1], b, [1, 2], [0, 2])``), ``...``
anywhere (mapped to unused letters, right-aligned so its axes broadcast), an index
repeated within one operand (``"ii->i"``: the diagonal is taken first, a gather),
and length-1 axes that NumPy broadcasts (reshaped away).  Three or more operands
are contracted pairwise in the order ``numpy.einsum_path`` chooses (``optimize``,
default ``"greedy"``; ``optimize=False`` binds one primitive for all of them).

Examples:
    >>> einsum("ii->", np.eye(3))
    np.float64(3.0)
    >>> einsum(np.ones((2, 3)), [0, 1], np.ones(3), [1], [0])
    array([3., 3.])
"""

from __future__ import annotations

import builtins
import string
from collections import Counter
from functools import lru_cache

import numpy as np

from funcgrad._core.primitive import Primitive, Tracer
from funcgrad._core.trace import user_location
from funcgrad.errors import ArgumentError, ShapeError
from funcgrad.ops import shape as sh
from funcgrad.ops._array_like import asarray
from funcgrad.ops._family import dtype_of, shape_of, unbroadcast


def _here() -> str:
    """`` at file:line`` of the user's call, for errors raised before any primitive is bound."""
    loc = user_location()
    return f" at {loc[0]}:{loc[1]}" if loc else ""


# -- the primitive -------------------------------------------------------------------------
def _split_subscripts(subscripts: str) -> tuple[list[str], str]:
    lhs, out = subscripts.split("->")
    return lhs.split(","), out


def _einsum_aval(*operands, subscripts):
    ins, out = _split_subscripts(subscripts)
    sizes: dict = {}
    for term, x in zip(ins, operands):
        for c, n in zip(term, shape_of(x)):
            if sizes.setdefault(c, n) != n:
                shapes = ", ".join(str(shape_of(o)) for o in operands)
                raise ShapeError(f"einsum {subscripts!r}: index {c!r} has sizes {sizes[c]} and {n} "
                                 f"in operands of shapes {shapes}")
    return tuple(sizes[c] for c in out), np.result_type(*[dtype_of(x) for x in operands])


def _einsum_impl(*operands, subscripts):
    return np.einsum(subscripts, *operands, optimize=len(operands) >= 3)


def _einsum_vjp(i, g, ans, *operands, subscripts):
    # Contract g with the other operands back to operand i's indices.  An index that
    # only operand i has was summed away in the forward pass: broadcast it back.
    ins, out = _split_subscripts(subscripts)
    others = [t for j, t in enumerate(ins) if j != i]
    present = set(out).union(*others)
    target = "".join(c for c in ins[i] if c in present)
    ct = _contract([out, *others], target,
                   [g, *(x for j, x in enumerate(operands) if j != i)])
    x = operands[i]
    if target != ins[i]:
        ct = sh.reshape(ct, tuple(n if c in present else 1 for c, n in zip(ins[i], shape_of(x))))
        ct = sh.broadcast_to(ct, shape_of(x))
    return unbroadcast(ct, x)


def _einsum_jvp(primals, tangents, subscripts):
    # Multilinear: the tangent is the sum over inputs of einsum with that input's tangent.
    out = None
    for i, t in enumerate(tangents):
        if t is not None:
            term = einsum_p.bind(*primals[:i], t, *primals[i + 1:], subscripts=subscripts)
            out = term if out is None else out + term
    return einsum_p.bind(*primals, subscripts=subscripts), out


def _einsum_batch(values, dims, subscripts):
    # A fresh index for the batch axis, where it is in each batched operand and first in
    # the output; unbatched operands lack it, so einsum broadcasts them over the batch.
    ins, out = _split_subscripts(subscripts)
    letter = next((c for c in string.ascii_letters if c not in subscripts), None)
    if letter is None:
        raise ArgumentError(f"vmap of einsum {subscripts!r}: every index letter is taken, "
                            "none is left for the batch axis")
    terms = [t if d is None else t[:d] + letter + t[d:] for t, d in zip(ins, dims)]
    return einsum_p.bind(*values, subscripts=",".join(terms) + "->" + letter + out), 0


einsum_p = Primitive("einsum", _einsum_impl, _einsum_aval)
einsum_p.defvjp_argnum(_einsum_vjp)
einsum_p.defjvp_full(_einsum_jvp)
einsum_p.defbatch(_einsum_batch)


def _permutation(ins: list[str], out: str) -> tuple[int, ...] | None:
    """The axes order when the einsum only permutes one operand (then it is a transpose)."""
    if len(ins) == 1 and sorted(ins[0]) == sorted(out):
        return tuple(ins[0].index(c) for c in out)
    return None


def _contract(ins: list[str], out: str, operands: list):
    """Bind normalized subscripts (a transpose when only one operand is permuted)."""
    perm = _permutation(ins, out)
    if perm is not None:
        return sh.transpose(operands[0], perm)
    return einsum_p.bind(*operands, subscripts=",".join(ins) + "->" + out)


# -- from NumPy's forms to normalized subscripts ---------------------------------------------
def _einsum_error(subscripts, shapes, why, cls=ShapeError):
    return cls(f"einsum {subscripts!r} with operands of shapes "
               f"{', '.join(map(str, shapes))}: {why}{_here()}")


_LETTERS = frozenset(string.ascii_letters)
# NumPy's C einsum labels sublist integers 0-25 as 'A'-'Z' and 26-51 as 'a'-'z'.
_SUBLIST_LABELS = string.ascii_uppercase + string.ascii_lowercase


def _sublist_term(sub) -> str:
    term = ""
    for s in sub:
        if s is Ellipsis:
            term += "..."
            continue
        try:
            term += _SUBLIST_LABELS[s if isinstance(s, (int, np.integer)) and s >= 0 else None]
        except (TypeError, IndexError):
            raise ArgumentError(f"einsum: subscript {s!r} in a sublist is not an integer in "
                                f"[0, 52) or Ellipsis{_here()}") from None
    return term


def _from_sublists(args) -> tuple[str, list]:
    """``(op0, sub0, op1, sub1, ..., [sub_out])`` as ``(subscripts, operands)``."""
    operands, terms = list(args[0::2]), [_sublist_term(s) for s in args[1::2]]
    if len(args) % 2:  # an output sublist closes the list
        return ",".join(terms) + "->" + _sublist_term(operands.pop()), operands
    return ",".join(terms), operands


@lru_cache(maxsize=1024)
def _parse(subscripts: str, shapes: tuple) -> tuple[tuple[str, ...], str]:
    """Each operand's term with ``...`` replaced by letters, and the explicit output term."""
    spec = subscripts.replace(" ", "")
    if spec.count("->") > 1 or ("->" not in spec and ">" in spec):
        raise _einsum_error(subscripts, shapes, "expected at most one '->'", ArgumentError)
    lhs, arrow, rhs = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise _einsum_error(subscripts, shapes, f"{len(terms)} input terms for {len(shapes)} "
                            "operands", ArgumentError)
    for t in terms + [rhs]:
        if t.count("...") > 1 or not set(t.replace("...", "")) <= _LETTERS:
            raise _einsum_error(subscripts, shapes, f"invalid term {t!r}: use letters and at "
                                "most one '...'", ArgumentError)
    # Map "..." to unused letters, right-aligned so ellipsis axes broadcast like NumPy's.
    ell_ndims = [len(s) - len(t.replace("...", "")) if "..." in t else 0
                 for t, s in zip(terms, shapes)]
    for t, s, e in zip(terms, shapes, ell_ndims):
        if e < 0 or ("..." not in t and len(t) != len(s)):
            raise _einsum_error(subscripts, shapes, f"term {t!r} does not fit an operand of shape {s}")
    n_ell = builtins.max(ell_ndims, default=0)
    free = [c for c in string.ascii_letters if c not in spec]
    if n_ell > len(free):
        raise _einsum_error(subscripts, shapes, "too many indices", ArgumentError)
    ell = "".join(free[:n_ell])
    terms = [t.replace("...", ell[n_ell - e:]) for t, e in zip(terms, ell_ndims)]
    if arrow:
        if "..." not in rhs and n_ell:
            raise _einsum_error(subscripts, shapes, "the output needs '...' for the "
                                "ellipsis axes of the inputs")
        out = rhs.replace("...", ell)
        counts = Counter(out)
        bad = [c for c in out if counts[c] > 1 or not any(c in t for t in terms)]
        if bad:
            raise _einsum_error(subscripts, shapes, f"output index {bad[0]!r} repeats or is in "
                                "no input", ArgumentError)
    else:  # implicit mode: ellipsis axes, then the indices seen once, in character order
        counts = Counter("".join(terms))
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    return tuple(terms), out


def _diagonals(x, term: str, subscripts: str, shapes):
    """Take the diagonal of every index repeated within one operand's term (``'ii'`` -> ``'i'``)."""
    while True:
        repeated = next((c for c, k in Counter(term).items() if k > 1), None)
        if repeated is None:
            return x, term
        p = term.index(repeated)
        q = term.index(repeated, p + 1)
        s = shape_of(x)
        if s[p] != s[q]:
            raise _einsum_error(subscripts, shapes, f"index {repeated!r} repeats within one "
                                f"operand with different sizes {s[p]} and {s[q]}")
        x = sh.diagonal(x, 0, p, q)  # the diagonal becomes the last axis
        term = "".join(c for k, c in enumerate(term) if k not in (p, q)) + repeated


@lru_cache(maxsize=1024)
def _squeeze_plan(terms: tuple, out: str, shapes: tuple, subscripts: str):
    """Terms without the length-1 axes that broadcast, and each operand's new shape (None: kept)."""
    sizes: dict = {}
    for t, s in zip(terms, shapes):
        for c, n in zip(t, s):
            if n != 1 and sizes.get(c, 1) not in (1, n):
                raise _einsum_error(subscripts, shapes, f"index {c!r} has sizes {sizes[c]} and {n}")
            sizes[c] = n if n != 1 else sizes.get(c, 1)
    squeezed, plans = [], []
    for t, s in zip(terms, shapes):
        keep = [k for k, (c, n) in enumerate(zip(t, s)) if n == sizes[c]]
        squeezed.append("".join(t[k] for k in keep))
        plans.append(None if len(keep) == len(t) else tuple(s[k] for k in keep))
    return tuple(squeezed), tuple(plans)


@lru_cache(maxsize=1024)
def _path(spec: str, shapes: tuple, optimize) -> tuple:
    """``numpy.einsum_path``'s contraction order (pairs of operand positions) for these shapes."""
    dummies = [np.broadcast_to(np.zeros((), np.float64), s) for s in shapes]
    if isinstance(optimize, tuple):  # an explicit path, made hashable by _hashable
        optimize = list(optimize)
    return tuple(tuple(step) for step in np.einsum_path(spec, *dummies, optimize=optimize)[0][1:])


def _pairwise(terms: list[str], out: str, arrays: list, path: tuple):
    """Contract in ``path``'s order; each intermediate keeps the indices still needed later."""
    terms, arrays = list(terms), list(arrays)
    for step in path:
        picked = sorted(step, reverse=True)
        these = [terms.pop(i) for i in picked]
        ops = [arrays.pop(i) for i in picked]
        if terms:
            needed = set(out).union(*terms)
            target = "".join(dict.fromkeys(c for t in these for c in t if c in needed))
        else:
            target = out
        terms.append(target)
        arrays.append(_contract(these, target, ops))
    if len(arrays) != 1 or terms[0] != out:  # a path that stops early: finish in one step
        return _contract(terms, out, arrays)
    return arrays[0]


def _hashable(optimize):
    return tuple(tuple(s) if isinstance(s, (list, tuple)) else s for s in optimize) \
        if isinstance(optimize, list) else optimize


def einsum(*operands, optimize="greedy", out=None, dtype=None):
    """``numpy.einsum``: Einstein summation in subscript (``'ij,jk->ik'``, implicit ``'ij,jk'``)
    or sublist form (``einsum(a, [0, 1], b, [1, 2], [0, 2])``).

    ``...`` broadcasts, an index repeated in one operand takes its diagonal (``'ii->i'``,
    ``'ii->'``), and for three or more operands the contraction order is
    ``numpy.einsum_path(..., optimize=optimize)``'s (``False``: one contraction).
    ``dtype`` casts the operands first; ``out`` is not supported (arrays are immutable).

    Examples:
        >>> einsum('ij,j->i', np.ones((2, 3)), np.arange(3.0))
        array([3., 3.])
        >>> einsum('ii->i', np.arange(4.0).reshape(2, 2))
        array([0., 3.])
    """
    if out is not None:
        raise ArgumentError(f"einsum: out= is not supported (funcgrad returns new arrays){_here()}")
    if not operands:
        raise ArgumentError(f"einsum: no subscripts and no operands{_here()}")
    if isinstance(operands[0], str):
        subscripts, operands = operands[0], list(operands[1:])
    elif isinstance(operands[0], (Tracer, np.ndarray, list, tuple, int, float, complex)):
        subscripts, operands = _from_sublists(operands)
    else:
        raise ArgumentError("einsum: the first argument must be a subscripts string such as "
                            f"'ij,jk->ik' or an operand, got {type(operands[0]).__name__}{_here()}")
    arrays = [asarray(x) for x in operands]
    if dtype is not None:
        from funcgrad.ops.misc import astype

        arrays = [astype(x, dtype) for x in arrays]
    shapes = tuple(tuple(shape_of(x)) for x in arrays)
    terms, out_term = _parse(subscripts, shapes)
    pairs = [_diagonals(x, t, subscripts, shapes) for x, t in zip(arrays, terms)]
    arrays, terms = [p[0] for p in pairs], tuple(p[1] for p in pairs)
    terms, plans = _squeeze_plan(terms, out_term, tuple(tuple(shape_of(x)) for x in arrays),
                                 subscripts)
    arrays = [x if p is None else sh.reshape(x, p) for x, p in zip(arrays, plans)]
    if len(arrays) >= 3 and optimize is not False:
        spec = ",".join(terms) + "->" + out_term
        path = _path(spec, tuple(tuple(shape_of(x)) for x in arrays), _hashable(optimize))
        return _pairwise(list(terms), out_term, arrays, path)
    return _contract(list(terms), out_term, arrays)
