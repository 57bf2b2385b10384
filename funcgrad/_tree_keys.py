"""Key paths: where a leaf sits in a pytree, with ``jax.tree_util``'s key classes.

A key path is a tuple of key entries, one per container on the way from the root to
the leaf: ``DictKey`` for a dict (and ``OrderedDict``/``defaultdict``) entry,
``SequenceKey`` for a list or tuple item, ``GetAttrKey`` for a namedtuple or dataclass
field, and ``FlattenedIndexKey`` for a child of a class registered without keys.
Each entry prints as the Python expression that reaches the child, so ``keystr`` of a
path reads like the code that indexes the tree.  Names, fields and printing are JAX's.

This module depends on nothing else in funcgrad, so :mod:`funcgrad.tree` can import it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable
from typing import Any

__all__ = ["DictKey", "FlattenedIndexKey", "GetAttrKey", "KeyEntry", "KeyPath",
           "SequenceKey", "keystr"]


@dataclasses.dataclass(frozen=True, slots=True)
class DictKey:
    """The entry of a dict (or ``OrderedDict``, ``defaultdict``) under ``key``.

    Examples:
        >>> DictKey("w"), str(DictKey("w"))
        (DictKey(key='w'), "['w']")
    """

    key: Hashable

    def __str__(self) -> str:
        return f"[{self.key!r}]"


@dataclasses.dataclass(frozen=True, slots=True)
class SequenceKey:
    """Item ``idx`` of a list or tuple.

    Examples:
        >>> SequenceKey(2), str(SequenceKey(2))
        (SequenceKey(idx=2), '[2]')
    """

    idx: int

    def __str__(self) -> str:
        return f"[{self.idx!r}]"


@dataclasses.dataclass(frozen=True, slots=True)
class GetAttrKey:
    """Field ``name`` of a namedtuple or dataclass.

    Examples:
        >>> GetAttrKey("w"), str(GetAttrKey("w"))
        (GetAttrKey(name='w'), '.w')
    """

    name: str

    def __str__(self) -> str:
        return f".{self.name}"


@dataclasses.dataclass(frozen=True, slots=True)
class FlattenedIndexKey:
    """Child ``key`` (its position in the flatten function's children) of a class
    registered without key paths.

    Examples:
        >>> FlattenedIndexKey(0), str(FlattenedIndexKey(0))
        (FlattenedIndexKey(key=0), '[<flat index 0>]')
    """

    key: int

    def __str__(self) -> str:
        return f"[<flat index {self.key}>]"


KeyEntry = Any  # one of the classes above, or any object a registered class returns as a key
KeyPath = tuple[KeyEntry, ...]

# The one attribute each key class holds: what ``keystr(..., simple=True)`` prints.
_SIMPLE = {DictKey: "key", SequenceKey: "idx", GetAttrKey: "name", FlattenedIndexKey: "key"}


def keystr(keys: KeyPath, *, simple: bool = False, separator: str = "") -> str:
    """Print a key path: each entry's ``str`` (or, with ``simple=True``, just its key,
    index or name), joined by ``separator``.

    The simple form is compact but ambiguous: ``"0"`` may be a list index or a dict key.

    Examples:
        >>> path = (DictKey("layers"), SequenceKey(0), GetAttrKey("w"))
        >>> keystr(path)
        "['layers'][0].w"
        >>> keystr(path, simple=True, separator="/")
        'layers/0/w'
    """
    if not isinstance(keys, (tuple, list)):
        raise TypeError(f"keystr expects a key path (a tuple of keys), got {type(keys).__name__}")
    if simple:
        return separator.join(
            str(getattr(k, _SIMPLE[type(k)])) if type(k) in _SIMPLE else str(k) for k in keys)
    return separator.join(str(k) for k in keys)
