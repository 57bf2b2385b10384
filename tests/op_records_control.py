"""Op-table rows for structured control flow (``funcgrad.lax``): each row is a loop or a
branch written with ``lax`` and its NumPy reference written with Python control flow, so
every generated test (forward, gradients of order 1 and 2 against finite differences,
jvp against vjp, vmap against a loop, jit against eager, float32) covers the operation.

``tests/op_table.py`` imports this file.
"""

import numpy as np
from op_table import NONZERO, REAL, away_from, fixed, op, same

import funcgrad.numpy as fnp
from funcgrad import lax

# -- scan, fori_loop, map (funcgrad/ops/control_scan.py) ------------------------------------


def _rnn(w, c0, xs):
    """An RNN cell over xs: the carry is the state, the ys its squares."""
    return lax.scan(lambda c, x: (fnp.tanh(w * c + x), c * c), c0, xs)


def _rnn_ref(w, c0, xs):
    c, ys = c0, []
    for x in xs:
        ys.append(c * c)
        c = np.tanh(w * c + x)
    return c, np.stack(ys) if ys else np.zeros((0,) + np.shape(c0), c0.dtype)


op("scan[rnn]", _rnn, _rnn_ref, fixed((3,), (3,), (4, 3)) | fixed((), (), (5,)),
   nargs=3, kind="control")
op("scan[reverse, pytree carry]",
   lambda a, xs: lax.scan(lambda c, x: ({"s": c["s"] + fnp.sin(x) * c["p"], "p": c["p"] * 0.9},
                                        c["s"] * x), {"s": a, "p": a * a}, xs, reverse=True),
   lambda a, xs: _reverse_ref(a, xs), fixed((2,), (3, 2)) | fixed((), (4,)), nargs=2,
   kind="control")


def _reverse_ref(a, xs):
    s, p, ys = a, a * a, [None] * len(xs)
    for t in reversed(range(len(xs))):
        ys[t] = s * xs[t]
        s, p = s + np.sin(xs[t]) * p, p * 0.9
    return {"p": p, "s": s}, np.stack(ys)


op("scan[length without xs, ys None]",
   lambda x: lax.scan(lambda c, _: (c * 0.8 + fnp.cos(c), None), x, None, length=4)[0],
   lambda x: _repeat(lambda c: c * 0.8 + np.cos(c), x, 4), kind="control")


def _repeat(step, x, n):
    for _ in range(n):
        x = step(x)
    return x


op("scan[zero length]", lambda c, xs: lax.scan(lambda c, x: (c * x, c + x), c, xs),
   lambda c, xs: (c, np.zeros((0,) + np.shape(c), c.dtype)), fixed((2,), (0, 2)), nargs=2,
   kind="control")
op("scan[nested scan]",
   lambda c, xs: lax.scan(
       lambda c, row: (lax.scan(lambda d, x: (d * fnp.cos(x) + x, None), c, row)[0], fnp.sum(c)),
       c, xs),
   lambda c, xs: _nested_ref(c, xs), fixed((), (2, 3)) | fixed((2,), (3, 2, 2)), nargs=2,
   kind="control")


def _nested_ref(c, xs):
    ys = []
    for row in xs:
        ys.append(np.sum(c))
        for x in row:
            c = c * np.cos(x) + x
    return c, np.stack(ys)


op("fori_loop[euler]",
   lambda x: lax.fori_loop(0, 6, lambda i, x: x + 0.1 * (fnp.sin(x) - 0.1 * x * x), x),
   lambda x: _repeat(lambda x: x + 0.1 * (np.sin(x) - 0.1 * x * x), x, 6), kind="control")
op("fori_loop[uses i]",
   lambda x, y: lax.fori_loop(2, 5, lambda i, c: c * y + i.astype(c.dtype) * fnp.sin(c), x),
   lambda x, y: _fori_ref(x, y), same(2), nargs=2, kind="control")


def _fori_ref(x, y):
    for i in range(2, 5):
        x = x * y + np.asarray(i, x.dtype) * np.sin(x)
    return x


op("map[sin * sum]", lambda xs: lax.map(lambda r: fnp.sin(r) * fnp.sum(r), xs),
   lambda xs: np.stack([np.sin(r) * np.sum(r) for r in xs]),
   fixed((3, 2)) | fixed((4,)) | fixed((2, 2, 3)), kind="control")
op("map[batch_size=2]", lambda xs: lax.map(lambda r: fnp.exp(-r * r), xs, batch_size=2),
   lambda xs: np.exp(-xs * xs), fixed((5, 2)) | fixed((4,)), kind="control")


# -- cond, switch, select, while_loop (funcgrad/ops/control_cond.py, control_while.py) -------
def _cond_true(a, b):
    return {"s": fnp.sin(a) * b, "t": a + b}


def _cond_false(a, b):
    return {"s": fnp.cos(a) - b, "t": a * b}


def _cond_ref(p, x, y):
    return ({"s": np.sin(x) * y, "t": x + y} if p > 0 else {"s": np.cos(x) - y, "t": x * y})


# The predicate is a separate scalar argument: the vmap tests batch it (a select of both
# branches) and leave it unbatched (one cond of the batched branches).
op("lax.cond[pytree]", lambda p, x, y: lax.cond(p > 0, _cond_true, _cond_false, x, y), _cond_ref,
   same(2).map(lambda s: ((),) + s), (NONZERO, REAL, REAL), kind="control", diff=(1, 2))

_SWITCH = [lambda x: fnp.sin(x) * x, lambda x: fnp.exp(-x * x), lambda x: x * x * x - x]
_SWITCH_REF = [lambda x: np.sin(x) * x, lambda x: np.exp(-x * x), lambda x: x * x * x - x]
# floor(i) runs over -2..3: out-of-range indices are clamped to the first and last branch.
op("lax.switch[clamped index]",
   lambda i, x: lax.switch(fnp.floor(i).astype(np.int32), _SWITCH, x),
   lambda i, x: _SWITCH_REF[min(max(int(np.floor(i)), 0), 2)](x),
   same().map(lambda s: ((),) + s), (away_from([-1, 0, 1, 2, 3], -1.9, 3.9), REAL),
   kind="control", diff=(1,))
op("lax.select", lambda p, x, y: lax.select(p > 0, x, y), lambda p, x, y: np.where(p > 0, x, y),
   same(3), (NONZERO, REAL, REAL), kind="control", diff=(1, 2))


def _while_ref(n, x, step):
    i = 0.0
    while i < n:
        i, x = i + 1.0, step(x)
    return x


# while_loop differentiates in forward mode only (reverse=False): reverse mode is an error.
op("lax.while_loop[fixed trips]",
   lambda x: lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, fnp.sin(c[1]) + 0.5 * c[1]),
                            (0, x))[1],
   lambda x: _while_ref(3, x, lambda v: np.sin(v) + 0.5 * v), kind="control", reverse=False)
# The trip count depends on n (0 to 4 trips): a batched n is a batched predicate, and the
# batch runs until every member is done.
op("lax.while_loop[trips from data]",
   lambda n, x: lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1.0, c[1] * fnp.cos(c[1]) + 0.5),
                               (n * 0, x))[1],
   lambda n, x: _while_ref(n, x, lambda v: v * np.cos(v) + 0.5),
   same().map(lambda s: ((),) + s), (away_from([0, 1, 2, 3], -0.5, 3.5, gap=0.2), REAL),
   kind="control", diff=(1,), reverse=False)
