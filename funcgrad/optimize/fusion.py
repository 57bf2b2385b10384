"""Elementwise fusion: clusters of elementwise nodes become one ``fused`` node.

A cluster's computation is a :class:`Program`, a straight-line list of
elementwise instructions, and the cluster becomes ``fused_p.bind(*inputs,
program=program)``.  The NumPy reference of ``fused_p`` runs the instructions
one by one with each primitive's ``impl`` (so it computes exactly what the
unfused graph computes); a backend may compile a Program into one loop over
the output, with no temporaries.

Which primitives fuse is a property of the primitive (``prim.elementwise``,
set by the elementwise family helpers), never a list of names here.
"""

from __future__ import annotations

import heapq
import threading
import weakref
from functools import lru_cache
from types import MappingProxyType

import numpy as np

from funcgrad._core.dtypes import is_inexact
from funcgrad._core.graph import Graph, Node
from funcgrad._core.primitive import Primitive
from funcgrad.errors import ArgumentError
from funcgrad.ops import elementwise as ew
from funcgrad.ops._family import batch_elementwise, dtype_of, shape_of
from funcgrad.optimize._rewrite import (
    PY_SCALARS,
    is_python_scalar,
    scalar_key,
    with_inputs,
)

#: Operand tags of a Program instruction.
IN, TMP, CONST = "in", "tmp", "const"


class Program:
    """A straight-line elementwise computation: the body of one fused node.

    ``instructions`` is a tuple of ``(primitive, operands)``; each operand is
    ``("in", k)`` (the fused node's ``k``-th input), ``("tmp", j)`` (the result
    of instruction ``j < `` this one) or ``("const", python_scalar)``.
    ``output`` is the index of the instruction whose result the node returns.
    Programs are immutable and hashable (backends cache their kernels by them);
    constants compare by type and bits, so ``1``, ``1.0`` and ``-0.0`` differ from ``1.0``.
    Equal programs are one object (``Program(...)`` returns the live one it
    equals), so a kernel cache finds a program by identity, never by comparing
    two long instruction lists on each call.

    Examples:
        >>> from funcgrad.ops.elementwise import sin_p, multiply_p
        >>> Program(((sin_p, (("in", 0),)), (multiply_p, (("tmp", 0), ("const", 2.0)))), 1, 1)
        Program(t0 = sin(in0); t1 = multiply(t0, 2.0); return t1)
    """

    __slots__ = ("__weakref__", "_hash", "_key", "frees", "instructions", "num_inputs", "output")
    instructions: tuple
    output: int
    num_inputs: int
    frees: tuple[tuple[int, ...], ...]
    _key: tuple
    _hash: int

    def __new__(cls, instructions, output: int, num_inputs: int):
        normal, key = [], []
        last: dict[int, int] = {}  # temporary -> the last instruction that reads it
        for j, (prim, ops) in enumerate(instructions):
            ops = tuple([(tag, v) for tag, v in ops])
            for tag, v in ops:
                if tag == TMP and 0 <= v < j:
                    last[v] = j
                elif not ((tag == IN and 0 <= v < num_inputs)
                          or (tag == CONST and type(v) in PY_SCALARS)):
                    raise ArgumentError(f"Program: instruction {j} ({prim}) has a bad operand "
                                        f"{(tag, v)!r}: expected ('in', k < {num_inputs}), "
                                        f"('tmp', j < {j}) or ('const', python scalar)")
            normal.append((prim, ops))
            key.append((prim, tuple([scalar_key(v) if tag == CONST else (tag, v)
                                     for tag, v in ops])))
        if not 0 <= output < len(normal):
            raise ArgumentError(f"Program: output {output} is not one of the "
                                f"{len(normal)} instructions")
        full_key = (tuple(key), output, num_inputs)
        with _programs_lock:
            self = _programs.get(full_key)
            if self is not None:
                return self
            frees: list[list[int]] = [[] for _ in normal]
            for t, j in last.items():
                if t != output:
                    frees[j].append(t)
            self = object.__new__(cls)
            s = object.__setattr__
            s(self, "instructions", tuple(normal))
            s(self, "output", output)
            s(self, "num_inputs", num_inputs)
            s(self, "_key", full_key)
            s(self, "_hash", hash(full_key))
            # frees[j]: the temporaries whose last reader is instruction j (the reference
            # frees them).
            s(self, "frees", tuple(map(tuple, frees)))
            _programs[full_key] = self
        return self

    def __setattr__(self, name, value):
        raise AttributeError(f"Program is immutable: cannot set {name!r}")

    def __eq__(self, other) -> bool:
        return self is other or (isinstance(other, Program) and self._key == other._key)

    def __hash__(self) -> int:
        return self._hash

    def __len__(self) -> int:
        return len(self.instructions)

    def __repr__(self) -> str:
        def operand(tag, v):
            return repr(v) if tag == CONST else f"{'in' if tag == IN else 't'}{v}"
        lines = [f"t{j} = {prim.name}({', '.join(operand(*o) for o in ops)})"
                 for j, (prim, ops) in enumerate(self.instructions[:12])]
        if len(self.instructions) > 12:
            lines.append(f"... {len(self.instructions) - 12} more")
        return f"Program({'; '.join(lines)}; return t{self.output})"

    def run(self, inputs, apply):
        """The program's result, applying ``apply(prim, args)`` to each instruction in order."""
        vals: list = [None] * len(self.instructions)
        for j, (prim, ops) in enumerate(self.instructions):
            vals[j] = apply(prim, [inputs[v] if tag == IN else vals[v] if tag == TMP else v
                                   for tag, v in ops])
            for t in self.frees[j]:
                vals[t] = None  # a long chain keeps only the live temporaries
        return vals[self.output]


