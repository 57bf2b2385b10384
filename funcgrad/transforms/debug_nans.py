"""``debug_nans``: raise :class:`~funcgrad.errors.NonFiniteError` at the first NaN or infinity.

Nothing here runs while the option is off: turning it on *swaps* checking variants
into place, and turning it off swaps the originals back, so the eager hot path
(binders, :meth:`ConcreteTrace.process`, :func:`~funcgrad.transforms.grad.backward_pass`)
never tests a flag.  What is swapped in:

* every primitive's ``impl`` gets a wrapper that checks its result (eager calls, and the
  forward pass under ``grad``/``vjp``/``vmap``, which run the implementations);
* ``vjp`` functions run :func:`checked_backward_pass`, which checks each VJP rule's
  cotangents and names the rule's forward operation and its line;
* :class:`JVPTrace` checks each operation's value and tangent;
* jitted calls go through :func:`checked_jit_call`: the outputs are checked, and a
  non-finite value is located by re-running the call eagerly, op by op.

Integer and boolean results are never checked; complex ones on both parts.  Inside
derivative rules only the rule's result is checked, not the intermediate values it
is built from, so the deliberate infinities of a masked rule (the VJP of
``where(x > 0, sqrt(x), 0.0)`` at 0) do not raise.

Examples:
    >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
    >>> with fg.debug_nans():
    ...     try:
    ...         fnp.log(np.array(-1.0))
    ...     except FloatingPointError as e:
    ...         print(e.primitive, e.kind)
    log NaN
"""

from __future__ import annotations

import cmath
import gc
import importlib
import math
import sys
import threading

import numpy as np

from funcgrad import tree
from funcgrad._core.graph import type_string
from funcgrad._core.primitive import Primitive
from funcgrad._core.trace import Tracer, user_location
from funcgrad.errors import NonFiniteError
from funcgrad.transforms.jvp import JVPTrace, JVPTracer

_grad = importlib.import_module("funcgrad.transforms.grad")  # (the package's `grad` is the function)
_active = False                     # read by the wrappers (also by stale ones compiled into executables)
_wrapped: list = []                 # (primitive, its own impl) for each wrapped primitive
_local = threading.local()          # .quiet: depth of derivative rules whose intermediates are not checked
_original_init = Primitive.__init__
_original_jvp_process = JVPTrace.process
_DUMMY_EVAL = Primitive._dummy_eval.__code__


def debug_nans(enabled: bool = True):
    """A context manager (and decorator) that turns the ``debug_nans`` option on (or, with
    ``debug_nans(False)``, off) inside its block; the previous setting returns on exit.

    Examples:
        >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
        >>> with fg.debug_nans():
        ...     with fg.debug_nans(False):  # a block that makes NaNs on purpose
        ...         print(fnp.sqrt(np.array(-1.0)))
        nan
    """
    from funcgrad.config import _Option

    return _Option("debug_nans", bool(enabled))


# -- what counts -----------------------------------------------------------------------
def nonfinite(x) -> str | None:
    """``"NaN"``, ``"+inf"`` or ``"-inf"`` when the floating or complex value ``x`` has one (the
    first of those found, in that order), else ``None``; tracers are checked through their value.

    Examples:
        >>> nonfinite(np.array([1.0, -np.inf])), nonfinite(np.arange(3)), nonfinite(1.0)
        ('-inf', None, None)
    """
    while isinstance(x, Tracer):
        x = x._value
    if isinstance(x, (np.ndarray, np.generic)):
        if x.dtype.kind not in "fc" or np.isfinite(x).all():
            return None
        if np.isnan(x).any():
            return "NaN"
        parts = (x.real, x.imag) if x.dtype.kind == "c" else (x,)
        return "+inf" if any(np.isposinf(p).any() for p in parts) else "-inf"
    if type(x) is float:
        return None if math.isfinite(x) else nonfinite(np.float64(x))
    if type(x) is complex:
        return None if cmath.isfinite(x) else nonfinite(np.complex128(x))
    if type(x) in (tuple, list):  # an operation with several results
        for item in x:
            kind = nonfinite(item)
            if kind is not None:
                return kind
    return None


