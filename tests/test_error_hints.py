"""Issue 17, item 1: the mistakes a new user makes get a funcgrad error with the user's
file:line and the fix (not a bare NumPy or Python error).

Each test asserts the exception class, the line of *this* file that made the mistake
(``line_of`` finds it by the marker comment on it) and the hint in the message.
"""

import errno
import os
import re

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import grad, jit, nn, optim, value_and_grad, vmap
from funcgrad.errors import (
    AmbiguousTruthValueError,
    ArgumentError,
    ImmutableError,
    ItemAssignmentError,
    NonScalarOutputError,
    SaveError,
    SerializationError,
    ShapeError,
    TracerConversionError,
)

THIS = os.path.abspath(__file__)
with open(THIS) as _f:
    _LINES = _f.read().splitlines()


def line_of(marker: str) -> str:
    """``<this file>:<line>`` of the one line that ends with the comment ``# <marker>``."""
    found = [i + 1 for i, text in enumerate(_LINES) if text.rstrip().endswith(f"# {marker}")]
    assert len(found) == 1, (marker, found)
    return f"{THIS}:{found[0]}"


# -- row 1: `if x > 0:` on a multi-element traced array -----------------------------------

def branchy(x):
    if x > 0:  # row1-if
        return fnp.sum(x)
    return fnp.sum(-x)


@pytest.mark.parametrize("transform", [grad, jit, vmap], ids=["grad", "jit", "vmap"])
def test_if_on_a_multi_element_traced_array(transform):
    x = np.ones((2, 3)) if transform is vmap else np.ones(3)  # vmap: each example is f64[3]
    with pytest.raises(AmbiguousTruthValueError) as info:
        transform(branchy)(x)
    message = str(info.value)
    assert isinstance(info.value, ValueError)  # NumPy raises ValueError here: still caught
    assert f"at {line_of('row1-if')} is ambiguous" in message
    assert "it has 3 elements" in message
    assert "(x > 0).any() or (x > 0).all()" in message
    assert "fnp.where(x > 0, a, b)" in message


def test_if_on_a_one_element_traced_array_still_branches():
    def f(x):
        if x > 0:
            return fnp.sum(x ** 2)
        return fnp.sum(-x)
    np.testing.assert_allclose(grad(f)(np.array([3.0])), [6.0])
    np.testing.assert_allclose(grad(f)(np.array([[-3.0]])), [[-1.0]])


def test_and_of_traced_arrays_names_the_line_and_the_elementwise_operators():
    with pytest.raises(AmbiguousTruthValueError) as info:
        grad(lambda x: fnp.sum(x) if (x > 0 and x < 2) else 0.0)(np.ones(2))  # row1-and
    message = str(info.value)
    assert f"at {line_of('row1-and')} is ambiguous" in message
    assert "cond.any() or cond.all()" in message  # the line is not an if statement
    assert "& and | instead of and and or" in message


# -- row 2: `x[0] = 1.0` on a traced array ------------------------------------------------

def assigns(x):
    x[0] = 1.0  # row2-set
    return fnp.sum(x)


def adds(x, y):
    x[1:] += y  # row2-add
    return fnp.sum(x)


@pytest.mark.parametrize("transform", [grad, jit], ids=["grad", "jit"])
def test_item_assignment_on_a_traced_array(transform):
    with pytest.raises(ItemAssignmentError) as info:
        transform(assigns)(np.ones(3))
    assert isinstance(info.value, TypeError) and isinstance(info.value, ImmutableError)
    message = str(info.value)
    assert f"at {line_of('row2-set')}" in message
    assert "Write x = x.at[0].set(1.0) instead" in message


def test_augmented_item_assignment_suggests_the_matching_at_method():
    with pytest.raises(ItemAssignmentError) as info:
        grad(adds)(np.ones(3), np.ones(2))
    assert f"at {line_of('row2-add')}" in str(info.value)
    assert "Write x = x.at[1:].add(y) instead" in str(info.value)


