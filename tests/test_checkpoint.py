"""checkpoint/remat: the same derivatives as the unchecked function under every nesting, the
policies saving what they name, the recomputation kept in its own operation under jit,
and the point of it all, a smaller peak memory (tracemalloc) in reverse mode.

The op table (tests/op_records_checkpoint.py) adds the generated tests: gradients to order 2
against finite differences, jvp against vjp, vmap against a loop, jit against eager.
"""

import tracemalloc

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import lax
from funcgrad.errors import ArgumentError, ConcretizationError
from funcgrad.transforms.checkpoint import (
    checkpoint,
    checkpoint_name,
    checkpoint_policies,
    remat,
)

RNG = np.random.default_rng(12)
W = RNG.normal(size=(4, 4)) * 0.6
X = RNG.normal(size=4)
POLICIES = [None, checkpoint_policies.everything_saveable, checkpoint_policies.dots_saveable,
            checkpoint_policies.dots_with_no_batch_dims_saveable,
            checkpoint_policies.save_only_these_names("pre"),
            checkpoint_policies.save_any_names_but_these("pre")]


def layer(x, w):
    pre = checkpoint_name(w @ x, "pre")
    return fnp.tanh(pre) * fnp.sin(x) + 0.1 * x


def deep(f, depth=3):
    def loss(x, w):
        for _ in range(depth):
            x = f(x, w)
        return fnp.sum(x * x)
    return loss


# Transformations whose derivatives run the same ops in the same order with and without
# the checkpoint (its pullback re-runs the forward ops, then the same VJP rules): equal bits.
SAME_OPS = {
    "grad": lambda f: fg.grad(f, argnums=(0, 1)),
    "jit-grad": lambda f: fg.jit(fg.grad(f, argnums=(0, 1))),
    "grad-jit": lambda f: fg.grad(fg.jit(f), argnums=(0, 1)),
    "hessian": lambda f: fg.hessian(f),
    "jacfwd-grad": lambda f: fg.jacfwd(fg.grad(f)),
    "vmap-grad": lambda f: lambda x, w: fg.vmap(fg.grad(f), in_axes=(0, None))(
        np.stack([x, 2 * x, -x]), w),
}
# Reverse over reverse: the outer backward pass sums the cotangents of the recomputed
# values in another order than those of the stored ones; and jit's optimiser rewrites the
# outer graph (simplification, fusion) but not the inside of a checkpoint's sub-graph.  So
# the last bits may differ.
REORDERED = {
    "jit-hessian": lambda f: fg.jit(fg.hessian(f)),
    "grad-grad": lambda f: fg.grad(lambda x, w: fnp.sum(fg.grad(f)(x, w) ** 2)),
    "jacrev-grad": lambda f: fg.jacrev(fg.grad(f)),
    "grad-vmap": lambda f: fg.grad(lambda x, w: fnp.sum(
        fg.vmap(lambda x: f(x, w))(fnp.stack([x, 2 * x, -x])))),
}


@pytest.mark.parametrize("policy", POLICIES, ids=repr)
@pytest.mark.parametrize("name", list(SAME_OPS))
def test_derivatives_are_bit_for_bit_those_of_the_unchecked_function(name, policy):
    transform = SAME_OPS[name]
    got = transform(deep(checkpoint(layer, policy=policy)))(X, W)
    want = transform(deep(layer))(X, W)
    for g, w in zip(fg.tree.leaves(got), fg.tree.leaves(want)):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("policy", POLICIES, ids=repr)
@pytest.mark.parametrize("name", list(REORDERED))
def test_second_order_reverse_derivatives_match_to_rounding(name, policy):
    transform = REORDERED[name]
    got = transform(deep(checkpoint(layer, policy=policy)))(X, W)
    want = transform(deep(layer))(X, W)
    for g, w in zip(fg.tree.leaves(got), fg.tree.leaves(want)):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-14)


