"""Loops under jit on the Numba backend (funcgrad.backends._numba_loops).

Every result is checked against the same loop run by the NumPy reference (``jit`` on the
numpy backend, and eagerly).  Where the loop kernel and the step-by-step path run the same
scalar code (float64 sin and cos: NumPy and Numba both call libm's) they agree to
the last bit; against NumPy, results of a function that NumPy computes with its own SIMD code
(float64 tanh, float32 sin) may differ by a few ulp (docs/jit.md).
"""

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax

pytest.importorskip("numba")
from funcgrad.backends import _numba_loops as loops


def euler(x0, n=1000):
    return lax.fori_loop(0, n, lambda i, x: x + 0.01 * (fnp.sin(x) - 0.1 * x * x), x0)


def euler_loss(x0, n=1000):
    return fnp.sum(euler(x0, n))


def euler_unrolled(x0, n):
    x = x0
    for _ in range(n):
        x = x + 0.01 * (fnp.sin(x) - 0.1 * x * x)
    return fnp.sum(x)


X0 = np.linspace(0.1, 1.5, 16)


def runs(fn, *args):
    """Run ``fn`` under jit on Numba; the STATS deltas (kernel vs step-by-step runs) and result."""
    before = dict(loops.STATS)
    out = fg.jit(fn, backend="numba")(*args)
    return out, {k: loops.STATS[k] - before[k] for k in before}


def reference(fn, *args):
    return fg.jit(fn, backend="numpy")(*args)


