"""Shape and assembly functions, pad, einsum forms and the searching/counting helpers: keyword
variants, NumPy's errors, the unsized forms (concrete values under grad, a clear error under
jit), and gradients of pad modes and einsum forms against finite differences under jit and
vmap.  The op table (tests/op_records_assembly.py) runs the generated tests on every function.
"""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.errors import ConcretizationError, ShapeError
from funcgrad.testing import check_grads

RNG = np.random.default_rng(0)
X34 = RNG.standard_normal((3, 4))


# -- pad ---------------------------------------------------------------------------------------
PAD_CASES = [
    ((3,), 7, {"mode": "reflect"}),                      # wider than the array: several reflections
    ((3,), (8, 1), {"mode": "reflect", "reflect_type": "odd"}),
    ((2,), (5, 6), {"mode": "symmetric", "reflect_type": "odd"}),
    ((1, 3), 2, {"mode": "reflect"}),                    # a singleton axis is extended like 'edge'
    ((3, 2), ((7, 0), (0, 5)), {"mode": "wrap"}),
    ((2, 3), ((1, 2), (3, 0)), {"mode": "edge"}),
    ((2, 3), 2, {"mode": "linear_ramp", "end_values": ((1.0, 2.0), (-1.0, 0.5))}),
    ((4, 3), ((2, 1),), {"mode": "maximum", "stat_length": ((1, 3), (2, 2))}),
    ((4, 3), 1, {"mode": "minimum", "stat_length": 10}),
    ((4, 3), (1, 2), {"mode": "mean", "stat_length": (3, 1)}),
    ((2, 2), 1, {"constant_values": ((1.0, 2.0), (3.0, 4.0))}),  # corners from the later axis
    ((2, 2), [[1], [2]], {"mode": "constant"}),          # one width per axis, shape (2, 1)
]


