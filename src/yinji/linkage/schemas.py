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
