"""Tests of the JAX-compatible pytree utilities: key paths, reduce/all/transpose,
register_dataclass (static fields) and the other registrations, and funcgrad.tree_util;
and how grad, jit and vmap treat static dataclass fields.  ravel_pytree: test_ravel_pytree.py.

Expected key-path strings and dtype promotions were generated with jax 0.10.2
(jax_enable_x64=True) and pasted in; everything else is derived from NumPy, finite
differences or the definitions.
"""

import collections
import dataclasses
import doctest
import functools
import os
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import tree, tree_util
from funcgrad.errors import ArgumentError, TreeStructureError
from funcgrad.tree import DictKey, FlattenedIndexKey, GetAttrKey, SequenceKey, keystr


class Point(NamedTuple):
    x: object
    y: object


class Pair:
    """A class registered without keys: its children get FlattenedIndexKey paths."""

    def __init__(self, a, b):
        self.a, self.b = a, b


tree.register_pytree_node(Pair, lambda p: ((p.a, p.b), None), lambda _, ch: Pair(*ch))


@functools.partial(tree.register_dataclass, data_fields=["w", "b"], meta_fields=["act"])
@dataclasses.dataclass
class Layer:
    w: object
    b: object
    act: str


@dataclasses.dataclass
class Model:
    """Unregistered: funcgrad treats dataclasses as nodes; ``op`` is static by metadata."""

    w: object
    op: str = dataclasses.field(default="mul", metadata={"static": True})


def nested_tree():
    return {
        "layers": [Layer(1, (2, None), "relu"), Point(x={"z": 3, "y": [4]}, y=Pair(5, 6))],
        "od": collections.OrderedDict([("b", 7), ("a", 8)]),
        "dd": collections.defaultdict(list, {2: 9, 1: 10}),
    }


# (keystr, keystr(simple=True, separator="/"), leaf) of nested_tree(), in flatten order:
# generated with jax 0.10.2 (jax_enable_x64=True) on the same tree, tree_leaves_with_path.
JAX_PATHS = [
    ("['dd'][1]", "dd/1", 10),
    ("['dd'][2]", "dd/2", 9),
    ("['layers'][0].w", "layers/0/w", 1),
    ("['layers'][0].b[0]", "layers/0/b/0", 2),
    ("['layers'][1].x['y'][0]", "layers/1/x/y/0", 4),
    ("['layers'][1].x['z']", "layers/1/x/z", 3),
    ("['layers'][1].y[<flat index 0>]", "layers/1/y/0", 5),
    ("['layers'][1].y[<flat index 1>]", "layers/1/y/1", 6),
    ("['od']['b']", "od/b", 7),
    ("['od']['a']", "od/a", 8),
]


# -- key classes and key paths -----------------------------------------------------------