#: The live programs by key: equal programs are one object (see :class:`Program`).
_programs: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_programs_lock = threading.Lock()


# -- the fused primitive ---------------------------------------------------------
def _fused_impl(*inputs, program: Program):
    return program.run(inputs, lambda prim, args: prim.impl(*args))


@lru_cache(maxsize=1024)
def _probe_dtype(program: Program, dtypes: tuple) -> np.dtype:
    with np.errstate(all="ignore"):
        out = _fused_impl(*[np.zeros((), d) for d in dtypes], program=program)
    return np.result_type(out)


def _fused_aval(*avals, program: Program):
    shape = np.broadcast_shapes(*[shape_of(a) for a in avals])
    if any(type(a) in PY_SCALARS for a in avals):  # weak scalars: probe with them, uncached
        with np.errstate(all="ignore"):
            out = _fused_impl(*[a if type(a) in PY_SCALARS else np.zeros((), dtype_of(a))
                                for a in avals], program=program)
        return shape, np.result_type(out)
    return shape, _probe_dtype(program, tuple(np.dtype(dtype_of(a)) for a in avals))


fused_p = Primitive("fused", _fused_impl, _fused_aval)
fused_p.elementwise = True  # a fused node is itself elementwise and broadcasting


def _fused_vjp(i, g, ans, *inputs, program: Program):
    """The cotangent of input ``i``: a reverse pass over the re-expanded program.

    Each instruction's own VJP rule (written in funcgrad ops) does the work, so
    the result differentiates again.  Like the tape's backward pass, integer and
    boolean values get no cotangent.
    """
    vals: list = []
    for prim, ops in program.instructions:  # forward, keeping every value
        vals.append(prim.bind(*[inputs[v] if tag == IN else vals[v] if tag == TMP else v
                                for tag, v in ops]))
    cts: list = [None] * len(vals)
    cts[program.output] = g
    ct_in = None
    for j in range(program.output, -1, -1):
        gj = cts[j]
        if gj is None:
            continue
        cts[j] = None
        prim, ops = program.instructions[j]
        args = [inputs[v] if tag == IN else vals[v] if tag == TMP else v for tag, v in ops]
        for p, (tag, v) in enumerate(ops):
            if tag == CONST or (tag == IN and v != i) or not is_inexact(dtype_of(args[p])):
                continue
            ct = prim.vjp(p, gj, vals[j], args, {})
            if ct is None:
                continue
            if tag == IN:
                ct_in = ct if ct_in is None else ct_in + ct
            else:
                cts[v] = ct if cts[v] is None else cts[v] + ct
    return ct_in


