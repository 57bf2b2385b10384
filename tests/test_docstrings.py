"""Every docstring example in the package runs and prints what it shows."""

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import funcgrad

MODULES = sorted(m.name for m in pkgutil.walk_packages(funcgrad.__path__, "funcgrad.")
                 if "numba_cuda" not in m.name)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             extraglobs={"np": np}, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