def test_jvp_and_vmap_of_a_checkpointed_function():
    f = checkpoint(layer)
    t = RNG.normal(size=4)
    out, tan = fg.jvp(lambda x: f(x, W), (X,), (t,))
    want_out, want_tan = fg.jvp(lambda x: layer(x, W), (X,), (t,))
    np.testing.assert_array_equal(out, want_out)
    np.testing.assert_array_equal(tan, want_tan)
    xs = RNG.normal(size=(5, 4))
    np.testing.assert_allclose(fg.vmap(f, in_axes=(0, None))(xs, W),
                               np.stack([layer(x, W) for x in xs]), rtol=1e-15)
    np.testing.assert_allclose(fg.jit(fg.vmap(f, in_axes=(0, None)))(xs, W),
                               np.stack([layer(x, W) for x in xs]), rtol=1e-15)


def test_remat_is_checkpoint_and_plain_calls_give_the_value():
    assert remat is checkpoint
    np.testing.assert_array_equal(remat(layer)(X, W), layer(X, W))


def test_pytrees_keywords_static_argnums_and_closures():
    def block(params, x, n, *, scale):
        for _ in range(n):          # n is static: a Python loop bound
            x = fnp.tanh(params["w"] @ x + params["b"]) * scale
        return {"out": x, "norm": fnp.sum(x * x)}

    params = {"w": W, "b": RNG.normal(size=4)}
    ck = checkpoint(block, static_argnums=(2,))

    def loss(fn, params, x):
        r = fn(params, x, 3, scale=0.5)
        return r["norm"] + fnp.sum(r["out"])

    got = fg.grad(lambda p, x: loss(ck, p, x), argnums=(0, 1))(params, X)
    want = fg.grad(lambda p, x: loss(block, p, x), argnums=(0, 1))(params, X)
    for g, w in zip(fg.tree.leaves(got), fg.tree.leaves(want)):
        np.testing.assert_array_equal(g, w)

    # a value of the enclosing trace closed over becomes an operand: gradients reach it
    def closure_loss(w):
        return fnp.sum(checkpoint(lambda x: fnp.sin(w @ x))(X))

    want = np.outer(np.cos(W @ X), X)
    np.testing.assert_allclose(fg.grad(closure_loss)(W), want, rtol=1e-14)
    np.testing.assert_allclose(fg.jit(fg.grad(closure_loss))(W), want, rtol=1e-14)
    np.testing.assert_allclose(fg.jvp(closure_loss, (W,), (np.ones_like(W),))[1], want.sum(),
                               rtol=1e-14)
    ws = np.stack([W, 2 * W])
    np.testing.assert_allclose(fg.vmap(fg.grad(closure_loss))(ws),
                               np.stack([fg.grad(closure_loss)(w) for w in ws]), rtol=1e-14)


def _sub_graph_ops(graph, which: int) -> list[str]:
    """The op names inside the ``which``-th checkpoint node's sub-graph of ``graph``."""
    nodes = [n for n in graph.nodes if n.name == "checkpoint"]
    return [n.name for n in nodes[which].params["body"].nodes if n.primitive is not None]


def test_under_jit_the_recomputation_stays_in_its_own_operation():
    def f(x):
        return fnp.sum(fnp.sin(fnp.exp(x)) * x)

    # value_and_grad: the forward value is an output too (grad alone needs only the pullback)
    lowered = fg.jit(fg.value_and_grad(checkpoint(f))).lower(X)
    top = [n.name for n in lowered.nodes if n.primitive is not None]
    # the forward operation and the pullback operation; no forward op outside them for
    # CSE to merge the recomputed values into
    assert top.count("checkpoint") == 2
    assert "exp" not in top and "sin" not in top
    forward, pullback = _sub_graph_ops(lowered, 0), _sub_graph_ops(lowered, 1)
    assert forward.count("exp") == 1 and forward.count("sin") == 1
    assert pullback.count("exp") == 1 and pullback.count("sin") == 1   # recomputed there
    assert "cos" in pullback                                          # sin's VJP
    # without the checkpoint, jit's graph computes exp(x) once and stores it for the VJP
    plain = [n.name for n in fg.jit(fg.value_and_grad(f)).lower(X).nodes
             if n.primitive is not None]
    assert "checkpoint" not in plain
    np.testing.assert_array_equal(fg.jit(fg.grad(checkpoint(f)))(X), fg.jit(fg.grad(f))(X))