def _fused_jvp(primals, tangents, program: Program):
    """Forward mode through the re-expanded program, one instruction's JVP at a time."""
    vals: list = []
    tans: list = []
    for prim, ops in program.instructions:
        args = [primals[v] if tag == IN else vals[v] if tag == TMP else v for tag, v in ops]
        ts = [tangents[v] if tag == IN else tans[v] if tag == TMP else None for tag, v in ops]
        if all(t is None for t in ts):
            ans, t = prim.bind(*args), None
        else:
            ans, t = prim.jvp(args, ts, {})
        vals.append(ans)
        tans.append(t)
    return vals[program.output], tans[program.output]


fused_p.defvjp_argnum(_fused_vjp)
fused_p.defjvp_full(_fused_jvp)
batch_elementwise(fused_p)


# -- the pass ------------------------------------------------------------------------
def fusible(node: Node) -> bool:
    """An op node of an elementwise primitive without parameters (a Program carries none)."""
    prim = node.primitive
    return prim is not None and prim.elementwise and not node.params


#: The elementwise primitives cheap enough to compute twice (the cost model of
#: rematerialisation): a few cycles an element, like the memory traffic that
#: recomputing one saves.  A transcendental function costs 5-20 ns an element in a
#: loop: writing its result once and reading it twice is cheaper.
CHEAP_TO_RECOMPUTE = frozenset({
    ew.add_p, ew.subtract_p, ew.multiply_p, ew.negative_p, ew.maximum_p, ew.minimum_p,
    ew.abs_p, ew.square_p, ew.equal_p, ew.not_equal_p, ew.less_p, ew.less_equal_p,
    ew.greater_p, ew.greater_equal_p, ew.logical_and_p, ew.logical_or_p, ew.logical_not_p,
    ew.select_p})


def find_clusters(graph: Graph, min_size: int = 2) -> list[list[Node]]:
    """Maximal clusters of fusible nodes, each a list in topological order ending at its root.

    A cluster grows backwards from its root (taken in reverse topological order)
    through inputs that are fusible, have the root's shape (so no value is
    recomputed per element of a larger output), are not graph outputs, and are
    used by cluster members only.  Candidates are taken highest position first,
    so when one is considered every member that could use it is already in:
    the "used by members only" test is exact, and a diamond (``sin(x) * cos(sin(x))``)
    fuses whole.  No value computed inside a cluster is needed outside it, so
    each cluster has a single output.

    One exception to "used by members only": a node that is cheap to recompute
    (:data:`CHEAP_TO_RECOMPUTE`), read only by fusible nodes of its own shape (none
    of them such a node itself) and not a graph output is *rematerialised*: it
    joins the cluster of each of its readers, and is never written to memory
    (``relu(x @ w + b)`` and the ReLU mask of the backward pass both recompute
    ``x @ w + b`` from the matmul's result).  Its inputs stay inputs of those clusters.
    """
    nodes = graph.nodes
    position = {id(n): k for k, n in enumerate(nodes)}
    args = [[position[id(i)] for i in n.inputs] for n in nodes]  # input edges, by position
    readers: list[list[int]] = [[] for _ in nodes]
    for k, ins in enumerate(args):
        for j in ins:
            readers[j].append(k)
    uses = [len(r) for r in readers]  # how many input edges read each node
    ok = [fusible(n) for n in nodes]  # fusible and not yet in a cluster
    outputs = {position[id(n)] for n in graph.outputs}  # may end a cluster, never inside one
    copied = [False] * len(nodes)  # rematerialised in each reader's cluster
    for k in range(len(nodes) - 1, -1, -1):  # readers first: "none of them copied" is known
        node = nodes[k]
        copied[k] = (ok[k] and uses[k] > 1 and k not in outputs
                     and node.primitive in CHEAP_TO_RECOMPUTE
                     and all(ok[r] and not copied[r] and nodes[r].shape == node.shape
                             for r in readers[k]))
    clusters = []
    for k in range(len(nodes) - 1, -1, -1):
        root = nodes[k]
        if not ok[k] or copied[k]:
            continue
        members = [k]
        member_uses: dict[int, int] = {}
        heap: list[int] = []
        for j in args[k]:
            member_uses[j] = member_uses.get(j, 0) + 1
            heap.append(-j)
        heapq.heapify(heap)
        last = k
        while heap:
            c = -heapq.heappop(heap)
            if c == last:
                continue  # pushed once per edge from a member; decided the first time
            last = c  # positions pop in decreasing order: every member that reads c is in
            if nodes[c].shape != root.shape:
                continue
            if ok[c] and member_uses[c] == uses[c] and c not in outputs:
                members.append(c)
                for j in args[c]:
                    member_uses[j] = member_uses.get(j, 0) + 1
                    heapq.heappush(heap, -j)
            elif copied[c]:
                members.append(c)  # a copy: its inputs are the cluster's inputs
        if len(members) >= min_size:
            for m in members:
                # taken; a copy stays available to its other readers' clusters
                ok[m] = copied[m] and member_uses[m] != uses[m]
            clusters.append([nodes[m] for m in reversed(members)])
    return clusters


