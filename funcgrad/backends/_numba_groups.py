"""Elementwise operations of a generated loop body, grouped into one loop nest per shape.

:mod:`funcgrad.backends._numba_bodies` lowers a loop body (an LSTM cell, its VJP) one
operation at a time.  The graph optimiser fuses elementwise chains, but not a value that
a scan saves for its reverse pass (a ``sigmoid``'s ``exp``, its ``1 + exp`` and its
``1 / (1 + exp)`` are three body outputs): lowered one by one, each would be its own
loop nest over a fresh array, then copied into its stacked output.  Here the elementwise
operations (``fused`` nodes and lone elementwise primitives) of one shape become one loop
nest computing all of them, as XLA's multi-output fusion does:

* a member read only by other members stays a scalar of the loop;
* a member read elsewhere is *materialised*: written into an array, which is the scan's
  stacked output slot ``y[t]`` itself when the member is only a saved ``y`` (no copy);
* a basic slice of a C-contiguous array (an LSTM's gates, ``z[:, 32:64]``) is read from
  the sliced array at an offset: the inner loop keeps unit stride, so LLVM vectorises
  it (the ``exp`` and ``tanh`` of :mod:`~funcgrad.backends._numba_math`: ~2.5 ns an
  element instead of ~5-10 on the strided view).

Each element evaluates the members' scalar code (:func:`~funcgrad.backends._numba_fused.type_program`)
in the graph's order, so the numbers are those of one loop nest per operation, to the bit.
A group is emitted ("flushed") before the first operation outside it that reads one of its
members; operations that do not read it are emitted before it.
"""

from __future__ import annotations

import numpy as np

from funcgrad.backends._numba_fused import (
    _SUPPORTED,
    HELPERS,
    SCALAR_TABLE,
    Unsupported,
    type_program,
)
from funcgrad.optimize._rewrite import is_python_scalar
from funcgrad.optimize.fusion import CONST, IN, TMP, Program, fused_p


def groupable(node) -> bool:
    """An elementwise operation on a value with at least one axis (0-d ones stay scalars)."""
    prim = node.primitive
    elementwise = prim is fused_p or (prim in SCALAR_TABLE and prim.elementwise and not node.params)
    return elementwise and bool(node.shape) and np.dtype(node.dtype) in _SUPPORTED


class Group:
    """Members (in graph order) of one loop nest over ``shape``."""

    def __init__(self, shape: tuple):
        self.shape = shape
        self.members: list = []
        self.ids: set[int] = set()


