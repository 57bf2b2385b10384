"""Random programs: hypothesis composes a table of ops into small programs and checks each one.

A single-op test sees each rule alone; bugs also hide in how rules meet (a cotangent
unbroadcast twice, a fan-out summed once, a batching rule whose output axis the next
op misreads).  :func:`programs` draws straight-line programs from a table of *op
specs* -- ops composed, intermediate values reused (fan-out), shapes that broadcast,
reductions, indexing and slicing, Python scalars and NumPy constants on either side of
binary ops -- each with concrete inputs in every op's smooth domain.
:func:`check_program` runs one through funcgrad (``grad`` against central
differences at orders 1 and 2, the jvp/vjp transpose identity, ``jit``, ``vmap``,
float32, the Numba backend) and compares it with the same program on NumPy.

Keeping every op in its smooth domain when its input is computed: a reused value whose
concrete values do not lie inside one interval of the op's domain (with a margin) goes
through ``c + r * tanh(v)`` first, which maps into that interval.  Ops whose kinks are
at ties or at constant slices (``spec.distinct``, ``kind == "reduce"``: max, std,
norms...) only see reused values through a *bridge*, ``reshape(ravel(v)[idx], shape) +
C``, with a constant ``C`` of distinct offsets, so no two elements coincide.

An op spec is any object with ``name``, ``fun`` (the funcgrad callable), ``ref`` (the
NumPy reference, same signature), ``shapes`` (a strategy drawing one shape per
argument), ``domains`` (one per argument: ``.intervals``, a tuple of ``(lo, hi)``, to
allow reuse; ``.sample(rng, shape)`` to draw), ``kind`` and ``draw_args(shapes, seed,
dtype)``; :class:`OpSpec` is a small one to write your own with.  funcgrad's test suite
passes the rows of its op table.  A failing program prints as Python source.

Examples:
    >>> import funcgrad.numpy as fnp
    >>> from hypothesis import given, settings
    >>> from funcgrad.testing.programs import OpSpec, programs, check_program
    >>> specs = [OpSpec("sin", fnp.sin, np.sin), OpSpec("mul", fnp.multiply, np.multiply, nargs=2)]
    >>> @settings(max_examples=5, deadline=None)
    ... @given(programs(specs, max_steps=3))
    ... def test_my_ops(program):
    ...     check_program(program, checks=("forward", "grad", "transpose"))
    >>> test_my_ops()

    Needs hypothesis (a test-time dependency); ``import funcgrad.testing`` does not.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

import funcgrad
import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad.errors import ArgumentError, GradientCheckError, ProgramCheckError
from funcgrad.testing._check import check_grads

__all__ = ["ALL_CHECKS", "DEFAULT_CHECKS", "Bridge", "Intervals", "OpSpec", "OpStep", "Program",
           "Squash", "check_program", "programs"]

F64, F32 = np.dtype(np.float64), np.dtype(np.float32)
_MARGIN = 0.02  # of an interval's width: how far inside its domain a reused value must stay
_MAX_ABS = 1e3  # a step whose output grows past this is not taken (finite differences degrade)


# -- op specs --------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Intervals:
    """A domain: values uniform on a union of open intervals (weighted by length).

    Examples:
        >>> Intervals(((-2.0, -0.2), (0.2, 2.0))).sample(np.random.default_rng(0), (2,)).shape
        (2,)
    """

    intervals: tuple[tuple[float, float], ...]

    def sample(self, rng: np.random.Generator, shape) -> np.ndarray:
        lengths = np.array([hi - lo for lo, hi in self.intervals])
        which = rng.choice(len(self.intervals), size=shape, p=lengths / lengths.sum())
        lo = np.array([lo for lo, _ in self.intervals])[which]
        return lo + lengths[which] * rng.uniform(0.02, 0.98, size=shape)


@dataclasses.dataclass(frozen=True)
class OpSpec:
    """One op for :func:`programs`: the funcgrad callable, its NumPy reference, where it is smooth.

    ``domains``: where the op is smooth, the same for every argument -- ``(lo, hi)`` or a
    union ``((lo, hi), ...)`` -- or domain objects (:class:`Intervals`), one per argument
    or one for all; ``shapes``: a strategy of argument-shape tuples (default: broadcastable
    shapes of up to 3 axes of up to 3 elements).

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> OpSpec("log", fnp.log, np.log, domains=(0.1, 3.0)).domains[0].intervals
        ((0.1, 3.0),)
    """

    name: str
    fun: Callable
    ref: Callable
    nargs: int = 1
    domains: Any = (-2.0, 2.0)
    shapes: st.SearchStrategy | None = None
    kind: str = "elementwise"
    distinct: bool = False

    def __post_init__(self) -> None:
        doms = self.domains
        if hasattr(doms, "sample"):  # one domain object for every argument
            doms = (doms,)
        elif not all(hasattr(d, "sample") for d in doms):  # (lo, hi), or a union of such pairs
            one = doms if isinstance(doms[0], tuple) else (doms,)
            doms = (Intervals(tuple((float(lo), float(hi)) for lo, hi in one)),)
        doms = tuple(doms) * self.nargs if len(doms) == 1 else tuple(doms)
        if len(doms) != self.nargs:
            raise ArgumentError(f"OpSpec {self.name!r}: {len(doms)} domains for {self.nargs} arguments")
        object.__setattr__(self, "domains", doms)
        if self.shapes is None:
            shapes = hnp.mutually_broadcastable_shapes(num_shapes=self.nargs, max_dims=3, max_side=3)
            object.__setattr__(self, "shapes", shapes.map(lambda b: b.input_shapes))

    def draw_args(self, shapes, seed: int, dtype) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        return [np.asarray(d.sample(rng, s), dtype) for d, s in zip(self.domains, shapes)]


# -- programs ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Const:
    """A constant argument: a Python float (printed inline) or a NumPy array ``C<k>``."""

    value: Any
    index: int = -1  # position among the program's array constants; -1 for a Python float


@dataclasses.dataclass(frozen=True)
class OpStep:
    """``outs = spec(*args)``: one op of the table (``spec.fun`` in funcgrad, ``spec.ref`` in NumPy)."""

    spec: Any
    args: tuple  # value numbers (int) and Const
    outs: tuple[int, ...]

    def apply(self, ns: Any, *xs: Any) -> Any:
        return (self.spec.ref if ns is np else self.spec.fun)(*xs)

    def expr(self, *args: str) -> str:
        f = self.spec.fun
        plain = getattr(f, "__module__", "").startswith("funcgrad") and hasattr(fnp, getattr(f, "__name__", "<"))
        return f"{f'fnp.{f.__name__}' if plain else f'OPS[{self.spec.name!r}]'}({', '.join(args)})"


@dataclasses.dataclass(frozen=True)
class Squash:
    """``c + r * tanh(v)``: maps any value into ``(c - r, c + r)``, inside the next op's domain."""

    c: float
    r: float
    args: tuple
    outs: tuple[int, ...]

    def apply(self, ns: Any, v: Any) -> Any:
        return self.c + self.r * ns.tanh(v)

    def expr(self, v: str) -> str:
        return f"{self.c!r} + {self.r!r} * fnp.tanh({v})"


