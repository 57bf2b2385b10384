"""Every user-facing error: the exception class, and the parts of the message that
say what was expected, what was received, and where in the user's code.
"""

import inspect
import os

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import errors, grad, make_graph, value_and_grad, vjp
from funcgrad.errors import (
    ArgumentError,
    ConcretizationError,
    DTypeError,
    FuncgradError,
    ImmutableError,
    NonScalarOutputError,
    ShapeError,
    TracerConversionError,
    TracerLeakError,
    TreeStructureError,
)

HERE = os.path.basename(__file__)


def where_defined(fn) -> str:
    """``test_errors.py:<line>`` of a one-line lambda: the line of the offending call."""
    return f"{HERE}:{inspect.getsourcelines(fn)[1]}"


@pytest.mark.parametrize("cls, builtin", [
    (errors.ShapeError, ValueError),
    (errors.DTypeError, TypeError),
    (errors.TreeStructureError, ValueError),
    (errors.ArgumentError, TypeError),
    (errors.NonScalarOutputError, TypeError),
    (errors.TracerLeakError, RuntimeError),
    (errors.ConcretizationError, TypeError),
    (errors.TracerConversionError, TypeError),
    (errors.GradientCheckError, AssertionError),
    (errors.ProgramCheckError, AssertionError),
    (errors.ImmutableError, AttributeError),
])
def test_error_classes_derive_from_funcgrad_error_and_a_builtin(cls, builtin):
    assert issubclass(cls, FuncgradError) and issubclass(cls, builtin)


# -- grad's output and inputs -----------------------------------------------------------

def test_non_scalar_output_names_the_shape():
    with pytest.raises(NonScalarOutputError) as info:
        grad(lambda x: x * 2.0)(np.ones((2, 3)))
    assert isinstance(info.value, TypeError)
    msg = str(info.value)
    assert "scalar" in msg and "float64[2, 3]" in msg
    with pytest.raises(NonScalarOutputError, match=r"float64\[3\]"):
        value_and_grad(lambda x: x)(np.ones(3))


@pytest.mark.parametrize("fn, dtype", [
    (lambda x: fnp.sum(x).astype(np.int64), "int64"),
    (lambda x: fnp.sum(x) > 0, "bool"),
    (lambda x: fnp.sum(x) * 1j, "complex128"),
], ids=["int64", "bool", "complex"])
def test_non_float_output_names_the_dtype(fn, dtype):
    with pytest.raises(NonScalarOutputError) as info:
        grad(fn)(np.ones(3))
    assert isinstance(info.value, TypeError)
    assert dtype in str(info.value) and "floating" in str(info.value)


def test_integer_input_names_the_dtype_and_the_leaf():
    with pytest.raises(DTypeError) as info:
        grad(lambda x: fnp.sum(x * 1.0))(np.arange(3))
    assert isinstance(info.value, TypeError)
    msg = str(info.value)
    assert "int64" in msg and "leaf 0" in msg and "argnums" in msg
    # In a pytree, the offending leaf is the second one (dict keys are sorted).
    with pytest.raises(DTypeError) as info:
        grad(lambda p: p["a"] * 1.0)({"a": 1.0, "b": np.arange(2)})
    assert "int64" in str(info.value) and "leaf 1" in str(info.value)
    with pytest.raises(DTypeError, match="bool"):
        grad(lambda x: x * 1.0)(True)
    with pytest.raises(DTypeError, match="int64"):
        grad(lambda x: x * 1.0)(3)  # a Python int


def test_integer_argument_not_in_argnums_is_fine():
    assert grad(lambda x, n: x * n)(2.0, 3) == pytest.approx(3.0)
    assert grad(lambda x, idx: fnp.sum(x[idx]))(np.ones(3), np.array([0, 0])).tolist() == [2, 0, 0]


@pytest.mark.parametrize("transform", [grad, value_and_grad])
def test_argnums_out_of_range_names_the_count(transform):
    with pytest.raises(ArgumentError) as info:
        transform(lambda x, y: x * y, argnums=2)(1.0, 2.0)
    assert isinstance(info.value, TypeError)
    msg = str(info.value)
    assert "argnums=2" in msg and "2 positional arguments" in msg
    with pytest.raises(ArgumentError, match="1 positional argument"):
        transform(lambda x: x, argnums=(0, 1))(1.0)


def test_argnums_of_the_wrong_type():
    with pytest.raises(ArgumentError, match="argnums"):
        grad(lambda x: x, argnums=())(1.0)
    with pytest.raises(ArgumentError, match="argnums"):
        grad(lambda x: x, argnums=(0.0,))(1.0)
    with pytest.raises(ArgumentError, match="argnums"):
        grad(lambda x: x, argnums=1.5)(1.0)