def test_the_suggested_functional_update_differentiates():
    # d/dx sum(x.at[0].set(1.0) * x) = [1, 2 x1, 2 x2]: the set element is a constant.
    x = np.array([3.0, 4.0, 5.0])
    np.testing.assert_allclose(grad(lambda x: fnp.sum(x.at[0].set(1.0) * x))(x), [1.0, 8.0, 10.0])


def test_item_assignment_from_a_line_without_brackets_formats_the_index():
    import operator

    with pytest.raises(ItemAssignmentError) as info:
        grad(lambda x: operator.setitem(x, (slice(None, 2), 0), 5.0) or fnp.sum(x))(  # row2-op
            np.ones((3, 2)))
    assert f"at {line_of('row2-op')}" in str(info.value)
    assert "x = x.at[:2, 0].set(value)" in str(info.value)


# -- row 3: a loss that forgets `return` -------------------------------------------------

def no_return(x):  # row3-def
    fnp.sum(x ** 2)


def test_a_loss_without_return():
    with pytest.raises(NonScalarOutputError) as info:
        grad(no_return)(np.ones(3))  # row3-call
    message = str(info.value)
    assert "the function returned None" in message
    assert f"defined at {line_of('row3-def')}" in message
    assert f"called at {line_of('row3-call')}" in message
    assert "Is a return statement missing" in message
    assert "dtype object" not in message


# -- row 4: returning (loss, aux) without has_aux=True -----------------------------------

def loss_and_aux(x):  # row4-def
    return fnp.sum(x ** 2), {"mean": fnp.mean(x)}


@pytest.mark.parametrize("transform", [grad, value_and_grad], ids=["grad", "value_and_grad"])
def test_loss_and_aux_without_has_aux(transform):
    with pytest.raises(NonScalarOutputError) as info:
        transform(loss_and_aux)(np.ones(3))
    message = str(info.value)
    assert f"defined at {line_of('row4-def')}" in message
    assert "returned a tuple PyTreeDef((*, {'mean': *}))" in message
    assert "pass has_aux=True" in message


def test_the_suggested_has_aux_gives_the_gradient_and_the_aux():
    x = np.array([1.0, 2.0, 3.0])
    grads, aux = grad(loss_and_aux, has_aux=True)(x)
    np.testing.assert_allclose(grads, 2 * x)
    np.testing.assert_allclose(aux["mean"], 2.0)


def test_a_list_output_suggests_one_scalar_or_has_aux():
    with pytest.raises(NonScalarOutputError, match="Return one scalar") as info:
        grad(lambda x: [fnp.sum(x), fnp.sum(x), fnp.sum(x)])(np.ones(2))
    assert "returned a list PyTreeDef([*, *, *])" in str(info.value)


# -- row 5: a gradient leaf whose shape differs from its parameter -----------------------

PARAMS = {"b": np.zeros(3), "w": np.ones((2, 3))}
BAD_GRADS = {"b": np.ones(3), "w": np.ones((3, 2))}


@pytest.mark.parametrize("make", [optim.adam, optim.sgd, optim.rmsprop],
                         ids=["adam", "sgd", "rmsprop"])
def test_optimizer_update_with_a_gradient_of_the_wrong_shape(make):
    opt = make(0.1)
    state = opt.init(PARAMS)
    with pytest.raises(ShapeError) as info:
        opt.update(BAD_GRADS, state, PARAMS)  # row5-update
    message = str(info.value)
    assert "grads['w'] has shape (3, 2), but params['w'] has shape (2, 3)" in message
    assert f"called at {line_of('row5-update')}" in message
    assert "must have the shape of its parameter" in message


def test_optimizer_update_without_params_compares_with_the_state():
    opt = optim.adam(0.1)
    state = opt.init(PARAMS)
    with pytest.raises(ShapeError) as info:
        opt.update(BAD_GRADS, state)  # row5-state
    assert "grads['w'] has shape (3, 2)" in str(info.value)
    assert "has shape (2, 3)" in str(info.value)
    assert f"called at {line_of('row5-state')}" in str(info.value)


