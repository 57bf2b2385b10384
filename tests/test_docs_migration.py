"""The "Coming from JAX" and "Coming from autograd" pages: their examples run as written,
every funcgrad name in their tables exists, every name they call "not supported" is
indeed absent, and the README, the docs index and the site's navigation link them."""

import doctest
import importlib
import pathlib
import re

import pytest

import funcgrad

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = ("from_jax.md", "from_autograd.md")

#: How the tables abbreviate module paths.
PREFIXES = {"fg": "funcgrad", "fnp": "funcgrad.numpy"}
NAME = re.compile(r"(?<![\w.])(fg|fnp)((?:\.[A-Za-z_]\w*)+)")


def resolve(dotted: str) -> object:
    """The object ``funcgrad.a.b.c`` names, importing submodules on the way; raises
    AttributeError or ImportError when there is none."""
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], start=1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            obj = importlib.import_module(".".join(parts[: i + 1]))
    return obj


def table_rows(page: str) -> list[list[str]]:
    """The body rows of every Markdown table on ``page``, as lists of cells."""
    rows = []
    for line in (ROOT / "docs" / page).read_text().splitlines():
        if not line.startswith("|") or set(line) <= set("|- "):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] in ("JAX", "autograd", "JAX library"):
            continue  # a header row
        rows.append(cells)
    return rows


@pytest.mark.parametrize("page", PAGES)
def test_migration_page_examples_run(page):
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testfile(str(ROOT / "docs" / page), module_relative=False,
                              optionflags=flags, raise_on_error=False, report=True)
    assert result.attempted > 25
    assert result.failed == 0, f"{result.failed} example(s) in docs/{page} failed (see stdout)"


@pytest.mark.parametrize("page", PAGES)
def test_every_funcgrad_name_in_the_tables_exists(page):
    names = set()
    for cells in table_rows(page):
        for cell in cells[1:]:  # the funcgrad name and the notes
            for code in re.findall(r"`([^`]+)`", cell):
                names.update(PREFIXES[m[1]] + m[2] for m in NAME.finditer(code))
    assert len(names) > (100 if page == "from_jax.md" else 25), sorted(names)  # the parser saw the tables
    missing = []
    for name in sorted(names):
        try:
            resolve(name)
        except (AttributeError, ImportError):
            missing.append(name)
    assert not missing, f"docs/{page} names what funcgrad does not have: {missing}"


#: The first column's prefixes, mapped to where funcgrad would have the same name.
SOURCE_PREFIXES = {"jax.numpy.": "funcgrad.numpy.", "jax.": "funcgrad.", "lax.": "funcgrad.lax.",
                   "autograd.": "funcgrad."}


@pytest.mark.parametrize("page", PAGES)
def test_what_the_tables_call_unsupported_is_absent(page):
    checked = []
    for cells in table_rows(page):
        if cells[1] != "not supported":
            continue
        for code in re.findall(r"`([^`(]+)", cells[0]):
            prefix = next((p for p in SOURCE_PREFIXES if code.startswith(p)), None)
            if prefix is None:
                continue  # a bare name, relative to the row's first one
            checked.append(SOURCE_PREFIXES[prefix] + code[len(prefix):])
    assert len(checked) >= (10 if page == "from_jax.md" else 1), checked
    present = []
    for name in checked:
        try:
            resolve(name)
        except (AttributeError, ImportError):
            continue
        present.append(name)
    assert not present, f"docs/{page} calls these 'not supported', but funcgrad has them: {present}"


def test_x64_is_not_an_option():
    # from_jax.md says jax_enable_x64 has no counterpart because float64 is the default.
    with pytest.raises(funcgrad.errors.ConfigError, match="jax_enable_x64"):
        funcgrad.config.update("jax_enable_x64", True)


@pytest.mark.parametrize("page", PAGES)
def test_pages_are_linked_and_in_the_navigation(page):
    assert f"](docs/{page})" in (ROOT / "README.md").read_text()
    assert f"]({page})" in (ROOT / "docs" / "index.md").read_text()
    nav = (ROOT / "mkdocs.yml").read_text()
    assert re.search(rf"^\s*- .*: {re.escape(page)}$", nav, re.MULTILINE)


def test_readme_docs_command_sets_what_ci_sets():
    """The README's docs build runs with the environment .ci/run gives mkdocs (which hides
    mkdocs-material's banner), so that it prints what CI prints."""
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if "mkdocs build" in line]
    readme = [line for line in (ROOT / "README.md").read_text().splitlines()
              if "mkdocs build" in line]
    assert len(ci) == 1 and readme
    env = re.findall(r"\b([A-Z][A-Z0-9_]*=\S+)", ci[0].split("mkdocs build")[0])
    assert env, ci[0]
    for line in readme:
        assert all(assignment in line.split("mkdocs build")[0] for assignment in env), line