def _saved_and_recomputed(policy):
    """(results of the forward operation, matmuls and tanh in the pullback sub-graph)."""
    loss = lambda x, w: fnp.sum(checkpoint(layer, policy=policy)(x, w))
    lowered = fg.make_graph(fg.value_and_grad(loss, argnums=(0, 1)))(X, W)
    fwd = next(n for n in lowered.nodes if n.name == "checkpoint")
    pullback = _sub_graph_ops(lowered, 1)
    return len(fwd.params["body"].outputs), pullback.count("matmul"), pullback.count("tanh")


def test_policies_save_what_they_name():
    cp = checkpoint_policies
    # nothing saved: one output; the forward matmul is recomputed beside the two of the VJP
    assert _saved_and_recomputed(None) == (1, 3, 1)
    assert _saved_and_recomputed(cp.nothing_saveable) == (1, 3, 1)
    # the matmul's output saved: only the VJP's two matmuls run in the pullback
    assert _saved_and_recomputed(cp.dots_saveable) == (2, 2, 1)
    assert _saved_and_recomputed(cp.dots_with_no_batch_dims_saveable) == (2, 2, 1)
    # the named value saved: the matmul behind it is not needed again either
    assert _saved_and_recomputed(cp.save_only_these_names("pre")) == (2, 2, 1)
    saved, matmuls, tanhs = _saved_and_recomputed(cp.save_any_names_but_these("pre"))
    assert (matmuls, tanhs) == (3, 1) and saved == 1
    saved, matmuls, tanhs = _saved_and_recomputed(cp.everything_saveable)
    assert matmuls == 2 and tanhs == 0 and saved > 3
    combined = cp.save_from_both_policies(cp.dots_saveable, cp.save_only_these_names("pre"))
    assert _saved_and_recomputed(combined)[1] == 2


def test_dots_with_no_batch_dims_leaves_batched_matmuls_unsaved():
    a = RNG.normal(size=(2, 3, 3))

    def f(a):
        return fnp.sum(fnp.tanh(a @ a))

    graphs = {}
    for name in ("dots_saveable", "dots_with_no_batch_dims_saveable"):
        policy = getattr(checkpoint_policies, name)
        g = fg.make_graph(fg.value_and_grad(checkpoint(f, policy=policy)))(a)
        fwd = next(n for n in g.nodes if n.name == "checkpoint")
        graphs[name] = len(fwd.params["body"].outputs)
    assert graphs == {"dots_saveable": 2, "dots_with_no_batch_dims_saveable": 1}


def test_a_custom_policy_is_called_with_the_primitive_and_its_operands():
    seen = []

    def policy(prim, *avals, **params):
        seen.append((prim.name, tuple(a.shape for a in avals)))
        return prim.name == "exp"

    f = checkpoint(lambda x: fnp.sum(fnp.sin(fnp.exp(x))), policy=policy)
    np.testing.assert_array_equal(fg.grad(f)(X), fg.grad(lambda x: fnp.sum(fnp.sin(fnp.exp(x))))(X))
    assert ("exp", ((4,),)) in seen and ("sin", ((4,),)) in seen


def test_errors():
    with pytest.raises(ArgumentError, match="policy must be a callable"):
        checkpoint(layer, policy="dots")
    with pytest.raises(ArgumentError, match="expected a function"):
        checkpoint(3)
    with pytest.raises(ArgumentError, match="static_argnums 5 is out of range"):
        checkpoint(layer, static_argnums=5)(X, W)
    with pytest.raises(ArgumentError, match="name must be a str"):
        checkpoint_name(X, 3)
    # f is traced abstractly, as under jit: control flow on values is the usual clear error
    with pytest.raises(ConcretizationError):
        checkpoint(lambda x: x if fnp.sum(x) > 0 else -x)(X)


# -- memory: what checkpointing is for --------------------------------------------------------