def test_apply_updates_with_an_update_of_the_wrong_shape():
    with pytest.raises(ShapeError) as info:
        optim.apply_updates(PARAMS, BAD_GRADS)  # row5-apply
    assert "updates['w'] has shape (3, 2)" in str(info.value)
    assert f"called at {line_of('row5-apply')}" in str(info.value)


def test_adafactor_factored_state_is_not_mistaken_for_a_shape_mismatch():
    opt = optim.adafactor(0.1)
    params = {"w": np.ones((4, 5))}
    updates, _ = opt.update({"w": np.full((4, 5), 0.5)}, opt.init(params), params)
    assert updates["w"].shape == (4, 5)


# -- row 6: nn.save to a missing or read-only directory ----------------------------------

def test_save_into_a_missing_directory_names_the_target(tmp_path):
    target = tmp_path / "no_such_dir" / "params.npz"
    with pytest.raises(SaveError) as info:
        nn.save(target, {"w": np.ones(2)})  # row6-missing
    error = info.value
    assert isinstance(error, OSError) and isinstance(error, SerializationError)
    assert error.errno == errno.ENOENT
    message = str(error)
    assert repr(str(target)) in message
    assert ".tmp" not in message
    assert f"called at {line_of('row6-missing')}" in message
    assert "does not exist; create it first" in message