@dataclasses.dataclass(frozen=True)
class Bridge:
    """``reshape(ravel(v)[index], shape) + C``: a slice (or a repeating gather) to another shape.

    ``C`` holds distinct offsets, so no two elements of the result coincide.
    """

    index: Any  # a slice, or a tuple of flat indices
    shape: tuple[int, ...]
    args: tuple  # (v, C)
    outs: tuple[int, ...]

    def apply(self, ns: Any, v: Any, c: Any) -> Any:
        index = self.index if isinstance(self.index, slice) else list(self.index)
        return ns.reshape(ns.ravel(v)[index], self.shape) + c

    def expr(self, v: str, c: str) -> str:
        index = f"[:{self.index.stop}]" if isinstance(self.index, slice) else f"[{list(self.index)}]"
        return f"fnp.reshape(fnp.ravel({v}){index}, {self.shape}) + {c}"


@dataclasses.dataclass(frozen=True)
class Program:
    """A straight-line program of ops on arrays; ``fn`` runs it in funcgrad, ``reference`` in NumPy.

    ``inputs`` are the concrete float64 arguments it was drawn with, ``expected`` the NumPy
    reference program's outputs there, ``scale`` the largest magnitude of any value it
    computes.  ``repr(program)`` is its Python source (``def f(x0, x1): ...``) with the
    inputs, which is what hypothesis prints for a failing example.
    """

    steps: tuple[OpStep | Squash | Bridge, ...]
    input_ids: tuple[int, ...]  # the value number of each argument
    outputs: tuple[int, ...]
    constants: tuple[np.ndarray, ...]
    inputs: tuple[np.ndarray, ...]
    expected: tuple[np.ndarray, ...]
    scale: float

    def run(self, ns: Any, args: Sequence[Any]) -> Any:
        """Evaluate with ``ns`` (``funcgrad.numpy`` or ``numpy``); one output, or a tuple of them."""
        dtype = np.result_type(*[getattr(a, "dtype", F64) for a in args])
        env: dict[int, Any] = dict(zip(self.input_ids, args))

        def arg(a):
            if not isinstance(a, Const):
                return env[a]
            return a.value if a.index < 0 else self.constants[a.index].astype(dtype)

        for s in self.steps:
            out = s.apply(ns, *[arg(a) for a in s.args])
            leaves = list(out) if isinstance(out, (tuple, list)) else [out]
            env.update(zip(s.outs, leaves))
        outs = tuple(env[k] for k in self.outputs)
        return outs[0] if len(outs) == 1 else outs

    def fn(self, *args: Any) -> Any:
        """The program as a funcgrad function of its inputs."""
        return self.run(fnp, args)

    def reference(self, *args: Any) -> Any:
        """The same program on NumPy (each op's ``ref``)."""
        return self.run(np, args)

    def source(self) -> str:
        """Python source of the program (``OPS[name]`` is the spec of that name's ``fun``)."""
        names = {k: f"x{i}" for i, k in enumerate(self.input_ids)}
        for k in sorted(k for s in self.steps for k in s.outs):
            names[k] = f"v{len(names) - len(self.input_ids)}"

        def name(a):
            if isinstance(a, Const):
                return repr(a.value) if a.index < 0 else f"C{a.index}"
            return names[a]

        lines = [f"C{k} = {_array_source(c)}  # cast to the inputs' dtype"
                 for k, c in enumerate(self.constants)]
        lines.append(f"def f({', '.join(name(k) for k in self.input_ids)}):")
        for s in self.steps:
            lines.append(f"    {', '.join(name(k) for k in s.outs)} = {s.expr(*[name(a) for a in s.args])}")
        lines.append(f"    return {', '.join(name(k) for k in self.outputs)}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        values = "\n".join(f"x{k} = {_array_source(x)}" for k, x in enumerate(self.inputs))
        return f"\n{self.source()}\n# inputs:\n{values}\n"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # how hypothesis prints examples
        printer.text(repr(self))


# -- drawing a program ---------------------------------------------------------------------
class _Builder:
    """The program so far: each value's number is its index in ``values`` (concrete, float64)."""

    def __init__(self, max_inputs: int, max_input_size: int):
        self.values: list[np.ndarray] = []
        self.input_ids: list[int] = []
        self.steps: list[Step] = []
        self.constants: list[np.ndarray] = []
        self.used: set[int] = set()
        self.max_inputs, self.max_input_size = max_inputs, max_input_size


class _Draft:
    """One step's additions to a :class:`_Builder`, kept apart until the reference accepts the op."""

    def __init__(self, b: _Builder):
        self.b = b
        self.values: list[np.ndarray] = []
        self.input_ids: list[int] = []
        self.steps: list[Step] = []
        self.constants: list[np.ndarray] = []

    def value(self, a) -> Any:
        if isinstance(a, Const):
            return a.value
        n = len(self.b.values)
        return self.b.values[a] if a < n else self.values[a - n]

    def new(self, v: np.ndarray) -> int:
        self.values.append(v)
        return len(self.b.values) + len(self.values) - 1

    def input(self, x: np.ndarray) -> int:
        k = self.new(x)
        self.input_ids.append(k)
        return k

    def constant(self, c: np.ndarray) -> Const:
        self.constants.append(c)
        return Const(c, len(self.b.constants) + len(self.constants) - 1)

    def bridge(self, k: int, shape: tuple, seed: int) -> int:
        """``reshape(ravel(v)[idx], shape) + C``: a slice (or a gather, repeating) and distinct offsets."""
        v, n = self.value(k), int(np.prod(shape, dtype=np.int64))
        idx = slice(None, n) if n <= v.size else tuple(int(j) for j in np.arange(n) % v.size)
        perm = np.random.default_rng(seed).permutation(n)
        c = self.constant(np.round((perm - (n - 1) / 2) * (0.4 / max(n, 1)), 3).reshape(shape))
        k2 = self.new(np.reshape(np.ravel(v)[idx if isinstance(idx, slice) else list(idx)], shape) + c.value)
        self.steps.append(Bridge(idx, shape, (k, c), (k2,)))
        return k2

    def squash(self, k: int, lo: float, hi: float) -> int:
        """``c + r * tanh(v)``, into ``(lo, hi)`` with a 5% margin each side."""
        c, r = round((lo + hi) / 2, 3), round(0.45 * (hi - lo), 3)
        k2 = self.new(c + r * np.tanh(self.value(k)))
        self.steps.append(Squash(c, r, (k,), (k2,)))
        return k2

    def room(self) -> bool:
        b, new = self.b, [self.value(k) for k in self.input_ids]
        size = sum(b.values[k].size for k in b.input_ids) + sum(x.size for x in new)
        return len(b.input_ids) + len(new) <= b.max_inputs and size <= b.max_input_size

    def commit(self, spec, args: list, out: list[np.ndarray]) -> None:
        first = len(self.b.values) + len(self.values)
        self.values += out
        self.steps.append(OpStep(spec, tuple(args), tuple(range(first, first + len(out)))))
        b = self.b
        b.values += self.values
        b.input_ids += self.input_ids
        b.steps += self.steps
        b.constants += self.constants
        b.used.update(a for s in self.steps for a in s.args if not isinstance(a, Const))


def _try(f, *xs):
    """``f(*xs)`` as a list of float64 leaves, or ``None`` if it fails, warns, or leaves range."""
    try:
        with warnings.catch_warnings(), np.errstate(all="raise"):
            warnings.simplefilter("error")
            out = f(*xs)
    except Exception:  # noqa: BLE001 -- any failure of the reference means: do not take this step
        return None
    leaves = [np.asarray(o) for o in (out if isinstance(out, (tuple, list)) else [out])]
    if not leaves or any(o.dtype != F64 or not np.all(np.abs(o) < _MAX_ABS) for o in leaves):
        return None
    return leaves


def _broadcasts(shape: tuple, shapes: list[tuple]) -> bool:
    try:
        np.broadcast_shapes(shape, *shapes)
    except ValueError:
        return False
    return True


def _fits(v: np.ndarray, lo: float, hi: float) -> bool:
    m = _MARGIN * (hi - lo)
    return v.size > 0 and lo + m < v.min() and v.max() < hi - m


@st.composite
def _step(draw, b: _Builder, specs) -> None:
    """Draw one op and its arguments; add it to ``b`` (with its squashes and bridges) if NumPy takes it."""
    spec = draw(st.sampled_from(specs), label="op")
    shapes = [tuple(s) for s in draw(spec.shapes, label="shapes")]
    fresh = spec.draw_args(shapes, draw(st.integers(0, 2**32 - 1), label="seed"), F64)
    elementwise = spec.kind == "elementwise"
    # Reuse weighs most: composition is what single-op tests do not see.
    sources = ["reuse"] * 3 + ["input"] * 2 + ["const"] if b.values else ["input", "const"]
    plan = [draw(st.sampled_from(sources), label=f"arg {i}") for i in range(len(shapes))]
    if all(p == "const" for p in plan):
        plan[0] = "input"
    draft = _Draft(b)
    args: list = []
    for i, (shape, x, how) in enumerate(zip(shapes, fresh, plan)):
        intervals = getattr(spec.domains[i], "intervals", None)
        k = None
        if how == "reuse":  # counted from the newest value, so shrinking deepens the chain
            k = len(b.values) - 1 - draw(st.integers(0, len(b.values) - 1), label="reuse")
        if k is not None and intervals is not None and b.values[k].size:
            as_is = b.values[k].shape == shape or (
                elementwise and _broadcasts(b.values[k].shape, shapes)
                and draw(st.booleans(), label="broadcast"))
            if spec.distinct or spec.kind == "reduce" or not as_is:
                k = draft.bridge(k, shape, draw(st.integers(0, 2**16), label="offsets"))
            lo, hi = intervals[draw(st.integers(0, len(intervals) - 1), label="interval")]
            args.append(k if _fits(draft.value(k), lo, hi) else draft.squash(k, lo, hi))
        elif how == "const":
            if shape == () and elementwise and draw(st.booleans(), label="python scalar"):
                args.append(Const(round(float(x), 3)))
            else:
                args.append(draft.constant(np.round(x, 3)))
        else:
            args.append(draft.input(x))
    out = _try(spec.ref, *[draft.value(a) for a in args]) if draft.room() else None
    if out is None and plan != ["input"] * len(shapes):  # the op on fresh inputs of its own shapes
        draft = _Draft(b)
        args = [draft.input(x) for x in fresh]
        out = _try(spec.ref, *fresh) if draft.room() else None
    if out is not None:
        draft.commit(spec, args, out)


@st.composite
def programs(draw, specs: Sequence[Any], *, min_steps: int = 1, max_steps: int = 5,
             max_inputs: int = 3, max_input_size: int = 32) -> Program:
    """A strategy of :class:`Program` s of ``min_steps..max_steps`` ops drawn from ``specs``.

    At most ``max_inputs`` arguments of ``max_input_size`` elements in all (the cost of a
    finite-difference check grows with it).  Each op's arguments are new inputs, earlier
    values (squashed into its domain, bridged to its shape) or constants; the outputs are
    the values nothing else uses.  A step the NumPy reference rejects (shapes that do not
    broadcast, values out of range) is retried on fresh inputs, or left out.

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=3, deadline=None)
        ... @given(programs([OpSpec("exp", fnp.exp, np.exp), OpSpec("add", fnp.add, np.add, nargs=2)]))
        ... def test_forward(program):
        ...     check_program(program, checks=("forward",))
        >>> test_forward()
    """
    specs = list(specs)
    if not specs:
        raise ArgumentError("programs: specs is empty; pass the op specs to compose")
    b = _Builder(max_inputs, max_input_size)
    for _ in range(draw(st.integers(min_steps, max_steps), label="steps")):
        draw(_step(b, specs))
    assume(b.steps)  # every drawn op was rejected (rare): not a program
    inputs = set(b.input_ids)
    outputs = tuple(k for k in range(len(b.values)) if k not in b.used and k not in inputs)
    values = b.values
    return Program(tuple(b.steps), tuple(b.input_ids), outputs, tuple(b.constants),
                   tuple(values[k] for k in b.input_ids), tuple(values[k] for k in outputs),
                   float(max(np.max(np.abs(v), initial=0.0) for v in values)))


# -- checking a program ----------------------------------------------------------------------
def _leaves(out: Any) -> list[np.ndarray]:
    return [np.asarray(o) for o in tree.leaves(out)]


def _compare(program: Program, what: str, got, expected, rtol: float, atol: float,
             dtypes: bool = True) -> None:
    """Leaf by leaf: same shape (and dtype), values within ``atol + rtol * |expected|``."""
    got, expected = _leaves(got), _leaves(expected)
    if len(got) != len(expected):
        raise ProgramCheckError(f"{what}: {len(got)} outputs, expected {len(expected)}{program!r}")
    for i, (g, e) in enumerate(zip(got, expected)):
        if g.shape != e.shape or (dtypes and g.dtype != e.dtype):
            raise ProgramCheckError(f"{what}: output {i} is {g.dtype}{list(g.shape)}, expected "
                                    f"{e.dtype}{list(e.shape)}{program!r}")
        bad = ~(np.abs(g.astype(F64) - e.astype(F64)) <= atol + rtol * np.abs(e.astype(F64)))
        if bad.any():
            j = tuple(int(n) for n in np.argwhere(bad)[0])
            raise ProgramCheckError(
                f"{what}: output {i} disagrees at {j}: {g[j]!r} vs {e[j]!r} (rtol={rtol:g}, "
                f"atol={atol:.3g}; {int(bad.sum())} of {bad.size} elements){program!r}")


def _weights(program: Program, dtype) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.standard_normal(e.shape).astype(dtype) for e in program.expected]


