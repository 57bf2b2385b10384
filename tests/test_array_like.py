"""array_like operands: lists and tuples (nested too) holding tracers, arrays and scalars.

Wherever NumPy accepts an array_like, funcgrad accepts a list that holds traced values
and differentiates through it (``fnp.mean([x, x + 2])``): one conversion where the
primitive receives its operands.  Each case is checked under ``grad`` against a closed
form (or central finite differences), under ``jvp`` against the same closed form, under
``vmap`` against a Python loop and under ``jit`` against eager evaluation.  The shape
rules and the ragged-list error are NumPy's (compared with NumPy on the same structure);
the dtype rule treats Python scalars as weak, as JAX does.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import RECORDS

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad.errors import ArgumentError, ShapeError, TracerConversionError, TracerLeakError
from funcgrad.testing import check_grads

RNG = np.random.default_rng(0)
X3 = RNG.uniform(0.5, 1.5, 3)
Y3 = RNG.uniform(0.5, 1.5, 3)


def check_everywhere(f, args, grads):
    """``grad`` against the closed form ``grads`` (one per argument), ``jvp`` against
    ``<grads, t>``, and ``jit`` of ``f`` and of its gradient against eager."""
    args = tuple(np.asarray(a, np.float64) for a in args)  # NumPy's operators for eager f
    argnums = tuple(range(len(args)))
    got = fg.grad(f, argnums=argnums)(*args)
    for g, e in zip(got, grads):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)
    tangents = tuple(RNG.standard_normal(np.shape(a)) for a in args)
    out, t_out = fg.jvp(f, args, tangents)
    np.testing.assert_allclose(out, f(*args), rtol=1e-12)
    np.testing.assert_allclose(t_out, sum(np.sum(g * t) for g, t in zip(grads, tangents)),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fg.jit(f)(*args), f(*args), rtol=1e-12)
    for g, e in zip(fg.jit(fg.grad(f, argnums=argnums))(*args), grads):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


def check_vmap(f, *batched):
    """``vmap(f)`` over the leading axis of each argument against a Python loop."""
    got = fg.vmap(f)(*batched)
    expected = np.stack([np.asarray(f(*elems)) for elems in zip(*batched)])
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert np.asarray(got).dtype == expected.dtype


# -- the four cases ------------------------------------------------------------
def test_mean_of_a_list():
    # mean over the 2 x 3 stack: (2 sum(x) + 6) / 6, so each x_i has slope 1/3.
    check_everywhere(lambda x: fnp.mean([x, x + 2]), (X3,), [np.full(3, 1 / 3)])
    check_vmap(lambda x: fnp.mean([x, x + 2]), RNG.standard_normal((4, 3)))


def test_sum_of_a_list():
    check_everywhere(lambda x: fnp.sum([x, x * x]), (X3,), [1 + 2 * X3])
    check_vmap(lambda x: fnp.sum([x, x * x]), RNG.standard_normal((4, 3)))


def test_norm_of_a_list_of_scalars():
    x, y = 0.3, -1.2
    r = np.hypot(x, y)
    check_everywhere(lambda x, y: fnp.linalg.norm([x, y]), (x, y), [x / r, y / r])
    check_vmap(lambda x, y: fnp.linalg.norm([x, y]), RNG.standard_normal(5), RNG.standard_normal(5))


def test_where_with_a_list_branch():
    c = np.array([True, False])

    def f(a, b):
        return fnp.sum(fnp.where(c, [a, b], 0) * np.array([2.0, 3.0]))

    check_everywhere(f, (0.7, -0.4), [2.0, 0.0])  # only a is selected (c[0]), weight 2
    check_vmap(lambda a, b: fnp.where(c, [a, b], 0), RNG.standard_normal(4), RNG.standard_normal(4))


# -- nesting, tuples, mixed elements ---------------------------------------------------
def test_nested_lists_and_tuples_with_arrays_and_scalars():
    w = RNG.standard_normal((2, 2, 3))

    def f(x, y):
        return fnp.sum(w * fnp.asarray([[x, np.ones(3)], ((2.0, y[0], 1), y * x)]))

    # d/dx: w[0,0] + w[1,1] * y;  d/dy: w[1,1] * x, plus w[1,0,1] on y[0].
    gy = w[1, 1] * X3
    gy[0] += w[1, 0, 1]
    check_everywhere(f, (X3, Y3), [w[0, 0] + w[1, 1] * Y3, gy])


def test_an_array_inside_a_list_counts_as_a_nested_sequence():
    # NumPy: np.array([np.ones(2), [1.0, 2.0]]) is 2 x 2; so is [x2, [1.0, y]].
    def f(x, y):
        a = fnp.array([x, [1.0, y]])
        assert fnp.shape(a) == (2, 2) == np.shape([np.ones(2), [1.0, 2.0]])
        return fnp.sum(a * np.array([[1.0, 2.0], [3.0, 4.0]]))

    check_everywhere(f, (np.array([0.5, 0.25]), 0.8), [np.array([1.0, 2.0]), 4.0])


def test_fnp_shape_and_ndim_of_a_list_of_tracers():
    def f(x):
        assert fnp.shape([x, x]) == (2, 3) and fnp.ndim([[x], [x]]) == 3
        assert fnp.size((x, 1.0 * x)) == 6
        return fnp.sum(x)

    fg.grad(f)(X3)
    fg.jit(f)(X3)


def test_values_equal_numpy_on_the_same_nested_structure():
    structure = lambda x, y: [[x, 1.0, y], (2.0, y * x, 3.0)]  # noqa: E731
    x, y = 0.5, -2.0
    out = fg.jvp(lambda x, y: fnp.array(structure(x, y)), (x, y), (0.0, 0.0))[0]
    np.testing.assert_array_equal(out, np.array(structure(x, y)))


# -- dtypes: Python scalars are weak ---------------------------------------------------
# Expected dtypes generated with jax 0.10.2 (jax_enable_x64): jnp.array([x32, 1.0]) is
# float32, [x32, 1] float32, [x32, 1j] complex64, [x32, np.float64(1)] float64,
# [int32, 1.0] float64, [int32, 2] int32, [bool, 1] int64.
@pytest.mark.parametrize("x, extra, expected", [
    (np.float32(1.5), 1.0, np.float32),
    (np.float32(1.5), 1, np.float32),
    (np.float32(1.5), 1j, np.complex64),
    (np.float32(1.5), np.float64(1.0), np.float64),
    (np.float32(1.5), np.ones(1)[0], np.float64),
    (np.int32(1), 1.0, np.float64),
    (np.int32(1), 2, np.int32),
    (np.bool_(True), 1, np.int64),
], ids=["f32+float", "f32+int", "f32+complex", "f32+np.float64", "f32+f64 element",
        "i32+float", "i32+int", "bool+int"])
def test_dtype_promotion_with_weak_python_scalars(x, extra, expected):
    assert fg.jit(lambda x: fnp.array([x, extra]))(x).dtype == expected
    assert fg.jit(lambda x: fnp.max([x, extra]))(x).dtype == expected


def test_float32_stays_float32_through_value_and_gradient():
    x = np.array([1.0, 2.0], np.float32)
    value, g = fg.value_and_grad(lambda x: fnp.sum(fnp.stack([x, 1.0 + 0 * x]) * [x, [2.0, 2.0]]))(x)
    assert value.dtype == np.float32 and g.dtype == np.float32
    np.testing.assert_allclose(g, 2 * x)  # d/dx (x*x + 2) = 2x


def test_a_list_without_tracers_is_left_to_numpy():
    # NumPy converts a list of Python floats to float64 (it is not a weak scalar).
    x = np.ones(2, np.float32)
    got = fg.jvp(lambda x: x + [1.0, 2.0], (x,), (x,))[0]
    assert got.dtype == (x + [1.0, 2.0]).dtype == np.float64
    assert fnp.sum([1.0, 2.0]) == np.sum([1.0, 2.0])


def test_explicit_dtype():
    out, t = fg.jvp(lambda x: fnp.array([x, 2 * x], dtype=np.float32), (1.5,), (1.0,))
    assert out.dtype == t.dtype == np.float32
    np.testing.assert_array_equal(t, [1.0, 2.0])


# -- ragged lists: NumPy's error --------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda x: [x, [1.0, 2.0]],
    lambda x: [[x, 1.0], [2.0]],
    lambda x: [[[x, 1.0]], [[2.0]]],
    lambda x: [x * np.ones(2), x * np.ones(3)],
    lambda x: [x * np.ones((2, 3)), [[1.0, 2.0, 3.0], [1.0, 2.0]]],
], ids=["scalar-vs-list", "rows", "depth-3", "arrays", "array-vs-ragged-list"])
def test_ragged_lists_raise_numpys_error(make):
    with pytest.raises(ValueError) as numpy_error:
        np.array(make(1.0))
    for transform in (fg.grad, fg.jit):
        with pytest.raises(ShapeError) as ours:
            transform(lambda x: fnp.sum(make(x)))(1.0)
        assert str(numpy_error.value) in str(ours.value)


def test_an_element_that_is_not_a_number_is_an_argument_error():
    with pytest.raises(ArgumentError, match="got str"):
        fg.grad(lambda x: fnp.sum([x, "a"]))(1.0)


def test_a_leaked_tracer_inside_a_list_is_reported():
    leaked = []
    fg.grad(lambda x: leaked.append(x) or x)(1.0)
    with pytest.raises(TracerLeakError):
        fnp.sum([leaked[0], 1.0])


# -- reductions with axis ---------------------------------------------------------------
def test_reductions_with_axis():
    w = RNG.standard_normal(3)
    check_everywhere(lambda x, y: fnp.sum(fnp.sum([x, y * y], axis=0) * w), (X3, Y3), [w, 2 * Y3 * w])
    # max over the stack, axis 0: the larger of x and 2x (x > 0) is 2x.
    check_everywhere(lambda x: fnp.sum(fnp.max([x, 2 * x], axis=0, keepdims=True) * w), (X3,), [2 * w])
    check_everywhere(lambda x, y: fnp.sum(fnp.mean((x, y), axis=-1)), (X3, Y3),
                     [np.full(3, 1 / 3), np.full(3, 1 / 3)])
    check_grads(lambda x, y: fnp.std([x, y, x * y], axis=0), (X3, Y3), order=2)
    check_vmap(lambda x: fnp.prod([x, x + 1.0], axis=0), RNG.standard_normal((4, 3)))


# -- binary operations: a list on either side -------------------------------------------
def test_binary_operations_with_a_list_on_either_side():
    check_everywhere(lambda x: fnp.sum(x + [x, 1.0]), (0.5,), [3.0])        # 2x + x + 1
    check_everywhere(lambda x: fnp.sum([x, 1.0] * x), (0.5,), [2.0])        # x^2 + x
    check_everywhere(lambda x: fnp.sum(fnp.subtract([1.0, x], x)), (0.5,), [-1.0])
    check_everywhere(lambda x: fnp.sum([x, 3.0] / x), (0.5,), [-12.0])      # 1 + 3/x
    x = 0.7  # sum(x ** [2, x]) = x^2 + x^x
    check_everywhere(lambda x: fnp.sum(x ** [2.0, x]), (x,), [2 * x + x ** x * (np.log(x) + 1)])
    check_everywhere(lambda x: fnp.sum(fnp.maximum([x, -x], 0.0)), (0.5,), [1.0])
    check_everywhere(lambda x: fnp.sum(fnp.exp([x, 2.0 * x])), (0.5,), [np.exp(0.5) + 2 * np.exp(1.0)])
    check_vmap(lambda x, y: fnp.multiply([x, y], x), RNG.standard_normal(4), RNG.standard_normal(4))


def test_stack_and_concatenate_of_lists_of_tracers():
    check_everywhere(lambda x, y: fnp.sum(fnp.stack([x, y * y]) ** 2), (X3, Y3), [2 * X3, 4 * Y3 ** 3])
    check_everywhere(lambda x, y: fnp.sum(fnp.concatenate([x, [y[0], 1.0]]) * 2), (X3, Y3),
                     [np.full(3, 2.0), np.array([2.0, 0.0, 0.0])])


def test_shape_functions_of_lists():
    check_everywhere(lambda x, y: fnp.sum(fnp.reshape([x, y], (2, 1)) * np.array([[2.0], [3.0]])),
                     (0.5, 0.25), [2.0, 3.0])
    check_everywhere(lambda x, y: fnp.sum(fnp.flip([x, y]) * np.array([2.0, 3.0])), (0.5, 0.25), [3.0, 2.0])
    check_everywhere(lambda x, y: fnp.trace([[x, 1.0], [2.0, y]]), (0.5, 0.25), [1.0, 1.0])
    check_everywhere(lambda x, y: fnp.sum(fnp.transpose([[x, y]]) * np.array([[2.0], [3.0]])),
                     (0.5, 0.25), [2.0, 3.0])
    out = fg.jit(lambda x: fnp.ravel([x]))(np.float64(2.0))  # an identity reshape still an array
    assert out.shape == (1,)


# -- linear algebra -----------------------------------------------------------------------
def test_linalg_of_nested_lists():
    x, y = 1.5, 2.5
    # det [[x, 1], [2, y]] = xy - 2.
    check_everywhere(lambda x, y: fnp.linalg.det([[x, 1.0], [2.0, y]]), (x, y), [y, x])
    # solve(diag(x, y), [1, 1]) = [1/x, 1/y].
    check_everywhere(lambda x, y: fnp.sum(fnp.linalg.solve([[x, 0.0], [0.0, y]], [1.0, 1.0])),
                     (x, y), [-1 / x ** 2, -1 / y ** 2])
    # sum of eigenvalues = trace; dot([x, 1], [x, y]) = x^2 + y.
    check_everywhere(lambda x, y: fnp.sum(fnp.linalg.eigvalsh([[x, 0.5], [0.5, y]])), (x, y), [1.0, 1.0])
    check_everywhere(lambda x, y: fnp.dot([x, 1.0], [x, y]), (x, y), [2 * x, 1.0])
    check_everywhere(lambda x, y: fnp.einsum("i,i->", [x, y], [y, 1.0]), (x, y), [y, x + 1])
    check_grads(lambda x, y: fnp.linalg.cholesky([[x, 0.5], [0.5, y]]), (x, y), order=2)
    check_grads(lambda x, y: fnp.linalg.inv([[x, 1.0], [y, 3.0]]), (x, y), order=2)
    check_vmap(lambda x, y: fnp.linalg.det([[x, 1.0], [2.0, y]]),
               RNG.standard_normal(4), RNG.standard_normal(4))


# -- nested transformations: the innermost trace records the op -------------------------
def test_a_list_holding_an_inner_tracer_next_to_an_outer_one():
    # d/dy sum(x * [y, 1]) = x, whose derivative in x is 1; the binary op's direct operand
    # x belongs to the outer trace, the list's y to the inner one.
    inner = lambda x: fg.grad(lambda y: fnp.sum(x * [y, 1.0]))(2.0)  # noqa: E731
    assert fg.grad(inner)(3.0) == 1.0
    # d/dy sum([x y, y^2]) = x + 2y at y = 1; d/dx of that is 1.
    assert fg.grad(lambda x: fg.grad(lambda y: fnp.sum([x * y, y * y]))(1.0))(3.0) == 1.0
    assert fg.jit(fg.grad(lambda x: fg.grad(lambda y: fnp.sum([x * y, y * y]))(1.0)))(3.0) == 1.0


def test_vmap_of_a_list_mixing_batched_and_unbatched_values():
    c = np.array([0.5, -1.0, 2.0])
    check_vmap(lambda x: fnp.linalg.norm([x, c], axis=0), RNG.standard_normal((4, 3)))
    check_vmap(lambda x: fnp.array([[x, 1.0], [2.0, x * x]]), RNG.standard_normal(5))


# -- the op table: a list of rows wherever NumPy accepts one ------------------------------
def _rows(a):
    """``a`` as a list of its rows (tracers under a transformation)."""
    return [a[i] for i in range(a.shape[0])]


# NumPy's own operators convert the list before funcgrad is asked: ``ndarray * [tracers]``
# and ``[tracers] * ndarray`` raise TracerConversionError (use fnp.multiply or fnp.array).
NUMPY_OPERATOR = {"multiply[ndarray * x]", "zeros_like", "ones_like", "full_like"}


# lax's operands, carries and branch results are pytrees, as in JAX: a list of rows is a list
# there, not an array, so the records of kind "control" are left out.
@pytest.mark.parametrize("rec", [r for r in RECORDS if r.differentiable and r.kind != "control"],
                         ids=lambda r: r.name)
@settings(max_examples=4)
@given(data=st.data())
def test_op_table_with_a_list_of_rows(rec, data):
    """Each argument in turn given as a list of its rows (tracers): the same value and jvp
    as with the array wherever NumPy's reference accepts the list; where NumPy refuses it
    (``-x``, ``x.T`` on a list), an error or, again, the array's answer."""
    shapes = data.draw(rec.shapes, label="shapes")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    args = rec.draw_args(shapes, seed, np.float64)
    rng = np.random.default_rng(seed)
    tangents = tuple(rng.standard_normal(x.shape) if x.dtype.kind == "f"
                     else np.zeros(x.shape, x.dtype) for x in args)
    for k, a in enumerate(args):
        if np.ndim(a) == 0 or a.dtype.kind != "f":
            continue

        def listed(*xs, k=k):
            xs = list(xs)
            xs[k] = _rows(xs[k])
            return rec.fun(*xs)

        if rec.name in NUMPY_OPERATOR:
            with pytest.raises(TracerConversionError):
                fg.jvp(listed, tuple(args), tangents)
            continue
        plain = list(args)
        plain[k] = list(plain[k])
        try:
            rec.ref(*plain)
        except Exception:  # NumPy rejects the list (x.T, -x, np.split): an error, or the right answer
            try:
                got = fg.jvp(listed, tuple(args), tangents)
            except Exception:
                continue
        else:
            try:
                got = fg.jvp(listed, tuple(args), tangents)
            except AttributeError as e:  # the record calls a method (x.at[...]): a list has none
                assert str(e).startswith("'list' object has no attribute"), rec.name
                continue
        expected = fg.jvp(rec.fun, tuple(args), tangents)
        assert tree.structure(got) == tree.structure(expected), rec.name
        for g, e in zip(tree.leaves(got), tree.leaves(expected)):
            g, e = np.asarray(g), np.asarray(e)
            assert (g.dtype, g.shape) == (e.dtype, e.shape), rec.name
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12, err_msg=rec.name)
