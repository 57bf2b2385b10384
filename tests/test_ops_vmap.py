"""``vmap`` of every op in the op table against a Python loop over the batch.

Each record is vectorised with the batch axis first (float64 and float32), with the
batch axis second (``in_axes=1``, where an argument has an axis to put it after), and,
for records with several arguments, with each argument in turn left unbatched
(``in_axes`` holding ``None``).  The result must equal ``f`` applied to each batch
element and stacked: same shape, dtype and values.  Elementwise ops, reductions, shape
ops, indexing and matmul must batch natively (one call on the whole batch): with the
loop fallback disabled, they still vectorise.  The gradient of each differentiable
record is vectorised too (``vmap`` of ``grad``: the VJP rules' ops batch as well).
"""

import sys
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import DIFFERENTIABLE, F64, FLOATS, RECORDS, scalarize

import funcgrad as fg
from funcgrad import tree

by_name = {"ids": lambda r: r.name}
EXAMPLES = settings.default.max_examples  # 25 in the ci profile, more in dev
vmap_module = sys.modules["funcgrad.transforms.vmap"]


def draw_batch(rec, data, dtype):
    """``size`` argument lists of one drawn shape signature: ``batch[i][k]`` is argument k of element i."""
    shapes = data.draw(rec.shapes, label="shapes")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    size = data.draw(st.integers(1, 3), label="batch size")
    return [rec.draw_args(shapes, seed + i, dtype) for i in range(size)]


def looped(rec, batch, in_axes):
    """``rec.fun`` on each batch element (unbatched arguments from element 0), stacked leafwise."""
    outs = [rec.fun(*[elem[k] if ax is not None else batch[0][k] for k, ax in enumerate(in_axes)])
            for elem in batch]
    leaves = [tree.leaves(o) for o in outs]
    stacked = [np.stack([np.asarray(ls[j]) for ls in leaves]) for j in range(len(leaves[0]))]
    return tree.unflatten(tree.structure(outs[0]), stacked)


def batched_args(batch, in_axes):
    """Argument k stacked along ``in_axes[k]``, or element 0's value where it is ``None``."""
    return [batch[0][k] if ax is None else np.stack([elem[k] for elem in batch], axis=ax)
            for k, ax in enumerate(in_axes)]


def check_vmap(rec, batch, in_axes):
    got = fg.vmap(rec.fun, in_axes=tuple(in_axes))(*batched_args(batch, in_axes))
    expected = looped(rec, batch, in_axes)
    assert tree.structure(got) == tree.structure(expected), rec.name
    for i, (g, e) in enumerate(zip(tree.leaves(got), tree.leaves(expected))):
        g = np.asarray(g)
        assert (g.shape, g.dtype) == (e.shape, e.dtype), (
            f"{rec.name} in_axes={in_axes} output {i}: {g.dtype}{list(g.shape)}, "
            f"the loop gives {e.dtype}{list(e.shape)}")
        if e.dtype.kind in "fc":
            rtol, atol = rec.tol[e.dtype]
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=f"{rec.name} output {i}")
        else:
            np.testing.assert_array_equal(g, e, err_msg=f"{rec.name} output {i}")


@pytest.mark.parametrize("dtype", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("rec", RECORDS, **by_name)
@settings(max_examples=max(2, EXAMPLES // 8))
@given(data=st.data())
def test_vmap_axis_0_matches_loop(rec, dtype, data):
    batch = draw_batch(rec, data, dtype)
    check_vmap(rec, batch, [0] * rec.nargs)


@pytest.mark.parametrize("rec", RECORDS, **by_name)
@settings(max_examples=max(2, EXAMPLES // 8))
@given(data=st.data())
def test_vmap_axis_1_matches_loop(rec, data):
    batch = draw_batch(rec, data, F64)
    # The batch axis after the first logical axis; a 0-d argument can only take it first.
    check_vmap(rec, batch, [1 if np.ndim(x) else 0 for x in batch[0]])


@pytest.mark.parametrize("rec", [r for r in RECORDS if r.nargs > 1], **by_name)
@settings(max_examples=max(2, EXAMPLES // 8))
@given(data=st.data())
def test_vmap_with_an_unbatched_argument_matches_loop(rec, data):
    batch = draw_batch(rec, data, F64)
    for unbatched in range(rec.nargs):
        check_vmap(rec, batch, [None if k == unbatched else -1 if np.ndim(x) else 0
                                for k, x in enumerate(batch[0])])


def _must_be_native(rec) -> bool:
    return rec.kind in ("elementwise", "reduce", "shape", "index") or rec.name.startswith("matmul")


def _no_loop(prim, *args, **kwargs):
    raise AssertionError(f"vmap fell back to a loop over the batch for primitive {prim.name!r}")


@pytest.mark.parametrize("rec", [r for r in RECORDS if _must_be_native(r)], **by_name)
@settings(max_examples=max(2, EXAMPLES // 8))
@given(data=st.data())
def test_vmap_is_native(rec, data):
    batch = draw_batch(rec, data, F64)
    with mock.patch.object(vmap_module, "loop_rule", _no_loop):
        check_vmap(rec, batch, [0] * rec.nargs)
        if rec.nargs > 1:
            check_vmap(rec, batch, [None] + [0] * (rec.nargs - 1))


@pytest.mark.parametrize("rec", DIFFERENTIABLE, **by_name)
@settings(max_examples=2)
@given(data=st.data())
def test_vmap_of_grad_matches_loop(rec, data):
    batch = draw_batch(rec, data, F64)
    grad = fg.grad(scalarize(rec.fun, rec.fun(*batch[0])), argnums=rec.diff_argnums)
    got = fg.vmap(grad)(*batched_args(batch, [0] * rec.nargs))
    for k, g in enumerate(got):
        expected = np.stack([grad(*elem)[k] for elem in batch])
        assert (g.shape, g.dtype) == (expected.shape, expected.dtype), rec.name
        np.testing.assert_allclose(g, expected, rtol=1e-12, atol=1e-12, err_msg=f"{rec.name} argument {k}")