def _gradient(program: Program, fn: Callable | None = None) -> Callable:
    """``x -> grad of sum(w * f(x))`` for fixed random weights, w.r.t. every input."""
    fn = fn or program.fn

    def scalar(*xs):
        total = 0.0
        for o, w in zip(tree.leaves(fn(*xs)), _weights(program, xs[0].dtype)):
            total = total + fnp.sum(o * w)
        return total

    return funcgrad.grad(scalar, argnums=tuple(range(len(program.inputs))))


def _grad_scale(grads) -> float:
    return max([1.0] + [float(np.max(np.abs(g), initial=0.0)) for g in _leaves(grads)])


def _check_forward(p: Program, projections: int | None) -> None:
    _compare(p, "forward (funcgrad eager vs the NumPy reference)", p.fn(*p.inputs), p.expected,
             1e-9, 1e-12 * max(1.0, p.scale))


def _check_grad(p: Program, projections: int | None) -> None:
    try:
        check_grads(p.fn, p.inputs, order=2, projections=projections)
    except GradientCheckError as e:
        raise GradientCheckError(f"{e}\nin the program:{p!r}") from None


def _check_transpose(p: Program, projections: int | None) -> None:
    rng = np.random.default_rng(2)
    out, pullback = funcgrad.vjp(p.fn, *p.inputs)
    ct = tree.unflatten(tree.structure(out), [rng.standard_normal(e.shape) for e in p.expected])
    cts = pullback(ct)
    t = [rng.standard_normal(x.shape) for x in p.inputs]
    _, tangent = funcgrad.jvp(p.fn, p.inputs, t)
    lhs = [float(np.sum(c * x)) for c, x in zip(_leaves(cts), t)]
    rhs = [float(np.sum(u * y)) for u, y in zip(tree.leaves(ct), _leaves(tangent))]
    scale = sum(abs(v) for v in lhs + rhs) + 1.0
    if not abs(sum(lhs) - sum(rhs)) <= 1e-9 * scale:
        raise GradientCheckError(
            f"jvp and vjp are not transposes: <vjp(u), t> = {sum(lhs)!r} but <u, jvp(t)> = "
            f"{sum(rhs)!r} for random u, t (seed 2){p!r}")