@pytest.mark.parametrize("shape, width, kw", PAD_CASES, ids=lambda c: str(c))
def test_pad_modes_match_numpy_and_differentiate(shape, width, kw):
    x = RNG.uniform(-1, 1, shape)
    f = lambda x: fnp.pad(x, width, **kw)  # noqa: E731
    expected = np.pad(x, width, **kw)
    np.testing.assert_allclose(f(x), expected, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(fg.jit(f)(x), expected, rtol=1e-13, atol=1e-13)
    check_grads(f, [x], order=2)
    batch = np.stack([x, 2 * x + 1])
    np.testing.assert_allclose(fg.vmap(f)(batch), np.stack([np.pad(b, width, **kw) for b in batch]),
                               rtol=1e-13, atol=1e-13)


def test_pad_integer_arrays_round_as_numpy():
    x = np.array([[1, 5, 2], [7, 3, 8]])
    for kw in ({"mode": "mean"}, {"mode": "linear_ramp", "end_values": (1, -3)}):
        got, expected = fnp.pad(x, 3, **kw), np.pad(x, 3, **kw)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def test_pad_traced_constant_values_differentiate():
    # d/dc sum(pad(x, 1, constant_values=c)) = the number of padded elements (16 - 4 = 12).
    g = fg.grad(lambda c: fnp.sum(fnp.pad(np.ones((2, 2)), 1, constant_values=(c, 0.0))))(0.5)
    # NumPy pads axis 0 over the original columns (2 elements before), then axis 1 over all
    # 4 rows (4 elements before): c appears 6 times.
    assert g == 6.0
    assert np.sum(np.pad(np.ones((2, 2)), 1, constant_values=(1.0, 0.0))) - 4 == 6.0


@pytest.mark.parametrize("call, error, match", [
    (lambda: fnp.pad(np.ones(2), 1, mode="median"), NotImplementedError, "median"),
    (lambda: fnp.pad(np.ones(2), 1, mode="nope"), ValueError, "mode 'nope' is not supported"),
    (lambda: fnp.pad(np.ones(2), 1, mode="edge", constant_values=1), ValueError, "unsupported keyword"),
    (lambda: fnp.pad(np.ones(2), -1), ValueError, "negative"),
    (lambda: fnp.pad(np.ones((0, 2)), 1, mode="edge"), ValueError, "empty axis 0"),
    (lambda: fnp.pad(np.ones(3), 1, mode="mean", stat_length=0), ValueError, "stat_length of 0"),
    (lambda: fnp.pad(np.ones(3), 1, mode="reflect", reflect_type="weird"), ValueError, "reflect_type"),
])
def test_pad_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- einsum --------------------------------------------------------------------------------------
EINSUM_CASES = [
    ("ii->", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iij->j", [(2, 2, 3)]),
    ("iji->j", [(2, 3, 2)]),
    ("ijij->ij", [(2, 3, 2, 3)]),
    ("...ii->...i", [(4, 2, 2)]),
    ("ij...,j...->i...", [(2, 3, 4), (3, 4)]),
    ("ab,bc,cd,de->ae", [(2, 3), (3, 4), (4, 2), (2, 3)]),
    ("i,i,i->i", [(3,), (3,), (3,)]),
]


@pytest.mark.parametrize("spec, shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
def test_einsum_forms_values_grads_jit_vmap(spec, shapes):
    ops = [RNG.standard_normal(s) for s in shapes]
    f = lambda *xs: fnp.einsum(spec, *xs)  # noqa: E731
    expected = np.einsum(spec, *ops)
    np.testing.assert_allclose(f(*ops), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fg.jit(f)(*ops), expected, rtol=1e-12, atol=1e-12)
    check_grads(f, ops, order=2)
    batched = [np.stack([o, o * 2 - 1]) for o in ops]
    np.testing.assert_allclose(fg.vmap(f)(*batched),
                               np.stack([np.einsum(spec, *[b[i] for b in batched]) for i in range(2)]),
                               rtol=1e-12, atol=1e-12)


def test_einsum_sublists_with_ellipsis_and_implicit_output():
    a, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((4, 5))
    for args in [(a, [Ellipsis, 0, 1], b, [1, 2], [Ellipsis, 0, 2]), (a, [0, 1, 2], b, [2, 3]),
                 (a, [5, 5 + 26, 1])]:
        np.testing.assert_allclose(fnp.einsum(*args), np.einsum(*args), rtol=1e-12)
    g = fg.grad(lambda a: fnp.sum(fnp.einsum(a, [0, 1, 2], b, [2, 3], [0, 3])))(a)
    np.testing.assert_allclose(g, np.broadcast_to(b.sum(1), a.shape), rtol=1e-12)


def test_einsum_three_operands_follow_einsum_path():
    a, b, c = RNG.standard_normal((2, 50)), RNG.standard_normal((50, 40)), RNG.standard_normal((40, 3))
    graph = fg.make_graph(lambda a, b, c: fnp.einsum("ij,jk,kl->il", a, b, c))(a, b, c)
    steps = [n for n in graph.nodes if getattr(n, "primitive", None) is not None
             and n.primitive.name == "einsum"]
    assert len(steps) == 2  # pairwise, in einsum_path's order
    # The first pair contracted is the first pair of NumPy's greedy path.
    path = np.einsum_path("ij,jk,kl->il", a, b, c, optimize="greedy")[0][1]
    first = {tuple(i.shape) for i in steps[0].inputs}
    assert first == {np.shape([a, b, c][k]) for k in path}
    for opt in (False, True, "optimal", ["einsum_path", (1, 2), (0, 1)]):
        np.testing.assert_allclose(fnp.einsum("ij,jk,kl->il", a, b, c, optimize=opt),
                                   np.einsum("ij,jk,kl->il", a, b, c), rtol=1e-12)


def test_einsum_errors():
    with pytest.raises(ShapeError, match="different sizes 2 and 3"):
        fnp.einsum("ii", np.ones((2, 3)))
    with pytest.raises(TypeError, match="sublist"):
        fnp.einsum(np.ones(2), [60])
    with pytest.raises(TypeError, match="out= is not supported"):
        fnp.einsum("i->", np.ones(2), out=np.zeros(()))


# -- shape and assembly: keywords and errors -----------------------------------------------------
def test_rot90_flip_and_split_errors_follow_numpy():
    with pytest.raises(ValueError, match="len\\(axes\\) must be 2"):
        fnp.rot90(X34, axes=(0,))
    with pytest.raises(ValueError, match="Axes must be different"):
        fnp.rot90(X34, axes=(1, -1))
    with pytest.raises(ValueError, match="out of range"):
        fnp.rot90(X34, axes=(0, 3))
    with pytest.raises(ValueError, match=">= 2-d"):
        fnp.fliplr(np.ones(3))
    with pytest.raises(ValueError, match="equal division"):
        fnp.split(np.ones(5), 2)
    with pytest.raises(ValueError, match="larger than 0"):
        fnp.array_split(np.ones(5), 0)
    with pytest.raises(ValueError, match="3 or more dimensions"):
        fnp.dsplit(X34, 2)
    with pytest.raises(ValueError, match="at least 1-d"):
        fnp.unstack(np.float64(1.0))


def test_block_errors_follow_numpy():
    with pytest.raises(ValueError, match="depths are mismatched"):
        fnp.block([[X34], X34])
    with pytest.raises(TypeError, match="is a tuple"):
        fnp.block([(X34, X34)])
    with pytest.raises(ValueError, match="cannot be empty"):
        fnp.block([[]])


def test_block_of_scalars_and_traced_blocks():
    f = lambda x: fnp.block([[x[0], 1.0], [2.0, x[1]]])  # noqa: E731
    x = np.array([3.0, 4.0])
    np.testing.assert_array_equal(f(x), np.block([[3.0, 1.0], [2.0, 4.0]]))
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(f(x) * np.array([[1.0, 0.0], [0.0, 2.0]])))(x),
                                  [1.0, 2.0])


def test_select_and_piecewise_follow_numpy_rules():
    x = np.linspace(-2, 2, 9)
    # The first true condition wins in select; the last in piecewise.
    np.testing.assert_array_equal(fnp.select([x > 0, x > 1], [x, -x]), np.select([x > 0, x > 1], [x, -x]))
    np.testing.assert_array_equal(fnp.piecewise(x, [x > 0, x > 1], [1.0, 2.0]),
                                  np.piecewise(x, [x > 0, x > 1], [1.0, 2.0]))
    with pytest.raises(ValueError, match="same length"):
        fnp.select([x > 0], [x, x])
    with pytest.raises(TypeError, match="should be boolean"):
        fnp.select([x], [x])
    with pytest.raises(ValueError, match="either 1 or 2 functions"):
        fnp.piecewise(x, [x > 0], [1.0, 2.0, 3.0])
    # piecewise keeps x's dtype, like NumPy.
    xi = np.arange(-2, 3)
    got = fg.jit(lambda v: fnp.piecewise(v, [v > 0], [lambda u: u * 1.5]))(xi)
    expected = np.piecewise(xi, [xi > 0], [lambda u: u * 1.5])
    assert got.dtype == expected.dtype == xi.dtype
    np.testing.assert_array_equal(got, expected)


def test_put_along_axis_is_functional_and_differentiates():
    x = np.zeros((2, 3))
    idx = np.array([[2], [0]])
    out = fnp.put_along_axis(x, idx, np.array([[1.0], [2.0]]), axis=1)
    np.testing.assert_array_equal(out, [[0.0, 0.0, 1.0], [2.0, 0.0, 0.0]])
    np.testing.assert_array_equal(x, 0.0)  # unchanged
    w = np.arange(6.0).reshape(2, 3)
    g = fg.grad(lambda v: fnp.sum(fnp.put_along_axis(x, idx, v, axis=1) * w))(np.ones((2, 1)))
    np.testing.assert_array_equal(g, [[2.0], [3.0]])
    flat = fnp.put_along_axis(x, np.array([4]), 7.0, axis=None)
    assert flat[1, 1] == 7.0


def test_vectorize_keywords_and_excluded():
    f = fnp.vectorize(lambda a, b, scale: (a - b) * scale, excluded={"scale"})
    np.testing.assert_allclose(f(np.ones((2, 3)), np.arange(3.0), scale=2.0), (1 - np.arange(3.0)) * 2 * np.ones((2, 3)))
    two = fnp.vectorize(lambda u: (fnp.sum(u), fnp.max(u)), signature="(n)->(),()")
    s, m = two(X34)
    np.testing.assert_allclose(s, X34.sum(1))
    np.testing.assert_allclose(m, X34.max(1))
    cast = fnp.vectorize(lambda a: a * 2, otypes=[np.float32])
    assert cast(np.ones(3)).dtype == np.float32
    with pytest.raises(ValueError, match="inconsistent size"):
        fnp.vectorize(lambda u, v: fnp.sum(u * v), signature="(n),(n)->()")(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="not a valid gufunc signature"):
        fnp.vectorize(lambda u: u, signature="(n->()")
    # Differentiable through vmap, under jit.
    g = fg.jit(fg.grad(lambda x: fnp.sum(fnp.vectorize(lambda a: fnp.sin(a) * a)(x))))(X34)
    np.testing.assert_allclose(g, np.cos(X34) * X34 + np.sin(X34), rtol=1e-12)


def test_r_and_c_with_directives_and_traced_values():
    f = lambda x: fnp.r_["-1,2,0", x, x]  # noqa: E731
    x = np.arange(3.0)
    np.testing.assert_array_equal(fg.jit(f)(x), np.r_["-1,2,0", x, x])
    np.testing.assert_array_equal(fg.jit(lambda x: fnp.r_[x, 0:1:3j, 7.0])(x), np.r_[x, 0:1:3j, 7.0])
    np.testing.assert_array_equal(fg.jit(lambda x: fnp.c_[x[:2], np.ones((2, 2))])(x), np.c_[x[:2], np.ones((2, 2))])
    np.testing.assert_array_equal(fnp.r_[1, 2, 3], np.r_[1, 2, 3])  # plain: NumPy's own


def test_apply_along_axis_on_traced_values_uses_vmap():
    f = lambda x: fnp.apply_along_axis(lambda r: fnp.stack([fnp.sum(r), r[0]]), 1, x)  # noqa: E731
    x = RNG.standard_normal((2, 3, 4))
    expected = np.apply_along_axis(lambda r: np.stack([r.sum(), r[0]]), 1, x)
    np.testing.assert_allclose(fg.jit(f)(x), expected, rtol=1e-12)
    check_grads(f, [x], order=1)


# -- no derivative needed ------------------------------------------------------------------------
def test_value_dependent_lengths_under_grad_and_jit():
    x = np.array([0.0, 1.5, 0.0, -2.0])
    # Under grad the values are known: NumPy's result, no size= needed.
    def f(x):
        (idx,) = fnp.nonzero(x)
        assert np.array_equal(idx, [1, 3])
        assert np.array_equal(fnp.argwhere(x), np.argwhere(x))
        assert np.array_equal(fnp.flatnonzero(x), [1, 3])
        return fnp.sum(x[idx] ** 2)
    np.testing.assert_array_equal(fg.grad(f)(x), 2 * x)
    for fn, fix in [(fnp.nonzero, "size="), (fnp.argwhere, "size="), (fnp.flatnonzero, "size="),
                    (fnp.unique, "size="), (lambda v: fnp.bincount(fnp.astype(v, int)), "length=")]:
        with pytest.raises(ConcretizationError, match=fix):
            fg.jit(fn)(x)
        with pytest.raises(ConcretizationError, match=fix):
            fg.vmap(fn)(np.stack([x, x]))


def test_unique_options_and_its_gradient():
    x = np.array([3.0, 1.0, 3.0, 2.0, 1.0])
    got = fnp.unique(x, return_index=True, return_inverse=True, return_counts=True)
    for g, e in zip(got, np.unique(x, return_index=True, return_inverse=True, return_counts=True)):
        np.testing.assert_array_equal(g, e)
    # The values are gathered at the first occurrences: d/dx sum(unique(x) * w) puts w there.
    w = np.array([10.0, 20.0, 30.0])
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(fnp.unique(x) * w))(x), [30.0, 10.0, 0.0, 20.0, 0.0])
    np.testing.assert_array_equal(fg.jit(lambda x: fnp.unique(x, size=5, fill_value=-1.0))(x),
                                  [1.0, 2.0, 3.0, -1.0, -1.0])
    m = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 5.0]])
    np.testing.assert_array_equal(fnp.unique(m, axis=0), np.unique(m, axis=0))
    # Rows [0, 5] (first at row 2) and [1, 2] (first at row 0), in that order.
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(fg.grad(lambda m: fnp.sum(fnp.unique(m, axis=0) * W))(m),
                                  [[3.0, 4.0], [0.0, 0.0], [1.0, 2.0]])


