"""docs/SECURITY.md's "Claims and how they are tested" table: every row names at least one
test, and every named test exists (a claim whose test was renamed or deleted fails here)."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Claims and how they are tested"
REF = re.compile(r"`((?:tests/[\w/]+\.py)?::[\w\[\]\-|.,]+|tests/[\w/]+\.py::[\w\[\]\-|.,]+)`")


def _rows() -> list[str]:
    text = (ROOT / "docs" / "SECURITY.md").read_text(encoding="utf-8")
    assert SECTION in text, f"docs/SECURITY.md has no {SECTION!r} section"
    body = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    rows = [ln for ln in body.splitlines() if ln.startswith("|")]
    return [r for r in rows[2:] if r.strip("| -")]  # skip the header and its rule


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_claim_names_existing_tests():
    rows = _rows()
    assert len(rows) >= 20, "the table lists every protocol's leakage statement"
    missing = []
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        refs = REF.findall(cells[-1])
        assert refs, f"no test named for claim: {cells[:2]}"
        current = None
        for ref in refs:
            path, _, name = ref.partition("::")
            current = ROOT / path if path else current
            assert current is not None, f"{ref}: no file before it in the row"
            name = name.split("[")[0]
            if not current.is_file() or name not in _functions(current):
                missing.append(f"{current.relative_to(ROOT)}::{name}")
    assert not missing, f"claims name tests that do not exist: {missing}"
