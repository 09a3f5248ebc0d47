"""ECDH-PSI on keys prepared by the shared identifier rule: the same people stored in
different forms at two companies (lower-case x, full-width digits, `="..."` and `'...`
exports, 15-digit legacy numbers) are found, exactly as the plaintext join of normalised IDs.
Imports only names psi.keys had before yinji.ids, so running it against the old code shows
what used to miss (15-digit and spreadsheet-export forms).
"""

import random

import pytest

from yinji.psi.ecdh import ecdh_psi
from yinji.psi.keys import id_check_char, normalize, prepare_keys
from yinji.testing.parties import run_parties


def random_ids(n, rng):
    out = set()
    while len(out) < n:
        first17 = (f"{rng.randint(110000, 659000):06d}{rng.randint(1940, 1999)}"
                   f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}")
        out.add(first17 + id_check_char(first17))
    return sorted(out)


def stored_form(canonical, rng):
    s = canonical[:6] + canonical[8:17] if rng.random() < 0.25 else canonical
    s = s.lower() if rng.random() < 0.5 else s
    if rng.random() < 0.3:
        s = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in s)
    return rng.choice(['="{}"', "'{}", "{}", " {} ", '"{}"']).format(s)


def psi(a_values, b_values):
    prepared = [prepare_keys(a_values), prepare_keys(b_values)]

    def body(party, keys):
        return ecdh_psi(party, "B" if party.name == "A" else "A", keys)

    found = run_parties(body, names=["A", "B"], args=[(prepared[0],), (prepared[1],)],
                        timeout=60)
    return [sorted(int(p.rows[i]) for i in f) for p, f in zip(prepared, found, strict=True)]


@pytest.mark.parametrize("seed, n_a, n_b, shared", [(1, 80, 60, 30), (2, 1, 1, 1), (3, 0, 5, 0),
                                                    (4, 40, 40, 0)])
def test_stored_forms_match_like_the_plaintext_join(seed, n_a, n_b, shared):
    rng = random.Random(seed)
    people = random_ids(n_a + n_b, rng)
    a = people[:n_a]
    b = people[:shared] + people[n_a:n_a + n_b - shared]
    a_values = [stored_form(i, rng) for i in a] + ["", "1.10105E+17"]  # dropped, never matched
    b_values = [stored_form(i, rng) for i in b]
    if b:
        b_values.append(stored_form(b[0], rng))  # a duplicate in another form: first row kept
    got_a, got_b = psi(a_values, b_values)
    norm_a = [normalize(v) for v in a_values]
    norm_b = [normalize(v) for v in b_values]
    common = set(norm_a) & set(norm_b) - {""}
    assert got_a == [i for i, v in enumerate(norm_a) if v in common]
    assert got_b == [i for i, v in enumerate(norm_b) if v in common and norm_b.index(v) == i]
    assert len(got_a) == shared