class Opaque:
    pass


@pytest.mark.parametrize("call", [
    lambda a: grad(lambda x: x)(a),
    lambda a: value_and_grad(lambda x: x)(a),
    lambda a: vjp(lambda x: x, a),
    lambda a: make_graph(lambda x: x)(a),
    lambda a: grad(lambda x: x["w"])({"w": a}),
], ids=["grad", "value_and_grad", "vjp", "make_graph", "in-pytree"])
@pytest.mark.parametrize("arg, name", [("abc", "str"), (Opaque(), "Opaque")], ids=["str", "object"])
def test_string_or_object_argument_is_rejected_with_its_type(call, arg, name):
    with pytest.raises(ArgumentError) as info:
        call(arg)
    assert isinstance(info.value, TypeError)
    assert name in str(info.value) and "expected an array" in str(info.value)


def test_has_aux_without_a_pair():
    with pytest.raises(ArgumentError, match="pair"):
        grad(lambda x: x * x, has_aux=True)(1.0)


# -- shape errors name both shapes and the user's line ----------------------------------------

def _raise(call, *args):
    with pytest.raises(ShapeError) as info:
        call(*args)
    assert isinstance(info.value, ValueError)
    return str(info.value)


def test_matmul_shape_mismatch_on_plain_arrays():
    call = lambda: fnp.matmul(np.ones((2, 3)), np.ones((4, 5)))
    msg = _raise(call)
    assert "(2, 3)" in msg and "(4, 5)" in msg and where_defined(call) in msg


def test_matmul_shape_mismatch_under_grad():
    f = lambda a: fnp.sum(a @ np.ones((4, 5)))
    msg = _raise(grad(f), np.ones((2, 3)))
    assert "(2, 3)" in msg and "(4, 5)" in msg and where_defined(f) in msg


def test_broadcast_mismatch_on_plain_arrays():
    call = lambda: fnp.add(np.ones(3), np.ones(4))
    msg = _raise(call)
    assert "(3,)" in msg and "(4,)" in msg and where_defined(call) in msg


def test_broadcast_mismatch_under_grad():
    f = lambda a: fnp.sum(fnp.add(a, np.ones(4)))
    msg = _raise(grad(f), np.ones(3))
    assert "(3,)" in msg and "(4,)" in msg and where_defined(f) in msg
    g = lambda a: fnp.sum(np.ones(4) * a)
    msg = _raise(grad(g), np.ones(3))
    assert "(3,)" in msg and "(4,)" in msg and where_defined(g) in msg


def test_shape_mismatch_under_nested_grad():
    f = lambda x: fnp.sum(x * np.ones(4)) * x[0]
    msg = _raise(grad(lambda x: fnp.sum(grad(f)(x))), np.ones(3))
    assert "(3,)" in msg and "(4,)" in msg and where_defined(f) in msg


def test_shape_mismatch_under_make_graph():
    f = lambda a: fnp.add(a, np.ones(4))
    msg = _raise(make_graph(f), np.ones(3))
    assert "(3,)" in msg and "(4,)" in msg and where_defined(f) in msg
    f = lambda a: a @ np.ones((4, 2))
    msg = _raise(make_graph(f), np.ones((2, 3)))
    assert "(2, 3)" in msg and "(4, 2)" in msg and where_defined(f) in msg


def test_engine_state_is_clean_after_an_error():
    with pytest.raises(ShapeError):
        grad(lambda a: fnp.sum(a + np.ones(4)))(np.ones(3))
    assert grad(lambda x: x * x)(3.0) == 6.0
    assert fg._core.trace._stack() == []


# -- tracer leaks -------------------------------------------------------------------------

def _leak(transform):
    box = []

    def f(x):
        box.append(x)
        return x * x

    if transform is make_graph:
        make_graph(f)(1.0)
    else:
        transform(f)(1.0)
    return box[0]


@pytest.mark.parametrize("transform", [grad, value_and_grad, make_graph],
                         ids=["grad", "value_and_grad", "make_graph"])
def test_leaked_tracer_used_after_the_transformation_returned(transform):
    leaked = _leak(transform)
    for use in (lambda t: t + 1.0, lambda t: 2.0 * t, lambda t: fnp.sin(t),
                lambda t: np.ones(2) * t):
        with pytest.raises(TracerLeakError) as info:
            use(leaked)
        assert isinstance(info.value, RuntimeError)
        msg = str(info.value)
        assert "after" in msg and "returned" in msg and HERE in msg  # where the trace was opened
    with pytest.raises(TracerLeakError):
        grad(lambda y: y * leaked)(2.0)


