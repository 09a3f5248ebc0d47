"""A `_private` name is its module's own business: no module in src/yinji imports another
module's `_name` (`from yinji.a import _x`, or `a._x` through an imported module), and a
`_private` module (`yinji.ml._fixed`) is imported only from inside its own package. What two
modules share is public, in its home module or in a small module named for what it does.

Allow-list: the LLM gateway (src/yinji/gateway/**, being reworked separately) and the one
import of its name-detector development helper (testing/name_dev.py); nothing else. A new
cross-module private import anywhere else fails here."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "yinji"
ALLOWED_DIRS = ("gateway",)
ALLOWED = {("testing/name_dev.py", "yinji.testing.name_train._pick")}


def module_name(path: Path) -> str:
    parts = ("yinji",) + path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = importer.split(".")[: len(importer.split(".")) - node.level + is_package]
    return ".".join(base + ([node.module] if node.module else []))


def _outside_package(target: str, importer: str) -> str | None:
    """The first private component of module `target` whose package `importer` is not in."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if _private(part):
            package = ".".join(parts[:i])
            if not (importer + ".").startswith(package + "."):
                return part
            return None
    return None


def violations(source: str, importer: str, modules: set[str], is_package: bool = False
               ) -> list[tuple[int, str]]:
    """(line, 'module.name') for every other module's private name or package-private
    module that `source` (module `importer`) uses."""
    tree = ast.parse(source)
    found: list[tuple[int, str]] = []
    aliases: dict[str, str] = {}   # local name -> yinji module it stands for
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] != "yinji":
                    continue
                if _outside_package(a.name, importer):
                    found.append((node.lineno, a.name))
                if a.asname:
                    aliases[a.asname] = a.name
        elif isinstance(node, ast.ImportFrom):
            mod = _absolute(node, importer, is_package)
            if mod.split(".")[0] != "yinji":
                continue
            if _outside_package(mod, importer):
                found.append((node.lineno, mod))
            for a in node.names:
                full = f"{mod}.{a.name}"
                if full in modules:
                    aliases[a.asname or a.name] = full
                    if _outside_package(full, importer):
                        found.append((node.lineno, full))
                elif _private(a.name) and mod != importer:
                    found.append((node.lineno, full))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in aliases and _private(node.attr) \
                and aliases[node.value.id] != importer:
            found.append((node.lineno, f"{aliases[node.value.id]}.{node.attr}"))
    return found


def test_no_module_uses_another_modules_private_names():
    files = sorted(SRC.rglob("*.py"))
    modules = {module_name(f) for f in files}
    bad = []
    for f in files:
        rel = f.relative_to(SRC)
        if rel.parts[0] in ALLOWED_DIRS:
            continue
        for line, name in violations(f.read_text(encoding="utf-8"), module_name(f), modules,
                                     f.name == "__init__.py"):
            if (rel.as_posix(), name) not in ALLOWED:
                bad.append(f"src/yinji/{rel.as_posix()}:{line}: uses {name}")
    assert len(files) > 100
    assert not bad, "private names used across modules (make them public or move them):\n" \
        + "\n".join(bad)


def test_allow_list_is_still_needed():
    """An allow-list entry that no longer matches is dropped, not carried forward."""
    modules = {module_name(f) for f in SRC.rglob("*.py")}
    for rel, name in ALLOWED:
        f = SRC / rel
        assert (rel, name) in {(rel, n) for _, n in violations(
            f.read_text(encoding="utf-8"), module_name(f), modules)}, (rel, name)


def test_the_check_catches_each_form():
    modules = {"yinji.a", "yinji.a.b", "yinji.a._impl", "yinji.c"}
    src = ("from yinji.a.b import _x, y\n"            # a private name
           "from yinji.a import b\n"
           "import yinji.c as c\n"
           "b._y(); c._z; b.ok; c.__doc__\n"          # private attributes via a module
           "from yinji.a._impl import f\n"            # a package-private module, from outside
           "from . import _w\n")                      # relative
    got = sorted(n for _, n in violations(src, "yinji.d.e", modules))
    assert got == ["yinji.a._impl", "yinji.a.b._x", "yinji.a.b._y", "yinji.c._z",
                   "yinji.d._w"]
    # inside the package: its private module is fine; a module's own names are fine
    assert violations("from yinji.a._impl import f\nfrom yinji.a.b import g\n",
                      "yinji.a.b", modules) == []
    assert violations("from ._impl import f\n", "yinji.a", modules, is_package=True) == []
