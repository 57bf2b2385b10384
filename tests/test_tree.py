"""Tests of funcgrad.tree: flatten/unflatten round trips, structures, map, register."""

import collections
import copy
import dataclasses
import doctest
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from funcgrad import tree
from funcgrad.errors import FuncgradError, TreeStructureError


class Point(NamedTuple):
    x: object
    y: object


Pair = collections.namedtuple("Pair", ["first", "second"])


@dataclasses.dataclass
class Params:
    w: object
    b: object
    name: str = "layer"


@dataclasses.dataclass(frozen=True)
class Frozen:
    a: object
    b: object


@dataclasses.dataclass
class WithDerived:
    x: object
    double: object = dataclasses.field(init=False)

    def __post_init__(self):
        self.double = None if self.x is None else 2 * self.x


class Tracer:
    """Stands in for funcgrad's tracer class: any object that is not a node is a leaf."""

    def __init__(self, value):
        self.value = value


# (tree, its leaves in flatten order, repr of its structure)
ROUND_TRIP_CASES = {
    "scalar": (3.0, [3.0], "PyTreeDef(*)"),
    "none": (None, [], "PyTreeDef(None)"),
    "empty_list": ([], [], "PyTreeDef([])"),
    "empty_tuple": ((), [], "PyTreeDef(())"),
    "empty_dict": ({}, [], "PyTreeDef({})"),
    "list": ([1, 2, 3], [1, 2, 3], "PyTreeDef([*, *, *])"),
    "tuple1": ((1,), [1], "PyTreeDef((*,))"),
    "tuple": ((1, 2), [1, 2], "PyTreeDef((*, *))"),
    "dict_sorted": ({"b": 2, "a": 1, "c": 3}, [1, 2, 3], "PyTreeDef({'a': *, 'b': *, 'c': *})"),
    "dict_int_keys": ({2: "x", 1: "y"}, ["y", "x"], "PyTreeDef({1: *, 2: *})"),
    "none_in_list": ([None, 1, None], [1], "PyTreeDef([None, *, None])"),
    "namedtuple": (Point(1, [2, 3]), [1, 2, 3], "PyTreeDef(Point(x=*, y=[*, *]))"),
    "namedtuple_factory": (Pair(1, 2), [1, 2], "PyTreeDef(Pair(first=*, second=*))"),
    "dataclass": (Params(1, 2), [1, 2, "layer"], "PyTreeDef(Params(w=*, b=*, name=*))"),
    "frozen_dataclass": (Frozen((1, 2), None), [1, 2], "PyTreeDef(Frozen(a=(*, *), b=None))"),
    "init_false_field": (WithDerived(4), [4], "PyTreeDef(WithDerived(x=*))"),
    "ordered_dict": (
        collections.OrderedDict([("b", 1), ("a", 2)]),
        [1, 2],
        "PyTreeDef(OrderedDict({'b': *, 'a': *}))",
    ),
    "defaultdict": (
        collections.defaultdict(list, {"b": 1, "a": 2}),
        [2, 1],
        "PyTreeDef(defaultdict(<class 'list'>, {'a': *, 'b': *}))",
    ),
    "tracer_leaf": ([Tracer(1.0)], None, "PyTreeDef([*])"),
    "nested_mix": (
        {"layers": [Params(1, (2, None)), Point(x={"z": 3, "y": [4]}, y=None)], "step": 5},
        [1, 2, "layer", 4, 3, 5],
        (
            "PyTreeDef({'layers': [Params(w=*, b=(*, None), name=*), "
            "Point(x={'y': [*], 'z': *}, y=None)], 'step': *})"
        ),
    ),
}


@pytest.mark.parametrize("case", list(ROUND_TRIP_CASES), ids=list(ROUND_TRIP_CASES))
def test_round_trip(case):
    value, expected_leaves, expected_repr = ROUND_TRIP_CASES[case]
    flat, treedef = tree.flatten(value)
    if expected_leaves is not None:
        assert flat == expected_leaves
    assert repr(treedef) == expected_repr
    assert treedef.num_leaves == len(flat)
    rebuilt = tree.unflatten(treedef, flat)
    assert type(rebuilt) is type(value)
    if case == "tracer_leaf":
        assert rebuilt[0] is value[0]
    else:
        assert rebuilt == value
    assert treedef.unflatten(flat) == rebuilt
    assert tree.structure(rebuilt) == treedef


