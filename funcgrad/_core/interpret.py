"""Running a :class:`Graph`: the interpreter that every backend and ``jit`` build on.

``eval_graph`` walks the nodes in topological order.  Each primitive is
applied with ``Primitive.bind``, so when an argument is a tracer of an open
trace, the graph is inlined into that trace (this is how ``grad(jit(f))`` and
``vmap(jit(f))`` compose); on plain arrays it runs the reference kernels.
:func:`plan` precomputes the schedule a backend executes: which kernel, which
operand slots, and which buffers to free after each step.  :class:`Executable`
turns a plan into one straight-line Python function (its ``source``).
"""

from __future__ import annotations

import itertools
import keyword
import threading
from collections.abc import Callable, Sequence

from funcgrad._core.graph import CONSTANT, Graph, toposort


def eval_graph(graph: Graph, args: Sequence, effects: bool = True) -> list:
    """The graph's outputs for these inputs, binding each primitive (traced or concrete).

    With ``effects=False`` the graph's side effects (``debug.print``) are left out: for a
    derivative rule that re-runs a body only to recompute its values.
    """
    if len(args) != len(graph.inputs):
        raise ValueError(f"graph has {len(graph.inputs)} inputs, got {len(args)} arguments")
    env = {id(n): a for n, a in zip(graph.inputs, args)}
    for node in graph.nodes if effects or not graph.effects else toposort(graph.outputs):
        if id(node) in env:
            continue
        if node.kind == CONSTANT:
            env[id(node)] = node.value
        else:
            env[id(node)] = node.primitive.bind(*[env[id(i)] for i in node.inputs],
                                                **node.params)
    return [env[id(n)] for n in graph.outputs]


class Step:
    """One scheduled operation: ``slots[out] = kernel(*slots[ins], **params)``, then free ``frees``."""

    __slots__ = ("frees", "ins", "kernel", "node", "out", "params")

    def __init__(self, node, kernel, ins, out, params, frees):
        self.node, self.kernel, self.ins, self.out = node, kernel, ins, out
        self.params, self.frees = params, frees


def plan(graph: Graph, kernel_for: Callable) -> tuple[list, list, list, list, int]:
    """Schedule ``graph``: ``(steps, constants, input slots, output slots, number of slots)``.

    Every node gets a slot; after each step, the slots whose last reader that step
    was are freed, so the peak number of live intermediates of a long chain stays
    bounded (buffer planning).  ``kernel_for(node)`` picks each node's kernel; a kernel
    with a true ``params_bound`` attribute (one made for its node) is called with the
    operands alone, which saves building the keyword arguments on every call.
    """
    nodes = graph.nodes
    slot = {id(n): i for i, n in enumerate(nodes)}
    input_ids = {id(n) for n in graph.inputs}
    output_ids = {id(n) for n in graph.outputs}
    last_use: dict[int, int] = {}
    for k, node in enumerate(nodes):
        for i in node.inputs:
            last_use[id(i)] = k
    steps, constants = [], []
    for k, node in enumerate(nodes):
        if node.kind == CONSTANT:
            constants.append((slot[id(node)], node.value))
            continue
        if id(node) in input_ids:
            continue
        frees = tuple(slot[id(i)] for i in dict.fromkeys(node.inputs)
                      if last_use.get(id(i)) == k and id(i) not in output_ids
                      and i.kind != CONSTANT)
        kernel = kernel_for(node)
        # A kernel made for this node that holds its params already takes the operands alone.
        params = {} if getattr(kernel, "params_bound", False) else dict(node.params)
        steps.append(Step(node, kernel, tuple(slot[id(i)] for i in node.inputs),
                          slot[id(node)], params, frees))
    return (steps, constants, [slot[id(n)] for n in graph.inputs],
            [slot[id(n)] for n in graph.outputs], len(nodes))


class InputLayout:
    """Which layout of its inputs (shapes, strides, dtypes) an executable runs on, per thread.

    Every intermediate's layout follows from the inputs' (kernels are deterministic),
    so a kernel specialised for one node can keep the plan it chose (loop shape,
    compiled loop) while :attr:`epoch` stays the same, instead of looking the plan up
    on every call.  The executable calls :meth:`observe` with its arguments; a new
    layout gets a new epoch, unique across threads, so a plan memoised by one thread
    is never taken for another layout.  Epoch 0 means "do not memoise".

    Examples:
        >>> import numpy as np
        >>> layout = InputLayout()
        >>> layout.observe([np.ones(3)]); a = layout.epoch
        >>> layout.observe([np.ones(3)]); layout.epoch == a
        True
        >>> layout.observe([np.ones(4)]); layout.epoch == a
        False
    """

    _epochs = itertools.count(1)

    def __init__(self):
        self._local = threading.local()
        self.used = False  # set by the kernels that memoise by epoch

    def observe(self, args: Sequence) -> None:
        try:
            key = tuple([(a.shape, a.strides, a.dtype) for a in args])
        except AttributeError:  # a Python scalar input: no memoised plans this call
            key = None
        local = self._local
        if key is None or key != getattr(local, "key", None):
            local.key = key
            local.epoch = 0 if key is None else next(self._epochs)

    @property
    def epoch(self) -> int:
        return getattr(self._local, "epoch", 0)