def _describe(a) -> str:
    if hasattr(a, "shape") and hasattr(a, "dtype"):
        return type_string(a.shape, a.dtype)
    return f"{type(a).__name__} {a!r:.20}"


def _operation(prim, args, params) -> str:
    extra = "".join(f", {k}={v!r:.40}" for k, v in params.items())
    return f"{prim.name}({', '.join(_describe(a) for a in args)}{extra})"


def _at(loc) -> str:
    return f"{loc[0]}:{loc[1]}" if loc else "an unknown line"


def _error(message: str, kind: str, primitive: str, where, **extra) -> NonFiniteError:
    """A :class:`NonFiniteError` with attributes for programs: ``kind``, ``primitive``, ``where``
    (the user's ``(file, line)``) and, in the backward pass, ``forward`` (the forward op's name)
    and ``forward_where``."""
    err = NonFiniteError(message)
    err.kind, err.primitive, err.where = kind, primitive, where
    err.forward = extra.get("forward")
    err.forward_where = extra.get("forward_where")
    err.detail = extra.get("detail", message)
    return err


def _quiet() -> bool:
    return getattr(_local, "quiet", 0) > 0


class _Quiet:
    """Inside the block, the implementations' wrappers do not raise (derivative rules)."""

    def __enter__(self):
        _local.quiet = getattr(_local, "quiet", 0) + 1

    def __exit__(self, *exc):
        _local.quiet -= 1


def _from_abstract_eval(frame) -> bool:
    """Whether the implementation was called by ``Primitive._dummy_eval`` (shape inference on
    zero dummies, where ``0 / 0`` is expected)."""
    for _ in range(3):
        if frame is None:
            return False
        if frame.f_code is _DUMMY_EVAL:
            return True
        frame = frame.f_back
    return False


# -- forward: the implementations --------------------------------------------------------
def _wrap(prim: Primitive) -> None:
    impl = prim.__dict__.get("impl")
    if impl is None or getattr(impl, "_funcgrad_checked", False):
        return

    def checked(*args, **params):
        out = impl(*args, **params)
        if _active:
            kind = nonfinite(out)
            if kind is not None and not _quiet() and not _from_abstract_eval(sys._getframe(1)):
                loc = user_location()
                op = _operation(prim, args, params)
                raise _error(f"debug_nans: {op} produced {kind} at {_at(loc)}. (Turn the check "
                             "off around code that makes non-finite values on purpose with "
                             "`with funcgrad.debug_nans(False):`.)", kind, prim.name, loc,
                             detail=f"{op} produced {kind}")
        return out

    checked._funcgrad_checked = True
    checked.__wrapped__ = impl
    prim.impl = checked
    _wrapped.append((prim, impl))


def _init_and_wrap(self, *args, **kwargs) -> None:
    _original_init(self, *args, **kwargs)
    _wrap(self)


def _checked_jvp_process(self, prim, args, params):
    with _Quiet():  # the rule's intermediates are not checked, its results are
        out = _original_jvp_process(self, prim, args, params)
    kind = nonfinite(out)
    what = "produced"
    if kind is None and isinstance(out, JVPTracer):
        kind, what = nonfinite(out._tangent), "has a tangent (forward-mode derivative) with"
    if kind is not None:
        loc = user_location()
        op = _operation(prim, self.unpack(args, JVPTracer, "_tangent")[0], params)
        raise _error(f"debug_nans: under jvp, {op} {what} {kind} at {_at(loc)}.", kind,
                     prim.name, loc)
    return out


# -- backward ------------------------------------------------------------------------------
def checked_backward_pass(tape: list, seeds: list) -> dict:
    """:func:`~funcgrad.transforms.grad.backward_pass`, checking every VJP rule's cotangents.

    Each tape entry runs through the plain backward pass on its own; the cotangents it
    gives its inputs (and their sums) are checked, and a non-finite one raises naming the
    rule, its forward operation and that operation's line.
    """
    backward_pass = _grad.backward_pass
    cts: dict = {}
    for node, ct in seeds:
        prev = cts.get(node)
        cts[node] = ct if prev is None else prev + ct
    for entry in reversed(tape):
        node = entry[0]
        g = cts.pop(node, None)
        if g is None:
            continue
        with _Quiet():
            local = backward_pass([entry], [(node, g)])
            for inp, ct in local.items():
                prev = cts.get(inp)
                cts[inp] = ct if prev is None else prev + ct
        for inp in local:
            kind = nonfinite(cts[inp])
            if kind is not None:
                raise _backward_error(entry, inp, kind, nonfinite(local[inp]) is None)
    return cts