def test_bincount_and_histogram_keywords():
    x = np.array([0, 1, 1, 3])
    np.testing.assert_array_equal(fnp.bincount(x, minlength=6), np.bincount(x, minlength=6))
    w = np.array([0.5, 1.0, 2.0, 4.0], np.float32)
    got = fg.jit(lambda w: fnp.bincount(x, w))(w)
    assert got.dtype == np.bincount(x, w).dtype == np.float64  # NumPy sums weights in float64
    np.testing.assert_array_equal(got, np.bincount(x, w))
    with pytest.raises(ValueError, match="no negative elements"):
        fg.grad(lambda w: fnp.sum(fnp.bincount(np.array([-1, 0]), w)))(np.ones(2))
    a = RNG.standard_normal(40)
    for kw in [{"bins": 5, "density": True}, {"bins": np.array([-1.0, 0.0, 0.5, 2.0]), "density": True},
               {"bins": 3, "range": (0.0, 0.0)}]:
        got = fg.jit(lambda a: fnp.histogram(a, **kw))(a)
        expected = np.histogram(a, **kw)
        np.testing.assert_allclose(got[0], expected[0], rtol=1e-12)
        np.testing.assert_allclose(got[1], expected[1], rtol=1e-12)
    # Density with weights differentiates in the weights: compare with finite differences.
    check_grads(lambda wt: fnp.histogram(a, 4, weights=wt, density=True)[0], [np.abs(a) + 0.5], order=2)
    with pytest.raises(NotImplementedError, match="bins='auto'"):
        fg.jit(lambda a: fnp.histogram(a, "auto"))(a)