class Groups:
    """The pending groups of one graph being lowered into ``low`` (a ``Lowering``) with ``env``
    (node id -> the name of its value).

    An operation outside the groups that reads a pending group's value waits (``tail``) until
    the groups are emitted, so that a group is not cut in two by, say, the ``unslice`` of
    one of its values; an elementwise operation that reads a waiting one first has every
    pending group and then the tail emitted.
    """

    def __init__(self, low, env: dict, graph, rule_of):
        self.low, self.env, self.rule_of = low, env, rule_of
        self.readers: dict[int, set[int]] = {}
        for node in graph.nodes:
            for i in node.inputs:
                self.readers.setdefault(id(i), set()).add(id(node))
        self.outputs = set(map(id, graph.outputs)) | set(map(id, graph.effects))
        self.pending: dict[tuple, Group] = {}
        self.tail: list = []
        self.waiting: set[int] = set()
        self.scatter = {k: us for k, us in scatter_sums(graph, self.readers).items()
                        if not any(id(u) in self.outputs for u in us)}
        self.sum_of: dict[int, str] = {}  # id(unslice) -> the array of its scatter sum
        self.sum_array: dict[int, str] = {}  # id(scatter sum) -> its array
        for node in graph.nodes:
            if id(node) in self.scatter:
                self._allocate(node)

    def _allocate(self, node) -> None:
        """The array of a scatter sum; its slices' values computed straight into it where they can."""
        out, us = self.low.emit.fresh(), self.scatter[id(node)]
        covered = sum(int(np.prod(u.inputs[0].shape)) for u in us) == int(np.prod(node.shape))
        self.low.emit(f"{out} = np.{'empty' if covered else 'zeros'}({tuple(node.shape)!r}, "
                      f"np.{np.dtype(node.dtype).name})")
        self.low.layout[out] = "C"
        self.sum_array[id(node)] = out
        for u in us:
            self.sum_of[id(u)] = out
            x = u.inputs[0]
            if (groupable(x) and self.readers.get(id(x)) == {id(u)} and id(x) not in self.outputs):
                self.low.targets[id(x)] = (out, view_parts(u.params["index"], tuple(node.shape)))

    def add(self, node) -> None:
        """Put ``node`` into the group of its shape, first emitting what it must follow."""
        if any(id(i) in self.waiting for i in node.inputs):
            self.flush_all()
        shape = tuple(node.shape)
        for other in [s for s in self.pending if s != shape]:
            if any(id(i) in self.pending[other].ids for i in node.inputs):
                self.flush(other)
        group = self.pending.get(shape)
        if group is None:
            group = self.pending[shape] = Group(shape)
        group.members.append(node)
        group.ids.add(id(node))

    def other(self, node) -> None:
        """Lower ``node`` (not groupable) now, or after the groups when it reads one."""
        if any(id(i) in self.waiting or any(id(i) in g.ids for g in self.pending.values())
               for i in node.inputs):
            self.tail.append(node)
            self.waiting.add(id(node))
        else:
            self._lower(node)

    def _lower(self, node) -> None:
        if id(node) in self.scatter:  # its slices are in its array already
            self.env[id(node)] = self.sum_array[id(node)]
        elif id(node) in self.sum_of:
            self.env[id(node)] = self._unslice(node)
        else:
            self.env[id(node)] = self.rule_of(node)(self.low, node,
                                                    [self.env[id(i)] for i in node.inputs])

    def _unslice(self, node) -> str:
        """An unslice of a scatter sum: its value copied (``+ 0.0``) into the sum's array,
        unless the loop nest computing it wrote it there."""
        from funcgrad.backends._numba_bodies import Emitter, _read

        out, (x,) = self.sum_of[id(node)], node.inputs
        if id(x) in self.low.written:
            return out
        name, shape = self.env[id(x)], tuple(x.shape)
        view = self.low.views.get(name)
        f, idx = Emitter(), [f"i{d + 1}" for d in range(len(shape))]
        for d, i in enumerate(idx):
            f("    " * d + f"for {i} in range(a0.shape[{d}]):")
        f.depth += len(shape)
        read = _read("a0", shape, idx) if view is None else _read_view("a0", view[1], shape, idx)
        write = _read_view("o0", view_parts(node.params["index"], tuple(node.shape)), shape, idx)
        f(f"{write} = {read} + 0.0")
        arg = name if view is None else view[0]
        if view is not None:  # the loop bounds come from a0: read the view itself
            f.lines = [line.replace("a0.shape", "b0.shape") for line in f.lines]
            params, args = ["o0", "a0", "b0"], [out, arg, name]
        else:
            params, args = ["o0", "a0"], [out, arg]
        self.low.emit(f"{self.low.emit.function(params, f)}({', '.join(args)})")
        return out

    def flush_all(self) -> None:
        for shape in list(self.pending):
            self.flush(shape)
        tail, self.tail, self.waiting = self.tail, [], set()
        for node in tail:
            self._lower(node)

    def flush(self, shape: tuple) -> None:
        """Emit the group of ``shape``: one loop nest per :meth:`_chunks`."""
        for chunk in self._chunks(self.pending.pop(shape).members):
            group = Group(shape)
            group.members, group.ids = chunk, set(map(id, chunk))
            _emit(self.low, self.env, group, self._needed(chunk, group.ids))

    def _needed(self, chunk: list, ids: set) -> list:
        """The members of ``chunk`` read outside it (written into arrays)."""
        return [m for m in chunk if id(m) in self.outputs
                or any(r not in ids for r in self.readers.get(id(m), ()))]

    def _chunks(self, members: list) -> list[list]:
        """``members`` cut, in order, into loop nests that LLVM vectorises: at most
        :data:`HELPER_CALLS_PER_LOOP` helper calls and :data:`ALIAS_CHECKS` array pairs each."""
        out: list[list] = [[]]
        for m in members:
            trial = out[-1] + [m]
            if out[-1] and (sum(map(_helper_calls, trial)) > HELPER_CALLS_PER_LOOP
                            or self._checks(trial) > ALIAS_CHECKS):
                out.append([m])
            else:
                out[-1] = trial
        return out

    def _checks(self, chunk: list) -> int:
        """The pairs of arrays a loop over ``chunk`` writes one of (LLVM's run-time alias checks)."""
        ids = set(map(id, chunk))
        writes = len(self._needed(chunk, ids))
        reads = {id(i) for m in chunk for i in m.inputs
                 if id(i) not in ids and i.shape and not is_python_scalar(i)}
        return writes * len(reads) + writes * (writes - 1) // 2


