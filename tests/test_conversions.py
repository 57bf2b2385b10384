"""Conversions of traced values that would drop a derivative raise (issue 10, item 1).

Under every transformation, a traced float or complex value that reaches ``float()``,
``int()``, ``complex()``, ``operator.index``, ``.item()``, ``.tolist()``, ``round()``, a
``math`` function, a NumPy scalar type or ``__array__`` (``np.asarray``, assignment into
a NumPy array) raises: :class:`TracerConversionError` where the value exists (grad, jvp
and what is built on them), :class:`ConcretizationError` where it does not (jit, vmap).
Each message names the operation, the line of this file that did it, and the fix.
``bool()``, integer values, values that do not depend on the inputs and
``stop_gradient`` (the escape hatch) convert as before.
"""

import inspect
import math
import operator
import os

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._core.trace import Tracer
from funcgrad.errors import ConcretizationError, TracerConversionError, TracerLeakError

HERE = os.path.basename(__file__)


def conversion_line(fn) -> str:
    """``test_conversions.py:N`` for the line of ``fn`` marked ``# converts``."""
    lines, first = inspect.getsourcelines(fn)
    (offset,) = [i for i, text in enumerate(lines) if "# converts" in text]
    return f"{HERE}:{first + offset}"


# -- the conversion paths: each converts its (scalar, float) argument on the marked line ------

def to_float(x):
    return x * float(x)  # converts


def to_int(x):
    return x * int(x)  # converts


def to_complex(x):
    return x * complex(x).real  # converts


def to_index(x):
    return x * operator.index(x)  # converts


def to_item(x):
    return x * x.item()  # converts


def to_list(x):
    return x * x.tolist()  # converts


def to_round(x):
    return x * round(x)  # converts


def math_exp(x):
    return x * math.exp(x)  # converts


def math_sin(x):
    return x * math.sin(x)  # converts


def np_float64(x):
    return x * np.float64(x)  # converts


def np_float32(x):
    return x * np.float32(x)  # converts


def np_asarray(x):
    return x * np.asarray(x)  # converts


def np_array(x):
    return x * np.array(x)  # converts


def into_buffer(x):
    out = np.zeros(1)
    out[0] = x  # converts
    return x * fnp.sum(out)


def into_buffer_slice(x):
    out = np.zeros(1)
    out[:] = x  # converts
    return x * fnp.sum(out)


# (function, the operation its message names, a fix its message suggests)
PATHS = {
    "float": (to_float, "float()", "fnp.exp instead of math.exp"),
    "int": (to_int, "int()", "funcgrad.numpy"),
    "complex": (to_complex, "complex()", "funcgrad.numpy"),
    "operator.index": (to_index, "operator.index()", "funcgrad.numpy"),
    "item": (to_item, "item()", "funcgrad.numpy"),
    "tolist": (to_list, "tolist()", "funcgrad.numpy"),
    "round": (to_round, "round()", "funcgrad.numpy"),
    "math.exp": (math_exp, "math.exp()", "fnp.exp instead of math.exp"),
    "math.sin": (math_sin, "math.sin()", "fnp.sin instead of math.sin"),
    "np.float64": (np_float64, "np.float64()", "x.astype(np.float64)"),
    "np.float32": (np_float32, "np.float32()", "x.astype(np.float32)"),
    "np.asarray": (np_asarray, "np.asarray()", "funcgrad.numpy"),
    "np.array": (np_array, "np.asarray()", "funcgrad.numpy"),
    "out[i] = x": (into_buffer, "assigns into an array", "fnp.at(out)[i].set(v)"),
    "out[:] = x": (into_buffer_slice, "assigns into an array", "fnp.at(out)[i].set(v)"),
}

X = np.array(1.5)
XS = np.array([1.5, 2.5])  # a batch of two for vmap


def _scalar(f):
    return lambda x: fnp.sum(f(x))


