"""The error module's drawing of its tree, and the documented exit codes and HTTP statuses, are
the code's; every reason code is one of its constants."""

from __future__ import annotations

import ast
import re

from hrdata import errors
from hrdata.errors import (
    EXIT_OVER_REJECT_LIMIT,
    Code,
    HrdataError,
    SourceError,
    TableForOneFile,
    exit_code,
    http_status,
    listed_as,
)
from tests.support.paths import DOCS, SRC


def every_error(root: type[HrdataError] = HrdataError) -> list[type[HrdataError]]:
    found = [root]
    for child in root.__subclasses__():
        if child.__module__ == errors.__name__:
            found += every_error(child)
    return found


def drawn_tree() -> dict[str, str | None]:
    """Each class the docstring draws, with the class drawn as its parent."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"( *)[*+] (\w+)", line)
        if match is None:
            continue
        depth, name = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[name] = stack[-1][1] if stack else None
        stack.append((depth, name))
    return parents


def test_the_tree_drawn_in_the_error_module_is_its_tree_of_classes() -> None:
    actual = {
        cls.__name__: (cls.__base__.__name__ if cls is not HrdataError else None)
        for cls in every_error()
    }

    assert actual == drawn_tree()


def test_every_exit_code_hrdata_uses_is_in_the_documented_table() -> None:
    text = (DOCS / "migration.md").read_text().split("## Exit codes")[1]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", text, re.MULTILINE)}
    used = {exit_code(cls) for cls in every_error()} | {0, 1, EXIT_OVER_REJECT_LIMIT}

    assert used == documented


def test_every_http_status_hrdata_answers_with_is_in_the_documented_table() -> None:
    text = (DOCS / "api.md").read_text()
    documented = {int(code) for code in re.findall(r"^\| (\d{3}) \|", text, re.MULTILINE)}
    used = {http_status(cls) for cls in every_error()}

    assert used == documented


def test_an_exception_hrdata_did_not_raise_on_purpose_answers_as_the_base_error() -> None:
    assert (1, 500) == (exit_code(KeyError()), http_status(KeyError()))


def test_an_error_that_names_an_option_names_it_plainly_unless_an_edge_spells_it() -> None:
    error = TableForOneFile("data/", "file", "folder")

    assert [
        "data/: `table` applies to a single file, not a folder",
        "data/: --table applies to a single file, not a folder",
    ] == [str(error), error.worded(lambda option: f"--{option}")]


def test_an_error_not_in_the_table_is_its_nearest_listed_base_to_every_edge() -> None:
    assert SourceError is listed_as(TableForOneFile)


def test_every_reason_code_is_declared_once_with_its_own_string() -> None:
    codes = [value for name, value in vars(Code).items() if name.isupper()]

    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", code) for code in codes)


def test_no_reason_in_the_code_spells_its_code_as_a_bare_string() -> None:
    bare = [
        f"{path.relative_to(SRC)}:{node.lineno}"
        for path in sorted(SRC.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "Reason"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    ]

    assert [] == bare