def step_by_step(fn, *args, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(loops, "LOOP_KERNELS", False)
        return fg.jit(fn, backend="numba")(*args)


def assert_same(got, want, rtol=0.0):
    for g, w in zip(fg.tree.leaves(got), fg.tree.leaves(want), strict=True):
        assert np.shape(g) == np.shape(w) and np.asarray(g).dtype == np.asarray(w).dtype
        if rtol:
            np.testing.assert_allclose(g, w, rtol=rtol)
        else:
            np.testing.assert_array_equal(g, w)


# -- the Euler rollout of issue 12, item 6 ---------------------------------------------
@pytest.mark.parametrize("fn", [euler, euler_loss, fg.grad(euler_loss),
                                fg.value_and_grad(euler_loss)],
                         ids=["forward", "loss", "grad", "value_and_grad"])
def test_euler_rollout_runs_as_loop_kernels_with_the_reference_numbers(fn, monkeypatch):
    got, stats = runs(fn, X0)
    assert stats["kernel_runs"] >= 1 and stats["step_runs"] == 0
    assert_same(got, reference(fn, X0))
    assert_same(got, step_by_step(fn, X0, monkeypatch=monkeypatch))
    assert_same(got, fn(X0))  # eager


def test_the_gradient_matches_the_unrolled_loop_and_finite_differences():
    n = 50
    got = fg.jit(fg.grad(lambda x: euler_loss(x, n)), backend="numba")(X0)
    want = fg.grad(lambda x: euler_unrolled(x, n))(X0)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    eps, e = 1e-6, np.eye(16)[3]
    fd = (euler_loss(X0 + eps * e, n) - euler_loss(X0 - eps * e, n)) / (2 * eps)
    np.testing.assert_allclose(got[3], fd, rtol=1e-7)


def test_the_body_compiles_once_whatever_the_trip_count():
    # The first trace compiles the forward and backward bodies once each, and one kernel
    # call runs both loops (a scan_pair); a trip count not seen before traces new bodies
    # but generates no new loop kernel (the kernel's signature holds no length), and the
    # graph does not grow with the trip count.
    x = np.linspace(0.2, 1.2, 16)
    before = dict(loops.STATS)
    f = fg.jit(fg.grad(lambda x, n: euler_loss(x, n)), static_argnums=1, backend="numba")
    f(x, 10)
    first = {k: loops.STATS[k] - before[k] for k in before}
    assert first["bodies"] == 2
    assert first["kernel_runs"] == 1 and first["step_runs"] == 0
    mid = dict(loops.STATS)
    f(x, 1000)
    second = {k: loops.STATS[k] - mid[k] for k in mid}
    assert second["bodies"] == 2 and second["loop_kernels"] == 0
    sizes = {n: len(f.lower(x, n).nodes) for n in (10, 1000)}
    assert sizes[10] == sizes[1000]
    f(x, 1000)
    assert loops.STATS["bodies"] == mid["bodies"] + 2  # cached: nothing compiled again


# -- scan: xs, ys, reverse, consts, mixed carries -------------------------------------
def scan_fn(w, xs, reverse=False):
    def body(carry, x):
        h, count = carry
        h_new = fnp.tanh(h * w + x) - 0.5 * count
        return (h_new, count + 1.0), (h_new * x, fnp.exp(-count))
    return lax.scan(body, (fnp.zeros_like(w), 0.0), xs, reverse=reverse)


W = np.linspace(-0.8, 0.9, 12).reshape(3, 4)
XS = np.sin(np.arange(7 * 12.0)).reshape(7, 3, 4)


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_with_xs_ys_consts_and_a_scalar_carry(reverse, monkeypatch):
    def f(w, xs):
        return scan_fn(w, xs, reverse)
    got, stats = runs(f, W, XS)
    assert stats["kernel_runs"] == 1 and stats["step_runs"] == 0
    assert_same(got, step_by_step(f, W, XS, monkeypatch=monkeypatch))
    assert_same(got, reference(f, W, XS), rtol=1e-14)
    assert_same(got, f(W, XS), rtol=1e-14)


@pytest.mark.parametrize("reverse", [False, True])
def test_a_jitted_scan_node_works_out_its_shapes_once_and_serves_every_call(reverse,
                                                                           monkeypatch):
    # The executable's scan node keeps its plan and the reshapes of its operands and
    # results from its first call (_scan_for_node): later calls with other strides (a
    # transposed carry, strided xs) must give the step-by-step and NumPy numbers, with a
    # 0-d and a 2-D carry, xs with 0-d and 2-D elements, 0-d and 2-D consts, 0-d and 2-D ys.
    def f(b, xs0, xs1, k2, s):
        def body(carry, x):
            a, b = carry
            x0, x1 = x
            b_new = fnp.sin(b) * k2 + x1 * s + x0
            a_new = a * 0.5 + x0 * s
            return (a_new, b_new), (a_new * s, b_new * 2.0)
        return lax.scan(body, (fnp.asarray(0.25), b), (xs0, xs1), reverse=reverse)
    rng = np.random.default_rng(7)
    b = rng.normal(size=(4, 3))
    xs0, xs1, k2, s = rng.normal(size=5), rng.normal(size=(5, 4, 3)), rng.normal(size=(4, 3)), 1.5
    jf = fg.jit(f, backend="numba")
    before = dict(loops.STATS)
    calls = [(b, xs0, xs1, k2, s),
             (np.ascontiguousarray(b.T).T, rng.normal(size=10)[::2],  # other strides
              rng.normal(size=(5, 4, 6))[:, :, ::2], np.asfortranarray(k2), -0.5),
             (b, xs0, xs1, k2, s)]
    for args in calls:
        got = jf(*args)
        assert_same(got, step_by_step(f, *args, monkeypatch=monkeypatch))
        assert_same(got, reference(f, *args), rtol=1e-14)
    assert loops.STATS["kernel_runs"] - before["kernel_runs"] >= len(calls)


@pytest.mark.parametrize("reverse", [False, True])
def test_grad_of_a_scan_with_xs(reverse, monkeypatch):
    def loss(w, xs):
        (h, c), (ys, e) = scan_fn(w, xs, reverse)
        return fnp.sum(h * h) + fnp.sum(ys) + c * fnp.sum(e)
    g = fg.grad(loss, argnums=(0, 1))
    got, stats = runs(g, W, XS)
    # The forward scan is one kernel; the backward body sums the cotangent of the scalar
    # carry over the elements (a reduction): it runs step by step.
    assert stats["kernel_runs"] == 1 and stats["step_runs"] == 1
    assert_same(got, step_by_step(g, W, XS, monkeypatch=monkeypatch))
    assert_same(got, reference(g, W, XS), rtol=1e-13)


def test_grad_of_an_elementwise_scan_is_two_kernels(monkeypatch):
    def loss(w, xs):
        h, ys = lax.scan(lambda h, x: (fnp.sin(h * w + x), fnp.cos(h) * x), fnp.zeros_like(w), xs,
                         reverse=True)
        return fnp.sum(h * h) + fnp.sum(ys)
    g = fg.grad(loss, argnums=(0, 1))
    got, stats = runs(g, W, XS)
    assert stats["kernel_runs"] == 2 and stats["step_runs"] == 0
    assert_same(got, step_by_step(g, W, XS, monkeypatch=monkeypatch))
    assert_same(got, reference(g, W, XS), rtol=1e-13)


def test_float32_stays_float32():
    w, xs = W.astype(np.float32), XS.astype(np.float32)

    def f(w, xs):
        def body(h, x):
            h = fnp.sin(h * w + x) * np.float32(0.9)
            return h, h + x
        return lax.scan(body, fnp.zeros_like(w), xs)
    got, stats = runs(f, w, xs)
    assert stats["kernel_runs"] == 1
    want = reference(f, w, xs)
    assert got[0].dtype == got[1].dtype == np.float32
    assert_same(got, want, rtol=2e-6)  # NumPy's SIMD float32 sin against libm's sinf


def test_zero_length_scan(monkeypatch):
    def f(w):
        return lax.scan(lambda h, x: (h * w + x, h), w, np.zeros((0, 3, 4)))
    got, stats = runs(f, W)
    assert stats["kernel_runs"] == 1
    assert got[1].shape == (0, 3, 4)
    assert_same(got, reference(f, W))


def test_a_body_with_an_array_constant():
    c = np.arange(12.0).reshape(3, 4) / 10

    def f(h0):
        return lax.fori_loop(0, 5, lambda i, h: fnp.cos(h) + c, h0)
    got, stats = runs(f, W)
    assert stats["kernel_runs"] == 1
    assert_same(got, reference(f, W))


def test_vmap_of_a_scan_under_jit_is_one_kernel():
    xs = np.linspace(0.1, 1.0, 5 * 16).reshape(5, 16)
    f = fg.vmap(lambda x: euler(x, 100))
    got, stats = runs(f, xs)
    assert stats["kernel_runs"] == 1
    assert_same(got, reference(f, xs))


# -- bodies that are not elementwise run the compiled body step by step ------------------
def lstm_like(params, xs):
    def cell(carry, x):
        h, c = carry
        z = x @ params["wx"] + h @ params["wh"] + params["b"]
        i, f, o, g = fnp.split(z, 4, axis=-1)
        c = fg.nn.sigmoid(f) * c + fg.nn.sigmoid(i) * fnp.tanh(g)
        h = fg.nn.sigmoid(o) * fnp.tanh(c)
        return (h, c), h
    batch, hidden = xs.shape[1], params["wh"].shape[0]
    zero = np.zeros((batch, hidden))
    (_, c), hs = lax.scan(cell, (zero, zero), xs)
    return fnp.sum(hs * hs) + fnp.sum(c)


def lstm_params(rng, n_in=3, hidden=5):
    return {"wx": rng.normal(size=(n_in, 4 * hidden)) * 0.5,
            "wh": rng.normal(size=(hidden, 4 * hidden)) * 0.5, "b": rng.normal(size=4 * hidden)}


def test_a_short_mixed_scan_runs_step_by_step_with_the_reference_numbers():
    rng = np.random.default_rng(0)
    length = loops.WHOLE_BODY_MIN_STEPS - 1
    params, xs = lstm_params(rng), rng.normal(size=(length, 2, 3))
    for fn in (lstm_like, fg.grad(lstm_like)):
        got, stats = runs(fn, params, xs)
        assert stats["step_runs"] >= 1 and stats["kernel_runs"] == stats["body_kernel_runs"] == 0
        assert_same(got, reference(fn, params, xs), rtol=1e-12)
        assert_same(got, fn(params, xs), rtol=1e-12)


def test_a_long_mixed_scan_is_one_generated_function(monkeypatch):
    # matmul, slices, sums and elementwise code in one Numba function with the loop inside;
    # BLAS (SciPy's, linked by Numba) and in-order sums may round the last bits differently.
    rng = np.random.default_rng(1)
    params, xs = lstm_params(rng), rng.normal(size=(loops.WHOLE_BODY_MIN_STEPS + 4, 2, 3))
    for fn in (lstm_like, fg.grad(lstm_like)):
        got, stats = runs(fn, params, xs)
        assert stats["body_kernel_runs"] >= 1 and stats["step_runs"] == 0
        assert_same(got, reference(fn, params, xs), rtol=1e-11)
        assert_same(got, step_by_step(fn, params, xs, monkeypatch=monkeypatch), rtol=1e-11)


def test_a_while_loop_with_a_matmul_is_one_generated_function():
    a = np.array([[0.5, 0.2], [-0.1, 0.4]])

    def f(x):
        def body(s):
            i, x = s
            return i + 1, fnp.tanh(a @ x) + 0.1 * fnp.sum(x)
        return lax.while_loop(lambda s: s[0] < 30, body, (0, x))[1]
    x = np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -0.7]])
    got, stats = runs(f, x)
    assert stats["body_kernel_runs"] == 1 and stats["step_runs"] == 0
    assert_same(got, reference(f, x), rtol=1e-12)


