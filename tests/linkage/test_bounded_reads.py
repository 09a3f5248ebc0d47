"""The in-memory linkage modes read an owner's tokens and encodings with a bound: the tokens
fix the record count the encodings must have; a mismatch is refused naming the owner."""

import numpy as np
import pytest

from yinji.linkage.blocking import refine_partners
from yinji.linkage.match import linkage_unit, linkage_unit_owner
from yinji.linkage.schemas import PERSON
from yinji.net.expect import UnexpectedMessage
from yinji.testing.parties import refuse_unbounded, run_parties

NAMES = ("broker", "offshore", "compliance")


def test_the_unit_reads_with_bounds(key, zh_small):
    def body(party):
        if party.name == "compliance":
            refuse_unbounded(party)
            return linkage_unit(party, PERSON, NAMES[:2])
        recs = zh_small.a if party.name == "broker" else zh_small.b
        return linkage_unit_owner(party, recs, PERSON, key, "compliance")

    assert len(run_parties(body, names=NAMES, timeout=30)[2].a) > 100


def test_encodings_of_another_count_are_refused_naming_the_owner(key, zh_small):
    def body(party):
        if party.name == "compliance":
            with pytest.raises(UnexpectedMessage, match=r"^broker sent uint8 \(4, \d+\), "
                                                        r"expected the encodings of 3 records"):
                linkage_unit(party, PERSON, NAMES[:2])
            party.close()
            return True
        if party.name == "broker":   # tokens of 3 records, encodings of 4
            ch = party.channel("compliance")
            ch.send_array(np.ones((3, len(refine_partners(PERSON))), np.uint64))
            ch.send_array(np.zeros((4, (2 if PERSON.balanced else 1) * PERSON.size // 8),
                                   np.uint8))
        return None

    assert run_parties(body, names=NAMES, timeout=30)[2]