def test_leaves_come_back_as_the_same_objects():
    arrays = [np.ones(3), np.zeros((2, 2))]
    flat, treedef = tree.flatten({"w": arrays[0], "b": [arrays[1]]})
    assert flat[0] is arrays[1] and flat[1] is arrays[0]
    rebuilt = tree.unflatten(treedef, flat)
    assert rebuilt["w"] is arrays[0] and rebuilt["b"][0] is arrays[1]


def test_arrays_and_scalars_are_leaves():
    values = [np.ones((2, 3)), np.float32(1.5), 2, 2.5, 1j, True, "text", b"raw", Tracer(0)]
    for value in values:
        assert tree.leaves(value) == [value] or tree.leaves(value)[0] is value
        assert tree.structure(value) == tree.structure(0)


def test_unregistered_subclasses_and_dataclass_classes_are_leaves():
    class MyList(list):
        pass

    assert tree.leaves(MyList([1, 2])) == [MyList([1, 2])]
    assert tree.leaves(Params) == [Params]  # the class itself, not an instance


def test_dict_unflatten_has_sorted_key_order():
    rebuilt = tree.map(lambda x: x * 10, {"c": 1, "a": 2, "b": 3})
    assert list(rebuilt) == ["a", "b", "c"]
    assert rebuilt == {"a": 20, "b": 30, "c": 10}


def test_dict_with_unorderable_keys_has_a_deterministic_order():
    first = tree.structure({1: 0, "a": 0})
    second = tree.structure({"a": 0, 1: 0})
    assert first == second
    assert tree.leaves({1: "int", "a": "str"}) == tree.leaves({"a": "str", 1: "int"})


def test_none_is_an_empty_subtree():
    flat, treedef = tree.flatten((None, 1.0, {"a": None}))
    assert flat == [1.0]
    assert treedef.num_leaves == 1
    assert tree.unflatten(treedef, [7.0]) == (None, 7.0, {"a": None})
    assert tree.structure(None) != tree.structure(())
    assert tree.structure(None) != tree.structure(0)
    assert tree.map(lambda x: x + 1, [None, 1]) == [None, 2]


def test_none_can_be_a_leaf_through_is_leaf():
    flat, treedef = tree.flatten([None, 1], is_leaf=lambda x: x is None)
    assert flat == [None, 1]
    assert treedef.num_leaves == 2


def test_is_leaf_keeps_a_subtree_whole():
    value = {"a": (1, 2), "b": [3, (4, 5)]}
    flat, treedef = tree.flatten(value, is_leaf=lambda x: isinstance(x, tuple))
    assert flat == [(1, 2), 3, (4, 5)]
    assert repr(treedef) == "PyTreeDef({'a': *, 'b': [*, *]})"
    assert tree.unflatten(treedef, flat) == value
    assert tree.leaves(value, is_leaf=lambda x: isinstance(x, tuple)) == flat
    total = tree.map(
        lambda x: sum(x) if isinstance(x, tuple) else x,
        value,
        is_leaf=lambda x: isinstance(x, tuple),
    )
    assert total == {"a": 3, "b": [3, 9]}