@pytest.mark.parametrize("transform", [grad, make_graph], ids=["grad", "make_graph"])
def test_leaked_tracer_converted_to_a_python_value(transform):
    leaked = _leak(transform)
    with pytest.raises(TracerLeakError):
        bool(leaked)
    with pytest.raises(TracerLeakError):
        float(leaked)


def test_tracer_stored_from_an_inner_grad_used_in_the_outer_function():
    box = []

    def outer(x):
        grad(lambda y: box.append(y) or y * x)(1.0)
        return x * box[0]

    with pytest.raises(TracerLeakError):
        grad(outer)(2.0)


# -- concretization and conversion -----------------------------------------------------------

def test_if_on_an_abstract_tracer_names_the_op_and_suggests_fixes():
    def f(x):
        if x > 0:
            return x
        return -x

    line = inspect.getsourcelines(f)[1] + 1
    with pytest.raises(ConcretizationError) as info:
        make_graph(f)(1.0)
    assert isinstance(info.value, TypeError)
    msg = str(info.value)
    assert "bool()" in msg and "where" in msg and "static_argnums" in msg
    assert "make_graph" in msg and f"{HERE}:{line}" in msg


@pytest.mark.parametrize("fn, op", [
    (lambda x: x * float(x), "float()"),
    (lambda x: x * int(x), "int()"),
    (lambda x: x[x > 0], "boolean mask"),
], ids=["float", "int", "mask"])
def test_other_concretizations_under_make_graph(fn, op):
    with pytest.raises(ConcretizationError) as info:
        make_graph(fn)(np.ones(2) if op == "boolean mask" else 1.0)
    assert op in str(info.value) and where_defined(fn) in str(info.value)


def test_concrete_values_are_available_under_grad():
    # The same functions work under grad, where tracing is concrete.  float() of a value
    # that carries a derivative would drop it (tests/test_conversions.py); of a
    # stop_gradient it is a constant on purpose.
    assert grad(lambda x: x if x > 0 else -x)(-2.0) == -1.0
    assert grad(lambda x: x * float(fg.stop_gradient(x)))(3.0) == 3.0


# Under grad the value exists but converting it would drop its derivative; under
# make_graph there is no value at all.
@pytest.mark.parametrize("transform, error, fix", [
    (grad, TracerConversionError, "stop_gradient"),
    (make_graph, ConcretizationError, "static_argnums"),
], ids=["grad", "make_graph"])
@pytest.mark.parametrize("convert", [np.asarray, np.array], ids=["asarray", "array"])
def test_numpy_conversion_of_a_tracer(transform, error, fix, convert):
    with pytest.raises(error) as info:
        transform(lambda x: fnp.sum(convert(x)))(np.ones(2))
    assert isinstance(info.value, TypeError)
    msg = str(info.value)
    assert "f64[2]" in msg and "funcgrad.numpy" in msg and fix in msg


def test_unsupported_ufunc_call_on_a_tracer():
    with pytest.raises(TracerConversionError, match="exp"):
        grad(lambda x: fnp.sum(np.exp(x, out=np.empty(2))))(np.ones(2))
    with pytest.raises(TracerConversionError, match="reduce"):
        grad(lambda x: np.add.reduce(x))(np.ones(2))


# -- vjp cotangents ----------------------------------------------------------------------------

def test_vjp_cotangent_with_the_wrong_structure():
    _, f_vjp = vjp(lambda a: (a, a * 2.0), np.ones(2))
    for bad in ([np.ones(2), np.ones(2)], (np.ones(2),), {"a": np.ones(2)}):
        with pytest.raises(TreeStructureError) as info:
            f_vjp(bad)
        assert isinstance(info.value, ValueError)
        assert "structure" in str(info.value)


def test_vjp_cotangent_with_the_wrong_shape():
    _, f_vjp = vjp(lambda a: (a, a * 2.0), np.ones(2))
    with pytest.raises(ShapeError) as info:
        f_vjp((np.ones(2), np.ones(3)))
    msg = str(info.value)
    assert "leaf 1" in msg and "(3,)" in msg and "(2,)" in msg


# -- immutability -----------------------------------------------------------------------------

def test_immutable_error_is_an_attribute_error():
    g = make_graph(fnp.sin)(np.ones(2))
    with pytest.raises(AttributeError):
        g.outputs = ()
    with pytest.raises(ImmutableError, match="immutable"):
        g.nodes[-1].primitive = None