def test_digitize_rejects_unsorted_bins():
    with pytest.raises(ValueError, match="monotonically"):
        fg.grad(lambda x: fnp.sum(x * fnp.digitize(x, np.array([1.0, 0.0, 2.0]))))(np.ones(2))


def test_dtype_rules_scalars_and_shape_helpers():
    t32 = None

    def f(x):
        nonlocal t32
        t32 = (fnp.result_type(x, 1.0), fnp.result_type(x, np.float64), fnp.isscalar(x),
               fnp.isscalar(x[None]), fnp.empty_like(x).shape, fnp.empty_like(x).dtype)
        return x
    fg.jit(f)(np.float32(1.0))
    assert t32 == (np.float32, np.float64, True, False, (), np.float32)
    assert fnp.promote_types(np.int8, np.float16) == np.float16
    assert fnp.issubdtype(np.float32, fnp.floating)
    assert fnp.isscalar(1.0) and not fnp.isscalar(np.ones(1))
    assert fnp.broadcast_shapes((2, 1), (3,)) == (2, 3)
    for name, args in [("indices", ((2, 3),)), ("tri", (3, 4, 1)), ("tril_indices", (3, -1)),
                       ("triu_indices", (3, 1, 4)), ("diag_indices", (3, 2))]:
        for g, e in zip(np.atleast_1d(getattr(fnp, name)(*args)), np.atleast_1d(getattr(np, name)(*args))):
            np.testing.assert_array_equal(g, e)


def test_comparisons_return_python_bools_on_arrays_and_traced_bools_under_jit():
    assert fnp.allclose(np.ones(2), np.ones(2)) is True
    assert fnp.array_equal(np.ones(2), np.ones(3)) is False
    out = fg.jit(lambda x: fnp.allclose(x, x + 1e-12))(np.ones(3))
    assert out.dtype == np.bool_ and out.shape == () and bool(out)
    assert not fg.jit(lambda x: fnp.array_equiv(x, x[:2]))(np.ones(3))  # (3,) and (2,) do not broadcast
    assert fg.jit(lambda x: fnp.array_equiv(x, x[:1] * 0 + 1))(np.ones(3))
