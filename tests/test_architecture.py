"""The import directions of docs/architecture.md, held to the code: every `hrdata` import in
src/, at module level or inside a function, read from the source."""

from __future__ import annotations

import ast
import re

import pytest

from tests.support.paths import DOCS, SRC

DOC = DOCS / "architecture.md"

# What every room may use: imports of nothing above it.
FOUNDATION = {
    "hrdata",
    "settings",
    "errors",
    "wire",
    "ids",
    "folders",
    "redact",
    "spreadsheet",
    "s3",
    "storage",
    "db",
    "schema",
    "dictionary",
    "csvfile",
    "labels",
}
FEATURES = {"ingest", "backup", "metrics", "auth", "sessions", "jobs"}
EDGES = {"api", "cli", "gui", "__main__"}

# Room -> the rooms it may import, beside itself. A feature uses the foundation and the
# features it is built on; the composition root assembles every feature's tables; the edges
# adapt the features; the desktop client reaches the server only over HTTP.
ALLOWED: dict[str, set[str]] = {
    **dict.fromkeys(FOUNDATION, FOUNDATION),
    "ingest": FOUNDATION,
    "backup": FOUNDATION,
    "metrics": FOUNDATION,
    "auth": FOUNDATION,
    "sessions": FOUNDATION | {"auth"},
    "jobs": FOUNDATION | {"ingest", "backup"},
    "assembly": FOUNDATION | FEATURES | {"api.idempotency"},
    "api": FOUNDATION | FEATURES | {"assembly"},
    "cli": FOUNDATION | FEATURES | {"assembly", "api", "gui"},
    "gui": {"wire", "dictionary", "spreadsheet", "csvfile", "labels"},
    "__main__": {"cli"},
}
# Inside the foundation, the order in which its modules may use each other: none imports a
# module after it in this list.
FOUNDATION_ORDER = [
    "hrdata",
    "wire",
    "errors",
    "dictionary",
    "settings",
    "ids",
    "redact",
    "spreadsheet",
    "labels",
    "csvfile",
    "folders",
    "s3",
    "storage",
    "db",
    "schema",
]


def _room(module: str) -> str:
    """`hrdata.ingest.loader` -> `ingest`; `hrdata` itself (its version) -> `hrdata`."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "hrdata"


def _is_module(dotted: str) -> bool:
    path = SRC.joinpath(*dotted.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def _taken(package: str, name: str) -> tuple[str, str | None]:
    """(module, None) when `name` is a module of `package`, else (package, name)."""
    dotted = f"{package}.{name}"
    return (dotted, None) if _is_module(dotted) else (package, name)


def _face(package: str) -> list[str] | None:
    """The names a package's __init__.py lists in __all__, or None when it has no face."""
    init = SRC.joinpath(*package.split("."), "__init__.py")
    if not init.is_file():
        return None
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return list(ast.literal_eval(node.value))
    return None


def _imports() -> list[tuple[str, str, str, str | None]]:
    """(file, importing module, imported module, name taken from it) for every hrdata import
    in src/; the name is None for `import x` and for a module taken from its package."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        module = ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets: list[tuple[str, str | None]] = [(a.name, None) for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                # `from hrdata.api import idempotency` imports that module, not only the package.
                targets = [_taken(node.module, a.name) for a in node.names]
            else:
                continue
            rel = str(path.relative_to(SRC.parent))
            found += [(rel, module, t, n) for t, n in targets if t.split(".")[0] == "hrdata"]
    return found


IMPORTS = _imports()
PACKAGES = sorted(
    f"hrdata.{p.name}" for p in (SRC / "hrdata").iterdir() if (p / "__init__.py").is_file()
)


def _through_face(target: str, name: str | None) -> bool:
    """Whether importing `name` from `target` goes through the faces on its way: each package
    passed lists the next module in __all__, and the last one lists the name."""
    parts = target.split(".")
    for depth in range(2, len(parts) + 1):
        face = _face(".".join(parts[:depth]))
        wanted = parts[depth] if depth < len(parts) else name
        if face is None or wanted is None:
            return True
        if wanted not in face:
            return False
    return True


def _allowed(source: str, target: str) -> bool:
    room, used = _room(source), _room(target)
    if used == room:
        return True
    allowed = ALLOWED[room]
    submodule = ".".join(target.split(".")[1:3])
    return used in allowed or submodule in allowed


def test_every_module_of_src_belongs_to_a_room() -> None:
    rooms = {_room(module) for _, module, _, _ in IMPORTS}
    assert set() == rooms - set(ALLOWED)


@pytest.mark.parametrize("room", sorted(ALLOWED))
def test_a_room_imports_only_what_it_may(room: str) -> None:
    wrong = [
        f"{path}: {target}"
        for path, source, target, _ in IMPORTS
        if _room(source) == room and not _allowed(source, target)
    ]
    assert [] == wrong


def test_the_foundation_uses_itself_in_one_direction() -> None:
    wrong = [
        f"{path}: {target}"
        for path, source, target, _ in IMPORTS
        if _room(source) in FOUNDATION
        and _room(target) in FOUNDATION
        and FOUNDATION_ORDER.index(_room(target)) > FOUNDATION_ORDER.index(_room(source))
    ]
    assert [] == wrong


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_has_a_face_naming_what_others_may_import(package: str) -> None:
    assert _face(package) is not None


@pytest.mark.parametrize("package", PACKAGES)
def test_other_rooms_import_a_package_only_through_its_face(package: str) -> None:
    wrong = [
        f"{path}: {target}" + (f" {name}" if name else "")
        for path, source, target, name in IMPORTS
        if (target == package or target.startswith(package + "."))
        and _room(source) != _room(package)
        and not _through_face(target, name)
    ]
    assert [] == wrong


def test_the_architecture_document_names_every_room() -> None:
    text = DOC.read_text(encoding="utf-8")
    named = set(re.findall(r"`([a-z0-9_]+)(?:/|\.py)`", text))
    assert set() == (set(ALLOWED) - {"hrdata", "__main__"}) - named