def test_nested_scans():
    def f(w):
        def outer(h, _):
            inner = lax.fori_loop(0, 3, lambda i, v: fnp.sin(v) * w, h)
            return inner + 1.0, fnp.sum(inner)
        return lax.scan(outer, w, None, length=4)
    got, stats = runs(f, W)
    assert stats["step_runs"] == 1 and stats["kernel_runs"] == 4  # the outer loop sums
    assert_same(got, reference(f, W))
    g = fg.grad(lambda w: fnp.sum(f(w)[1]))
    assert_same(runs(g, W)[0], reference(g, W), rtol=1e-13)


# -- while_loop ---------------------------------------------------------------------------
def test_while_with_a_counter_is_one_kernel(monkeypatch):
    def f(x, n):
        def body(state):
            i, x = state
            return i + 1, x * 0.5 + fnp.cos(x)
        return lax.while_loop(lambda s: s[0] < n, body, (0, x))
    n = np.int64(25)
    got, stats = runs(f, W, n)
    assert stats["kernel_runs"] == 1 and stats["step_runs"] == 0
    assert int(got[0]) == 25
    assert_same(got, step_by_step(f, W, n, monkeypatch=monkeypatch))
    assert_same(got, reference(f, W, n))
    # forward mode: a while loop over (primal, tangent); jacfwd's tangents have a batch
    # axis the primal lacks (shapes that broadcast): one generated function, not a flat loop
    jf = fg.jacfwd(lambda x: f(x, n)[1][0, 0])
    got, stats = runs(jf, W)
    assert stats["body_kernel_runs"] == 1 and stats["step_runs"] == 0
    assert_same(got, reference(jf, W), rtol=1e-14)
    # one tangent (jvp): the same shapes, one kernel
    jv = fg.jit(lambda x, t: fg.jvp(lambda x: f(x, n)[1], (x,), (t,)), backend="numba")
    before = loops.STATS["kernel_runs"]
    got = jv(W, np.ones_like(W))
    assert loops.STATS["kernel_runs"] == before + 1
    assert_same(got, fg.jit(jv.fun, backend="numpy")(W, np.ones_like(W)), rtol=1e-14)