# (how to run f on a float input, the error, a fix only that kind of error gives)
CONCRETE = (TracerConversionError, "stop_gradient")
ABSTRACT = (ConcretizationError, "static_argnums")
BATCHED = (ConcretizationError, "varies over the batch")
TRANSFORMS = {
    "grad": (lambda f: fg.grad(_scalar(f))(X), *CONCRETE),
    "value_and_grad": (lambda f: fg.value_and_grad(_scalar(f))(X), *CONCRETE),
    "vjp": (lambda f: fg.vjp(f, X)[1](X), *CONCRETE),
    "jvp": (lambda f: fg.jvp(f, (X,), (X,)), *CONCRETE),
    "jacfwd": (lambda f: fg.jacfwd(f)(X), *CONCRETE),
    "jacrev": (lambda f: fg.jacrev(f)(X), *CONCRETE),
    "hessian": (lambda f: fg.hessian(_scalar(f))(X), *CONCRETE),
    "grad(grad)": (lambda f: fg.grad(fg.grad(_scalar(f)))(X), *CONCRETE),
    "jvp(grad)": (lambda f: fg.jvp(fg.grad(_scalar(f)), (X,), (X,)), *CONCRETE),
    "vmap": (lambda f: fg.vmap(f)(XS), *BATCHED),
    "vmap(grad)": (lambda f: fg.vmap(fg.grad(_scalar(f)))(XS), *BATCHED),
    "grad(vmap)": (lambda f: fg.grad(lambda x: fnp.sum(fg.vmap(f)(x)))(XS), *BATCHED),
    "jit": (lambda f: fg.jit(f)(X), *ABSTRACT),
    "jit(grad)": (lambda f: fg.jit(fg.grad(_scalar(f)))(X), *ABSTRACT),
    "make_graph": (lambda f: fg.make_graph(f)(X), *ABSTRACT),
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("transform", TRANSFORMS)
def test_every_conversion_raises_under_every_transformation(transform, path):
    run, error, kind_fix = TRANSFORMS[transform]
    fn, operation, fix = PATHS[path]
    with pytest.raises(error) as info:
        run(fn)
    assert type(info.value) is error  # neither error class is a subclass of the other
    msg = str(info.value)
    assert conversion_line(fn) in msg, msg
    assert operation in msg, msg
    assert fix in msg and kind_fix in msg, msg


# -- the issue's examples -----------------------------------------------------------------------

def test_issue_example_float_times_x():
    with pytest.raises(TracerConversionError, match="float()"):
        fg.grad(lambda x: float(x) * x)(np.array(3.0))  # was 3.0; d(x*x)/dx = 6
    # The fix: keep the value traced.
    assert fg.grad(lambda x: x * x)(np.array(3.0)) == 6.0


def test_issue_example_math_exp():
    with pytest.raises(TracerConversionError) as info:
        fg.grad(lambda x: math.exp(x) + 0 * x)(np.array(1.0))  # was 0.0; true e
    assert "math.exp()" in str(info.value) and "fnp.exp" in str(info.value)
    # The fix the message names: d exp(x)/dx at 1 = e.
    np.testing.assert_allclose(fg.grad(lambda x: fnp.exp(x) + 0 * x)(np.array(1.0)), math.e,
                               rtol=1e-15)


def test_issue_example_numpy_buffer():
    def buf(x):
        out = np.zeros(2); out[0] = x[0] ** 2; out[1] = x[1]  # noqa: E702 - the issue's code
        return fnp.sum(out * x)

    with pytest.raises(TracerConversionError) as info:  # was [1, 2]
        fg.grad(buf)(np.array([1.0, 2.0]))
    assert conversion_line_of_source(buf, "out[0] = x[0] ** 2") in str(info.value)
    assert "fnp.at(out)[i].set(v)" in str(info.value)

    def functional(x):  # the fix the message names
        out = fnp.at(np.zeros(2))[0].set(x[0] ** 2).at[1].set(x[1])
        return fnp.sum(out * x)

    # sum(out * x) = x0^3 + x1^2, whose gradient at (1, 2) is (3 x0^2, 2 x1) = (3, 4).
    np.testing.assert_array_equal(fg.grad(functional)(np.array([1.0, 2.0])), [3.0, 4.0])


def conversion_line_of_source(fn, text: str) -> str:
    lines, first = inspect.getsourcelines(fn)
    (offset,) = [i for i, line in enumerate(lines) if text in line]
    return f"{HERE}:{first + offset}"


# -- what still converts ------------------------------------------------------------------------

C = np.array([0.5, 2.0])  # a constant: it does not depend on the differentiated input


def uses_constants(x):
    out = np.zeros(2)
    out[0] = float(C[0]) + math.exp(C[1])
    out[1] = np.float64(C[1]) * int(C[1]) + round(C[0]) + C.tolist()[0] + C[1].item()
    return fnp.sum(x * np.asarray(out))


# out = [0.5 + e^2, 2 * 2 + round(0.5) + 0.5 + 2] = [0.5 + e^2, 6.5] (round(0.5) is 0).
OUT = np.array([0.5 + math.exp(2.0), 6.5])


@pytest.mark.parametrize("transform", ["grad", "jvp", "vmap", "jit"])
def test_conversions_of_values_independent_of_the_inputs_still_work(transform):
    x = np.array([1.0, -1.0])
    if transform == "grad":
        np.testing.assert_allclose(fg.grad(uses_constants)(x), OUT, rtol=1e-15)
    elif transform == "jvp":
        _, t = fg.jvp(uses_constants, (x,), (np.array([1.0, 0.0]),))
        np.testing.assert_allclose(t, OUT[0], rtol=1e-15)
    elif transform == "vmap":
        xs = np.stack([x, 2 * x])
        np.testing.assert_allclose(fg.vmap(uses_constants)(xs), xs @ OUT, rtol=1e-15)
    else:
        np.testing.assert_allclose(fg.jit(uses_constants)(x), x @ OUT, rtol=1e-15)


def newton_sqrt(a):
    # Python control flow on traced values: bool() loses no derivative.
    x = a
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x if x > 0 else -x


def test_bool_under_grad_and_jvp_is_allowed():
    a = 2.0
    # d sqrt(a)/da = 1 / (2 sqrt(a)); d2/da2 = -1 / (4 a^(3/2))
    np.testing.assert_allclose(fg.grad(newton_sqrt)(a), 0.5 / math.sqrt(a), rtol=1e-10)
    np.testing.assert_allclose(fg.jvp(newton_sqrt, (a,), (1.0,))[1], 0.5 / math.sqrt(a),
                               rtol=1e-10)
    np.testing.assert_allclose(fg.grad(fg.grad(newton_sqrt))(a), -0.25 * a ** -1.5, rtol=1e-8)


def test_bool_without_a_value_still_raises_concretization_error():
    with pytest.raises(ConcretizationError, match="bool()"):
        fg.jit(newton_sqrt)(2.0)
    with pytest.raises(ConcretizationError, match="varies over the batch"):
        fg.vmap(newton_sqrt)(np.array([2.0, 3.0]))
    with pytest.raises(ConcretizationError, match="varies over the batch"):  # vmap of grad
        fg.vmap(fg.grad(newton_sqrt))(np.array([2.0, 3.0]))


def picks_by_integer_conversions(x):
    i = fnp.argmax(x)                        # an integer traced value: no derivative
    j = int(i)
    k = operator.index(i)
    assert j == k == i.item() == np.asarray(i) == round(i) == 2 and i.tolist() == 2
    out = np.zeros(3, dtype=np.int64)
    out[0] = i                               # into an integer buffer
    return x[j] * x[k] + x[int(out[0])] + fnp.sum(x[: int(i)])


@pytest.mark.parametrize("transform", ["grad", "jvp", "hessian"])
def test_integer_traced_values_convert(transform):
    x = np.array([1.0, 2.0, 3.0])
    # f = x2^2 + x2 + x0 + x1, so grad f = (1, 1, 2 x2 + 1) = (1, 1, 7), hessian = 2 e2 e2^T.
    if transform == "grad":
        np.testing.assert_array_equal(fg.grad(picks_by_integer_conversions)(x), [1.0, 1.0, 7.0])
    elif transform == "jvp":
        _, t = fg.jvp(picks_by_integer_conversions, (x,), (np.array([1.0, 1.0, 1.0]),))
        assert t == 9.0
    else:
        h = fg.hessian(picks_by_integer_conversions)(x)
        np.testing.assert_array_equal(h, np.diag([0.0, 0.0, 2.0]))


def test_integer_conversion_under_jit_still_needs_a_value():
    with pytest.raises(ConcretizationError, match="int()"):
        fg.jit(lambda x: x[int(fnp.argmax(x))])(np.array([1.0, 2.0]))


# -- the escape hatch: stop_gradient ------------------------------------------------------------

def scaled_by_own_value(x):
    c = float(fg.stop_gradient(x))          # a constant on purpose
    return x ** 2 * c


def test_float_of_stop_gradient_is_a_constant_under_grad_and_jvp():
    # With c = x held constant: d(x^2 c)/dx = 2 x c, d2/dx2 = 2 c.  At x = 3: 18 and 6.
    assert fg.grad(scaled_by_own_value)(3.0) == 18.0
    assert fg.grad(fg.grad(scaled_by_own_value))(3.0) == 6.0
    assert fg.jvp(scaled_by_own_value, (3.0,), (1.0,)) == (27.0, 18.0)
    assert fg.jvp(fg.grad(scaled_by_own_value), (3.0,), (1.0,))[1] == 6.0
    assert fg.hessian(scaled_by_own_value)(3.0) == 6.0
    assert fg.jacrev(scaled_by_own_value)(3.0) == 18.0
    assert fg.jacfwd(scaled_by_own_value)(3.0) == 18.0


def test_stop_gradient_of_an_outer_value_inside_an_inner_grad():
    # The inner function closes over the outer x; float(stop_gradient(x)) is a constant to
    # both: f(x) = x * d/dy [y * x]_const = x * x_const, so f'(x) = x = 2.
    def f(x):
        return x * fg.grad(lambda y: y * float(fg.stop_gradient(x)))(1.0)

    assert fg.grad(f)(2.0) == 2.0


def test_stop_gradient_stays_traced_where_there_is_no_value():
    with pytest.raises(ConcretizationError, match="float()"):
        fg.jit(scaled_by_own_value)(3.0)
    with pytest.raises(ConcretizationError, match="varies over the batch"):
        fg.vmap(scaled_by_own_value)(np.array([1.0, 3.0]))
    # Without the conversion stop_gradient works under vmap and jit, alone and under grad:
    # d(x^2 sg(x))/dx = 2 x^2 -> 2 and 18 at x = 1 and 3.
    g = fg.grad(lambda x: x ** 2 * fg.stop_gradient(x))
    np.testing.assert_array_equal(fg.vmap(g)(np.array([1.0, 3.0])), [2.0, 18.0])
    assert fg.jit(g)(3.0) == 18.0
    assert fg.grad(fg.jit(lambda x: x ** 2 * fg.stop_gradient(x)))(3.0) == 18.0
    assert fg.jvp(fg.jit(lambda x: x ** 2 * fg.stop_gradient(x)), (3.0,), (1.0,)) == (27.0, 18.0)
    np.testing.assert_array_equal(
        fg.grad(lambda x: fnp.sum(fg.vmap(lambda y: y ** 2 * fg.stop_gradient(y))(x)))(
            np.array([1.0, 3.0])), [2.0, 18.0])


def test_stop_gradient_of_a_pytree_under_grad_gives_plain_values():
    def f(x):
        tree = fg.stop_gradient({"a": x, "b": (2 * x, 3)})
        assert not any(isinstance(leaf, Tracer) for leaf in fg.tree.leaves(tree))
        return x * tree["a"] + tree["b"][0]

    assert fg.grad(f)(3.0) == 3.0  # d(x * a)/dx with a held constant at 3


# -- reduced precision, printing, leaks, foreign errors -----------------------------------------

def test_bfloat16_values_are_inexact():
    import ml_dtypes

    def f(x):
        y = fnp.astype(x, ml_dtypes.bfloat16)
        return x * float(y)  # converts

    with pytest.raises(TracerConversionError, match="bfloat16|bf16"):
        fg.grad(f)(np.float32(1.0))


def test_printing_a_traced_value_still_works():
    seen = []

    def f(x):
        seen.append((repr(x), str(x), f"{x}"))
        return x * x

    fg.grad(f)(np.array(3.0))
    fg.jvp(f, (np.array(3.0),), (np.array(1.0),))
    assert all("3." in text for entry in seen for text in entry), seen


def test_converting_a_leaked_tracer_is_a_leak_error():
    leaked = []
    fg.grad(lambda x: leaked.append(x) or x * x)(3.0)
    with pytest.raises(TracerLeakError):
        float(leaked[0])


def test_a_users_own_value_error_passes_through_unchanged():
    def f(x):
        raise ValueError("mine")

    with pytest.raises(ValueError, match="mine") as info:
        fg.grad(f)(1.0)
    assert type(info.value) is ValueError