def test_namedtuple_and_dataclasses_rebuild_as_the_same_class():
    point = tree.map(lambda v: v + 1, Point(1, 2))
    assert type(point) is Point and point == Point(2, 3)

    params = tree.map(lambda v: v * 2, Params(w=1.0, b=2.0, name="x"))
    assert type(params) is Params and params == Params(w=2.0, b=4.0, name="xx")

    frozen = tree.map(lambda v: -v, Frozen(1, 2))
    assert type(frozen) is Frozen and frozen == Frozen(-1, -2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        frozen.a = 0  # type: ignore[misc]

    derived = tree.map(lambda v: v + 1, WithDerived(3))
    assert derived.x == 4 and derived.double == 8  # __post_init__ ran on rebuild


def test_node_classes_are_part_of_the_structure():
    assert tree.structure(Point(1, 2)) != tree.structure((1, 2))
    assert tree.structure(Point(1, 2)) != tree.structure(Pair(1, 2))
    assert tree.structure([1, 2]) != tree.structure((1, 2))
    assert tree.structure(Frozen(1, 2)) != tree.structure(Params(1, 2, "n"))
    assert tree.structure({"a": 1}) != tree.structure({"b": 1})
    assert tree.structure({"a": 1}) != tree.structure(collections.OrderedDict(a=1))
    assert tree.structure(collections.defaultdict(list, a=1)) != tree.structure(
        collections.defaultdict(dict, a=1)
    )


def test_treedef_equality_and_hash():
    first = tree.structure({"a": [1, 2], "b": (3, None)})
    second = tree.structure({"b": ("x", None), "a": [np.ones(2), 0.5]})
    assert first == second
    assert hash(first) == hash(second)
    assert len({first, second, tree.structure([1, 2])}) == 2
    cache = {first: "hit"}
    assert cache[second] == "hit"
    assert first != tree.structure({"a": [1, 2], "b": (3, 4)})
    assert first != tree.structure({"a": [1, 2, 3], "b": (3, None)})
    assert first != "not a treedef"
    assert tree.structure(1) == tree.structure("any leaf")


def test_treedef_is_immutable():
    treedef = tree.structure([1, 2])
    with pytest.raises(AttributeError):
        treedef.num_leaves = 5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        treedef._children = ()
    with pytest.raises(AttributeError):
        del treedef._aux
    with pytest.raises(TypeError):
        tree.TreeDef()
    assert copy.copy(treedef) is treedef
    assert copy.deepcopy({"t": treedef})["t"] is treedef
    assert treedef.num_leaves == 2


def test_map_over_several_trees():
    xs = {"a": 1, "b": [2, 3], "c": None}
    ys = {"a": 10, "b": [20, 30], "c": None}
    zs = {"a": 100, "b": [200, 300], "c": None}
    assert tree.map(lambda x, y, z: x + y + z, xs, ys, zs) == {
        "a": 111,
        "b": [222, 333],
        "c": None,
    }
    grads = Frozen(a=np.ones(2), b=np.full(3, 2.0))
    params = Frozen(a=np.zeros(2), b=np.zeros(3))
    updated = tree.map(lambda p, g: p - 0.5 * g, params, grads)
    assert type(updated) is Frozen
    np.testing.assert_allclose(updated.a, -0.5)
    np.testing.assert_allclose(updated.b, -1.0)


@pytest.mark.parametrize(
    "first, other",
    [
        ({"a": 1, "b": [2, 3]}, {"a": 1, "b": [2, 3, 4]}),
        ({"a": 1}, {"b": 1}),
        ([1, 2], (1, 2)),
        ((1, 2), Point(1, 2)),
        ([1, None], [1, 2]),
        ([1, 2], [1, [2, 3]]),
    ],
)
def test_map_structure_mismatch_names_both_structures(first, other):
    with pytest.raises(TreeStructureError) as info:
        tree.map(lambda x, y: x, first, other)
    message = str(info.value)
    assert repr(tree.structure(first)) in message
    assert repr(tree.structure(other)) in message
    assert isinstance(info.value, ValueError) and isinstance(info.value, FuncgradError)


def test_map_mismatch_in_a_later_tree_is_caught():
    with pytest.raises(TreeStructureError, match="tree 3"):
        tree.map(lambda x, y, z: x, [1], [2], [3, 4])


def test_unflatten_wrong_number_of_leaves():
    treedef = tree.structure({"a": 1, "b": [2, 3]})
    with pytest.raises(TreeStructureError, match="expects 3 leaves, received 2") as info:
        tree.unflatten(treedef, [1, 2])
    assert repr(treedef) in str(info.value)
    with pytest.raises(TreeStructureError, match="expects 3 leaves, received 4"):
        treedef.unflatten(iter([1, 2, 3, 4]))
    with pytest.raises(TypeError, match="TreeDef"):
        tree.unflatten([1, 2, 3], treedef)  # type: ignore[arg-type]


def test_unflatten_accepts_any_iterable():
    treedef = tree.structure((0, [0]))
    assert tree.unflatten(treedef, (x for x in "ab")) == ("a", ["b"])
    assert tree.unflatten(treedef, ("a", "b")) == ("a", ["b"])


def _make_box_class():
    """A fresh class each call, since a class can be registered only once per process."""

    class Box:
        def __init__(self, label, items):
            self.label = label
            self.items = items

        def __eq__(self, other):
            return type(other) is type(self) and (self.label, self.items) == (
                other.label,
                other.items,
            )

    tree.register(
        Box, lambda box: (box.items, box.label), lambda label, items: Box(label, list(items))
    )
    return Box


def test_register_custom_class():
    Box = _make_box_class()
    value = {"box": Box("L", [1, (2, 3)])}
    flat, treedef = tree.flatten(value)
    assert flat == [1, 2, 3]
    assert repr(treedef) == "PyTreeDef({'box': CustomNode(Box['L'], [*, (*, *)])})"
    rebuilt = tree.unflatten(treedef, [4, 5, 6])
    assert rebuilt == {"box": Box("L", [4, (5, 6)])}
    assert tree.map(lambda x: x * 2, Box("L", [1, 2])) == Box("L", [2, 4])
    assert tree.structure(Box("L", [1])) == tree.structure(Box("L", [9]))
    assert tree.structure(Box("L", [1])) != tree.structure(Box("M", [1]))  # aux data differs
    assert tree.structure(Box("L", [1])) != tree.structure(_make_box_class()("L", [1]))


def test_register_after_being_seen_as_a_leaf():
    class Late:
        def __init__(self, value):
            self.value = value

    obj = Late(3)
    assert tree.leaves(obj) == [obj]
    tree.register(Late, lambda late: ((late.value,), None), lambda _, ch: Late(*ch))
    assert tree.leaves([obj]) == [3]
    assert tree.leaves(obj) == [3]


def test_register_overrides_dataclass_handling():
    @dataclasses.dataclass
    class Static:
        value: object
        config: str

    tree.register(
        Static, lambda s: ((s.value,), s.config), lambda config, ch: Static(ch[0], config)
    )
    flat, treedef = tree.flatten(Static(1.0, "cfg"))
    assert flat == [1.0]
    assert tree.unflatten(treedef, [2.0]) == Static(2.0, "cfg")


def test_register_twice_or_builtin_raises():
    Box = _make_box_class()
    with pytest.raises(ValueError, match="already registered"):
        tree.register(Box, lambda b: ((), None), lambda _, ch: Box("", []))
    for builtin in (dict, list, tuple, type(None)):
        with pytest.raises(ValueError, match="built-in"):
            tree.register(builtin, lambda b: ((), None), lambda _, ch: None)
    with pytest.raises(TypeError, match="class"):
        not_a_class = Box("x", [])
        tree.register(not_a_class, lambda b: ((), None), lambda _, ch: None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callables"):
        tree.register(type("Other", (), {}), None, None)  # type: ignore[arg-type]


def test_register_bad_flatten_result_is_reported():
    class Bad:
        pass

    tree.register(Bad, lambda b: [1, 2, 3], lambda _, ch: Bad())
    with pytest.raises(TypeError, match="must return \\(children, aux_data\\)"):
        tree.flatten(Bad())


def test_wide_and_deep_trees():
    wide = list(range(100_000))
    flat, treedef = tree.flatten(wide)
    assert treedef.num_leaves == 100_000
    assert tree.unflatten(treedef, flat) == wide

    deep = 0
    for _ in range(300):
        deep = [deep, None]
    flat, treedef = tree.flatten(deep)
    assert flat == [0]
    assert tree.unflatten(treedef, [0]) == deep
    assert treedef == tree.structure(deep)


def test_docstring_examples():
    import funcgrad.tree as module

    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0


keys = st.text(alphabet="abcdef", max_size=3)
trees = st.recursive(
    st.integers() | st.none(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=4).map(tuple)
        | st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=30,
)


@given(trees)
def test_random_trees_round_trip(value):
    flat, treedef = tree.flatten(value)
    assert treedef.num_leaves == len(flat)
    assert all(isinstance(leaf, int) for leaf in flat)
    rebuilt = tree.unflatten(treedef, flat)
    assert rebuilt == value
    assert tree.structure(rebuilt) == treedef
    assert hash(tree.structure(rebuilt)) == hash(treedef)
    assert tree.leaves(value) == flat


@given(trees)
def test_random_trees_map_keeps_structure(value):
    doubled = tree.map(lambda x: 2 * x, value)
    assert tree.structure(doubled) == tree.structure(value)
    assert tree.leaves(doubled) == [2 * x for x in tree.leaves(value)]
    assert tree.map(lambda x, y: y - x, value, doubled) == value


@given(trees)
def test_random_trees_builder_agrees_with_unflatten(value):
    flat, treedef = tree.flatten(value)
    doubled = [2 * x for x in flat]
    built = tree.builder(treedef)(doubled)
    assert built == tree.unflatten(treedef, doubled)
    assert tree.structure(built) == treedef


def test_builder_of_flat_containers_and_classes():
    class Pair(NamedTuple):
        a: object
        b: object

    for value in ({"b": 1, "a": 2}, [1, 2], (1,), Pair(1, 2), None, 7,
                  collections.OrderedDict([("z", 1), ("a", 2)])):
        flat, treedef = tree.flatten(value)
        built = tree.builder(treedef)(flat)
        assert built == value and type(built) is type(value)
    with pytest.raises(TypeError, match="TreeDef"):
        tree.builder({"a": 1})
