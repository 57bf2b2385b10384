"""funcgrad.nn.save / nn.load: bit-exact round trips, structure checks, corrupt files, atomic writes."""

from __future__ import annotations

import collections
import json
import os
import pathlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import nn, tree
from funcgrad.errors import (
    DTypeError,
    SerializationError,
    ShapeError,
    TreeStructureError,
)
from funcgrad.testing import strategies as fst


def assert_identical(a, b, where="params"):
    """Same containers (types, dict key order), same leaf types, dtypes, shapes and bytes."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} != {list(b)}"
        for k in a:
            assert_identical(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_identical(x, y, f"{where}[{i}]")
    elif isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a.dtype}{a.shape} != {b.dtype}{b.shape}"
        assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes(), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def round_trip(tmp_path, params, name="p.npz"):
    path = tmp_path / name
    nn.save(path, params)
    return nn.load(path)


def test_round_trip_nested_dicts_lists_tuples_and_dtypes(tmp_path):
    params = {
        "z_first": [{"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.zeros(3)}, None],
        "a_second": (np.array([1, -2, 3], np.int64), np.array([True, False]),
                     np.array(2.5), np.float32(1.25), np.int32(-7)),
        "scalars": [1.5, 3, True, 1 + 2j],
        "odd": {"nan": np.array([np.nan, -0.0, np.inf, -np.inf]),
                "big_endian": np.arange(3, dtype=">f8"),
                "strided": np.arange(20.0).reshape(4, 5)[::2, ::-2],
                "empty": np.zeros((0, 3), np.float16),
                "uint8": np.array([0, 255], np.uint8)},
        7: np.ones(1),                                  # int keys are kept as ints
    }
    loaded = round_trip(tmp_path, params)
    assert_identical(loaded, params)
    assert list(loaded) == ["z_first", "a_second", "scalars", "odd", 7]  # insertion order kept
    assert type(loaded["scalars"][0]) is float and type(loaded["scalars"][2]) is bool
    assert type(loaded["a_second"][3]) is np.float32


def test_round_trip_of_model_params_and_apply(tmp_path):
    model = nn.Sequential([nn.Linear(3, 4), nn.tanh, nn.LSTMCell(4, 2)])
    params = model.init(np.random.default_rng(0), np.float32)
    nn.save(tmp_path / "model.npz", params)
    loaded = nn.load(tmp_path / "model.npz", like=params)
    assert_identical(loaded, params)
    assert tree.structure(loaded) == tree.structure(params)
    mlp = nn.MLP([2, 3, 1])
    mp = mlp.init(np.random.default_rng(1))
    x = np.random.default_rng(2).standard_normal((4, 2))
    np.testing.assert_array_equal(mlp.apply(round_trip(tmp_path, mp, "mlp.npz"), x), mlp.apply(mp, x))


leaf_arrays = st.sampled_from([np.float64, np.float32, np.int32, np.int64, np.bool_]).flatmap(
    lambda dt: fst.arrays(dtype=np.float64, max_dims=2, max_side=3).map(lambda a: a.astype(dt)))


@given(fst.pytrees(leaves=leaf_arrays, max_depth=3))
def test_round_trip_of_random_pytrees_is_bit_exact(tmp_path_factory, params):
    tmp = tmp_path_factory.mktemp("rt")
    assert_identical(round_trip(tmp, params), params)


def test_the_file_is_a_plain_npz(tmp_path):
    path = tmp_path / "p.npz"
    nn.save(path, [np.arange(3.0), {"b": np.ones(2, np.float32)}])
    with np.load(path, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["__tree__", "arr_0", "arr_1"]
        np.testing.assert_array_equal(archive["arr_0"], np.arange(3.0))
        description = json.loads(str(archive["__tree__"]))
    assert description["format"] == "funcgrad.nn.params" and description["version"] == 1


def test_path_is_used_exactly_and_pathlib_and_str_work(tmp_path):
    nn.save(str(tmp_path / "weights.bin"), {"w": np.ones(2)})
    assert os.listdir(tmp_path) == ["weights.bin"]               # no ".npz" added, no temp left
    assert_identical(nn.load(pathlib.Path(tmp_path / "weights.bin")), {"w": np.ones(2)})


# ---------------------------------------------------------------------------
# load(like=...)
# ---------------------------------------------------------------------------

def test_like_checks_structure_and_names_both(tmp_path):
    path = tmp_path / "p.npz"
    nn.save(path, [{"w": np.zeros((2, 3)), "b": np.zeros(3)}])
    with pytest.raises(TreeStructureError) as info:
        nn.load(path, like=[{"w": np.zeros((2, 3))}, {"w": np.zeros(1)}])
    message = str(info.value)
    assert "[{'b': *, 'w': *}]" in message and "[{'w': *}, {'w': *}]" in message
    with pytest.raises(TreeStructureError, match=r"\(\{'b': \*, 'w': \*\},\)"):
        nn.load(path, like=({"w": 0.0, "b": 0.0},))                     # a tuple is not a list


def test_like_checks_shapes_and_dtypes_per_leaf(tmp_path):
    path = tmp_path / "p.npz"
    nn.save(path, [{"w": np.zeros((2, 3)), "b": np.zeros(3)}])
    with pytest.raises(ShapeError, match=r"params\[0\]\['w'\].*\(2, 3\).*\(3, 2\)"):
        nn.load(path, like=[{"w": np.zeros((3, 2)), "b": np.zeros(3)}])
    with pytest.raises(DTypeError, match=r"params\[0\]\['b'\].*float64.*float32"):
        nn.load(path, like=[{"w": np.zeros((2, 3)), "b": np.zeros(3, np.float32)}])
    assert_identical(nn.load(path, like=[{"b": np.ones(3), "w": np.ones((2, 3))}]),
                     [{"w": np.zeros((2, 3)), "b": np.zeros(3)}])


# ---------------------------------------------------------------------------
# Corrupt and foreign files
# ---------------------------------------------------------------------------

def _saved_bytes(tmp_path) -> bytes:
    path = tmp_path / "good.npz"
    nn.save(path, {"w": np.arange(100.0), "b": [np.ones(3), None]})
    return path.read_bytes()


@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.9, 0.99])
def test_truncated_file_raises_serialization_error(tmp_path, keep):
    data = _saved_bytes(tmp_path)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(SerializationError, match="bad.npz.*truncated, corrupt"):
        nn.load(bad)


@pytest.mark.parametrize("where", [0.1, 0.33, 0.5, 0.8])
def test_flipped_bytes_raise_serialization_error(tmp_path, where):
    data = bytearray(_saved_bytes(tmp_path))
    middle = int(len(data) * where)               # the zip's CRC-32 of that member fails
    data[middle:middle + 8] = bytes(255 - b for b in data[middle:middle + 8])
    bad = tmp_path / "bad.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(SerializationError):
        nn.load(bad)


def test_foreign_files_raise_serialization_error(tmp_path):
    plain = tmp_path / "plain.npz"
    np.savez(plain, np.ones(3))                                   # no __tree__
    with pytest.raises(SerializationError, match="__tree__"):
        nn.load(plain)
    npy = tmp_path / "a.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(SerializationError):
        nn.load(npy)
    text = tmp_path / "t.npz"
    text.write_text("not an archive")
    with pytest.raises(SerializationError):
        nn.load(text)
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "missing.npz")


def test_unknown_version_and_inconsistent_description(tmp_path):
    def write(description, arrays):
        path = tmp_path / "crafted.npz"
        with open(path, "wb") as f:
            np.savez(f, __tree__=np.array(json.dumps(description)), **arrays)
        return path

    leaf = {"type": "leaf", "kind": "ndarray", "index": 0}
    path = write({"format": "funcgrad.nn.params", "version": 2, "tree": leaf}, {"arr_0": np.ones(1)})
    with pytest.raises(SerializationError, match="version 2"):
        nn.load(path)
    path = write({"format": "funcgrad.nn.params", "version": 1, "tree": leaf}, {})
    with pytest.raises(SerializationError, match="arr_0"):
        nn.load(path)
    path = write({"format": "funcgrad.nn.params", "version": 1, "tree": leaf},
                 {"arr_0": np.ones(1), "arr_1": np.ones(1)})
    with pytest.raises(SerializationError, match="1 leaves.*2 arrays"):
        nn.load(path)


# ---------------------------------------------------------------------------
# Saving what cannot be saved, and atomicity
# ---------------------------------------------------------------------------

def test_unsavable_values_name_where_they_are(tmp_path):
    path = tmp_path / "p.npz"
    with pytest.raises(SerializationError, match=r"params\['b'\]\[1\].*object"):
        nn.save(path, {"a": np.ones(2), "b": [np.ones(1), np.array([None, 1], dtype=object)]})
    with pytest.raises(SerializationError, match=r"params\[0\].*str"):
        nn.save(path, ["text"])
    with pytest.raises(SerializationError, match=r"key \(1, 2\).*tuple"):
        nn.save(path, {(1, 2): np.ones(1)})
    Pair = collections.namedtuple("Pair", "a b")
    with pytest.raises(SerializationError, match="Pair"):
        nn.save(path, Pair(np.ones(1), np.ones(1)))
    with pytest.raises(SerializationError, match="traced"):
        fg.grad(lambda x: (nn.save(path, {"x": x}), fnp.sum(x))[1])(np.ones(2))
    assert os.listdir(tmp_path) == []                 # nothing was created


def test_failed_save_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "params.npz"
    v1 = {"w": np.random.default_rng(0).standard_normal((3, 4)), "step": np.int64(1)}
    nn.save(path, v1)
    before = path.read_bytes()
    with pytest.raises(SerializationError):
        nn.save(path, {"w": np.ones((3, 4)), "step": np.array([object()], dtype=object)})
    assert path.read_bytes() == before
    assert_identical(nn.load(path), v1)
    assert os.listdir(tmp_path) == ["params.npz"]


def test_crash_while_writing_leaves_the_previous_file_and_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "params.npz"
    v1 = [np.arange(5.0)]
    nn.save(path, v1)

    def failing_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space"):
        nn.save(path, [np.ones(5)])
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["params.npz"]
    assert_identical(nn.load(path), v1)


def test_save_overwrites_atomically_with_a_new_version(tmp_path):
    path = tmp_path / "params.npz"
    nn.save(path, {"w": np.zeros(2)})
    nn.save(path, {"w": np.ones(3, np.float32), "b": None})
    assert_identical(nn.load(path), {"w": np.ones(3, np.float32), "b": None})
    assert os.listdir(tmp_path) == ["params.npz"]
