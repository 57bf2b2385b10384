"""Generate ``docs/numpy_coverage.md``: which NumPy functions ``funcgrad.numpy`` has, and which differentiate.

    python scripts/numpy_coverage.py           # rewrite docs/numpy_coverage.md
    python scripts/numpy_coverage.py --check   # exit 1 if the committed page is stale

The page is computed, not written by hand: the rows are the functions of NumPy's main
namespace, ``numpy.linalg`` and ``numpy.fft`` as the installed NumPy lists them (``__all__``);
whether ``fnp`` has each one is read from ``funcgrad.numpy``; whether it differentiates is
read from the op table (``tests/op_table.py``), the records that drive the generated
forward, gradient (orders 1 and 2 against finite differences), jvp, vmap, jit and float32
tests.  A function is

* **differentiable** when an op-table record for it differentiates at least one argument;
* **no derivative** when its records check that no gradient flows (integer, boolean or
  piecewise-constant outputs), or when :data:`NO_DERIVATIVE` below says why it has nothing
  to differentiate (shape and dtype queries, index helpers, constant creation);
* **supported** when ``fnp`` has it but the op table has no record for it yet;
* **not supported** otherwise, with the reason from :data:`UNSUPPORTED` (or "not
  implemented yet").

The two tables below are the only hand-kept part.  ``tests/test_namespace.py`` regenerates
the page in memory and fails when the committed file differs.
"""

from __future__ import annotations

import argparse
import importlib
import pathlib
import sys
import types
from collections.abc import Iterable

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "numpy_coverage.md"
COMMAND = "python scripts/numpy_coverage.py"


def _by_name(groups: dict[str, Iterable[str]]) -> dict[str, str]:
    return {name: why for why, names in groups.items() for name in names.split()}


#: Functions that ``fnp`` has and that have nothing to differentiate, with the reason.
NO_DERIVATIVE = _by_name({
    "a shape, size or dtype query": "shape ndim size isscalar result_type promote_types issubdtype "
                                    "broadcast_shapes finfo",
    "index arrays from shapes": "indices diag_indices tril_indices triu_indices tri unravel_index "
                                "ravel_multi_index ix_",
    "a constant array (the values do not depend on the inputs)": "empty_like zeros_like ones_like",
})

#: Functions ``fnp`` deliberately leaves out (or leaves to NumPy), with the reason.
UNSUPPORTED = _by_name({
    "file and text I/O: not array math (use NumPy on concrete arrays)":
        "load save savez savez_compressed loadtxt savetxt genfromtxt fromregex fromfile "
        "frombuffer fromstring fromiter memmap",
    "printing and NumPy's configuration":
        "array2string array_repr array_str base_repr binary_repr format_float_positional "
        "format_float_scientific get_printoptions set_printoptions printoptions getbufsize "
        "setbufsize geterr seterr geterrcall seterrcall errstate show_config show_runtime "
        "get_include info typename mintypecode test",
    "in-place mutation: funcgrad values are immutable (use `x.at[idx].set(v)` or `put_along_axis`)":
        "copyto fill_diagonal place put putmask",
    "memory layout, ownership and iteration objects: no meaning for traced values":
        "ascontiguousarray asfortranarray isfortran may_share_memory shares_memory require "
        "from_dlpack nditer nested_iters flatiter ndenumerate ndindex broadcast",
    "datetime and string types": "busday_count busday_offset busdaycalendar is_busday "
                                 "datetime_as_string datetime_data isnat",
    "bitwise and integer number theory: integer inputs, nothing to differentiate (use NumPy)":
        "bitwise_invert bitwise_count bitwise_left_shift bitwise_right_shift gcd lcm packbits "
        "unpackbits",
    "legacy classes (use arrays, `polyval` and `polyfit`)": "matrix asmatrix bmat poly1d recarray",
    "NumPy's dtype and ufunc machinery (use NumPy's; `fnp.vectorize` for Python functions)":
        "dtype iinfo can_cast common_type min_scalar_type isdtype ufunc frompyfunc "
        "__array_namespace_info__",
    "constant windows of an integer length: NumPy's result is already the constant":
        "bartlett blackman hamming hanning kaiser",
    "deprecated in NumPy 2 (use `vstack`)": "row_stack",
})