def test_while_with_a_reduction_in_the_condition_runs_step_by_step():
    def f(x):
        return lax.while_loop(lambda x: fnp.max(x) > 0.1, lambda x: x * 0.7, x)
    got, stats = runs(f, np.abs(W) + 1.0)
    assert stats["step_runs"] == 1 and stats["kernel_runs"] == 0
    assert_same(got, reference(f, np.abs(W) + 1.0))


def test_a_traced_trip_count_is_a_while_kernel():
    def f(x, n):
        def body(s):
            i, x = s
            return i + 1, x + fnp.sin(x) * i
        return lax.while_loop(lambda s: s[0] < n, body, (np.int64(0), x))[1]
    got, stats = runs(f, W, np.int64(9))
    assert stats["kernel_runs"] == 1
    assert_same(got, reference(f, W, np.int64(9)))


def test_the_generated_kernel_can_be_read():
    f = fg.jit(euler, backend="numba")
    f(X0)
    (node,) = [n for n in f.lower(X0).nodes if n.name == "scan"]
    source = loops.loop_source(node)
    assert source is not None and "for step in range(length):" in source
    assert "np.sin(" in source


def test_the_background_warm_up_skips_while_loops():
    # Run on placeholder inputs (0.5), this loop would never stop.
    from funcgrad.backends import _warmup
    from funcgrad.backends.numba_cpu import BACKEND

    def f(x):
        return lax.while_loop(lambda x: fnp.sum(x) != 0.5, lambda x: x * 2.0, x)
    graph = fg.jit(f).lower(np.ones(2))
    assert _warmup.may_not_stop(graph)
    assert _warmup.warm_up(BACKEND, graph) is False
    nested = fg.jit(lambda x: lax.scan(lambda c, _: (f(c), None), x, None, length=2)[0])
    assert _warmup.may_not_stop(nested.lower(np.ones(2)))
    scan_only = fg.jit(lambda x: euler(x, 3)).lower(np.ones(2))
    assert not _warmup.may_not_stop(scan_only)
    assert _warmup.warm_up(BACKEND, scan_only) is True