#: Plans of up to this many steps run as generated straight-line code from their second
#: call on (see :class:`Executable`); longer ones always run in a loop.  Python compiles
#: such code at 20-40 us a step, and it saves ~0.5 us a step per call.
CODEGEN_MAX_STEPS = 2000
_codegen_lock = threading.RLock()


class Executable:
    """A planned graph, ready to run on arrays: the result of a backend's ``compile``.

    The first call runs the steps in a loop.  From the second call on, the plan
    runs as one generated Python function, :attr:`source` (print it to see what
    runs): one line per step on local variables named as in the graph's printout,
    the kernels, parameters and constants bound as the function's globals, and a
    ``del`` right after each buffer's last reader.  That costs no list indexing and
    no ``**params`` per step, and compiling it is left to executables that are
    called again.  Plans longer than :data:`CODEGEN_MAX_STEPS` always run the loop.

    Examples:
        >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
        >>> g = fg.make_graph(lambda x: fnp.sum(fnp.sin(x), axis=0))(np.ones(3))
        >>> exe = Executable(g, lambda node: node.primitive.impl)
        >>> print(exe.source)
        def run(_args):
            (a,) = _args
            b = K0(a)  # sin
            del a
            c = K1(b, axis=P0, keepdims=P1)  # sum
            del b
            return [c]
        >>> float(exe([np.zeros(3)])[0])
        0.0
    """

    def __init__(self, graph: Graph, kernel_for: Callable, layout: InputLayout | None = None):
        self.graph = graph
        (self.steps, self.constants, self.input_slots, self.output_slots,
         self.num_slots) = plan(graph, kernel_for)
        self._generated: tuple | None = None  # (source, globals), made on demand
        self._run = self._first_call
        # Observed on each call only when some kernel memoises its plan by layout.
        self._layout = layout if layout is not None and layout.used else None

    def __call__(self, args: Sequence) -> list:
        if self._layout is not None:
            self._layout.observe(args)
        return self._run(args)

    @property
    def source(self) -> str | None:
        """The source of the generated function (``None`` when the plan is too long for one)."""
        if self._generated is None and len(self.steps) <= CODEGEN_MAX_STEPS:
            self._generated = _generate(self)
        return None if self._generated is None else self._generated[0]

    def codegen(self) -> Callable[[Sequence], list]:
        """Compile :attr:`source` now (once) and run it from now on; returns the function."""
        with _codegen_lock:  # two threads calling an executable the second time
            if self.source is None:
                self._run = self._loop
            elif "run" not in self._generated[1]:
                source, namespace = self._generated
                # Running generated code is the point; every name in it is ours (_generate).
                exec(compile(source, "<funcgrad executable>", "exec"), namespace)  # noqa: S102
                self._run = namespace["run"]
            return self._run

    def _first_call(self, args: Sequence) -> list:
        self._run = self._second_call
        return self._loop(args)

    def _second_call(self, args: Sequence) -> list:
        return self.codegen()(args)

    def _loop(self, args: Sequence) -> list:
        slots: list = [None] * self.num_slots
        for s, v in self.constants:
            slots[s] = v
        for s, a in zip(self.input_slots, args):
            slots[s] = a
        for step in self.steps:
            slots[step.out] = step.kernel(*[slots[i] for i in step.ins], **step.params)
            for f in step.frees:
                slots[f] = None
        return [slots[o] for o in self.output_slots]

    def peak_live(self) -> int:
        """The largest number of intermediate buffers alive at once (for tests of the planner)."""
        live, peak = set(), 0
        inputs = set(self.input_slots)
        for step in self.steps:
            live.add(step.out)
            peak = max(peak, len(live - inputs))
            live.difference_update(step.frees)
        return peak


def _generate(exe: Executable) -> tuple[str, dict]:
    """The source of ``run(_args)`` for ``exe``'s plan, and the globals it needs.

    Values are named as in the graph's printout (a Python keyword gets a ``_``);
    kernels are ``K0, K1, ...``, parameter values ``P0, ...`` and constants
    ``C0, ...``: names no value can take.
    """
    nodes = exe.graph.nodes
    letters = exe.graph._names()
    names = []
    for node in nodes:
        name = letters[id(node)]
        names.append(name + "_" if keyword.iskeyword(name) else name)
    namespace: dict = {}
    bound: dict[tuple, str] = {}  # (prefix, id(value)) -> global name
    counts = {"C": 0, "K": 0, "P": 0}

    def bind(prefix: str, value) -> str:
        key = (prefix, id(value))
        name = bound.get(key)
        if name is None:
            name = bound[key] = f"{prefix}{counts[prefix]}"
            counts[prefix] += 1
            namespace[name] = value
        return name

    for s, value in exe.constants:
        names[s] = bind("C", value)
    lines = ["def run(_args):"]
    if exe.input_slots:
        targets = ", ".join(names[s] for s in exe.input_slots)
        lines.append(f"    {f'({targets},)' if len(exe.input_slots) == 1 else targets} = _args")
    for step in exe.steps:
        args = [names[i] for i in step.ins]
        args += [f"{k}={bind('P', v)}" for k, v in step.params.items()]
        lines.append(f"    {names[step.out]} = {bind('K', step.kernel)}({', '.join(args)})"
                     f"  # {step.node.name}")
        if step.frees:
            lines.append(f"    del {', '.join(names[f] for f in step.frees)}")
    lines.append(f"    return [{', '.join(names[o] for o in exe.output_slots)}]")
    return "\n".join(lines), namespace