NOT_YET = "not implemented yet"


def _load_op_table():
    """The op table's records and creation rows (``tests/`` goes on ``sys.path`` as for pytest)."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    import op_table

    return op_table.RECORDS, {name.split("[")[0] for name, _, _ in op_table.CREATION}


def _resolve(root, dotted: str):
    """``root.a.b`` for ``"a.b"``, or ``None``."""
    for part in dotted.split("."):
        root = getattr(root, part, None)
    return root


def _records_by_object(records, fnp) -> dict[int, list]:
    """Op-table records grouped by the ``fnp`` function their name names (``sum[axis=0]`` is
    ``fnp.sum``, ``linalg.qr[...]`` is ``fnp.linalg.qr``); aliases share their records."""
    grouped: dict[int, list] = {}
    for rec in records:
        obj = _resolve(fnp, rec.name.split("[")[0].strip())
        if obj is not None and not isinstance(obj, types.ModuleType):
            grouped.setdefault(id(obj), []).append(rec)
    return grouped


def _is_function(obj) -> bool:
    """A row of the table: functions, ufuncs, classes users call, and index helpers (``r_``)."""
    if isinstance(obj, types.ModuleType):
        return False
    if isinstance(obj, type):
        return not issubclass(obj, (np.generic, BaseException))
    return callable(obj) or type(obj).__module__.startswith("numpy.lib._index_tricks")


def _classify(name: str, np_obj, fn_obj, records, creation: set[str]) -> tuple[str, str]:
    if fn_obj is None:
        return "not supported", UNSUPPORTED.get(name, NOT_YET)
    alias = getattr(fn_obj, "__name__", name) if isinstance(fn_obj, types.FunctionType) else name
    note = f"alias of `{alias}`" if alias != name else ""
    if fn_obj is np_obj:
        return "no derivative", "NumPy's own, re-exported: its results are constants"
    recs = records.get(id(fn_obj), [])
    if any(r.differentiable for r in recs):
        return "differentiable", note
    if recs:
        why = "no gradient flows (the op table checks it)"
        return "no derivative", "; ".join(filter(None, [note, why]))
    if name in NO_DERIVATIVE:
        return "no derivative", NO_DERIVATIVE[name]
    if name in creation:
        return "no derivative", "a constant array (creation; the op table checks the values)"
    return "supported", "; ".join(filter(None, [note, "no op-table record yet"]))


def _cell_name(name: str, prefix: str, documented: bool) -> str:
    """The function's name, linked to its API-reference entry where it has one."""
    return f"[`{prefix}{name}`][funcgrad.numpy.{prefix}{name}]" if documented else f"`{prefix}{name}`"


def _documented(obj) -> bool:
    """Whether the API reference (``docs/api.md``) renders ``obj``: funcgrad's own functions,
    found where their ``__module__`` and ``__qualname__`` say (NumPy's re-exported ones are not)."""
    home = sys.modules.get(getattr(obj, "__module__", None) or "")
    if home is None or not home.__name__.startswith("funcgrad"):
        return False
    target = home
    for part in getattr(obj, "__qualname__", "<none>").split("."):
        target = getattr(target, part, None)
    return target is obj and bool(getattr(obj, "__doc__", None))


SECTIONS = [("numpy", "numpy", ""), ("numpy.linalg", "numpy.linalg", "linalg."),
            ("numpy.fft", "numpy.fft", "fft.")]
STATUSES = ["differentiable", "no derivative", "supported", "not supported"]


def rows(section_module: str, fn_module, records, creation) -> list[tuple[str, str, str, bool]]:
    """``(name, status, note, documented)`` for every function of one NumPy namespace."""
    npm = importlib.import_module(section_module)
    out = []
    for name in sorted(set(npm.__all__), key=str.lower):
        obj = getattr(npm, name, None)
        if not _is_function(obj):
            continue
        fn_obj = getattr(fn_module, name, None) if name in getattr(fn_module, "__all__", ()) else None
        status, note = _classify(name, obj, fn_obj, records, creation)
        documented = fn_obj is not None and _documented(fn_obj)
        out.append((name, status, note, documented))
    return out