#: Calls of the vectorisable helpers (``exp_float64``...) one loop nest may hold: LLVM
#: vectorises a loop with one of them inlined (~2.5 ns an element), but not one with two
#: (~4.5 ns an exp, scalar: measured on an LSTM cell's gates).
HELPER_CALLS_PER_LOOP = 1
#: LLVM vectorises a loop only when it needs at most 8 run-time checks that two arrays do not
#: overlap (its ``runtime-memory-check-threshold``): one per pair of a written array and
#: another array.  An LSTM's backward cell as one loop nest (6 arrays written, 16 read) ran
#: scalar, at ~14 ns an element.
ALIAS_CHECKS = 8


def _helper_calls(node) -> int:
    """How many calls of :data:`HELPERS` functions ``node``'s scalar code makes."""
    if node.primitive is fused_p:
        program = node.params["program"]
        dtypes = tuple(np.dtype(i.dtype) for i in node.inputs)
    else:
        ops, dtypes = [], []
        for i in node.inputs:
            if is_python_scalar(i):
                ops.append((CONST, i.value))
            else:
                ops.append((IN, len(dtypes)))
                dtypes.append(np.dtype(i.dtype))
        program, dtypes = Program(((node.primitive, tuple(ops)),), 0, len(dtypes)), tuple(dtypes)
    body = type_program(program, dtypes).body
    return sum(line.count(f"{name}(") for line in body for name in HELPERS)


def _emit(low, env: dict, group: Group, needed: list) -> None:
    """One loop nest computing ``group``; each node in ``needed`` written into an array."""
    instructions: list = []
    out_of: dict[int, int] = {}  # member id -> index of the instruction computing it
    ext: dict[str, tuple] = {}  # value name -> (input number, node)

    def operand(i):
        if id(i) in out_of:
            return (TMP, out_of[id(i)])
        name = env[id(i)]
        if name not in ext:
            ext[name] = (len(ext), i)
        return (IN, ext[name][0])

    for m in group.members:
        if m.primitive is fused_p:
            program, base = m.params["program"], len(instructions)
            ins = [operand(i) for i in m.inputs]
            for prim, ops in program.instructions:
                instructions.append((prim, tuple(ins[v] if tag == IN else (TMP, base + v)
                                                 if tag == TMP else (tag, v) for tag, v in ops)))
            out_of[id(m)] = base + program.output
        else:  # a lone primitive: its Python-scalar operands are weak constants, as fusion makes them
            instructions.append((m.primitive, tuple((CONST, i.value) if is_python_scalar(i)
                                                    else operand(i) for i in m.inputs)))
            out_of[id(m)] = len(instructions) - 1
    dtypes = tuple(np.dtype(n.dtype) for _, n in ext.values())
    for m in needed:  # each stored value has the dtype the graph says
        k = out_of[id(m)]
        got = type_program(Program(tuple(instructions[:k + 1]), k, len(ext)), dtypes).out_dtype
        if got != np.dtype(m.dtype):
            raise Unsupported(f"{m.name} computes {got}, the graph says {m.dtype}")
    typed = type_program(Program(tuple(instructions), len(instructions) - 1, len(ext)), dtypes)
    _write(low, env, group, needed, ext, out_of, typed.body)


def _write(low, env, group, needed, ext, out_of, body) -> None:
    """The loop nest's function and its call (the arrays of ``needed`` made first)."""
    # (imported here: _numba_bodies imports this module)
    from funcgrad.backends._numba_bodies import Emitter, _read

    f = Emitter()
    f.helpers.update(name for name in HELPERS if any(f"{name}(" in line for line in body))
    args = []
    for k, (name, (_, node)) in enumerate(ext.items()):
        view = low.views.get(name) if node.shape else None  # (a 0-d index is a scalar)
        args.append(view[0] if view is not None else name)
        if not node.shape:
            f(f"x{k} = a{k}")
    rank = len(group.shape)
    idx = [f"i{d + 1}" for d in range(rank)]
    for d, i in enumerate(idx):
        f("    " * d + f"for {i} in range(n{d}):")
    f.depth += rank
    for k, (name, (_, node)) in enumerate(ext.items()):
        if node.shape:
            view = low.views.get(name)
            read = (_read(f"a{k}", tuple(node.shape), idx) if view is None
                    else _read_view(f"a{k}", view[1], tuple(node.shape), idx))
            f(f"x{k} = {read}")
    f(*body)
    outs = []
    for j, m in enumerate(needed):
        target = low.targets.pop(id(m), None)
        t = f"t{out_of[id(m)]}"
        if isinstance(target, tuple):  # a slice of a scatter sum's array (see scatter_sums)
            outs.append(target[0])
            f(f"{_read_view(f'o{j}', target[1], tuple(group.shape), idx)} = {t} + 0.0")
            low.written.add(id(m))
            env[id(m)] = target[0]  # (read by nothing else)
            continue
        out = low.emit.fresh()
        low.emit(f"{out} = {target}" if target is not None
                 else f"{out} = np.empty({tuple(m.shape)!r}, np.{np.dtype(m.dtype).name})")
        if target is not None:
            low.written.add(target)
        low.layout[out] = "C"
        env[id(m)] = out
        outs.append(out)
        f(f"o{j}[{', '.join(idx)}] = {t}")
    params = ([f"o{j}" for j in range(len(outs))] + [f"a{k}" for k in range(len(args))]
              + [f"n{d}" for d in range(rank)])
    dims = [repr(int(n)) for n in group.shape]
    low.emit(f"{low.emit.function(params, f)}({', '.join(outs + args + dims)})")