X23 = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
EDGE_BODIES = {
    # name: (function of x, the way the Numba backend runs it)
    "swapped carries": (lambda x: lax.scan(lambda c, _: ((c[1], c[0]), c[0]), (x, 2 * x), None,
                                           length=17), "kernel_runs"),
    "bool carry": (lambda x: lax.scan(lambda c, _: ((c[0] * 2.0, fnp.logical_not(c[1])), c[1]),
                                      (x, x > 0), None, length=18), "kernel_runs"),
    "constant output": (lambda x: lax.scan(lambda c, _: (np.ones((2, 3)), c), x, None, length=20),
                        "kernel_runs"),
    "int32 counter cast": (lambda x: lax.fori_loop(np.int32(0), np.int32(20),
                                                   lambda i, c: c + i.astype(c.dtype), x),
                           "body_kernel_runs"),
    "0-d carry and a reduction": (lambda x: lax.scan(lambda c, xi: (c + fnp.sum(xi), c * 2), 0.0,
                                                     fnp.stack([x.reshape(6)] * 3, axis=1)),
                                  "step_runs"),  # 6 steps: short
    "integer index and transposes": (lambda x: lax.scan(
        lambda c, _: (fnp.tanh(c @ c.T @ c) * 0.5 + c[:, 0:1] * c[0, 1], c.T), x * 0.3, None,
        length=40), "body_kernel_runs"),
    "complex carry": (lambda x: lax.scan(lambda c, _: (c * (1 + 0.1j), c.real), x.astype(complex),
                                         None, length=20), "step_runs"),
    "float16 carry": (lambda x: lax.scan(lambda c, _: (c * np.float16(0.5) + 1, c),
                                         x.astype(np.float16), None, length=20), "step_runs"),
}


@pytest.mark.parametrize("name", list(EDGE_BODIES))
def test_loop_bodies_the_generators_meet(name):
    fn, how = EDGE_BODIES[name]
    got, stats = runs(fn, X23)
    assert stats[how] == 1
    assert_same(got, reference(fn, X23), rtol=1e-12)


def test_a_generated_function_numba_cannot_compile_falls_back_to_steps(monkeypatch):
    # A generated function that fails to type (here: a made-up rule emitting bad code) is
    # not an error for the user: the loop runs step by step, with the reference numbers.
    from funcgrad.backends import _numba_bodies as bodies

    def broken(low, node, args):
        out = low.emit.fresh()
        low.emit(f"{out} = no_such_function({args[0]})")
        return out
    monkeypatch.setitem(bodies._RULES, bodies.transpose_p, broken)
    f = lambda x: lax.scan(lambda c, _: (fnp.tanh(c.T @ c) @ c.T * 0.1, c), x, None,
                           length=20)[0]
    got, stats = runs(f, np.full((3, 3), 0.5))
    assert stats["step_runs"] == 1 and stats["body_kernel_runs"] == 0
    assert_same(got, reference(f, np.full((3, 3), 0.5)), rtol=1e-13)