def _scalar_types_and_constants(fnp) -> list[str]:
    generics = sorted((n for n in np.__all__ if isinstance(getattr(np, n), type)
                       and issubclass(getattr(np, n), np.generic)), key=str.lower)
    constants = sorted((n for n in np.__all__ if isinstance(getattr(np, n), float) or n == "newaxis"),
                       key=str.lower)
    have = [f"`{n}`" for n in generics if n in fnp.__all__]
    lack = [f"`{n}`" for n in generics if n not in fnp.__all__]
    return [
        "## Scalar types and constants",
        "",
        "`fnp`'s scalar types are NumPy's dtypes and also casts of traced values "
        "(`fnp.float32(x)` is `x.astype(fnp.float32)`, differentiable for floating targets): "
        + ", ".join(have) + ".",
        "",
        "NumPy's other scalar types (pass them as `dtype=`; funcgrad accepts any NumPy dtype): "
        + ", ".join(lack) + ".",
        "",
        "Constants: " + ", ".join(f"`{n}`" + ("" if n in fnp.__all__ else " (not in `fnp`; use NumPy's)")
                                  for n in constants) + ".",
        "",
    ]


def render() -> str:
    """The whole page, as ``docs/numpy_coverage.md`` should hold it."""
    import funcgrad.numpy as fnp

    records, creation = _load_op_table()
    by_object = _records_by_object(records, fnp)
    sections = [(title, prefix, rows(module, _resolve(fnp, prefix.rstrip(".")) if prefix else fnp,
                                     by_object, creation))
                for title, module, prefix in SECTIONS]
    version = ".".join(np.__version__.split(".")[:2])
    lines = [
        "# NumPy coverage",
        "",
        f"<!-- Generated by `{COMMAND}` from NumPy {version}'s namespaces, funcgrad.numpy and the "
        "op table (tests/op_table.py). Do not edit by hand: rerun the script. -->",
        "",
        f"Every function of NumPy {version}'s main namespace, `numpy.linalg` and `numpy.fft`, and what "
        "`funcgrad.numpy` (`fnp`) does with it. The page is generated: after adding a function "
        f"(and its op-table record), run `{COMMAND}`; `tests/test_namespace.py` fails while the "
        "page is stale.",
        "",
        "| status | meaning |",
        "| --- | --- |",
        "| differentiable | `fnp` has it, and op-table records check its values against NumPy and its "
        "gradients (orders 1 and 2) against finite differences, with jvp, vmap, jit and float32 |",
        "| no derivative | `fnp` has it (values checked); its output is integer, boolean, piecewise "
        "constant or independent of the inputs' values, so no gradient flows |",
        "| supported | `fnp` has it, but the op table has no record for it yet |",
        "| not supported | not in `fnp`: the note says why |",
        "",
        "| namespace | functions | " + " | ".join(STATUSES) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in STATUSES) + " |",
    ]
    for title, _, table in sections:
        counts = [sum(status == s for _, status, _, _ in table) for s in STATUSES]
        lines.append(f"| `{title}` | {len(table)} | " + " | ".join(map(str, counts)) + " |")
    lines.append("")
    for title, prefix, table in sections:
        lines += [f"## `{title}`", "", "| function | funcgrad | notes |", "| --- | --- | --- |"]
        for name, status, note, documented in table:
            lines.append(f"| {_cell_name(name, prefix, documented)} | {status} | {note} |")
        lines.append("")
    lines += _scalar_types_and_constants(fnp)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        stale = not PAGE.exists() or PAGE.read_text() != text
        if stale:
            print(f"{PAGE.relative_to(ROOT)} is stale: run `{COMMAND}`", file=sys.stderr)
        return int(stale)
    PAGE.write_text(text)
    print(f"wrote {PAGE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
