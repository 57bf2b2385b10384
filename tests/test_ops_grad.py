"""Gradients of every differentiable op in the op table against central finite differences.

float64: first and second order (the gradient of the gradient), over hypothesis-drawn
shapes (0-d included), broadcasting pairs and values in each op's smooth domain.
float32: first order with a looser tolerance; the gradient must stay float32 and agree
with the float64 gradient at the same point.  Ops that are not differentiable must not
pass any gradient through.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from op_table import DIFFERENTIABLE, F32, F64, NON_DIFFERENTIABLE, scalarize

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad.testing import check_grads

by_name = {"ids": lambda r: r.name}
EXAMPLES = settings.default.max_examples  # 25 in the ci profile, more in dev


@pytest.mark.parametrize("rec", DIFFERENTIABLE, **by_name)
@settings(max_examples=max(3, EXAMPLES // 4))
@given(data=st.data())
def test_grad_float64_orders_1_and_2(rec, data):
    args = data.draw(rec.args(F64), label="args")
    rtol, atol = rec.grad_tol[F64]
    check_grads(rec.fun, args, order=2, eps=1e-6, rtol=rtol, atol=atol, argnums=rec.diff_argnums)


@pytest.mark.parametrize("rec", DIFFERENTIABLE, **by_name)
@settings(max_examples=max(3, EXAMPLES // 6))
@given(data=st.data())
def test_grad_float32(rec, data):
    args = data.draw(rec.args(F32), label="args")
    f = scalarize(rec.fun, rec.ref(*args))
    grads = fg.grad(f, argnums=rec.diff_argnums)(*args)
    assert [g.dtype for g in grads] == [F32] * len(grads)
    # The same gradient as in float64 at the same point, to float32 accuracy.
    grads64 = fg.grad(f, argnums=rec.diff_argnums)(*[a.astype(F64) for a in args])
    for g, g64 in zip(grads, grads64):
        np.testing.assert_allclose(g, g64, rtol=1e-3, atol=1e-4)
    rtol, atol = rec.grad_tol[F32]
    check_grads(rec.fun, args, order=1, eps=1e-3, rtol=rtol, atol=atol, argnums=rec.diff_argnums)


@pytest.mark.parametrize("rec", NON_DIFFERENTIABLE, **by_name)
@settings(max_examples=max(3, EXAMPLES // 5))
@given(data=st.data())
def test_no_gradient_through_non_differentiable(rec, data):
    # f = sum(x0) * sum(op(x) as floats): op's output is a constant c, so df/dx0 = c, the rest 0.
    args = data.draw(rec.args(F64), label="args")

    def f(*xs):
        c = sum(fnp.sum(fnp.astype(o, F64)) for o in tree.leaves(rec.fun(*xs)))
        return fnp.sum(xs[0]) * c

    c = sum(np.sum(np.asarray(o, F64)) for o in tree.leaves(rec.ref(*args)))
    grads = fg.grad(f, argnums=tuple(range(len(args))))(*args)
    np.testing.assert_array_equal(grads[0], np.full(np.shape(args[0]), c))
    for g, x in zip(grads[1:], args[1:]):
        np.testing.assert_array_equal(g, np.zeros_like(x))