def _check_jit(p: Program, projections: int | None) -> None:
    # The NumPy backend: this checks tracing, the optimiser and the executor; ``numba`` the kernels.
    tol = 1e-9
    jit = funcgrad.jit(p.fn, backend="numpy")
    _compare(p, "jit vs eager", jit(*p.inputs), p.fn(*p.inputs), tol, tol * max(1.0, p.scale))
    grad = _gradient(p)
    eager = grad(*p.inputs)
    _compare(p, "jit(grad) vs grad", funcgrad.jit(grad, backend="numpy")(*p.inputs), eager, tol,
             tol * _grad_scale(eager))


def _check_vmap(p: Program, projections: int | None) -> None:
    rng = np.random.default_rng(3)
    batch = [p.inputs] + [tuple(x * (1 + 1e-3 * rng.uniform(-1, 1, x.shape)) for x in p.inputs)]
    stacked = [np.stack(xs) for xs in zip(*batch)]
    tol = 1e-9
    for what, f in (("vmap vs a loop", p.fn), ("vmap(grad) vs a loop", _gradient(p))):
        outs = [_leaves(f(*xs)) for xs in batch]
        loop = [np.stack(o) for o in zip(*outs)]
        _compare(p, what, funcgrad.vmap(f)(*stacked), loop, tol, tol * _grad_scale(loop))


