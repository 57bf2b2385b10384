"""The executor: plans lowered to straight-line Python, checked against ``eval_graph``.

Every executable is run two ways, as generated code and as the step loop that
long plans use, and both must give what the reference interpreter gives.  The
buffer planning is checked on real buffers: an intermediate is dropped right
after its last reader.
"""

import sys
import textwrap
import weakref

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._core import interpret
from funcgrad._core.graph import Graph, Node
from funcgrad._core.interpret import Executable, eval_graph
from funcgrad.ops.elementwise import add_p
from funcgrad.optimize import optimize
from funcgrad.optimize._rewrite import make_node


def reference(node):
    return node.primitive.impl


def executable(graph, kernel_for=reference, loop=False):
    """``graph``'s executable, running the generated code or (``loop``) the step loop."""
    exe = Executable(graph, kernel_for)
    assert exe.source is not None
    if loop:
        exe._run = exe._loop
    else:
        exe.codegen()
    return exe


def assert_runs_like_eval_graph(graph, args):
    want = eval_graph(graph, args)
    for loop in (False, True):
        got = executable(graph, loop=loop)(list(args))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert np.shape(g) == np.shape(w) and np.asarray(g).dtype == np.asarray(w).dtype
            np.testing.assert_array_equal(g, w)


def mlp_grad(w1, w2, x):
    def loss(w1, w2, x):
        h = fnp.maximum(x @ w1 + 0.5, 0.0)
        z = h @ w2
        return fnp.sum(fnp.log(fnp.sum(fnp.exp(z - fnp.max(z, axis=1, keepdims=True)), axis=1)))
    return fg.grad(loss, argnums=(0, 1))(w1, w2, x)


MLP_ARGS = (np.linspace(-1, 1, 12).reshape(3, 4), np.linspace(1, -1, 8).reshape(4, 2),
            np.linspace(-2, 2, 15).reshape(5, 3))


@pytest.mark.parametrize("optimised", [False, True])
def test_an_executable_computes_what_eval_graph_computes(optimised):
    g = fg.make_graph(mlp_grad)(*MLP_ARGS)
    assert_runs_like_eval_graph(optimize(g) if optimised else g, MLP_ARGS)


def test_the_source_is_one_line_per_step_named_like_the_printout():
    g = fg.make_graph(lambda x, y: fnp.sum(fnp.sin(x) * y, axis=0))(np.ones((2, 3)), np.ones(3))
    exe = Executable(g, reference)
    assert exe.source == textwrap.dedent("""\
        def run(_args):
            a, b = _args
            c = K0(a)  # sin
            del a
            d = K1(c, b)  # multiply
            del c, b
            e = K2(d, axis=P0, keepdims=P1)  # sum
            del d
            return [e]""")
    printed = str(g)
    for line in ("c:f64[2,3] = sin a", "d:f64[2,3] = multiply c b", "e:f64[3] = sum"):
        assert line in printed


def test_inputs_constants_and_repeated_values_as_outputs():
    x = Node.input((3,), np.float64)
    unused = Node.input((2,), np.int64)
    c = Node.constant(np.array([1.0, 2.0, 3.0]))
    s = Node.constant(2.5)
    z = make_node(add_p, (x, c))
    g = Graph([x, unused], [z, x, c, z, s, unused])
    args = [np.array([0.5, -1.0, 4.0]), np.array([7, 8])]
    assert_runs_like_eval_graph(g, args)
    out = Executable(g, reference)(args)
    assert out[1] is args[0] and out[5] is args[1] and out[0] is out[3]
    assert out[4] == 2.5 and type(out[4]) is float


def test_a_graph_without_inputs():
    g = Graph([], [Node.constant(np.arange(3.0))])
    assert_runs_like_eval_graph(g, [])


def test_values_named_like_python_keywords_get_an_underscore():
    def chain(x):
        for _ in range(60):  # names run past "as", "if", "in", "is", "or"
            x = fnp.sin(x)
        return x

    g = fg.make_graph(chain)(np.ones(2))
    exe = Executable(g, reference)
    assert "    as_ = K0(ar)  # sin" in exe.source
    assert_runs_like_eval_graph(g, [np.linspace(0, 1, 2)])


def test_params_are_passed_by_keyword():
    seen = []

    def kernel_for(node):
        def kernel(*args, **params):
            seen.append(params)
            return node.primitive.impl(*args, **params)
        return kernel

    g = fg.make_graph(lambda x: fnp.transpose(fnp.sum(x, axis=2), (1, 0)))(np.ones((2, 3, 4)))
    Executable(g, kernel_for)([np.ones((2, 3, 4))])
    assert seen == [{"axis": (2,), "keepdims": False}, {"axes": (1, 0)}]