def _backward_error(entry, inp, kind: str, from_sum: bool) -> NonFiniteError:
    node, args, _, params = entry
    prim = node.primitive
    i = next(k for k, n in enumerate(node.inputs) if n is inp)
    fwd_loc = node.where
    op = _operation(prim, args, params)
    how = (f"adding its cotangent for operand {i} to the other contributions gives {kind}"
           if from_sum else f"the cotangent of operand {i} ({_describe(args[i])}) is {kind}")
    run_at = user_location()
    return _error(
        f"debug_nans: {kind} in the backward pass, in the VJP of {prim.name}: {how}. The forward "
        f"operation is {op} at {_at(fwd_loc)}, whose values were finite; its derivative is "
        f"not (the backward pass was run at {_at(run_at)}).",
        kind, prim.name, fwd_loc, forward=prim.name, forward_where=fwd_loc,
        detail=f"the VJP of {op} gave {kind}")


# -- jit ----------------------------------------------------------------------------------
def checked_jit_call(jitted, args: tuple, kwargs: dict):
    """Run a jitted call, check its outputs, and locate a non-finite one by re-running op by op."""
    from funcgrad.config import eager_jit
    from funcgrad.transforms.jit import compiled_call

    name = f"jit({jitted.__name__})"
    try:
        out = compiled_call(jitted, *args, **kwargs)
    except NonFiniteError as e:  # a checked kernel inside the executable, or an inlined op
        kind, found = e.kind, f"produced {e.kind} inside its compiled code ({e.detail})"
    else:
        kind = found = None
        for i, leaf in enumerate(tree.leaves(out)):
            if isinstance(leaf, Tracer):
                continue  # inlined into an enclosing trace, which checked each operation
            kind = nonfinite(leaf)
            if kind is not None:
                found = f"returned {kind} in output leaf {i} ({_describe(leaf)})"
                break
        if found is None:
            return out
    try:
        with eager_jit():
            jitted.fun(*args, **kwargs)
    except NonFiniteError as e:
        first = str(e).removeprefix("debug_nans: ")
        raise _error(f"debug_nans: {name} {found}. Re-running it op by op located the first "
                     f"non-finite value: {first}", e.kind, e.primitive, e.where,
                     forward=e.forward, forward_where=e.forward_where, detail=e.detail) from e
    raise _error(
        f"debug_nans: {name} {found}, but re-running it op by op (eagerly, each operation "
        "with its NumPy reference) gave finite values everywhere: the compiled code computes "
        "this value differently (fused loops, reassociated sums, another backend's kernels), "
        f"so no operation can be blamed. Compare with jit({jitted.__name__}, backend='numpy') "
        "or run it under funcgrad.disable_jit().", kind, None, user_location())


# -- switching -------------------------------------------------------------------------------
def install() -> None:
    """Swap the checking variants in (``funcgrad.config.update("debug_nans", True)`` calls this)."""
    global _active
    if _active:
        return
    for obj in gc.get_objects():
        # type(), not isinstance(): isinstance asks a dead weakref.proxy (numba.cuda's
        # simulator leaves some) for its __class__, which raises ReferenceError.
        if issubclass(type(obj), Primitive):
            _wrap(obj)
    Primitive.__init__ = _init_and_wrap  # primitives made while the option is on
    JVPTrace.process = _checked_jvp_process
    _grad.run_backward_pass = checked_backward_pass
    _active = True


def uninstall() -> None:
    """Swap the originals back."""
    global _active
    if not _active:
        return
    _active = False
    _grad.run_backward_pass = _grad.backward_pass
    JVPTrace.process = _original_jvp_process
    Primitive.__init__ = _original_init
    for prim, impl in _wrapped:
        if getattr(prim.__dict__.get("impl"), "__wrapped__", None) is impl:
            prim.impl = impl
    _wrapped.clear()


__all__ = ["checked_backward_pass", "checked_jit_call", "debug_nans", "install", "nonfinite",
           "uninstall"]