def _check_float32(p: Program, projections: int | None) -> None:
    x32 = [x.astype(F32) for x in p.inputs]
    at = [x.astype(F64) for x in x32]  # float64 at the same (rounded) point
    dtypes = [e.dtype for e in _leaves(p.reference(*x32))]
    got = _leaves(p.fn(*x32))
    if [g.dtype for g in got] != dtypes:
        raise ProgramCheckError(f"float32: output dtypes {[g.dtype.name for g in got]}, NumPy gives "
                                f"{[d.name for d in dtypes]}{p!r}")
    _compare(p, "float32 vs float64", got, p.reference(*at), 1e-3, 1e-3 * max(1.0, p.scale), dtypes=False)
    grad = _gradient(p)
    g32, g64 = grad(*x32), grad(*at)
    if any(g.dtype != F32 for g in _leaves(g32)):
        raise ProgramCheckError(f"float32: gradient dtypes {[g.dtype.name for g in _leaves(g32)]}{p!r}")
    _compare(p, "float32 vs float64 gradient", g32, g64, 1e-2, 1e-2 * _grad_scale(g64), dtypes=False)


def _check_numba(p: Program, projections: int | None) -> None:
    tol = 1e-9
    for what, f in (("numba vs numpy backend", p.fn), ("numba vs numpy backend, gradient", _gradient(p))):
        expected = funcgrad.jit(f, backend="numpy")(*p.inputs)
        _compare(p, what, funcgrad.jit(f, backend="numba")(*p.inputs), expected, tol,
                 tol * _grad_scale(expected))


