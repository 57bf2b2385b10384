"""Linear algebra: matmul, einsum, dot/vdot/inner/outer/tensordot and funcgrad.numpy.linalg.

Forward values are compared with NumPy; first and second derivatives with central
finite differences in float64 (funcgrad.testing.check_grads); abstract shapes
(make_graph) with the concrete results.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.errors import ArgumentError, ShapeError
from funcgrad.testing import check_grads

RNG_SEED = 1234


def _rand(*shape, seed=0):
    return np.random.default_rng(RNG_SEED + seed).standard_normal(shape)


def _well_conditioned(*shape, seed=0):
    """Random (..., n, n) matrices plus n*I: far from singular."""
    n = shape[-1]
    return _rand(*shape, seed=seed) + n * np.eye(n)


def _assert_graph_matches(f, *args):
    """make_graph traces f abstractly; its output shapes and dtypes match a concrete run."""
    graph = fg.make_graph(f)(*args)
    concrete = f(*args)
    leaves = concrete if isinstance(concrete, tuple) else (concrete,)
    assert len(graph.outputs) == len(leaves)
    for node, value in zip(graph.outputs, leaves):
        assert node.shape == np.shape(value)
        assert node.dtype == np.asarray(value).dtype


# ---------------------------------------------------------------------------
# matmul
# ---------------------------------------------------------------------------
MATMUL_SHAPES = [
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((2, 1, 2, 3), (5, 3, 2)),
    ((4, 3), (2, 4, 3, 2)),
    ((3,), (2, 3, 4)),
    ((2, 2, 3), (3,)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_forward_grads_and_graph(sa, sb):
    a, b = _rand(*sa), _rand(*sb, seed=1)
    np.testing.assert_allclose(fnp.matmul(a, b), np.matmul(a, b), rtol=1e-12)
    check_grads(fnp.matmul, (a, b), order=2)
    _assert_graph_matches(fnp.matmul, a, b)


@st.composite
def _matmul_shapes(draw):
    """Operand shapes for matmul: batches that broadcast (dropped or length-1 axes), 1-D operands."""
    base = draw(st.lists(st.integers(1, 3), max_size=2))
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))

    def batch():
        kept = base[len(base) - draw(st.integers(0, len(base))):]
        return tuple(1 if draw(st.booleans()) else d for d in kept)

    sa = (k,) if draw(st.booleans()) else batch() + (n, k)
    sb = (k,) if draw(st.booleans()) else batch() + (k, m)
    return sa, sb


@given(_matmul_shapes(), st.integers(0, 2 ** 16))
def test_matmul_property(shapes, seed):
    sa, sb = shapes
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    np.testing.assert_allclose(fnp.matmul(a, b), np.matmul(a, b), rtol=1e-12, atol=1e-12)
    check_grads(fnp.matmul, (a, b), order=1)
    _assert_graph_matches(fnp.matmul, a, b)


@pytest.mark.parametrize("sa,sb", [((2, 3), (4,)), ((2, 3), (4, 5)), ((3,), (2, 4)),
                                   ((2, 2, 3), (3, 3, 4))])
def test_matmul_shape_error_names_both_shapes(sa, sb):
    with pytest.raises(ShapeError) as info:
        fnp.matmul(np.ones(sa), np.ones(sb))
    assert str(sa) in str(info.value) and str(sb) in str(info.value)
    with pytest.raises(ShapeError) as info:
        fg.make_graph(fnp.matmul)(np.ones(sa), np.ones(sb))
    assert str(sa) in str(info.value) and str(sb) in str(info.value)


def test_matmul_operator_on_tracers():
    a, b = _rand(2, 3), _rand(3, 2, seed=1)
    g = fg.grad(lambda a: fnp.sum(a @ b))(a)
    np.testing.assert_allclose(g, np.ones((2, 2)) @ b.T)


# ---------------------------------------------------------------------------
# einsum
# ---------------------------------------------------------------------------
EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),              # implicit
    ("i,i", [(3,), (3,)]),                    # implicit: scalar
    ("i,j->ij", [(2,), (3,)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("bA", [(2, 3)]),                         # implicit output in character order: 'Ab'
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (5, 3, 2)]),
    ("...ij,...jk", [(3, 2, 3), (3, 4)]),     # implicit with ellipsis
    ("i...,i...", [(2, 3), (2, 1)]),          # ellipsis axes broadcast
    ("ba...", [(2, 3, 4)]),
    ("ij,ij->ij", [(1, 3), (2, 3)]),          # a length-1 index broadcasts
    ("ijk,jl->il", [(2, 3, 4), (3, 2)]),      # k exists only in the first operand
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("i,ij,jk->k", [(2,), (2, 3), (3, 2)]),
    (" i j , j k -> i k ", [(2, 3), (3, 2)]),  # spaces are ignored
]


@pytest.mark.parametrize("subscripts,shapes", EINSUM_CASES)
def test_einsum_forward_grads_and_graph(subscripts, shapes):
    ops = [_rand(*s, seed=i) for i, s in enumerate(shapes)]
    np.testing.assert_allclose(fnp.einsum(subscripts, *ops), np.einsum(subscripts, *ops),
                               rtol=1e-12, atol=1e-12)

    def f(*xs):
        return fnp.einsum(subscripts, *xs)

    check_grads(f, tuple(ops), order=2)
    _assert_graph_matches(f, *ops)


def test_einsum_mixed_float_dtypes():
    a, b = _rand(2, 3).astype(np.float32), _rand(3, 2, seed=1)
    out = fnp.einsum("ij,jk->ik", a, b)
    assert out.dtype == np.einsum("ij,jk->ik", a, b).dtype
    ga = fg.grad(lambda a: fnp.sum(fnp.einsum("ij,jk->ik", a, b)))(a)
    assert ga.dtype == np.float32
    np.testing.assert_allclose(ga, np.ones((2, 2)) @ b.T, rtol=1e-6)


def test_einsum_repeated_index_takes_the_diagonal():
    # (A repeated index used to be refused; it is a diagonal now, as in NumPy: tests/test_assembly.py
    # checks its gradients.)  Different sizes for the repeated index are NumPy's error.
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(fnp.einsum("ii->i", a[:, :2]), np.einsum("ii->i", a[:, :2]))
    np.testing.assert_array_equal(fnp.einsum("ii", a[:, :2]), np.einsum("ii", a[:, :2]))
    with pytest.raises(ShapeError, match="repeats within one operand with different sizes 2 and 3"):
        fnp.einsum("ii->i", a)


@pytest.mark.parametrize("subscripts,shapes,error", [
    ("ij,jk->ik", [(2, 3), (4, 5)], ShapeError),      # j: 3 vs 4
    ("ij,jk->ik", [(2, 3, 1), (3, 4)], ShapeError),   # too many axes
    ("ij,jk->ik", [(2, 3)], ArgumentError),           # one operand for two terms
    ("ij->ijk", [(2, 3)], ArgumentError),             # k in no input
    ("...i->i", [(2, 3)], ShapeError),                # output lacks '...'
    ("i1->i", [(2, 3)], ArgumentError),
])
def test_einsum_bad_input(subscripts, shapes, error):
    with pytest.raises(error) as info:
        fnp.einsum(subscripts, *[np.ones(s) for s in shapes])
    for s in shapes:
        assert str(s) in str(info.value)


# ---------------------------------------------------------------------------
# dot, vdot, inner, outer, tensordot
# ---------------------------------------------------------------------------
PRODUCT_CASES = [
    ("dot", fnp.dot, np.dot, [(), (3,)]),
    ("dot", fnp.dot, np.dot, [(3,), (3,)]),
    ("dot", fnp.dot, np.dot, [(2, 3), (3,)]),
    ("dot", fnp.dot, np.dot, [(3,), (3, 2)]),
    ("dot", fnp.dot, np.dot, [(2, 3), (3, 4)]),
    ("dot", fnp.dot, np.dot, [(2, 2, 3), (4, 3, 2)]),
    ("dot", fnp.dot, np.dot, [(2, 2, 3), (3,)]),
    ("dot", fnp.dot, np.dot, [(3,), (2, 3, 2)]),
    ("dot", fnp.dot, np.dot, [(2, 3), (4, 3, 2)]),
    ("vdot", fnp.vdot, np.vdot, [(2, 3), (3, 2)]),
    ("vdot", fnp.vdot, np.vdot, [(4,), (4,)]),
    ("inner", fnp.inner, np.inner, [(3,), (3,)]),
    ("inner", fnp.inner, np.inner, [(2, 3), (4, 3)]),
    ("inner", fnp.inner, np.inner, [(2, 2, 3), (3,)]),
    ("inner", fnp.inner, np.inner, [(), (2, 3)]),
    ("outer", fnp.outer, np.outer, [(3,), (2,)]),
    ("outer", fnp.outer, np.outer, [(2, 2), (3,)]),
    ("tensordot", fnp.tensordot, np.tensordot, [(2, 3, 4), (3, 4, 2)]),
]


@pytest.mark.parametrize("name,f,ref,shapes", PRODUCT_CASES,
                         ids=[f"{c[0]}-{c[3]}" for c in PRODUCT_CASES])
def test_products_forward_grads_and_graph(name, f, ref, shapes):
    ops = [_rand(*s, seed=i) for i, s in enumerate(shapes)]
    np.testing.assert_allclose(f(*ops), ref(*ops), rtol=1e-12, atol=1e-12)
    check_grads(f, tuple(ops), order=2)
    _assert_graph_matches(f, *ops)


@pytest.mark.parametrize("axes,shapes", [
    (0, [(2, 3), (4,)]),
    (1, [(2, 3), (3, 4)]),
    (2, [(2, 3, 4), (3, 4, 2)]),
    (([1, 0], [0, 1]), [(3, 4, 2), (4, 3)]),
    (([0, 2], [2, 0]), [(3, 2, 4), (4, 2, 3)]),
    ((1, 0), [(2, 3), (3, 2)]),
    (([-1], [-2]), [(2, 3), (2, 3, 2)]),
])
def test_tensordot_axes(axes, shapes):
    a, b = _rand(*shapes[0]), _rand(*shapes[1], seed=1)
    np.testing.assert_allclose(fnp.tensordot(a, b, axes), np.tensordot(a, b, axes), rtol=1e-12)
    check_grads(lambda a, b: fnp.tensordot(a, b, axes), (a, b), order=2)
    _assert_graph_matches(lambda a, b: fnp.tensordot(a, b, axes), a, b)


@pytest.mark.parametrize("f,sa,sb", [
    (fnp.dot, (2, 3), (4, 2)),
    (fnp.dot, (2, 2, 3), (4, 2, 2)),
    (fnp.inner, (2, 3), (3, 2)),
    (fnp.vdot, (2, 3), (5,)),
    (lambda a, b: fnp.tensordot(a, b, axes=([0], [0])), (2, 3), (3, 2)),
])
def test_products_shape_errors_name_both_shapes(f, sa, sb):
    with pytest.raises(ShapeError) as info:
        f(np.ones(sa), np.ones(sb))
    assert str(sa) in str(info.value) and str(sb) in str(info.value)


def test_products_accept_lists():
    np.testing.assert_allclose(fnp.dot([1.0, 2.0], [3.0, 4.0]), 11.0)
    np.testing.assert_allclose(fnp.outer([1.0, 2.0], [3.0]), [[3.0], [6.0]])


# ---------------------------------------------------------------------------
# inv, det, slogdet, solve
# ---------------------------------------------------------------------------
SQUARE_SHAPES = [(1, 1), (3, 3), (2, 3, 3), (2, 2, 2, 2)]


@pytest.mark.parametrize("shape", SQUARE_SHAPES)
def test_inv(shape):
    a = _well_conditioned(*shape)
    np.testing.assert_allclose(fnp.linalg.inv(a), np.linalg.inv(a), rtol=1e-12)
    check_grads(fnp.linalg.inv, (a,), order=2)
    _assert_graph_matches(fnp.linalg.inv, a)


@pytest.mark.parametrize("shape", SQUARE_SHAPES)
def test_det(shape):
    a = _well_conditioned(*shape) / shape[-1]  # determinants of moderate size
    np.testing.assert_allclose(fnp.linalg.det(a), np.linalg.det(a), rtol=1e-12)
    check_grads(fnp.linalg.det, (a,), order=2)
    _assert_graph_matches(fnp.linalg.det, a)


def test_det_gradient_closed_form():
    a = _well_conditioned(3, 3)
    g = fg.grad(fnp.linalg.det)(a)
    np.testing.assert_allclose(g, np.linalg.det(a) * np.linalg.inv(a).T, rtol=1e-10)


@pytest.mark.parametrize("shape", SQUARE_SHAPES)
def test_slogdet(shape):
    a = _well_conditioned(*shape)
    a[..., 0, :] *= -1  # negative determinants: the sign matters
    sign, logabsdet = fnp.linalg.slogdet(a)
    ref = np.linalg.slogdet(a)
    np.testing.assert_array_equal(sign, ref.sign)
    np.testing.assert_allclose(logabsdet, ref.logabsdet, rtol=1e-12)
    result = fnp.linalg.slogdet(a)
    assert result.sign is result[0] and result.logabsdet is result[1]
    check_grads(lambda a: fnp.linalg.slogdet(a).logabsdet, (a,), order=2)
    _assert_graph_matches(lambda a: tuple(fnp.linalg.slogdet(a)), a)


def test_slogdet_sign_has_no_gradient():
    a = _well_conditioned(3, 3)
    np.testing.assert_array_equal(fg.grad(lambda a: fnp.linalg.slogdet(a).sign)(a),
                                  np.zeros((3, 3)))
    g = fg.grad(lambda a: fnp.linalg.slogdet(a).sign * fnp.linalg.slogdet(a).logabsdet)(a)
    np.testing.assert_allclose(g, np.linalg.inv(a).T, rtol=1e-10)


SOLVE_SHAPES = [
    ((3, 3), (3,)),
    ((3, 3), (3, 2)),
    ((2, 3, 3), (3,)),        # a batched, b a vector
    ((2, 3, 3), (2, 3, 1)),
    ((2, 3, 3), (3, 2)),      # b broadcasts over a's batch
    ((3, 3), (2, 3, 2)),      # a broadcasts over b's batch
    ((2, 1, 3, 3), (4, 3, 2)),
]


@pytest.mark.parametrize("sa,sb", SOLVE_SHAPES)
def test_solve(sa, sb):
    a, b = _well_conditioned(*sa), _rand(*sb, seed=1)
    np.testing.assert_allclose(fnp.linalg.solve(a, b), np.linalg.solve(a, b), rtol=1e-12)
    check_grads(fnp.linalg.solve, (a, b), order=2)
    _assert_graph_matches(fnp.linalg.solve, a, b)


@pytest.mark.parametrize("sa,sb", [((3, 3), (2,)), ((3, 3), (2, 2)), ((2, 3), (2,)),
                                   ((2, 3, 3), (4, 3, 1)), ((3,), (3,))])
def test_solve_shape_error_names_both_shapes(sa, sb):
    with pytest.raises(ShapeError) as info:
        fnp.linalg.solve(np.ones(sa), np.ones(sb))
    assert str(sa) in str(info.value) and str(sb) in str(info.value)
    with pytest.raises(ShapeError) as info:
        fg.make_graph(fnp.linalg.solve)(np.ones(sa), np.ones(sb))
    assert str(sa) in str(info.value) and str(sb) in str(info.value)


@pytest.mark.parametrize("f", [fnp.linalg.inv, fnp.linalg.det, fnp.linalg.slogdet])
@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 2)])
def test_square_functions_reject_non_square(f, shape):
    with pytest.raises(ShapeError, match=str(shape).replace("(", r"\(").replace(")", r"\)")):
        f(np.ones(shape))


def test_linalg_keeps_float32_and_promotes_ints():
    a32 = _well_conditioned(3, 3).astype(np.float32)
    assert fnp.linalg.inv(a32).dtype == np.float32
    assert fnp.linalg.det(a32).dtype == np.linalg.det(a32).dtype
    ints = np.array([[2, 1], [1, 3]])
    np.testing.assert_allclose(fnp.linalg.inv(ints), np.linalg.inv(ints))
    assert fnp.linalg.solve(ints, np.array([1, 2])).dtype == np.float64
    graph = fg.make_graph(fnp.linalg.inv)(ints)
    assert graph.outputs[0].dtype == np.float64


def test_inv_and_det_trace_abstractly_on_zeros():
    # make_graph never evaluates: a singular (all-zero) example is fine.
    graph = fg.make_graph(lambda a: fnp.linalg.det(fnp.linalg.inv(a)))(np.zeros((2, 4, 4)))
    assert graph.outputs[0].shape == (2,)


# ---------------------------------------------------------------------------
# norm
# ---------------------------------------------------------------------------
NORM_CASES = [
    # (shape, ord, axis, keepdims)
    ((5,), None, None, False),
    ((5,), 2, None, False),
    ((5,), 1, None, False),
    ((5,), np.inf, None, False),
    ((5,), -np.inf, None, False),
    ((5,), 3, None, False),
    ((5,), 0.5, None, False),
    ((5,), -1.5, None, False),
    ((2, 3, 4), None, None, False),
    ((2, 3, 4), None, None, True),
    ((3, 4), None, 1, False),
    ((3, 4), 1, 0, True),
    ((3, 4), 3, -1, False),
    ((2, 3, 4), np.inf, (1,), True),
    ((3, 4), "fro", None, False),
    ((3, 4), None, (0, 1), True),
    ((3, 4), 1, None, False),
    ((3, 4), -1, None, False),
    ((3, 4), np.inf, None, False),
    ((3, 4), -np.inf, None, False),
    ((2, 3, 4), 1, (2, 0), False),
    ((2, 3, 4), np.inf, (0, 2), True),
    ((2, 3, 4), -np.inf, (-1, 1), False),
    ((2, 3, 4), "fro", (1, 2), False),
]


@pytest.mark.parametrize("shape,ord,axis,keepdims", NORM_CASES)
def test_norm(shape, ord, axis, keepdims):
    x = _rand(*shape)

    def f(x):
        return fnp.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)

    np.testing.assert_allclose(f(x), np.linalg.norm(x, ord, axis, keepdims), rtol=1e-12)
    assert np.shape(f(x)) == np.shape(np.linalg.norm(x, ord, axis, keepdims))
    check_grads(f, (x,), order=2)
    _assert_graph_matches(f, x)


def test_norm_zero_counts_nonzeros_without_gradient():
    x = np.array([[0.0, 1.5, -2.0], [0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(fnp.linalg.norm(x, 0, axis=1), np.linalg.norm(x, 0, axis=1))
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.linalg.norm(x, 0))(x[0]), np.zeros(3))


@pytest.mark.parametrize("ord,axis,shape", [(None, None, (3,)), (2, None, (3,)),
                                            ("fro", None, (2, 2)), (None, 1, (2, 3)),
                                            (3, None, (3,)), (0.5, None, (3,))])
def test_norm_gradient_at_zero_is_zero(ord, axis, shape):
    def f(x):
        return fnp.sum(fnp.linalg.norm(x, ord=ord, axis=axis))

    x = np.zeros(shape)
    np.testing.assert_array_equal(fnp.linalg.norm(x, ord=ord, axis=axis), 0.0)
    np.testing.assert_array_equal(fg.grad(f)(x), np.zeros(shape))
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(fg.grad(f)(x)))(x), np.zeros(shape))


def test_norm_gradient_with_a_zero_row():
    # one row zero (subgradient 0), the other the usual x / |x|
    x = np.array([[0.0, 0.0], [3.0, 4.0]])
    g = fg.grad(lambda x: fnp.sum(fnp.linalg.norm(x, axis=1)))(x)
    np.testing.assert_allclose(g, [[0.0, 0.0], [0.6, 0.8]])


@pytest.mark.parametrize("ord", [2, -2, "nuc"])
def test_norm_singular_value_matrix_orders(ord):
    # Supported since the norms moved to funcgrad/numpy/_norms.py (they used to raise).
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(fnp.linalg.norm(x, ord=ord), np.linalg.norm(x, ord=ord))


@pytest.mark.parametrize("x,kwargs,error", [
    (np.ones((2, 2, 2)), {"ord": 1}, ShapeError),     # 3-D needs an axis for ord != None
    (np.ones(3), {"ord": "fro"}, ArgumentError),      # 'fro' is a matrix norm
    (np.ones((2, 2)), {"ord": 3, "axis": (0, 1)}, ArgumentError),
    (np.ones((2, 2)), {"axis": 2}, ShapeError),
    (np.ones((2, 2)), {"axis": (0, 0)}, ShapeError),
])
def test_norm_bad_arguments(x, kwargs, error):
    with pytest.raises(error):
        fnp.linalg.norm(x, **kwargs)


def test_norm_dtypes():
    assert fnp.linalg.norm(np.ones(3, np.float32)).dtype == np.float32
    np.testing.assert_allclose(fnp.linalg.norm(np.array([3, 4])), 5.0)
    np.testing.assert_allclose(fnp.linalg.norm([[1.0, 2.0], [3.0, 4.0]], 1),
                               np.linalg.norm([[1.0, 2.0], [3.0, 4.0]], 1))


# ---------------------------------------------------------------------------
# forward mode: each primitive's JVP rule against a central difference
# ---------------------------------------------------------------------------
JVP_CASES = [
    ("matmul", fnp.matmul, [(3,), (2, 3, 4)]),
    ("matmul-batched", fnp.matmul, [(2, 1, 2, 3), (4, 3, 2)]),
    ("einsum-2", lambda a, b: fnp.einsum("ij,jk->ik", a, b), [(2, 3), (3, 4)]),
    ("einsum-3", lambda a, b, c: fnp.einsum("ij,jk,kl->il", a, b, c), [(2, 3), (3, 4), (4, 2)]),
    ("inv", fnp.linalg.inv, ["square"]),
    ("det", fnp.linalg.det, ["square"]),
    ("logabsdet", lambda a: fnp.linalg.slogdet(a).logabsdet, ["square"]),
    ("solve-vector", fnp.linalg.solve, ["square", (3,)]),
    ("solve-matrix", fnp.linalg.solve, ["square", (3, 2)]),
    ("solve-broadcast", fnp.linalg.solve, ["matrix", (2, 3, 2)]),
]


@pytest.mark.parametrize("name,f,shapes", JVP_CASES, ids=[c[0] for c in JVP_CASES])
def test_jvp_matches_central_differences(name, f, shapes):
    square = {"square": (2, 3, 3), "matrix": (3, 3)}
    xs = [_well_conditioned(*square[s], seed=i) if s in square else _rand(*s, seed=i)
          for i, s in enumerate(shapes)]
    vs = [_rand(*x.shape, seed=10 + i) for i, x in enumerate(xs)]
    out, tangent = fg.jvp(f, tuple(xs), tuple(vs))
    np.testing.assert_allclose(out, f(*xs), rtol=1e-12)
    h = 1e-6
    numeric = (f(*[x + h * v for x, v in zip(xs, vs)]) - f(*[x - h * v for x, v in zip(xs, vs)])) / (2 * h)
    np.testing.assert_allclose(tangent, numeric, rtol=1e-6, atol=1e-7)


def test_jvp_of_slogdet_sign_is_zero():
    a = _well_conditioned(2, 3, 3)
    _, tangent = fg.jvp(lambda a: fnp.linalg.slogdet(a).sign, (a,), (np.ones_like(a),))
    np.testing.assert_array_equal(tangent, np.zeros(2))


# ---------------------------------------------------------------------------
# composition: a small least-squares problem through several ops
# ---------------------------------------------------------------------------
def test_composed_least_squares_gradient():
    a, y = _rand(5, 3), _rand(5, seed=1)

    def loss(a):
        ata = fnp.einsum("ki,kj->ij", a, a) + np.eye(3)
        w = fnp.linalg.solve(ata, fnp.dot(a.T, y))
        return fnp.linalg.norm(fnp.matmul(a, w) - y) ** 2 + fnp.linalg.slogdet(ata).logabsdet

    check_grads(loss, (a,), order=2)