def test_fori_loop_with_a_traced_trip_count_is_a_while_kernel():
    def f(x, n):
        return lax.fori_loop(0, n, lambda i, x: x + fnp.sin(x) * i, x)
    got, stats = runs(f, W, np.int64(9))
    assert stats["kernel_runs"] == 1 and stats["step_runs"] == 0
    assert_same(got, reference(f, W, np.int64(9)))


def _whole_loop_source(f, args, reverse: bool) -> str:
    """The generated function of the forward (or reverse) scan of ``jit(f)(*args)``."""
    from funcgrad.backends import _numba_bodies as bodies

    (node,) = [n for n in fg.jit(f, backend="numba").lower(*args).nodes
               if n.name == "scan" and n.params["reverse"] == reverse]
    p = node.params
    body = loops.scan_plan(p["body"], p["num_consts"], p["num_carry"]).optimized
    return bodies.scan_body_source(body, p["num_consts"], p["num_carry"])[0]


def test_an_lstm_like_body_groups_its_elementwise_code_into_few_loop_nests():
    # Gate slices of one matmul, three saved values per sigmoid (grad's residuals): the
    # generated function computes them in loop nests that read the gates at an offset and
    # write the saved values into their stacked outputs, with the reference's numbers.
    rng = np.random.default_rng(3)
    w, xs = rng.normal(size=(4, 8)) * 0.5, rng.normal(size=(20, 3, 4))

    def loss(w, xs):
        def cell(c, x):
            z = (x + c) @ w
            c = c * (1 / (1 + fnp.exp(-z[:, :4]))) + fnp.tanh(z[:, 4:])
            return c, None
        return fnp.sum(lax.scan(cell, np.zeros((3, 4)), xs)[0] ** 2)

    g = fg.grad(loss)
    got, stats = runs(g, w, xs)
    assert stats["body_kernel_runs"] == 2 and stats["step_runs"] == 0
    assert_same(got, reference(g, w, xs), rtol=1e-12)
    source = _whole_loop_source(g, (w, xs), reverse=False)
    assert "i2 + 4]" in source  # z[:, 4:] read at an offset, not through a strided view
    assert "= y0[t]" in source  # a saved value computed into its stacked output
    nests = [line for line in source.splitlines() if line.startswith("def f")]
    assert len(nests) <= 4, nests  # (the add of the matmul's operands, then <= 1 exp/tanh each)


def test_a_sum_of_disjoint_slice_gradients_is_written_in_place_with_gaps_left_zero():
    # The VJP of z[:, :2] and z[:, 3:] (column 2 unused) is a sum of two unslices: the
    # generated function computes each straight into one array, column 2 zeros.
    rng = np.random.default_rng(4)
    w, xs = rng.normal(size=(5, 5)) * 0.4, rng.normal(size=(20, 3, 5))

    def loss(w, xs):
        def cell(c, x):
            z = (c + x) @ w
            c = (x * 0.5 + fnp.sum(fnp.tanh(z[:, :2]), axis=1, keepdims=True)
                 + fnp.sum(fnp.sin(z[:, 3:]), axis=1, keepdims=True) * 0.3)
            return c, None
        return fnp.sum(lax.scan(cell, np.zeros((3, 5)), xs)[0] ** 2)

    g = fg.grad(loss)
    got, stats = runs(g, w, xs)
    assert stats["body_kernel_runs"] == 2 and stats["step_runs"] == 0
    assert_same(got, reference(g, w, xs), rtol=1e-12)
    source = _whole_loop_source(g, (w, xs), reverse=True)
    assert "i2 + 3] = " in source and "+ 0.0" in source and "np.zeros((3, 5)" in source