@pytest.mark.parametrize("loop", [False, True])
def test_each_intermediate_is_dropped_after_its_last_reader(loop):
    # A chain with a skip connection: each value is read by the next two steps.
    def chain(n):
        def f(x):
            a, b = x, fnp.sin(x)
            for _ in range(n):
                a, b = b, fnp.sin(b) + a
            return b
        return f

    x = np.linspace(0, 1, 3)
    peaks = []
    for n in (5, 40):
        g = fg.make_graph(chain(n))(x)
        made, live_before = [], []

        def kernel_for(node, made=made, live_before=live_before):
            def kernel(*args):
                live_before.append(sum(r() is not None for r in made))
                out = node.primitive.impl(*args)
                made.append(weakref.ref(out))
                return out
            return kernel

        exe = executable(g, kernel_for, loop)
        np.testing.assert_array_equal(exe([x])[0], eval_graph(g, [x])[0])
        # what a step reads and keeps for later, plus what it makes: what the plan says
        assert max(live_before) + 1 == exe.peak_live()
        assert all(r() is None for r in made[:-1])  # only the result outlives the call
        peaks.append(exe.peak_live())
    assert peaks[0] == peaks[1] == 4


def test_the_first_call_runs_the_loop_and_later_calls_the_generated_code():
    callers = []

    def kernel_for(node):
        def kernel(*args, **params):
            callers.append(sys._getframe(1).f_code.co_name)
            return node.primitive.impl(*args, **params)
        return kernel

    g = fg.make_graph(lambda x: fnp.sum(fnp.exp(x)))(np.ones(3))
    exe = Executable(g, kernel_for)
    results = [exe([np.arange(3.0)])[0] for _ in range(3)]
    assert callers == ["_loop", "_loop", "run", "run", "run", "run"]
    assert results[0] == results[1] == results[2] == np.sum(np.exp(np.arange(3.0)))


def test_long_plans_run_in_a_loop(monkeypatch):
    monkeypatch.setattr(interpret, "CODEGEN_MAX_STEPS", 3)
    g = fg.make_graph(mlp_grad)(*MLP_ARGS)
    exe = Executable(g, reference)
    assert exe.source is None and len(exe.steps) > 3
    want = eval_graph(g, MLP_ARGS)
    for _ in range(3):
        for got, w in zip(exe(list(MLP_ARGS)), want):
            np.testing.assert_array_equal(got, w)
    assert exe.codegen() == exe._loop


def test_a_kernel_error_propagates():
    def kernel_for(node):
        def kernel(*args, **params):
            raise FloatingPointError("boom")
        return kernel

    g = fg.make_graph(lambda x: fnp.exp(x))(np.ones(2))
    with pytest.raises(FloatingPointError, match="boom"):
        Executable(g, kernel_for)([np.ones(2)])


def test_executables_keep_their_steps_and_plan():
    g = fg.make_graph(mlp_grad)(*MLP_ARGS)
    exe = Executable(g, reference)
    ops = [n for n in g.nodes if n.primitive is not None]
    assert [s.node for s in exe.steps] == ops
    assert exe.source.count(" = K") == len(exe.steps)
    assert exe.peak_live() >= 1


# -- the Numba backend's sum of trailing axes -------------------------------------------------
# (The kernel behind the softmax sums an executable runs; it belongs with the sum tests of
# tests/test_numba_backend.py, which another session owns.)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, axis, keepdims", [
    ((64, 10), (1,), True), ((3, 7), (1,), False), ((5, 8), (1,), False),
    ((4, 23), (1,), True), ((2, 128), (1,), False), ((3, 129), (1,), False),  # 129: NumPy's
    ((4, 5, 6), (1, 2), False), ((6, 1, 9), (2,), True), ((8, 16), None, False),
    ((100, 3), (1,), False),
])
def test_numba_sum_of_trailing_axes_is_numpys_bit_for_bit(shape, axis, keepdims, dtype):
    from funcgrad.backends import numba_cpu

    x = np.random.default_rng(0).normal(size=shape) * np.logspace(-4, 4, shape[-1])
    x = x.astype(dtype)
    got = numba_cpu.sum_kernel(x, axis, keepdims)
    want = np.sum(x, axis=axis, keepdims=keepdims)
    assert type(got) is type(want) and np.shape(got) == np.shape(want)
    assert np.asarray(got).dtype == want.dtype
    np.testing.assert_array_equal(got, want)  # the same additions in the same order
    if keepdims:
        assert not np.signbit(numba_cpu.sum_kernel(-np.zeros(shape, dtype), axis, True)).any()


def test_numba_sum_takes_the_trailing_loop_only_when_it_matches_numpy(monkeypatch):
    from funcgrad.backends import numba_cpu

    calls = []
    kernel = numba_cpu.sum_last
    monkeypatch.setattr(numba_cpu, "sum_last", lambda: calls.append(1) or kernel())
    numba_cpu._sum_plans.clear()
    x = np.ones((4, 1, 3, 2))
    numba_cpu.sum_kernel(x, (3,), False)             # the trailing block
    numba_cpu.sum_kernel(x, (1, 2, 3), True)         # size-1 axes do not break it
    assert len(calls) == 2
    numba_cpu.sum_kernel(np.ones((2, 200)), (1,), False)  # over 128: NumPy splits the block
    numba_cpu.sum_kernel(x, (0, 3), False)           # not a block
    numba_cpu.sum_kernel(x[:, :, ::2], (3,), False)  # not C-contiguous
    numba_cpu.sum_kernel(x.astype(np.int64), (3,), False)  # integers: NumPy
    assert len(calls) == 2
