"""The hints of the errors a traced value raises for the usual mistakes, written from the user's line.

``x[0] = 1.0`` on a traced array, ``if x > 0:`` on a traced array of several elements,
``x + None``: :mod:`funcgrad._core.trace` finds the user's ``(file, line)`` and these
functions read that line (:mod:`linecache`) to spell out the fix in the user's own names.
"""

from __future__ import annotations

import linecache
import re

import numpy as np

from funcgrad.errors import AmbiguousTruthValueError, ArgumentError, ItemAssignmentError

Location = tuple[str, int] | None

# `name[index] op= value` on one line: what x.at[...] spells it as.
_ITEM_ASSIGNMENT = re.compile(r"^\s*(?P<name>[\w.]+)\s*\[(?P<index>.*)\]\s*(?P<op>[-+*/]?)="
                              r"(?!=)\s*(?P<value>.+?)\s*(?:#.*)?$")
_AT_METHOD = {"": "set", "+": "add", "*": "multiply", "/": "divide"}
_CONDITION = re.compile(r"^\s*(?:el)?(?:if|while)\s+(?P<cond>.+?)\s*:\s*(?:#.*)?$")


def at_line(loc: Location) -> str:
    """`` at file:line`` for the user's location, or nothing where it is unknown.

    Examples:
        >>> at_line(("train.py", 12)), at_line(None)
        (' at train.py:12', '')
    """
    return f" at {loc[0]}:{loc[1]}" if loc else ""


def _line(loc: Location) -> str:
    return linecache.getline(loc[0], loc[1]) if loc else ""


def index_text(index) -> str:
    """An index as the user would write it between brackets.

    Examples:
        >>> index_text((slice(None, 2), Ellipsis, 0))
        ':2, ..., 0'
    """
    if isinstance(index, tuple):
        return ", ".join(index_text(i) for i in index) if index else "()"
    if isinstance(index, slice):
        parts = ["" if p is None else repr(p) for p in (index.start, index.stop, index.step)]
        return ":".join(parts[:2] if index.step is None else parts)
    if index is Ellipsis:
        return "..."
    return repr(index) if isinstance(index, (int, np.integer)) or index is None else "idx"


def _functional_update(index, loc: Location) -> str:
    """``Write x = x.at[i].set(v) instead: it``, in the names of the user's line where it has them."""
    found = _ITEM_ASSIGNMENT.match(_line(loc))
    name = found.group("name").removesuffix(".at") if found else "x"  # x.at[i] = v: name x
    if found and found.group("op") in _AT_METHOD:
        op, value = found.group("op", "value")
        return (f"Write {name} = {name}.at[{found.group('index')}]."
                f"{_AT_METHOD[op]}({value}) instead: it")
    if found:  # x[i] -= v
        value = found.group("value")
        return f"Write {name} = {name}.at[{found.group('index')}].add(-({value})) instead: it"
    return (f"Write x = x.at[{index_text(index)}].set(value) instead (x.at[...].add, "
            ".multiply, ...): it")


def item_assignment_error(what: str, index, loc: Location,
                          lead: str = "traced arrays are immutable") -> ItemAssignmentError:
    """The error for ``x[index] = v`` on ``what`` (``a traced f64[3] value (traced by ...)``)."""
    return ItemAssignmentError(
        f"{lead}: item assignment to {what}{at_line(loc)}. "
        f"{_functional_update(index, loc)} returns a new array with the elements replaced, "
        "and derivatives flow through both the array and the values.")


def ambiguous_truth_value_error(what: str, size: int, loc: Location) -> AmbiguousTruthValueError:
    """The error for ``bool()`` of ``what``, a traced array of ``size`` elements (not 1)."""
    found = _CONDITION.match(_line(loc))
    cond, bare = (f"({found.group('cond')})", found.group("cond")) if found else ("cond", "cond")
    return AmbiguousTruthValueError(
        f"the truth value of {what}{at_line(loc)} is ambiguous: it has {size} elements, and "
        f"Python's if, while, and, or and not need one True or False. Decide once for all "
        f"elements with {cond}.any() or {cond}.all(), or choose per element with "
        f"fnp.where({bare}, a, b) (import funcgrad.numpy as fnp); combine element-wise "
        f"conditions with & and | instead of and and or.")


def operand_error(value, loc: Location) -> ArgumentError | None:
    """The error for an operand of a traced operation that is no array (``None``, a string, a
    ragged list), or ``None`` where ``value`` is a fine operand.

    Examples:
        >>> operand_error([1.0, 2.0], None) is None
        True
    """
    try:
        dtype = np.asarray(value).dtype if value is not None else np.dtype(object)
    except ValueError as e:  # NumPy: "setting an array element with a sequence" (ragged)
        problem = f"a ragged {type(value).__name__} ({e})"
    else:
        # (ml_dtypes' bfloat16, float8, int4 ... have kind "V" too, but their own scalar type)
        if dtype.kind not in "OUS" and dtype.type is not np.void:
            return None
        problem = f"a {type(value).__module__}.{type(value).__qualname__} ({value!r:.60})"
    return ArgumentError(
        f"an operand of a traced operation{at_line(loc)} is {problem}; expected a numeric "
        "array, a Python or NumPy number, or a (rectangular) list of numbers."
        + (" A None often comes from a function that does not return its result." if value is None
           else ""))