def fuse(graph: Graph) -> Graph:
    """Replace each cluster of two or more elementwise nodes by one ``fused`` node.

    Examples:
        >>> import numpy as np, funcgrad as fg, funcgrad.numpy as fnp
        >>> g = fg.make_graph(lambda x: fnp.tanh(fnp.sin(x) * 2.0 + 1.0))(np.ones(3))
        >>> [n.name for n in fuse(g).nodes]
        ['input', 'fused']
    """
    clusters = find_clusters(graph)
    if not clusters:
        return graph
    root_of = {id(c[-1]): c for c in clusters}
    interior = {id(n) for c in clusters for n in c[:-1]}
    new: dict[int, Node] = {}
    for node in graph.nodes:
        old = node
        if id(node) in interior:
            continue  # only its cluster reads it, through the program
        if node.primitive is not None:
            cluster = root_of.get(id(node))
            if cluster is not None:
                node = _fused_node(cluster, new)
            else:
                ins = tuple([new[id(i)] for i in node.inputs])
                if ins != node.inputs:  # Node equality is identity
                    node = with_inputs(node, ins)
        new[id(old)] = node
    return Graph(graph.inputs, [new[id(n)] for n in graph.outputs], graph.in_tree, graph.out_tree,
                 [new[id(n)] for n in graph.effects])


def _fused_node(cluster: list[Node], new: dict) -> Node:
    """The ``fused`` node computing ``cluster`` (topologically ordered, root last)."""
    position = {id(n): j for j, n in enumerate(cluster)}
    slot: dict[int, int] = {}
    inputs: list[Node] = []
    instructions = []
    for n in cluster:
        ops = []
        for i in n.inputs:
            j = position.get(id(i))
            if j is not None:
                ops.append((TMP, j))
            elif is_python_scalar(i):
                ops.append((CONST, i.value))  # weak scalars stay weak inside the program
            else:
                m = new[id(i)]
                k = slot.get(id(m))
                if k is None:
                    k = slot[id(m)] = len(inputs)
                    inputs.append(m)
                ops.append((IN, k))
        instructions.append((n.primitive, tuple(ops)))
    root = cluster[-1]
    program = Program(instructions, len(cluster) - 1, len(inputs))
    return Node(fused_p, tuple(inputs), MappingProxyType({"program": program}),
                root.shape, root.dtype, root.where)
