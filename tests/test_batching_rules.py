"""Native batching rules of the indexing and linear-algebra primitives, and the JVP
rules of the indexing primitives.

Every ``vmap`` here is compared with a Python loop of a NumPy reference, and runs
with the fallback ``loop_rule`` replaced by one that raises: each primitive must
batch in one call.  JVPs are compared with central differences (the indexing
primitives are linear, so the difference quotient is exact up to rounding).
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp

vmap_module = importlib.import_module("funcgrad.transforms.vmap")

B = 3  # batch size


def _rand(*shape, seed=0):
    return np.random.default_rng(100 + seed).standard_normal(shape)


def _spd(*shape, seed=0):
    """Well-conditioned (..., n, n) matrices."""
    n = shape[-1]
    return _rand(*shape, seed=seed) + n * np.eye(n)


@pytest.fixture(autouse=True)
def native_only(monkeypatch):
    """Fail any test here that would batch a primitive with the per-example loop."""
    def refuse(prim, *args, **kwargs):
        raise AssertionError(f"vmap fell back to a loop for {prim.name!r}")

    monkeypatch.setattr(vmap_module, "loop_rule", refuse)


def _batched(shape, axis, seed=0, make=_rand):
    """A random array of logical shape ``shape``, batched along ``axis`` (None: unbatched)."""
    if axis is None:
        return make(*shape, seed=seed)
    x = make(B, *shape, seed=seed)
    return np.moveaxis(x, 0, axis)


def _example(x, axis, i):
    return x if axis is None else np.take(x, i, axis=axis)


def _check_vmap(fun, ref, args, in_axes, rtol=1e-12, atol=1e-12):
    """vmap(fun) over ``in_axes`` equals stacking ``ref`` on each example."""
    out = fg.vmap(fun, in_axes=in_axes)(*args)
    expected = np.stack([ref(*[_example(a, ax, i) for a, ax in zip(args, in_axes)])
                         for i in range(B)])
    assert np.shape(out) == expected.shape
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------
# getitem with a static index (x batched, index arrays unbatched)
# ---------------------------------------------------------------------------
MASK = np.array([[True, False, True, False, True],
                 [False, False, True, True, False],
                 [True, True, False, False, False],
                 [False, True, False, False, True]])

STATIC_INDEX_CASES = [
    # (id, logical shape of x, index)
    ("slices", (4, 5), (slice(1, None), slice(None, None, 2))),
    ("int", (4, 5), 2),
    ("negative-int-and-slice", (4, 5), (-1, slice(1, 4))),
    ("ellipsis-none-int", (4, 5), (Ellipsis, None, 1)),
    ("array", (4, 5), np.array([3, 0, 0])),
    ("2d-array", (4, 5), np.array([[0, 1], [3, 3]])),
    ("adjacent-arrays-after-slice", (4, 5, 6), (slice(None), np.array([0, 2]), np.array([1, 1]))),
    ("non-adjacent-arrays", (4, 5, 6), (np.array([0, 2, 3]), slice(None), np.array([1, 3, 5]))),
    ("non-adjacent-broadcast-arrays", (4, 5, 6),
     (np.array([[0], [2]]), slice(1, 3), np.array([1, 3, 5]))),
    ("int-array-adjacent", (4, 5, 6), (slice(None), 1, np.array([0, 2]))),
    ("int-array-non-adjacent", (4, 5, 6), (1, slice(None), np.array([0, 2, 3]))),
    ("arrays-split-by-none", (4, 5, 6), (np.array([0, 1]), None, np.array([2, 3]))),
    ("arrays-split-by-empty-ellipsis", (4, 5, 6),
     (slice(None), np.array([0, 1]), Ellipsis, np.array([2, 3]))),
    ("ellipsis-then-array", (4, 5, 6), (Ellipsis, np.array([5, 0]))),
    ("bool-mask-2d", (4, 5), MASK),
    ("bool-mask-1d-after-slice", (4, 5), (slice(None), MASK[0])),
    ("bool-mask-and-array", (4, 5, 6), (MASK[:, 0], slice(None), np.array([1, 2]))),
]


@pytest.mark.parametrize("shape,index", [c[1:] for c in STATIC_INDEX_CASES],
                         ids=[c[0] for c in STATIC_INDEX_CASES])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_vmap_getitem_static_index(shape, index, axis):
    x = _batched(shape, axis)
    _check_vmap(lambda x: x[index], lambda x: x[index], [x], (axis,))


def _numpy_grad_of_indexed_cubes(x, index):
    """The gradient of ``sum(x[index] ** 3)`` in NumPy: ``3 x² `` scatter-added at ``index``."""
    g = np.zeros_like(x)
    np.add.at(g, index, 3 * x[index] ** 2)
    return g


@pytest.mark.parametrize("shape,index", [c[1:] for c in STATIC_INDEX_CASES],
                         ids=[c[0] for c in STATIC_INDEX_CASES])
@pytest.mark.parametrize("axis", [0, -1])
def test_vmap_of_the_gradient_of_getitem(shape, index, axis):
    # Basic indices transpose to ``unslice``, index arrays to ``scatter_add``: both batch
    # natively, and give NumPy's scatter-added gradient.
    x = _batched(shape, axis)
    grad = fg.grad(lambda x: fnp.sum(x[index] ** 3))
    _check_vmap(grad, lambda x: _numpy_grad_of_indexed_cubes(x, index), [x], (axis,))


def test_the_gradient_of_indexing_is_one_unslice():
    # A scatter into zeros of its own: no zeros operand copied and added into.
    x = _rand(4, 5)
    for index in [(slice(1, None), slice(None, None, 2)), np.array([0, 0, 3])]:
        text = str(fg.make_graph(fg.grad(lambda x: fnp.sum(fnp.sin(x[index]))))(x))
        assert "unslice" in text and "scatter_add" not in text
    g = fg.grad(lambda x: fnp.sum(x[np.array([0, 0, 3])] * np.array([[1.0], [2.0], [3.0]])))(x)
    np.testing.assert_array_equal(g[:, 0], [3.0, 0.0, 0.0, 3.0])  # repeated rows accumulate


def test_vmap_take_and_take_along_axis_with_shared_indices():
    x = _batched((4, 5), 1)
    i = np.array([4, 0, 4])
    _check_vmap(lambda x: fnp.take(x, i, axis=1), lambda x: np.take(x, i, axis=1), [x], (1,))
    _check_vmap(lambda x: fnp.take(x, i), lambda x: np.take(x, i), [x], (1,))
    j = np.array([[0, 2], [1, 1], [4, 3], [0, 0]])
    _check_vmap(lambda x: fnp.take_along_axis(x, j, 1), lambda x: np.take_along_axis(x, j, 1),
                [x], (1,))


def test_vmap_getitem_with_a_mask_computed_outside():
    # The mask is a concrete (unbatched) array, so it is converted before the batched bind.
    x = _batched((4, 5), 0)
    m = _rand(4, 5, seed=3)
    _check_vmap(lambda x: x[m > 0], lambda x: x[m > 0], [x], (0,))


# ---------------------------------------------------------------------------
# getitem with batched (per-example) index arrays
# ---------------------------------------------------------------------------
def _ints(shape, high, axis, seed=0, distinct=False):
    """Random integer indices in [0, high), batched along ``axis`` like :func:`_batched`;
    ``distinct``: no index repeats within an example."""
    rng = np.random.default_rng(200 + seed)
    n = int(np.prod(shape, dtype=int))
    draw = ((lambda: rng.permutation(high)[:n].reshape(shape)) if distinct else
            (lambda: rng.integers(0, high, shape)))
    if axis is None:
        return draw()
    return np.moveaxis(np.stack([draw() for _ in range(B)]), 0, axis)


# A NumPy array indexed by a tracer would call NumPy's own __getitem__ (which cannot
# defer to the tracer); at(x)[...].get() is funcgrad's getitem for arrays and tracers.
BATCHED_INDEX_CASES = [
    # (id, fun(x, i), logical shape of x, logical shape of i, high)
    ("leading-array", lambda x, i: fnp.at(x)[i].get(), (4, 5), (2,), 4),
    ("after-slice", lambda x, i: fnp.at(x)[:, i].get(), (4, 5), (2, 3), 5),
    ("with-int-adjacent", lambda x, i: fnp.at(x)[:, 2, i].get(), (4, 5, 6), (3,), 6),
    ("with-int-non-adjacent", lambda x, i: fnp.at(x)[i, :, 2].get(), (4, 5, 6), (3,), 4),
    ("with-shared-array-non-adjacent",
     lambda x, i: fnp.at(x)[i, 1:3, np.array([[0], [5]])].get(), (4, 5, 6), (3,), 4),
    ("with-shared-array-adjacent",
     lambda x, i: fnp.at(x)[:, np.array([[1], [0]]), i].get(), (4, 5, 6), (3,), 6),
    ("ellipsis", lambda x, i: fnp.at(x)[..., i].get(), (4, 5, 6), (2, 2), 6),
    ("scalar-index", lambda x, i: fnp.at(x)[i].get(), (4, 5), (), 4),
    ("scalar-after-none", lambda x, i: fnp.at(x)[None, :, i].get(), (4, 5), (), 5),
]


@pytest.mark.parametrize("fun,xshape,ishape,high", [c[1:] for c in BATCHED_INDEX_CASES],
                         ids=[c[0] for c in BATCHED_INDEX_CASES])
@pytest.mark.parametrize("axes", [(0, 0), (None, 0), (1, 0), (0, -1), (2, None)],
                         ids=lambda a: f"in_axes={a}")
def test_vmap_getitem_batched_index(fun, xshape, ishape, high, axes):
    x = _batched(xshape, axes[0])
    i = _ints(ishape, high, axes[1])
    _check_vmap(fun, fun, [x, i], axes)


def test_vmap_take_and_take_along_axis_with_per_example_indices():
    x = _batched((4, 5), 0)
    i = _ints((2,), 5, 0)
    _check_vmap(lambda x, i: fnp.take(x, i, axis=1), lambda x, i: np.take(x, i, axis=1),
                [x, i], (0, 0))
    _check_vmap(lambda x, i: fnp.take(x, i), lambda x, i: np.take(x, i), [x, _ints((3,), 20, 1)],
                (0, 1))
    j = _ints((4, 2), 5, 2)
    _check_vmap(lambda x, j: fnp.take_along_axis(x, j, 1), lambda x, j: np.take_along_axis(x, j, 1),
                [x, j], (0, 2))
    _check_vmap(lambda x, j: fnp.take_along_axis(x, j, 1), lambda x, j: np.take_along_axis(x, j, 1),
                [x[0], j], (None, 2))


def test_vmap_of_vmap_getitem_with_batched_indices():
    # The inner batch rule moves index arrays that are tracers of the outer vmap.
    x = _rand(2, B, 5, 4)
    i = _ints((2, B, 3), 5, None)
    out = fg.vmap(fg.vmap(lambda x, i: x[i, 1:]))(x, i)
    expected = np.stack([np.stack([x[a, b][i[a, b], 1:] for b in range(B)]) for a in range(2)])
    np.testing.assert_array_equal(out, expected)
    j = i[0] % 4
    out = fg.vmap(fg.vmap(lambda x, j: x[:, j], in_axes=(None, 0)), in_axes=(0, None))(x[:, 0], j)
    expected = np.stack([np.stack([x[a, 0][:, j[b]] for b in range(B)]) for a in range(2)])
    np.testing.assert_array_equal(out, expected)


# ---------------------------------------------------------------------------
# at(x)[...].set / .add: any of operand, updates and index arrays batched
# ---------------------------------------------------------------------------
def _np_set(x, index, u):
    out = np.array(x, copy=True)
    out[index] = u
    return out


def _np_add(x, index, u):
    out = np.array(x, copy=True)
    np.add.at(out, index, u)
    return out


SCATTER_CASES = [
    # (id, logical shape of x, index, logical shape of the updates)
    ("int", (4, 5), 1, (5,)),
    ("slice-broadcast-row", (4, 5), slice(1, 3), (5,)),
    ("repeated-array", (4, 5), (slice(None), np.array([0, 2, 0])), (4, 3)),
    ("non-adjacent-arrays", (4, 5, 6), (np.array([0, 1, 1]), slice(None), np.array([2, 3, 3])),
     (3, 5)),
    ("int-array-non-adjacent", (4, 5, 6), (2, slice(1, 4), np.array([0, 5])), (2, 3)),
    ("mask", (4, 5), MASK, (int(MASK.sum()),)),
    ("ellipsis-array", (4, 5, 6), (Ellipsis, np.array([1, 4])), (5, 2)),
]


@pytest.mark.parametrize("shape,index,ushape", [c[1:] for c in SCATTER_CASES],
                         ids=[c[0] for c in SCATTER_CASES])
@pytest.mark.parametrize("axes", [(0, 0), (None, 0), (0, None), (1, -1), (-1, None)],
                         ids=lambda a: f"in_axes={a}")
@pytest.mark.parametrize("op", ["set", "add"])
def test_vmap_scatter_static_index(shape, index, ushape, axes, op):
    x = _batched(shape, axes[0])
    u = _batched(ushape, axes[1], seed=1)
    if op == "set":
        fun, ref = (lambda x, u: fnp.at(x)[index].set(u)), (lambda x, u: _np_set(x, index, u))
    else:
        fun, ref = (lambda x, u: fnp.at(x)[index].add(u)), (lambda x, u: _np_add(x, index, u))
    _check_vmap(fun, ref, [x, u], axes)


@pytest.mark.parametrize("op", ["set", "add"])
def test_vmap_scatter_scalar_and_broadcast_updates(op):
    x = _batched((4, 5), 1)
    index = (slice(None), np.array([0, 3, 1]) if op == "set" else np.array([0, 3, 3]))
    ref = _np_set if op == "set" else _np_add

    def update(x, u):
        at = fnp.at(x)[index]
        return at.set(u) if op == "set" else at.add(u)

    _check_vmap(lambda x: update(x, 2.5), lambda x: ref(x, index, 2.5), [x], (1,))
    u = _batched((3,), 0, seed=2)  # broadcasts over the rows of x[:, [0, 3, ...]]
    _check_vmap(update, lambda x, u: ref(x, index, u), [x, u], (1, 0))
    _check_vmap(update, lambda x, u: ref(x, index, u), [x[:, 0], u], (None, 0))


def test_vmap_scatter_set_drops_leading_unit_axes_of_the_updates():
    index = (slice(None), np.array([0, 3, 1]))
    x, u = _batched((4, 5), 0), _batched((1, 4, 1), 1, seed=2)
    _check_vmap(lambda x, u: fnp.at(x)[index].set(u), lambda x, u: _np_set(x, index, u),
                [x, u], (0, 1))


SCATTER_BATCHED_INDEX_CASES = [
    # (id, index builder from the index array i, logical shapes of x, i and the updates, high)
    ("leading", lambda i: i, (4, 5), (2,), (2, 5), 4),
    ("after-slice", lambda i: (slice(None), i), (4, 5), (3,), (4, 3), 5),
    ("non-adjacent", lambda i: (i, slice(None), np.array([1, 2])), (4, 5, 6), (2,), (2, 5), 4),
    ("scalar", lambda i: (slice(1, 3), i), (4, 5), (), (2,), 5),
]


@pytest.mark.parametrize("build,xshape,ishape,ushape,high",
                         [c[1:] for c in SCATTER_BATCHED_INDEX_CASES],
                         ids=[c[0] for c in SCATTER_BATCHED_INDEX_CASES])
@pytest.mark.parametrize("axes", [(0, 0, 0), (None, 0, None), (None, 0, 0), (1, 0, None),
                                  (None, -1, 1)], ids=lambda a: f"in_axes={a}")
@pytest.mark.parametrize("op", ["set", "add"])
def test_vmap_scatter_batched_index(build, xshape, ishape, ushape, high, axes, op):
    x = _batched(xshape, axes[0])
    # set: the last write wins, so keep each example's indices distinct
    i = _ints(ishape, high, axes[1], distinct=op == "set")
    u = _batched(ushape, axes[2], seed=1)
    if op == "set":
        fun = lambda x, i, u: fnp.at(x)[build(i)].set(u)
        ref = lambda x, i, u: _np_set(x, build(i), u)
    else:
        fun = lambda x, i, u: fnp.at(x)[build(i)].add(u)
        ref = lambda x, i, u: _np_add(x, build(i), u)
    _check_vmap(fun, ref, [x, i, u], axes)


# ---------------------------------------------------------------------------
# matmul, einsum, inv, det, slogdet, solve
# ---------------------------------------------------------------------------
MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                 ((5, 2, 3), (3,)), ((3,), (5, 3, 4)), ((5, 2, 3), (3, 4)), ((1, 2, 3), (5, 3, 4))]
BINARY_AXES = [(0, 0), (0, None), (None, 0), (-1, 0), (0, -1)]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=lambda s: f"{s[0]}@{s[1]}")
@pytest.mark.parametrize("axes", BINARY_AXES, ids=lambda a: f"in_axes={a}")
def test_vmap_matmul(shapes, axes):
    a, b = _batched(shapes[0], axes[0]), _batched(shapes[1], axes[1], seed=1)
    _check_vmap(fnp.matmul, np.matmul, [a, b], axes)
    _check_vmap(lambda a, b: a @ b, np.matmul, [a, b], axes)


EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),              # implicit output
    ("i,i->", [(3,), (3,)]),
    ("ij->ji", [(2, 3)]),                     # a pure transpose
    ("ij->i", [(2, 3)]),
    ("...ij,...jk->...ik", [(5, 2, 3), (5, 3, 4)]),
    ("...ij,jk->...ik", [(2, 3), (3, 4)]),    # ellipsis of no axes
    ("...i,...i->...", [(1, 3), (4, 3)]),     # broadcast ellipsis axes
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
]
EINSUM_AXES = [(0, 0, 0), (0, None, 0), (None, 1, None), (-1, 0, 1)]


@pytest.mark.parametrize("spec,shapes", EINSUM_CASES, ids=[c[0] for c in EINSUM_CASES])
@pytest.mark.parametrize("axes", EINSUM_AXES, ids=lambda a: f"in_axes={a}")
def test_vmap_einsum(spec, shapes, axes):
    axes = axes[:len(shapes)]
    if all(a is None for a in axes):
        axes = (0,) + axes[1:]
    args = [_batched(s, ax, seed=k) for k, (s, ax) in enumerate(zip(shapes, axes))]
    _check_vmap(lambda *xs: fnp.einsum(spec, *xs), lambda *xs: np.einsum(spec, *xs), args, axes)


STACKED = [
    ("inv", fnp.linalg.inv, np.linalg.inv),
    ("det", fnp.linalg.det, np.linalg.det),
    ("logabsdet", lambda a: fnp.linalg.slogdet(a).logabsdet, lambda a: np.linalg.slogdet(a)[1]),
    ("sign", lambda a: fnp.linalg.slogdet(a).sign, lambda a: np.linalg.slogdet(a)[0]),
]


@pytest.mark.parametrize("fun,ref", [c[1:] for c in STACKED], ids=[c[0] for c in STACKED])
@pytest.mark.parametrize("shape,axis", [((3, 3), 0), ((3, 3), 1), ((3, 3), 2),
                                        ((2, 3, 3), 0), ((2, 3, 3), 1), ((2, 3, 3), -1)])
def test_vmap_inv_det_slogdet(fun, ref, shape, axis):
    a = _spd(B, *shape)
    a[::2, ..., 0, :] *= -1  # negative determinants too
    _check_vmap(fun, ref, [np.moveaxis(a, 0, axis)], (axis,), rtol=1e-10)


SOLVE_CASES = [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (3,)), ((2, 3, 3), (3, 2)),
               ((3, 3), (2, 3, 2)), ((1, 3, 3), (2, 3, 1))]


@pytest.mark.parametrize("shapes", SOLVE_CASES, ids=lambda s: f"{s[0]}\\{s[1]}")
@pytest.mark.parametrize("axes", BINARY_AXES + [(1, None)], ids=lambda a: f"in_axes={a}")
def test_vmap_solve(shapes, axes):
    a = _batched(shapes[0], axes[0], make=_spd)
    b = _batched(shapes[1], axes[1], seed=1)
    _check_vmap(fnp.linalg.solve, np.linalg.solve, [a, b], axes, rtol=1e-10)


def test_vmap_of_linalg_composite():
    # A least-squares solve per example: matmul, einsum, solve and slogdet together.
    xs, ys = _rand(B, 6, 3), _rand(B, 6, seed=1)

    def fit(x, y):
        gram = fnp.einsum("ki,kj->ij", x, x) + np.eye(3)
        w = fnp.linalg.solve(gram, x.T @ y)
        return w, fnp.linalg.slogdet(gram).logabsdet

    def ref(x, y):
        gram = x.T @ x + np.eye(3)
        return np.linalg.solve(gram, x.T @ y), np.linalg.slogdet(gram)[1]

    w, logdet = fg.vmap(fit)(xs, ys)
    expected = [ref(x, y) for x, y in zip(xs, ys)]
    np.testing.assert_allclose(w, np.stack([e[0] for e in expected]), rtol=1e-10)
    np.testing.assert_allclose(logdet, np.stack([e[1] for e in expected]), rtol=1e-10)


# ---------------------------------------------------------------------------
# JVP of the indexing primitives: central differences, and <Jv, w> == <v, J^T w>
# ---------------------------------------------------------------------------
JVP_INDEX_CASES = [
    # (id, f, shapes of the arguments)
    ("getitem-slices", lambda x: x[1:, ::2], [(4, 5)]),
    ("getitem-repeated-array", lambda x: x[np.array([0, 0, 3]), 1:], [(4, 5)]),
    ("getitem-non-adjacent", lambda x: x[np.array([0, 2]), :, np.array([1, 3])], [(4, 5, 6)]),
    ("getitem-mask", lambda x: x[MASK], [(4, 5)]),
    ("take_along_axis", lambda x: fnp.take_along_axis(x, np.array([[1, 1], [0, 4], [2, 2],
                                                                   [3, 0]]), 1), [(4, 5)]),
    ("add-repeated", lambda x, u: fnp.at(x)[np.array([1, 1, 3])].add(u), [(4, 5), (3, 5)]),
    ("add-broadcast", lambda x, u: fnp.at(x)[:, np.array([0, 0])].add(u), [(4, 5), (2,)]),
    ("add-slice", lambda x, u: fnp.at(x)[1:3].add(u), [(4, 5), (2, 5)]),
    ("set-array", lambda x, u: fnp.at(x)[np.array([2, 0])].set(u), [(4, 5), (2, 5)]),
    ("set-non-adjacent", lambda x, u: fnp.at(x)[np.array([0, 3]), :, np.array([1, 5])].set(u),
     [(4, 5, 6), (2, 5)]),
    ("set-broadcast", lambda x, u: fnp.at(x)[1:, 2].set(u), [(4, 5), ()]),
]


@pytest.mark.parametrize("f,shapes", [c[1:] for c in JVP_INDEX_CASES],
                         ids=[c[0] for c in JVP_INDEX_CASES])
def test_indexing_jvp_matches_central_differences(f, shapes):
    xs = [_rand(*s, seed=k) for k, s in enumerate(shapes)]
    vs = [_rand(*s, seed=10 + k) for k, s in enumerate(shapes)]
    out, tangent = fg.jvp(f, tuple(xs), tuple(vs))
    np.testing.assert_allclose(out, f(*xs))
    h = 0.5  # the ops are linear: any step is exact up to rounding
    plus, minus = f(*[x + h * v for x, v in zip(xs, vs)]), f(*[x - h * v for x, v in zip(xs, vs)])
    numeric = (plus - minus) / (2 * h)
    np.testing.assert_allclose(tangent, numeric, rtol=1e-12, atol=1e-12)
    # the JVP is the transpose of the VJP
    w = _rand(*np.shape(out), seed=20)
    _, pullback = fg.vjp(f, *xs)
    cts = pullback(w)
    lhs = np.sum(tangent * w)
    rhs = sum(np.sum(c * v) for c, v in zip(cts, vs))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


@pytest.mark.parametrize("op", ["set", "add"])
def test_scatter_jvp_with_one_tangent(op):
    """Differentiating only the operand, or only the updates (the other tangent is zero)."""
    x, u, v = _rand(4, 5), _rand(2, 5, seed=1), _rand(4, 5, seed=2)
    idx = np.array([3, 1])

    def f(x, u):
        return fnp.at(x)[idx].set(u) if op == "set" else fnp.at(x)[idx].add(u)

    _, t = fg.jvp(lambda x: f(x, u), (x,), (v,))
    expected = v.copy()
    if op == "set":
        expected[idx] = 0.0
    np.testing.assert_array_equal(t, expected)
    w = _rand(2, 5, seed=3)
    _, t = fg.jvp(lambda u: f(x, u), (u,), (w,))
    expected = np.zeros((4, 5))
    expected[idx] = w
    np.testing.assert_array_equal(t, expected)


def test_jvp_of_gather_is_differentiable_again():
    # f = sum(x[i]^3) = sum_k count_k x_k^3, so the Hessian-vector product H v is
    # 6 count x v, and the gradient of (H v) . 1 with respect to x is 6 count v.
    x, v = _rand(5), _rand(5, seed=1)
    i = np.array([0, 3, 3])

    def f(x):
        return fnp.sum(x[i] ** 3)

    grad_of_hvp = fg.grad(lambda x: fg.jvp(fg.grad(f), (x,), (v,))[1] @ np.ones(5))(x)
    counts = np.bincount(i, minlength=5)
    np.testing.assert_allclose(grad_of_hvp, 6 * counts * v, rtol=1e-12)


# ---------------------------------------------------------------------------
# compositions: vmap of grad (per-example gradients), grad of vmap, vmap of jvp
# ---------------------------------------------------------------------------
def _nll(w, x, y):
    """Softmax cross-entropy of one example: the logit of its label picked by an int index."""
    logits = x @ w
    return fnp.log(fnp.sum(fnp.exp(logits))) - logits[y]


def test_per_example_gradients_through_indexing_and_matmul():
    w, xs = _rand(4, 3), _rand(B, 4, seed=1)
    ys = np.array([2, 0, 2])
    per_example = fg.vmap(fg.grad(_nll), in_axes=(None, 0, 0))(w, xs, ys)
    loop = np.stack([fg.grad(_nll)(w, x, y) for x, y in zip(xs, ys)])
    np.testing.assert_allclose(per_example, loop, rtol=1e-12)
    # and the closed form: x (softmax - onehot)^T
    logits = xs @ w
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    p[np.arange(B), ys] -= 1
    np.testing.assert_allclose(per_example, xs[:, :, None] * p[:, None, :], rtol=1e-12)


def test_per_example_gradients_through_scatter_and_gather():
    emb = _rand(6, 2)
    ids = np.array([[0, 5, 5], [1, 2, 3], [4, 4, 4]])

    def loss(emb, tokens, u):
        rows = emb[tokens]                          # gather with a per-example index
        upd = fnp.at(emb)[tokens[0]].add(u)         # scatter with a per-example index
        return fnp.sum(rows ** 2) + fnp.sum(upd * emb)

    us = _rand(B, 2, seed=4)
    per_example = fg.vmap(fg.grad(loss), in_axes=(None, 0, 0))(emb, ids, us)
    loop = np.stack([fg.grad(loss)(emb, t, u) for t, u in zip(ids, us)])
    np.testing.assert_allclose(per_example, loop, rtol=1e-12)
    for k in range(B):  # closed form: 2 emb counts + 2 emb + u at tokens[0]
        expected = 2 * emb * np.bincount(ids[k], minlength=6)[:, None] + 2 * emb
        expected[ids[k, 0]] += us[k]
        np.testing.assert_allclose(per_example[k], expected, rtol=1e-12)


def test_grad_of_vmap_through_indexing_and_linalg():
    a, xs = _spd(3, 3), _rand(B, 3, seed=1)
    idx = np.array([[0, 2], [1, 1], [2, 0]])

    def total(a):
        sol = fg.vmap(lambda x, i: fnp.linalg.solve(a, x)[i], in_axes=(0, 0))(xs, idx)
        return fnp.sum(sol ** 2)

    def total_loop(a):
        return sum(fnp.sum(fnp.linalg.solve(a, x)[i] ** 2) for x, i in zip(xs, idx))

    np.testing.assert_allclose(fg.grad(total)(a), fg.grad(total_loop)(a), rtol=1e-10)


def test_vmap_of_jvp_through_scatter():
    xs, vs = _rand(B, 4), _rand(B, 4, seed=1)
    idx = np.array([1, 1, 3])

    def f(x):
        return fnp.at(x)[idx].add(x[:3] ** 2)

    out = fg.vmap(lambda x, v: fg.jvp(f, (x,), (v,)))(xs, vs)
    for k in range(B):
        value, tangent = fg.jvp(f, (xs[k],), (vs[k],))
        np.testing.assert_allclose(out[0][k], value, rtol=1e-12)
        np.testing.assert_allclose(out[1][k], tangent, rtol=1e-12)


def test_jacfwd_and_jacrev_through_indexing_and_linalg():
    # jacfwd maps jvp over a basis with vmap, jacrev maps the pullback: both batch the
    # JVP/VJP rules of getitem, scatter, matmul, einsum and solve natively.
    a, x = _spd(3, 3), _rand(5, seed=1)
    idx = np.array([4, 0, 2])

    def f(x):
        y = fnp.linalg.solve(a, x[idx])
        z = fnp.at(x)[np.array([1, 1])].add(y[:2] ** 2)
        return fnp.einsum("i,ij->j", y, a) + (a @ z[:3]) * fnp.linalg.det(a + fnp.outer(y, y))

    jf, jr = fg.jacfwd(f)(x), fg.jacrev(f)(x)
    assert jf.shape == (3, 5)
    np.testing.assert_allclose(jf, jr, rtol=1e-10, atol=1e-12)
    h, eye = 1e-6, np.eye(5)
    numeric = np.stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in eye], axis=1)
    np.testing.assert_allclose(jf, numeric, rtol=1e-6, atol=1e-6)