def test_key_classes_print_compare_and_hash_as_jax():
    # reprs and strs as printed by jax 0.10.2
    assert [repr(k) for k in (DictKey("a"), SequenceKey(0), GetAttrKey("x"),
                              FlattenedIndexKey(3))] == [
        "DictKey(key='a')", "SequenceKey(idx=0)", "GetAttrKey(name='x')", "FlattenedIndexKey(key=3)"]
    assert [str(k) for k in (DictKey("a"), DictKey(1), SequenceKey(1), GetAttrKey("x"),
                             FlattenedIndexKey(3))] == ["['a']", "[1]", "[1]", ".x",
                                                        "[<flat index 3>]"]
    assert DictKey("a") == DictKey("a") and hash(DictKey("a")) == hash(DictKey("a"))
    assert DictKey("a") != GetAttrKey("a") and SequenceKey(0) != FlattenedIndexKey(0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        DictKey("a").key = "b"
    match SequenceKey(4):  # the fields are JAX's, usable in match statements
        case SequenceKey(idx=i):
            assert i == 4


def test_keystr_default_and_simple_as_jax():
    path = (DictKey("a"), SequenceKey(0), GetAttrKey("w"), FlattenedIndexKey(2))
    assert keystr(path) == "['a'][0].w[<flat index 2>]"  # jax 0.10.2
    assert keystr(path, simple=True, separator="/") == "a/0/w/2"  # jax 0.10.2
    assert keystr(()) == ""
    with pytest.raises(TypeError, match="key path"):
        keystr("['a']")


def test_flatten_with_path_matches_jax_and_flatten():
    t = nested_tree()
    pairs, treedef = tree.flatten_with_path(t)
    got = [(keystr(p), keystr(p, simple=True, separator="/"), leaf) for p, leaf in pairs]
    assert got == JAX_PATHS
    leaves, expected_def = tree.flatten(t)
    assert [leaf for _, leaf in pairs] == leaves and treedef == expected_def
    assert tree.leaves_with_path(t) == pairs


def test_paths_reach_their_leaves():
    """Following each key path from the root (by indexing/getattr) finds its leaf."""
    def follow(node, path):
        for key in path:
            if isinstance(key, DictKey):
                node = node[key.key]
            elif isinstance(key, SequenceKey):
                node = node[key.idx]
            elif isinstance(key, GetAttrKey):
                node = getattr(node, key.name)
            else:
                node = (node.a, node.b)[key.key]
        return node

    t = nested_tree()
    for path, leaf in tree.leaves_with_path(t):
        assert follow(t, path) == leaf


def test_empty_and_leaf_trees_have_paths():
    assert tree.leaves_with_path(3.0) == [((), 3.0)]
    assert tree.leaves_with_path({"a": None, "b": []}) == []
    assert tree.flatten_with_path(None) == ([], tree.structure(None))


def test_is_leaf_with_and_without_path():
    t = {"a": [1, 2], "b": 3}
    # generated with jax 0.10.2: is_leaf=lambda p, x: len(p) == 1, is_leaf_takes_path=True
    assert tree.leaves_with_path(t, is_leaf=lambda p, x: len(p) == 1, is_leaf_takes_path=True) \
        == [((DictKey("a"),), [1, 2]), ((DictKey("b"),), 3)]
    assert tree.leaves_with_path(t, is_leaf=lambda x: isinstance(x, list)) \
        == [((DictKey("a"),), [1, 2]), ((DictKey("b"),), 3)]


def test_map_with_path():
    t = {"w": [1, 2], "b": 0}
    assert tree.map_with_path(lambda p, x: keystr(p), t) == {"b": "['b']", "w": ["['w'][0]", "['w'][1]"]}
    out = tree.map_with_path(lambda p, x, y: (len(p), x + y), t, {"w": [10, 20], "b": 5})
    assert out == {"b": (1, 5), "w": [(2, 11), (2, 22)]}


def test_map_with_path_mismatch_names_both_structures():
    with pytest.raises(TreeStructureError) as info:
        tree.map_with_path(lambda p, x, y: x, {"a": [1, 2]}, {"a": (1, 2)})
    assert "PyTreeDef({'a': [*, *]})" in str(info.value)
    assert "PyTreeDef({'a': (*, *)})" in str(info.value)


def test_registered_with_keys_paths():
    class Vec:
        def __init__(self, x, y):
            self.x, self.y = x, y

    tree.register_pytree_with_keys(
        Vec, lambda v: (((GetAttrKey("x"), v.x), (GetAttrKey("y"), v.y)), "aux"),
        lambda aux, ch: Vec(*ch))
    pairs, treedef = tree.flatten_with_path([Vec(1, [2])])
    assert [keystr(p) for p, _ in pairs] == ["[0].x", "[0].y[0]"]
    rebuilt = tree.unflatten(treedef, [5, 6])
    assert (rebuilt[0].x, rebuilt[0].y) == (5, [6])

    class Bad:
        pass

    tree.register_pytree_node(Bad, lambda b: ((1, 2), None), lambda _, ch: Bad(),
                              lambda b: (((GetAttrKey("only"), 1),), None))
    with pytest.raises(TypeError, match="1 keys for 2 children"):
        tree.flatten_with_path(Bad())


# -- reduce, all, transpose -----------------------------------------------------------------

def test_reduce_and_all():
    assert tree.reduce(lambda a, b: a + b, {"a": 1, "b": [2, 3]}) == 6
    assert tree.reduce(lambda a, b: a + [b], {"b": 2, "a": 1}, []) == [1, 2]
    assert tree.reduce(max, [], initializer=-1) == -1
    assert tree.reduce(lambda a, b: a + b, {"a": [1, 2]}, is_leaf=lambda x: isinstance(x, list)) \
        == [1, 2]
    with pytest.raises(ArgumentError, match="initializer"):
        tree.reduce(lambda a, b: a + b, {"a": None})
    # jax 0.10.2: tree.all([1, True, {}]) True, tree.all([]) True, tree.all([1, 0]) False
    assert tree.all([1, True, {}]) is True and tree.all([]) is True and tree.all([1, 0]) is False
    assert tree.all({"a": [True, np.True_]}) is True


def test_transpose_explicit_and_inferred():
    list3, pair = tree.structure([0, 0, 0]), tree.structure((0, 0))
    value = [(1, 2), (3, 4), (5, 6)]
    # generated with jax 0.10.2: ([1, 3, 5], [2, 4, 6]) for both calls
    assert tree.transpose(list3, pair, value) == ([1, 3, 5], [2, 4, 6])
    assert tree.transpose(list3, None, value) == ([1, 3, 5], [2, 4, 6])
    # transposing back gives the original
    assert tree.transpose(pair, list3, ([1, 3, 5], [2, 4, 6])) == value
    nested = {"a": {"x": 1, "y": [2]}, "b": {"x": 3, "y": [4]}}
    out = tree.transpose(tree.structure({"a": 0, "b": 0}), None, nested)
    assert out == {"x": {"a": 1, "b": 3}, "y": [{"a": 2, "b": 4}]}


def test_transpose_with_an_empty_side():
    outer = tree.structure([0, 0])
    assert tree.transpose(outer, tree.structure(()), [(), ()]) == ()
    assert tree.transpose(tree.structure([]), tree.structure((0, 0)), []) == ([], [])
    with pytest.raises(ArgumentError, match="inner_treedef"):
        tree.transpose(tree.structure([]), None, [])


def test_transpose_mismatch_names_both_structures():
    # JAX accepts this (it compares only leaf counts: 6 == 3 * 2); funcgrad does not.
    with pytest.raises(TreeStructureError) as info:
        tree.transpose(tree.structure([0, 0, 0]), tree.structure((0, 0)), [(1, 2), (3, 4), [5, 6]])
    message = str(info.value)
    assert "PyTreeDef([(*, *), (*, *), (*, *)])" in message
    assert "PyTreeDef([(*, *), (*, *), [*, *]])" in message
    with pytest.raises(TreeStructureError, match=r"\[\(\*, \*\), \(\*, \*\)\]"):
        tree.transpose(tree.structure([0, 0]), tree.structure((0, 0)), [(1, 2), (3, 4), (5, 6)])
    with pytest.raises(TreeStructureError, match="at the root"):
        tree.transpose(tree.structure([0, 0]), None, ((1, 2), (3, 4)))
    with pytest.raises(ArgumentError, match="outer_treedef must be a TreeDef"):
        tree.transpose([0, 0], None, [(1, 2), (3, 4)])


# -- registration ---------------------------------------------------------------------------

def test_register_dataclass_with_explicit_fields():
    t = Layer(np.ones(2), (3.0, None), "relu")
    pairs, treedef = tree.flatten_with_path(t)
    assert [keystr(p) for p, _ in pairs] == [".w", ".b[0]"]
    assert repr(treedef) == "PyTreeDef(Layer(w=*, b=(*, None), static act='relu'))"
    rebuilt = tree.unflatten(treedef, [np.zeros(2), 4.0])
    assert isinstance(rebuilt, Layer) and rebuilt.act == "relu" and rebuilt.b == (4.0, None)
    assert tree.structure(Layer(1, 2, "tanh")) != tree.structure(Layer(1, 2, "relu"))
    assert tree.structure(Layer(5, 6, "relu")) == tree.structure(Layer(1, 2, "relu"))
    assert hash(tree.structure(Layer(5, 6, "relu"))) == hash(tree.structure(Layer(1, 2, "relu")))


def test_register_dataclass_as_decorator_infers_static_fields_and_drops():
    @tree.register_dataclass
    @dataclasses.dataclass
    class Cfg:
        x: object
        n: int = dataclasses.field(default=3, metadata={"static": True})
        y: object = 0.0

    assert tree.flatten(Cfg(1.0, 4, 2.0)) == ([1.0, 2.0], tree.structure(Cfg(0, 4, 0)))
    assert tree.structure(Cfg(1.0, 5)) != tree.structure(Cfg(1.0, 4))

    @functools.partial(tree.register_dataclass, drop_fields=["cache"])
    @dataclasses.dataclass
    class WithCache:
        x: object
        cache: object = None

    assert tree.leaves(WithCache(1.0, cache="ignored")) == [1.0]
    assert tree.map(lambda v: v + 1, WithCache(1.0, cache="x")) == WithCache(2.0)  # dropped


def test_register_dataclass_on_a_plain_class():
    class Plain:
        def __init__(self, a, tag):
            self.a, self.tag = a, tag

    tree.register_dataclass(Plain, data_fields=["a"], meta_fields=["tag"])
    flat, treedef = tree.flatten(Plain([1, 2], "t"))
    assert flat == [1, 2] and tree.unflatten(treedef, [3, 4]).a == [3, 4]


def test_register_dataclass_errors():
    @dataclasses.dataclass
    class D:
        a: object
        b: object

    with pytest.raises(ArgumentError, match=r"missing \['b'\]"):
        tree.register_dataclass(D, data_fields=["a"], meta_fields=[])
    with pytest.raises(ArgumentError, match=r"unexpected \['c'\]"):
        tree.register_dataclass(D, data_fields=["a", "b", "c"], meta_fields=[])
    with pytest.raises(ArgumentError, match="overlap"):
        tree.register_dataclass(D, data_fields=["a", "b"], meta_fields=["b"])
    with pytest.raises(ArgumentError, match="both be given"):
        tree.register_dataclass(D, data_fields=["a", "b"])
    with pytest.raises(ArgumentError, match="not a dataclass"):
        tree.register_dataclass(Pair)
    with pytest.raises(ArgumentError, match="sequence of field names"):
        tree.register_dataclass(D, data_fields="ab", meta_fields=[])
    tree.register_dataclass(D, data_fields=["a"], meta_fields=["b"])
    with pytest.raises(ValueError, match="registered only once"):
        tree.register_dataclass(D, data_fields=["a"], meta_fields=["b"])


def test_unhashable_static_value_is_a_clear_error():
    with pytest.raises(ArgumentError, match="static field 'act' of Layer holds an unhashable list"):
        tree.flatten(Layer(1.0, 2.0, ["relu"]))
    with pytest.raises(ArgumentError, match="static field 'op' of Model holds an unhashable ndarray"):
        tree.leaves(Model(1.0, np.ones(2)))


def test_unregistered_dataclass_static_field_is_structure():
    flat, treedef = tree.flatten(Model(np.ones(2), "add"))
    assert len(flat) == 1 and flat[0].shape == (2,)
    assert repr(treedef) == "PyTreeDef(Model(w=*, static op='add'))"
    assert treedef != tree.structure(Model(np.ones(2), "mul"))
    assert [keystr(p) for p, _ in tree.leaves_with_path(Model(1.0))] == [".w"]
    assert tree.unflatten(treedef, [5.0]) == Model(5.0, "add")
    with pytest.raises(TreeStructureError):
        tree.map(lambda a, b: a, Model(1.0, "add"), Model(1.0, "mul"))


def test_register_pytree_node_class_and_static():
    @tree.register_pytree_node_class
    class Scaled:
        def __init__(self, value, unit):
            self.value, self.unit = value, unit

        def tree_flatten(self):
            return (self.value,), self.unit

        @classmethod
        def tree_unflatten(cls, unit, children):
            return cls(children[0], unit)

    flat, treedef = tree.flatten(Scaled([1.0, 2.0], "km"))
    assert flat == [1.0, 2.0]
    back = tree.unflatten(treedef, [3.0, 4.0])
    assert isinstance(back, Scaled) and back.value == [3.0, 4.0] and back.unit == "km"
    assert [keystr(p) for p, _ in tree.leaves_with_path(back)] == \
        ["[<flat index 0>][0]", "[<flat index 0>][1]"]
    with pytest.raises(ArgumentError, match="has no tree_unflatten"):
        @tree.register_pytree_node_class
        class NoUnflatten:
            def tree_flatten(self):
                return (), None

    @tree.register_static
    class Mode(str):
        pass

    assert tree.leaves([Mode("train"), 1.0]) == [1.0]
    assert tree.structure(Mode("train")) != tree.structure(Mode("eval"))
    assert tree.unflatten(tree.structure([Mode("a"), 0]), [7]) == ["a", 7]


# -- static dataclass fields under the transformations ------------------------------------

def _model_loss(m, x):
    # m.op is a str and m.scale a float (never traced): Python control flow on them works
    return m.scale * (fnp.sum(m.w * x) if m.op == "mul" else fnp.sum(m.w + x))


@dataclasses.dataclass(frozen=True)
class ScaledModel:
    w: object
    scale: float = dataclasses.field(default=2.0, metadata={"static": True})
    op: str = dataclasses.field(default="mul", metadata={"static": True})


def test_grad_does_not_differentiate_a_static_field():
    m, x = ScaledModel(np.array([1.0, 2.0]), 3.0), np.array([0.5, -1.0])
    g = fg.grad(_model_loss)(m, x)
    assert isinstance(g, ScaledModel)
    assert g.scale == 3.0 and g.op == "mul"  # copied from the input, not a gradient
    np.testing.assert_allclose(g.w, 3.0 * x)
    value, (gm, gx) = fg.value_and_grad(_model_loss, argnums=(0, 1))(m, x)
    np.testing.assert_allclose(value, 3.0 * np.sum(m.w * x))
    np.testing.assert_allclose(gx, 3.0 * m.w)
    assert gm.scale == 3.0


def test_jit_retraces_when_a_static_field_changes_and_only_then():
    traces = []

    def f(m, x):
        traces.append((m.scale, m.op, type(m.w).__name__))
        return _model_loss(m, x)

    jf = fg.jit(f)
    x = np.array([0.5, -1.0])
    a = jf(ScaledModel(np.array([1.0, 2.0]), 3.0), x)
    b = jf(ScaledModel(np.array([4.0, 5.0]), 3.0), x)  # new data, same static fields
    c = jf(ScaledModel(np.array([1.0, 2.0]), 3.0, "add"), x)  # a static field changed
    d = jf(ScaledModel(np.array([1.0, 2.0]), 4.0), x)
    assert len(traces) == 3
    assert all(t[2] != "ndarray" for t in traces)  # the data field was traced...
    assert [t[:2] for t in traces] == [(3.0, "mul"), (3.0, "add"), (4.0, "mul")]  # ...not these
    np.testing.assert_allclose([a, b, c, d], [3.0 * -1.5, 3.0 * -3.0, 3.0 * 2.5, 4.0 * -1.5])
    info = jf.cache_info()
    assert info.misses == 3 and info.hits == 1
    assert "static op='add'" in info.retraces[0]


def test_jit_of_grad_and_vmap_with_static_fields():
    m, x = ScaledModel(np.array([1.0, 2.0]), 3.0), np.array([0.5, -1.0])
    g = fg.jit(fg.grad(_model_loss))(m, x)
    assert g.scale == 3.0 and g.op == "mul"
    np.testing.assert_allclose(g.w, 3.0 * x)
    ws = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    out = fg.vmap(_model_loss, in_axes=(0, None))(ScaledModel(ws, 3.0), x)
    np.testing.assert_allclose(out, [_model_loss(ScaledModel(w, 3.0), x) for w in ws])
    batched = fg.vmap(lambda w: ScaledModel(w * 2, 5.0))(ws)
    assert batched.scale == 5.0
    np.testing.assert_allclose(batched.w, ws * 2)


def test_jit_with_registered_dataclass_static_field():
    traces = []

    def f(layer):
        traces.append(layer.act)
        return fnp.tanh(layer.w) if layer.act == "tanh" else fnp.maximum(layer.w, 0.0)

    jf = fg.jit(f)
    w = np.array([-1.0, 2.0])
    np.testing.assert_allclose(jf(Layer(w, None, "relu")), [0.0, 2.0])
    np.testing.assert_allclose(jf(Layer(w, None, "tanh")), np.tanh(w))
    np.testing.assert_allclose(jf(Layer(w + 1, None, "relu")), [0.0, 3.0])
    assert traces == ["relu", "tanh"]


# -- properties on random trees -------------------------------------------------------------

_trees = st.recursive(
    st.integers() | st.none(),
    lambda children: (st.lists(children, max_size=4) | st.lists(children, max_size=4).map(tuple)
                      | st.dictionaries(st.text(alphabet="abc", max_size=2), children, max_size=4)
                      | st.builds(Point, children, children)),
    max_leaves=25,
)


def _follow(node, path):
    for key in path:
        node = (node[key.key] if isinstance(key, DictKey) else node[key.idx]
                if isinstance(key, SequenceKey) else getattr(node, key.name))
    return node


@given(_trees)
def test_random_trees_paths_agree_with_flatten_and_reach_leaves(value):
    pairs, treedef = tree.flatten_with_path(value)
    flat, expected = tree.flatten(value)
    assert treedef == expected and [leaf for _, leaf in pairs] == flat
    assert len({path for path, _ in pairs}) == len(pairs)  # paths are distinct
    for path, leaf in pairs:
        assert _follow(value, path) == leaf
    assert tree.map_with_path(lambda p, x: x, value) == value


@given(_trees, st.integers(1, 3))
def test_random_trees_transpose_twice_is_the_identity(value, copies):
    outer, inner = tree.structure([0] * copies), tree.structure(value)
    stacked = [tree.map(lambda x, i=i: x + 10**6 * i, value) for i in range(copies)]
    swapped = tree.transpose(outer, inner, stacked)
    assert tree.leaves(swapped) == [x + 10**6 * i for x in tree.leaves(value) for i in range(copies)]
    assert tree.transpose(inner, outer, swapped) == stacked


# -- funcgrad.tree_util ---------------------------------------------------------------------

def test_tree_util_names_are_the_tree_functions():
    assert fg.tree_util is tree_util
    pairs = {"tree_map": tree.map, "tree_leaves": tree.leaves, "tree_structure": tree.structure,
             "tree_flatten": tree.flatten, "tree_unflatten": tree.unflatten,
             "tree_reduce": tree.reduce, "tree_all": tree.all, "tree_transpose": tree.transpose,
             "tree_map_with_path": tree.map_with_path,
             "tree_flatten_with_path": tree.flatten_with_path,
             "tree_leaves_with_path": tree.leaves_with_path,
             "register_pytree_node": tree.register_pytree_node,
             "register_pytree_node_class": tree.register_pytree_node_class,
             "register_dataclass": tree.register_dataclass, "keystr": tree.keystr,
             "DictKey": DictKey, "SequenceKey": SequenceKey, "GetAttrKey": GetAttrKey,
             "FlattenedIndexKey": FlattenedIndexKey, "PyTreeDef": tree.TreeDef}
    for name, obj in pairs.items():
        assert getattr(tree_util, name) is obj, name
    assert set(pairs) <= set(tree_util.__all__)
    for name in tree_util.__all__:
        assert hasattr(tree_util, name), name


def test_tree_util_helpers():
    td = tree_util.tree_structure({"a": 1, "b": (2, 3)})
    assert tree_util.treedef_children(td) == [tree.structure(0), tree.structure((0, 0))]
    assert tree_util.treedef_is_leaf(tree.structure(1.0))
    assert not tree_util.treedef_is_leaf(tree.structure(None))
    assert tree_util.all_leaves([1.0, np.ones(2)]) and not tree_util.all_leaves([1.0, [2.0]])


def test_partial_is_a_pytree_through_transformations():
    scale = np.array([1.0, 2.0])
    p = tree_util.Partial(lambda s, x: fnp.sum(s * x), scale)
    assert tree.leaves(p) == [scale]

    def apply(fn, x):
        return fn(x)

    x = np.array([3.0, 4.0])
    np.testing.assert_allclose(fg.jit(apply)(p, x), 11.0)
    g = fg.grad(apply)(p, x)
    assert isinstance(g, tree_util.Partial)
    np.testing.assert_allclose(g.args[0], x)  # d/ds sum(s * x) = x
    kw = tree_util.Partial(lambda x, *, k: x * k, k=3.0)
    assert tree.leaves(kw) == [3.0] and kw(2.0) == 6.0
    # a functools.partial inside keeps its arguments static (functools would merge them)
    inner = tree_util.Partial(functools.partial(lambda tag, a, b: (tag, a + b), "t"), 1.0)
    assert tree.leaves(inner) == [1.0] and inner(2.0) == ("t", 3.0)
    assert tree.unflatten(tree.structure(inner), [5.0])(1.0) == ("t", 6.0)


# -- the docs page runs as written ----------------------------------------------------------

def test_pytrees_doc_examples_run():
    page = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
                        "pytrees.md")
    result = doctest.testfile(page, module_relative=False, raise_on_error=False, report=True,
                              optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 10
    assert result.failed == 0, f"{result.failed} example(s) in docs/pytrees.md failed"