def _array_source(x: np.ndarray) -> str:
    """Source that rebuilds ``x``'s values and shape (``np.zeros((0, 2))`` for an empty one:
    ``np.array([])`` would lose the shape)."""
    if x.size == 0:
        return f"np.zeros({tuple(x.shape)!r})"
    return f"np.array({x.tolist()!r})"


_CHECKS: dict[str, Callable[[Program, int | None], None]] = {
    "forward": _check_forward, "grad": _check_grad, "transpose": _check_transpose,
    "jit": _check_jit, "vmap": _check_vmap, "float32": _check_float32, "numba": _check_numba,
}
#: Every check :func:`check_program` knows; ``numba`` needs the Numba backend (and compiles).
ALL_CHECKS: tuple[str, ...] = tuple(_CHECKS)
#: The checks run by default: all but ``numba``.
DEFAULT_CHECKS: tuple[str, ...] = tuple(c for c in ALL_CHECKS if c != "numba")


def check_program(program: Program, checks: Sequence[str] = DEFAULT_CHECKS, *,
                  projections: int | None = None) -> None:
    """Run ``checks`` (names from :data:`ALL_CHECKS`) on ``program`` at its inputs.

    ``forward``: funcgrad eager against the NumPy reference program; ``grad``:
    :func:`~funcgrad.testing.check_grads` at order 2, reverse and forward mode (element
    by element, or along ``projections`` random directions); ``transpose``:
    ``<u, jvp(t)> == <vjp(u), t>``; ``jit``: ``jit(backend="numpy")`` against eager, value
    and gradient;
    ``vmap``: over two stacked input sets against a loop, value and gradient; ``float32``: dtypes as NumPy's, values and gradient within
    float32 accuracy of float64 at the same point; ``numba``: ``jit(backend="numba")``
    against ``backend="numpy"``.  Raises :class:`~funcgrad.errors.GradientCheckError`
    (derivatives) or :class:`~funcgrad.errors.ProgramCheckError`, with the program's source.

    Examples:
        >>> import funcgrad.numpy as fnp
        >>> from hypothesis import find
        >>> program = find(programs([OpSpec("tanh", fnp.tanh, np.tanh)]), lambda p: True)
        >>> check_program(program)
    """
    unknown = [c for c in checks if c not in _CHECKS]
    if isinstance(checks, str) or unknown:
        raise ArgumentError(f"check_program: checks must be a sequence of names from "
                            f"{list(ALL_CHECKS)}, got {checks!r}")
    for name in checks:
        try:
            _CHECKS[name](program, projections)
        except (GradientCheckError, ProgramCheckError):
            raise  # their messages hold the program already
        except Exception as e:  # funcgrad itself failed: say on which program
            e.add_note(f"check_program: while running the {name!r} check on the program{program!r}")
            raise