def _read_view(var: str, parts: tuple, shape: tuple, idx: list[str]) -> str:
    """Element ``idx`` of a basic slice of the array ``var``: ``parts`` per axis of ``var``,
    ``("i", k)`` (an integer index) or ``("s", start)`` (a unit-step slice of ``shape``'s next axis)."""
    rank = len(idx)
    sub = iter(["0" if s == 1 else idx[rank - len(shape) + d] for d, s in enumerate(shape)])
    index = []
    for kind, v in parts:
        if kind == "i":
            index.append(repr(v))
        else:
            i = next(sub)
            index.append(f"{i} + {v}" if v else i)
    return f"{var}[{', '.join(index)}]"


def view_parts(index: tuple, base_shape: tuple) -> tuple | None:
    """``index`` (a getitem's basic index) as :func:`_read_view`'s parts, or ``None`` when it is
    not integers and unit-step slices (an Ellipsis or a ``None`` axis, a step)."""
    if len(index) > len(base_shape):
        return None
    parts = []
    for k, n in zip(index, base_shape):
        if isinstance(k, slice):
            start, _, step = k.indices(n)
            if step != 1:
                return None
            parts.append(("s", start))
        elif isinstance(k, (int, np.integer)) and not isinstance(k, bool):
            parts.append(("i", int(k) % n if n else int(k)))
        else:
            return None
    return tuple(parts) + tuple(("s", 0) for _ in base_shape[len(index):])


# -- a sum of disjoint unslices (a gradient of slices: an LSTM's four gates) ------------------
def scatter_sums(graph, readers: dict) -> dict:
    """``{id(sum node): [unslice nodes]}`` for each sum whose operands are ``unslice``\\ s of
    disjoint unit-step slices, each read by that sum only, with the sum's shape and float dtype.

    Such a sum is one array: zeros where no slice falls, elsewhere ``x + 0.0`` of the slice's
    value (the ``+ 0.0`` is what the sum's additions of zeros make of a ``-0.0``).
    """
    from funcgrad.ops.elementwise import add_p
    from funcgrad.ops.indexing import unslice_p

    out = {}
    for node in graph.nodes:
        if np.dtype(node.dtype).kind != "f" or not node.shape:
            continue
        if node.primitive is fused_p:
            program = node.params["program"]
            if not all(p is add_p and all(tag != CONST for tag, _ in ops)
                       for p, ops in program.instructions):
                continue
            uses = [v for _, ops in program.instructions for tag, v in ops if tag == IN]
            if sorted(uses) != list(range(len(node.inputs))):
                continue
        elif node.primitive is not add_p:
            continue
        parts = _disjoint_unslices(node, readers, unslice_p)
        if parts is not None:
            out[id(node)] = parts
    return out


def _disjoint_unslices(node, readers: dict, unslice_p) -> list | None:
    shape, seen, found = tuple(node.shape), set(), []
    covered = np.zeros(shape, bool) if np.prod(shape) <= 1 << 16 else None
    for u in node.inputs:
        if (u.primitive is not unslice_p or len(u.inputs) != 1 or id(u) in seen
                or readers.get(id(u)) != {id(node)} or tuple(u.shape) != shape
                or u.dtype != node.dtype or u.inputs[0].dtype != node.dtype or covered is None):
            return None
        index = u.params["index"]
        parts = view_parts(index, shape)
        if parts is None:
            return None
        region = covered[index]
        if region.any() or region.shape != tuple(u.inputs[0].shape):
            return None
        covered[index] = True
        seen.add(id(u))
        found.append(u)
    return found
