"""Running a :class:`Graph`: the interpreter that every backend and ``jit`` build on.

``eval_graph`` walks the nodes in topological order.  Each primitive is
applied with ``Primitive.bind``, so when an argument is a tracer of an open
trace, the graph is inlined into that trace (this is how ``grad(jit(f))`` and
``vmap(jit(f))`` compose); on plain arrays it runs the reference kernels.
:func:`plan` precomputes the schedule a backend executes: which kernel, which
operand slots, and which buffers to free after each step.
"""

from __future__ import annotations

from typing import Callable, Sequence

from funcgrad._core.graph import CONSTANT, Graph


def eval_graph(graph: Graph, args: Sequence) -> list:
    """The graph's outputs for these inputs, binding each primitive (traced or concrete)."""
    if len(args) != len(graph.inputs):
        raise ValueError(f"graph has {len(graph.inputs)} inputs, got {len(args)} arguments")
    env = {id(n): a for n, a in zip(graph.inputs, args)}
    for node in graph.nodes:
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

    __slots__ = ("node", "kernel", "ins", "out", "params", "frees")

    def __init__(self, node, kernel, ins, out, params, frees):
        self.node, self.kernel, self.ins, self.out = node, kernel, ins, out
        self.params, self.frees = params, frees


def plan(graph: Graph, kernel_for: Callable) -> tuple[list, list, list, list, int]:
    """Schedule ``graph``: ``(steps, constants, input slots, output slots, number of slots)``.

    Every node gets a slot; after each step, the slots whose last reader that step
    was are freed, so the peak number of live intermediates of a long chain stays
    bounded (buffer planning).  ``kernel_for(node)`` picks each node's kernel.
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
        steps.append(Step(node, kernel_for(node), tuple(slot[id(i)] for i in node.inputs),
                          slot[id(node)], dict(node.params), frees))
    return (steps, constants, [slot[id(n)] for n in graph.inputs],
            [slot[id(n)] for n in graph.outputs], len(nodes))


class Executable:
    """A planned graph, ready to run on arrays: the result of a backend's ``compile``."""

    def __init__(self, graph: Graph, kernel_for: Callable):
        self.graph = graph
        (self.steps, self.constants, self.input_slots, self.output_slots,
         self.num_slots) = plan(graph, kernel_for)

    def __call__(self, args: Sequence) -> list:
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