def _peak_bytes(fn, *args) -> int:
    fn(*args)                                   # warm caches first: measure the steady state
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def block(x):
    """Eight elementwise intermediates per call, each as large as x."""
    y = fnp.sin(x) * 0.9 + 0.1 * fnp.cos(x)
    y = fnp.tanh(y) * 0.5 + y * 0.5
    return y * fnp.exp(-0.01 * y * y)


def test_checkpointing_each_layer_of_a_long_chain_lowers_peak_memory():
    # 200 layers on 20,000 float64 (160 kB each).  Unchecked, reverse mode keeps every
    # intermediate of every layer (~10 per layer); checkpointed, one input per layer plus
    # one layer's intermediates at a time: theory says ~1/10.  Measured ~418 MB vs ~36-42 MB.
    x = np.linspace(-1, 1, 20_000)

    def chain(f):
        def loss(x):
            for _ in range(200):
                x = f(x)
            return fnp.sum(x)
        return fg.grad(loss)

    plain = _peak_bytes(chain(block), x)
    checked = _peak_bytes(chain(checkpoint(block)), x)
    assert checked < 0.25 * plain, (checked, plain)
    np.testing.assert_array_equal(chain(checkpoint(block))(x), chain(block)(x))


def test_scan_of_a_checkpointed_body_keeps_memory_bounded():
    # lax.scan's reverse mode stores, per step, the carry and the values the body's VJP rules
    # read, computed in the forward scan (cos(x), 1 - tanh**2...: measured 38.7 MB, 0.55x
    # the loop); a checkpointed body stores only the carry (10.4 MB).  Both must stay
    # below the unrolled Python loop, which stores every intermediate (69.9 MB).
    xs = np.linspace(0, 1, 300)[:, None] * np.full((1, 2_000), 0.01)
    c0 = np.linspace(-1, 1, 2_000)

    def step(c, x):
        y = block(c + x)
        return y, fnp.sum(y)

    def scanned(body):
        return fg.grad(lambda c: fnp.sum(lax.scan(body, c, xs)[1]))

    def unrolled(c):
        total = 0.0
        for x in xs:
            c, y = step(c, x)
            total = total + y
        return total

    loop = _peak_bytes(fg.grad(unrolled), c0)
    with_ckpt = _peak_bytes(scanned(checkpoint(step)), c0)
    without = _peak_bytes(scanned(step), c0)
    assert with_ckpt < 0.25 * loop and without < 0.75 * loop, (with_ckpt, without, loop)
    np.testing.assert_array_equal(scanned(checkpoint(step))(c0), fg.grad(unrolled)(c0))


@pytest.mark.parametrize("transform,batched", [
    (fg.grad, False), (lambda f: fg.jit(fg.grad(f)), False), (lambda f: fg.grad(fg.jit(f)), False),
    (fg.hessian, False), (lambda f: fg.vmap(fg.grad(f)), True),
], ids=["grad", "jit-grad", "grad-jit", "hessian", "vmap-grad"])
def test_scan_of_a_checkpointed_body_under_transformations(transform, batched):
    xs = np.linspace(0, 1, 30)[:, None] * np.full((1, 3), 0.1)

    def step(c, x):
        y = fnp.tanh(fnp.sin(c) + x) * 0.9
        return y, fnp.sum(y * y)

    def loss(body):
        return lambda c: fnp.sum(lax.scan(body, c, xs)[1])

    c0 = np.linspace(-1, 1, 3)
    arg = np.stack([c0, 0.5 * c0]) if batched else c0
    np.testing.assert_allclose(transform(loss(checkpoint(step)))(arg),
                               transform(loss(step))(arg), rtol=1e-13, atol=1e-15)


def test_eager_calls_do_not_keep_the_arrays_their_bodies_closed_over():
    # Each eager call traces a new body, with a closed-over NumPy array copied in as a
    # constant; memoising those bodies' derived graphs would keep every copy alive.
    big = np.linspace(0.0, 1.0, 1 << 17)             # 1 MiB

    def loss(x):
        return fnp.sum(checkpoint(lambda x: fnp.sin(x * big))(x))

    x = np.ones(1 << 17)
    fg.grad(loss)(x)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(10):
            fg.grad(loss)(x)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < big.nbytes, kept
