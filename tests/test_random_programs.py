"""Random programs composed from the op table, checked end to end (``funcgrad.testing.programs``).

Each example is a small straight-line program of op-table rows (composed, with reused
values, broadcasting, reductions, indexing, Python scalars and NumPy constants) and
concrete inputs in every op's smooth domain.  For each one: grad against central
differences at orders 1 and 2, the jvp/vjp transpose identity, jit against eager, vmap
against a loop, float32 against float64, and forward values against the same program on
NumPy; on fewer examples (each one compiles kernels), the Numba backend against the
NumPy backend.  A failure shrinks to a minimal program, printed as Python source.

The ``ci`` profile runs a fixed set of programs in well under a minute;
``HYPOTHESIS_PROFILE=nightly`` searches far longer (see ``docs/testing.md``).
The last tests plant broken derivative rules and check that the search finds them.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from op_table import DIFFERENTIABLE

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import tree
from funcgrad.errors import GradientCheckError
from funcgrad.testing.programs import DEFAULT_CHECKS, OpStep, check_program, programs

EXAMPLES = settings.default.max_examples  # 25 in the ci profile, more in dev and nightly
SPECS = DIFFERENTIABLE


@settings(max_examples=4 * EXAMPLES)
@given(programs(SPECS))
def test_random_programs(program):
    check_program(program, DEFAULT_CHECKS)


@settings(max_examples=EXAMPLES)
@given(programs(SPECS))
def test_programs_print_as_source_that_runs(program):
    # The printed source is the program: run it (OPS: the op table by name) and compare.
    OPS = {r.name: r.fun for r in SPECS}
    env = {"np": np, "fnp": fnp, "OPS": OPS}
    exec(program.source(), env)
    got = tree.leaves(env["f"](*[np.array(x) for x in program.inputs]))
    assert len(got) == len(program.expected)
    for g, e in zip(got, program.expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)


# -- the suite itself: planted broken rules are found, and shrunk to a program that shows them ---
def _search(checks, max_examples=200):
    """Run the program search over the op table; return (shrunk failing program, its error)."""
    failing = []

    @settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate, Phase.shrink], report_multiple_bugs=False,
              suppress_health_check=list(HealthCheck))
    @given(programs(SPECS))
    def search(program):
        try:
            check_program(program, checks)
        except Exception:
            failing.append(program)  # hypothesis replays the shrunk example last
            raise

    with pytest.raises(Exception) as info:
        search()
    assert failing, f"the search raised before running any program: {info.value!r}"
    return failing[-1], info.value


def _primitives(f, *args):
    return {node.primitive for node in fg.make_graph(f)(*args).nodes}


def _reverse_mode_primitives(program):
    """The primitives of the program's backward passes (as ``make_graph`` traces them): reverse
    mode over itself and over forward mode, as the order-2 ``grad`` check runs them."""
    def pulled_back(fn):
        def f(*xs):
            out, pullback = fg.vjp(fn, *xs)
            return pullback(out)  # any cotangent of the output's structure
        return f

    tangent = lambda *xs: fg.jvp(program.fn, xs, xs)[1]  # noqa: E731
    return (_primitives(pulled_back(program.fn), *program.inputs)
            | _primitives(pulled_back(tangent), *program.inputs))


def _forward_mode_primitives(program):
    return _primitives(lambda *xs: fg.jvp(program.fn, xs, xs)[1], *program.inputs)


def test_search_finds_a_transpose_vjp_with_its_permutation_reversed(monkeypatch):
    # The bug: the cotangent of transpose(x, axes) is transpose(g, reversed(axes)), which
    # equals the right inverse permutation argsort(axes) only for involutions.
    from funcgrad.ops.shape import transpose, transpose_p

    monkeypatch.setattr(transpose_p, "vjp_rules",
                        (lambda g, ans, x, axes: transpose(g, tuple(reversed(axes))),))
    program, error = _search(("grad",))
    # Hypothesis's report of the falsifying example is the program's source.
    assert program.source() in "\n".join(getattr(error, "__notes__", []))
    assert len([s for s in program.steps if isinstance(s, OpStep)]) <= 2, f"not shrunk:{program!r}"
    monkeypatch.undo()  # the right rule: the same program passes, and its gradient uses transpose
    check_program(program, ("grad",))
    assert transpose_p in _reverse_mode_primitives(program), f"no transpose in:{program!r}"


def test_search_finds_a_multiply_jvp_missing_a_product_rule_term(monkeypatch):
    # The bug: d(x * y) = dx * y, the x * dy term dropped: forward mode disagrees with reverse.
    from funcgrad.ops.elementwise import multiply_p

    rule_x = multiply_p.jvp_rules[0]
    monkeypatch.setattr(multiply_p, "jvp_rules", (rule_x, None))
    program, error = _search(("transpose",))
    assert isinstance(error, GradientCheckError) and "transposes" in str(error)
    assert program.source() in str(error)  # the failure prints the program
    assert len([s for s in program.steps if isinstance(s, OpStep)]) <= 2, f"not shrunk:{program!r}"
    monkeypatch.undo()
    check_program(program, ("transpose",))
    assert multiply_p in _forward_mode_primitives(program), f"no multiply in:{program!r}"


@settings(max_examples=max(4, EXAMPLES // 3))
@given(programs(SPECS, max_steps=3))
def test_random_programs_numba_backend_matches_numpy_backend(program):
    # Fewer examples: every new program compiles its fused kernels (cached on disk after).
    check_program(program, ("numba",))


def test_printed_arrays_keep_their_shape_when_empty():
    # A program bridging to a zero-size value holds constants such as zeros((0, 2));
    # printed as np.array([]) they would run with shape (0,) (found by the search above).
    from funcgrad.testing.programs import _array_source

    for x in (np.zeros((0, 2)), np.zeros((3, 0, 1)), np.array([[1.5, -2.0]]), np.array(3.0)):
        back = eval(_array_source(x), {"np": np})  # noqa: S307 - our own printout
        assert back.shape == x.shape and np.array_equal(back, x)