def test_save_into_a_read_only_directory_names_the_target(tmp_path, monkeypatch):
    # Tests may run as root, for whom chmod does not make a directory read-only: make
    # os.open answer as the operating system does for a user without write permission.
    def refuse(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", path)

    monkeypatch.setattr(os, "open", refuse)
    target = tmp_path / "params.npz"
    with pytest.raises(SaveError) as info:
        nn.save(target, {"w": np.ones(2)})  # row6-readonly
    monkeypatch.undo()
    message = str(info.value)
    assert info.value.errno == errno.EACCES
    assert repr(str(target)) in message and ".tmp" not in message
    assert f"called at {line_of('row6-readonly')}" in message
    assert "is not writable" in message
    assert os.listdir(tmp_path) == []


def test_save_onto_a_directory_says_so(tmp_path):
    with pytest.raises(SaveError, match="it is a directory") as info:
        nn.save(tmp_path, [np.ones(2)])
    assert ".tmp" not in str(info.value)


# -- row 7: scipy.special.expit(tracer) --------------------------------------------------

def _suggested(message: str) -> str:
    found = re.search(r"use (fnp|funcgrad\.scipy\.special)\.(\w+)", message)
    assert found, message
    return found.group(0)[4:]


def test_scipy_expit_of_a_tracer_suggests_funcgrad_scipy_special():
    special = pytest.importorskip("scipy.special")
    with pytest.raises(TracerConversionError) as info:
        grad(lambda x: fnp.sum(special.expit(x)))(np.ones(3))  # row7-expit
    message = str(info.value)
    assert f"scipy.special.expit(...) cannot take a traced array at {line_of('row7-expit')}" \
        in message
    assert "use funcgrad.scipy.special.expit" in message
    assert "fnp.expit" not in message and "funcgrad.numpy.expit" not in message


@pytest.mark.parametrize("name", ["expit", "logit", "erf", "gammaln", "ndtr"])
def test_every_suggested_function_exists(name):
    special = pytest.importorskip("scipy.special")
    import funcgrad.scipy.special as fspecial

    with pytest.raises(TracerConversionError) as info:
        grad(lambda x: fnp.sum(getattr(special, name)(x)))(np.full(3, 0.25))
    suggestion = _suggested(str(info.value))
    module, attr = suggestion.rsplit(".", 1)
    assert callable(getattr(fnp if module == "fnp" else fspecial, attr))


def test_a_scipy_ufunc_funcgrad_lacks_is_said_to_be_missing():
    special = pytest.importorskip("scipy.special")
    with pytest.raises(TracerConversionError, match="funcgrad has no i0e: write it") as info:
        grad(lambda x: fnp.sum(special.i0e(x)))(np.ones(3))
    assert "use " not in str(info.value)


# -- row 8: a string argument to jit not marked static -----------------------------------

def scaled(x, mode):
    return x * (2.0 if mode == "double" else 1.0)


def test_a_string_argument_to_jit_suggests_static_argnames():
    with pytest.raises(ArgumentError) as info:
        jit(scaled)(np.ones(3), "double")  # row8-call
    message = str(info.value)
    assert f"called at {line_of('row8-call')}" in message
    assert "jit(scaled, static_argnames=('mode',))" in message
    assert "builtins.str ('double')" in message


def test_the_suggested_static_argnames_works():
    f = jit(scaled, static_argnames=("mode",))
    np.testing.assert_allclose(f(np.ones(3), "double"), [2.0, 2.0, 2.0])
    np.testing.assert_allclose(f(np.ones(3), mode="single"), [1.0, 1.0, 1.0])


def test_a_string_keyword_argument_to_jit_suggests_static_argnames():
    with pytest.raises(ArgumentError, match=re.escape("static_argnames=('mode',)")):
        jit(scaled)(np.ones(3), mode="double")


def test_an_unnamed_positional_argument_suggests_static_argnums():
    with pytest.raises(ArgumentError, match=re.escape("jit(f, static_argnums=(1,))")):
        jit(lambda *args: args[0])(np.ones(3), "double")


# -- gaps found going through the entry points -------------------------------------------

def test_numpy_ufunc_methods_on_a_tracer_name_the_funcgrad_function():
    with pytest.raises(TracerConversionError) as info:
        grad(lambda x: np.add.reduce(x))(np.ones(3))  # gap-reduce
    assert f"np.add.reduce(...) cannot take a traced array at {line_of('gap-reduce')}" \
        in str(info.value)
    assert "use fnp.sum" in str(info.value)


def test_numpy_ufunc_out_keyword_on_a_tracer():
    with pytest.raises(TracerConversionError, match=r"keywords \(out=\) are not traced; "
                                                     r"call fnp.exp without them"):
        grad(lambda x: fnp.sum(np.exp(x, out=np.empty(3))))(np.ones(3))


def test_a_conversion_inside_scipy_reports_the_users_line():
    special = pytest.importorskip("scipy.special")
    with pytest.raises(TracerConversionError) as info:
        grad(lambda x: fnp.sum(special.softmax(x)))(np.ones(3))  # gap-scipy
    assert f"at {line_of('gap-scipy')} would drop" in str(info.value)


def test_error_classes_are_exported():
    assert fg.errors.ItemAssignmentError is ItemAssignmentError


@pytest.mark.parametrize("update", ["set", "add"])
def test_at_out_of_bounds_is_a_shape_error_with_the_line(update):
    with pytest.raises(ShapeError) as info:
        grad(lambda x: fnp.sum(getattr(x.at[5], update)(1.0)))(np.ones(3))  # gap-at
    message = str(info.value)
    assert f"at {line_of('gap-at')}" in message
    assert "index [5] is out of bounds for shape (3,)" in message


@pytest.mark.parametrize("shape", [(2, 3), (3, -1), 6, (3, 2)])
def test_reshape_order_f_matches_numpy(shape):
    # Was a bare ValueError("only order='C' is supported").
    x = np.arange(6.0)
    np.testing.assert_array_equal(jit(lambda a: a.reshape(shape, order="F"))(x),
                                  x.reshape(shape, order="F"))
    y = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(jit(lambda a: a.reshape(4, 6, order="F"))(y),
                                  y.reshape(4, 6, order="F"))
    # The elements of F-order row 0 are x[0] and x[3]: the gradient picks them.
    np.testing.assert_array_equal(grad(lambda a: fnp.sum(a.reshape(3, 2, order="F")[0]))(x),
                                  [1.0, 0.0, 0.0, 1.0, 0.0, 0.0])


def test_reshape_order_k_is_an_argument_error():
    with pytest.raises(ArgumentError, match="order must be 'C', 'F' or 'A', got 'K'"):
        grad(lambda a: fnp.sum(a.reshape(6, order="K")))(np.ones(6))


def test_divmod_of_a_tracer_matches_python():
    # Was a bare TypeError (no __divmod__); d/dx (x mod 2) = 1, d/dx floor(x / 2) = 0.
    q, r = jit(lambda x: divmod(x, 2.0))(7.5)
    assert (q, r) == divmod(7.5, 2.0)
    assert grad(lambda x: divmod(x, 2.0)[1] * 3.0)(5.0) == 3.0
    assert jit(lambda x: divmod(9.0, x))(4.0) == divmod(9.0, 4.0)


def test_format_spec_of_a_tracer(capsys):
    # Was a bare TypeError "unsupported format string passed to Tracer.__format__".
    assert grad(lambda x: print(f"{x:.3f}") or x * x)(1.5) == 3.0
    assert capsys.readouterr().out == "1.500\n"
    with pytest.raises(fg.errors.ConcretizationError) as info:
        jit(lambda x: print(f"{x:.3f}") or x)(1.5)  # gap-format
    assert f"at {line_of('gap-format')}" in str(info.value)
    assert 'funcgrad.debug.print("{x:.3f}", x=x)' in str(info.value)


def test_grad_of_a_function_returning_a_string_names_the_type():
    with pytest.raises(NonScalarOutputError, match=re.escape("returned a builtins.str ('abc')")):
        grad(lambda x: "abc")(np.ones(2))


@pytest.mark.parametrize("transform", [grad, jit], ids=["grad", "jit"])
@pytest.mark.parametrize("operand, what", [
    (None, "a builtins.NoneType (None)"),
    ("a", "a builtins.str ('a')"),
    ([1.0, [2.0]], "a ragged list"),
])
def test_a_non_numeric_operand_of_a_traced_operation(transform, operand, what):
    # Were NumPy's bare TypeError / UFuncTypeError / "setting an array element" ValueError.
    with pytest.raises(ArgumentError) as info:
        transform(lambda x: fnp.sum(x + operand))(np.ones(2))  # gap-operand
    assert f"an operand of a traced operation at {line_of('gap-operand')} is {what}" \
        in str(info.value)
    assert ("does not return its result" in str(info.value)) == (operand is None)


def test_a_list_operand_still_works():
    np.testing.assert_allclose(grad(lambda x: fnp.sum(x * [1.0, 2.0]))(np.ones(2)), [1.0, 2.0])


@pytest.mark.parametrize("jac", [fg.jacrev, fg.jacfwd], ids=["jacrev", "jacfwd"])
def test_jacobian_of_an_output_with_a_python_number_leaf(jac):
    # Was a bare AttributeError ('float' object has no attribute 'dtype').
    x = np.array([1.0, 2.0])
    d_cube, d_const = jac(lambda x: (fnp.sum(x ** 3), 1.0))(x)
    np.testing.assert_allclose(d_cube, 3 * x ** 2)
    np.testing.assert_array_equal(d_const, np.zeros(2))


def test_hessian_of_an_output_with_a_python_number_leaf():
    x = np.array([1.0, 2.0])
    h_cube, h_const = fg.hessian(lambda x: (fnp.sum(x ** 3), 1.0))(x)
    np.testing.assert_allclose(h_cube, np.diag(6 * x))
    np.testing.assert_array_equal(h_const, np.zeros((2, 2)))


def test_a_string_array_operand_of_a_traced_operation():
    with pytest.raises(ArgumentError, match=r"is a numpy.ndarray \(array\(\['a', 'b'\]"):
        jit(lambda x: fnp.sum(x * np.array(["a", "b"])))(np.ones(2))


def assigns_through_at(w):
    w.at[1:] = 0.0  # gap-at-assign
    return fnp.sum(w)


@pytest.mark.parametrize("transform", [grad, jit], ids=["grad", "jit"])
def test_assignment_to_x_at_suggests_the_set_method(transform):
    # Was "TypeError: '_AtIndexer' object does not support item assignment".
    with pytest.raises(ItemAssignmentError) as info:
        transform(assigns_through_at)(np.ones(3))
    message = str(info.value)
    assert f"item assignment to x.at[...] at {line_of('gap-at-assign')}" in message
    assert "Write w = w.at[1:].set(0.0) instead" in message
