"""Architecture rules (DESIGN.md, Layers): imports only go downward; no pickle or `random`
in protocol, transport or primitive code."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "yinji"
RANK = {"ids": 0, "crypto": 0, "net": 1, "mpc": 2, "psi": 2, "pir": 2, "ml": 2, "linkage": 2,
        "gateway": 2, "sql": 2.5, "node": 3, "apps": 4, "cli": 5, "web": 5}
# sql builds on mpc and psi's hidden join (a query layer over protocols), below the node
PROTOCOL_LAYERS = ("ids", "crypto", "net", "mpc", "psi", "pir", "ml", "linkage", "sql")
FAMILIES = ("psi", "pir", "ml", "linkage", "gateway")  # share code only through crypto/net/mpc


def imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def layer_files():
    return [f for f in SRC.rglob("*.py") if f.relative_to(SRC).parts[0].removesuffix(".py") in RANK]


def test_there_is_code_to_check():
    assert len(layer_files()) > 10


@pytest.mark.parametrize("path", layer_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_downward(path):
    own = path.relative_to(SRC).parts[0].removesuffix(".py")
    for line, name in imports(path):
        parts = name.split(".")
        if parts[0] == "yinji" and len(parts) > 1 and parts[1] in RANK:
            assert RANK[parts[1]] <= RANK[own] or parts[1] == own, \
                f"{path}:{line}: {own} imports {name}, a higher layer"
            assert not (own in FAMILIES and parts[1] in FAMILIES and parts[1] != own), \
                f"{path}:{line}: protocol family {own} imports another family ({name})"
        if own in PROTOCOL_LAYERS:
            assert parts[0] not in ("pickle", "random", "marshal", "shelve"), \
                f"{path}:{line}: {name} is not allowed in {own}"
            assert not (parts[0] == "yinji" and len(parts) > 1 and parts[1] == "testing"), \
                f"{path}:{line}: protocol code must not import yinji.testing"
