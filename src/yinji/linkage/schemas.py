"""Ready-made schemas: `PERSON` for customer records (Chinese or Latin names, birth date,
gender, phone, identity number, address) and `FEBRL` for the FEBRL benchmark's columns.
Weights (k per field) and thresholds were tuned on FEBRL4 and on a Chinese set generated with
another seed than the one reported (benchmarks/linkage.py).

`PERSON` uses plain (unbalanced) filters: on balanced ones the score is 1 - Hamming/L, so two
sparse records (a name and a birth date only) differ in few bits out of L and namesakes with
different birth dates scored above any threshold that kept recall on full records. Plain
Dice normalises by the number of set bits. Use the MPC mode when the linkage unit must not
see popcounts (docs/SECURITY.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from yinji.linkage.encoding import Field, Schema

PERSON = Schema(
    name="person",
    fields=(
        Field("name", "name", k=15, columns=("name", "surname", "given_name")),
        Field("dob", "date", k=20),
        Field("gender", "category", k=4),
        Field("phone", "phone", k=5),
        Field("id_number", "id", k=5),
        Field("address", "text", k=2),
    ),
    size=1024,
    balanced=False,  # Dice normalised by fill: sparse records (name + date only) stay apart
    threshold=0.75,
    margin=0.01,  # namesakes within 0.01 of each other: no link (docs/linkage.md, scaling)
    blocking=("lsh", "initials+year", "dob", "phone", "id"),
)

FEBRL = Schema(
    name="febrl",
    fields=(
        Field("name", "name", k=15, columns=("given_name", "surname")),
        Field("street", "text", k=4, columns=("street_number", "address_1")),
        Field("address_2", "text", k=3),
        Field("suburb", "text", k=4),
        Field("postcode", "digits", k=5),
        Field("state", "category", k=4),
        Field("dob", "date", k=10, columns=("date_of_birth",)),
        Field("id_number", "digits", k=8, columns=("soc_sec_id",)),
    ),
    size=1024,
    threshold=0.7,
    blocking=("lsh", "initials+year", "dob", "id"),
)

SCHEMAS = {"person": PERSON, "febrl": FEBRL}


def field_columns(schema: Schema, mapping: Mapping[str, str | Sequence[str]] | None = None
                  ) -> dict[str, tuple[str, ...]]:
    """Per field of `schema`, the record columns that feed it: the schema's own names, or the
    ones `mapping` gives (a column or a list of columns joined by a space), for files and
    datasets whose headers differ (姓名 for name). Fails naming an unknown field or a bad value."""
    fields = {f.name: f for f in schema.fields}
    out = {name: f.columns or (name,) for name, f in fields.items()}
    for name, cols in (mapping or {}).items():
        if name not in fields:
            raise ValueError(f"schema {schema.name!r} has no field {name!r} "
                             f"(fields: {', '.join(fields)})")
        cols = (cols,) if isinstance(cols, str) else tuple(cols)
        if not cols or not all(isinstance(c, str) and c for c in cols):
            raise ValueError(f"field {name!r}: give a column name or a list of column names")
        out[name] = cols
    return out


def remap(schema: Schema, rows: Iterable[Mapping[str, Any]],
          mapping: Mapping[str, str | Sequence[str]] | None = None) -> list[dict[str, Any]]:
    """Rows as `schema`'s encoder reads them: a mapped field's columns are joined (by a space,
    empty cells skipped) into the field's own first column name; other keys are kept."""
    if not mapping:
        return [dict(r) for r in rows]
    cols = field_columns(schema, mapping)
    targets = {name: (f.columns or (f.name,)) for f in schema.fields
               for name in [f.name] if name in mapping}
    out = []
    for r in rows:
        rec = dict(r)
        for name, own in targets.items():
            for c in own:
                rec.pop(c, None)
            values = (r.get(c) for c in cols[name])
            rec[own[0]] = " ".join(s for v in values if v is not None and v == v  # not NaN
                                   for s in [str(v).strip()] if s)
        out.append(rec)
    return out


def date_problems(schema: Schema, rows: Iterable[Mapping[str, Any]]
                  ) -> dict[str, dict[str, list[tuple[int, str]]]]:
    """Per date field: the (row, value) pairs that could not be read (their date is left out
    of the encoding) and those that are impossible (kept as written), for reporting per file;
    row 1 is the first data row."""
    from yinji.linkage import normalise

    dates = [f for f in schema.fields if f.kind == "date"]
    out: dict[str, dict[str, list[tuple[int, str]]]] = {
        f.name: {"unreadable": [], "impossible": []} for f in dates}
    for i, rec in enumerate(rows, start=1):
        for f in dates:
            value = f.value(rec)
            problem = normalise.parse_date(value)[1]
            if problem:
                out[f.name][problem].append((i, value))
    return out
