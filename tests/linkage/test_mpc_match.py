import dataclasses

import numpy as np
import pytest

from yinji.linkage.encoding import ClkEncoder
from yinji.linkage.match import (
    dice_counts,
    greedy_one_to_one,
    linkage_unit,
    linkage_unit_owner,
    threshold_units,
)
from yinji.linkage.mpc_match import mpc_link
from yinji.linkage.schemas import PERSON
from yinji.mpc import replicated as rep
from yinji.mpc.session import Session
from yinji.net.channel import Channel
from yinji.testing.parties import run_parties

NAMES = ("broker", "offshore", "compliance")


class Recording(Channel):
    """Wraps a channel and keeps every array and byte string received."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.peer, self.seen = inner, inner.peer, []

    def send_bytes(self, data):
        self.inner.send_bytes(data)

    def recv_bytes(self):
        got = self.inner.recv_bytes()
        self.seen.append(np.frombuffer(got, np.uint8))
        return got

    def send_array(self, array):
        self.inner.send_array(array)

    def recv_array(self):
        got = self.inner.recv_array()
        self.seen.append(got)
        return got


def run_mpc_link(a, b, key, schema, record=False):
    def body(party):
        if record:
            party.channels = {k: Recording(v) for k, v in party.channels.items()}
        s = Session(party, NAMES)
        recs = [a, b, None][s.rank]
        out = mpc_link(s, recs, schema, key if s.rank < 2 else None)
        flags = rep.reveal(s, out.link_flags)
        views = [x for ch in party.channels.values() for x in getattr(ch, "seen", [])]
        return out, flags, views

    return run_parties(body, names=NAMES, timeout=120)


def resolve(a, b, oa, ob, table):
    return {(a[oa[i]]["id"], b[ob[j]]["id"]) for i, j in zip(table.a, table.b, strict=True)}


@pytest.mark.parametrize("balanced", [True, False])
def test_mpc_mode_equals_linkage_unit_mode(key, zh_small, balanced):
    schema = dataclasses.replace(PERSON, balanced=balanced)
    a, b = zh_small.a, zh_small.b
    (oa, fa, _), (ob, _, _), (oc, fc, _) = run_mpc_link(a, b, key, schema)
    mpc = resolve(a, b, oa.order, ob.order, oc.links)

    def body(party):
        if party.name == "compliance":
            return linkage_unit(party, schema, NAMES[:2])
        return linkage_unit_owner(party, [a, b][NAMES.index(party.name)], schema, key,
                                  "compliance")

    la, lb, table = run_parties(body, names=NAMES)
    assert mpc == resolve(a, b, la, lb, table)
    assert len(mpc) > 0.5 * len(zh_small.links)
    # shared link flags mark exactly the links, in candidate order
    assert (fa == fc).all() and int(fa.sum()) == len(oc.links)
    # the scores of the links equal the plaintext Dice on the same encodings
    enc = ClkEncoder(schema, key)
    ea = enc.encode([a[i] for i in oa.order])
    eb = enc.encode([b[j] for j in ob.order])
    num, den = dice_counts(ea, eb, oc.links.a, oc.links.b)
    assert np.array_equal(oc.links.score, num / den)


def test_mpc_mode_same_links_as_plaintext_on_the_same_candidates(key, zh_small):
    a, b = zh_small.a[:120], zh_small.b[:120]
    (oa, _, _), (ob, _, _), (oc, _, _) = run_mpc_link(a, b, key, PERSON)
    enc = ClkEncoder(PERSON, key)
    ea = enc.encode([a[i] for i in oa.order])
    eb = enc.encode([b[j] for j in ob.order])
    num, den = dice_counts(ea, eb, oc.ia, oc.ib)
    ok = num * 10_000 >= threshold_units(PERSON) * den
    want = greedy_one_to_one(oc.ia[ok], oc.ib[ok], num[ok], den[ok], PERSON.margin)
    assert want.pairs() == oc.links.pairs()


def test_views_in_mpc_mode_hold_no_other_partys_encodings(key, zh_small):
    a, b = zh_small.a[:100], zh_small.b[:100]
    res = run_mpc_link(a, b, key, PERSON, record=True)
    (oa, _, view_a), (ob, _, view_b), (oc, _, view_c) = res
    enc = ClkEncoder(PERSON, key)
    bits_a = enc.bits([a[i] for i in oa.order])
    bits_b = enc.bits([b[j] for j in ob.order])
    secrets = {"A bits": bits_a, "B bits": bits_b,
               "A enc": enc.transmit(bits_a), "B enc": enc.transmit(bits_b)}

    def contains(view, secret):
        rows = {r.tobytes() for r in secret.astype(np.uint64)} | {r.tobytes() for r in secret}
        for arr in view:
            if arr.ndim == 2 and arr.shape[0] == secret.shape[0]:
                # a received matrix the size of a filter table must look uniform, not 0/1
                if arr.dtype == np.uint64 and (arr[:, :-1] <= 1).mean() > 0.01:
                    return True
                if any(r.tobytes() in rows for r in arr):
                    return True
            if arr.size and arr.tobytes() in rows:
                return True
        return False

    assert not contains(view_a, secrets["B bits"]) and not contains(view_a, secrets["B enc"])
    assert not contains(view_b, secrets["A bits"]) and not contains(view_b, secrets["A enc"])
    for s in secrets.values():
        assert not contains(view_c, s)
    # the receiver gets blocking tokens, candidates and the opened flag/score vector only
    m = len(oc.ia)
    kinds = sorted((a.dtype.str, a.shape) for a in view_c)
    assert all(sh[0] in (len(a), len(b), 2, m, 2 * m) or len(sh) == 1 for _, sh in kinds)
    # owners see no plaintext scores: every array an owner receives of length m is masked
    for view in (view_a, view_b):
        for arr in view:
            if arr.dtype == np.uint64 and arr.ndim == 1 and arr.size == m and m > 20:
                assert (arr < 4096).mean() < 0.05
