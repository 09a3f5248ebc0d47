"""`share` / `share_xor` without a caller-given shape: the owner announces its value's shape
first and the receivers check it against MAX_SHARE_DIMS / MAX_SHARE_ELEMENTS before they
read the shares, so every read is bounded. A lying or faulty owner gets a clear error naming
it, not a huge allocation; an honest run equals the plaintext and shows only the shape."""

import re
import tracemalloc

import numpy as np
import pytest

from yinji.mpc import boolean as bl
from yinji.mpc import replicated as rep
from yinji.mpc.session import Session
from yinji.net.expect import UnexpectedMessage
from yinji.testing.mpc import NAMES
from yinji.testing.parties import looks_uniform, record_received, refuse_unbounded, run_parties

SHARE = {"arith": (rep.share, rep.reveal), "xor": (bl.share_xor, bl.reveal_xor)}


def run(program, watch=False):
    """run_mpc, with every party refusing unbounded reads (and recording what it receives
    after the session's set-up)."""
    def body(party):
        s = Session(party, NAMES)
        view = record_received(party) if watch else None
        refuse_unbounded(party)   # after recording: its bounded reads call the recorder
        out = program(s)
        return (out, view) if watch else out
    return run_parties(body, names=NAMES, timeout=60)


@pytest.mark.parametrize("kind", SHARE)
@pytest.mark.parametrize("shape", [(1,), (0,), (7,), (3, 0), (2, 3, 4), (2, 1, 3, 2)])
def test_announced_shape_shares_equal_plaintext(kind, shape):
    share, reveal = SHARE[kind]
    v = np.random.default_rng(1).integers(0, 2**64 - 1, shape, dtype=np.uint64, endpoint=True)
    if v.size:
        v.flat[0] = np.uint64(2**64 - 1)   # extremes: -1 and 0 as ring elements
        v.flat[-1] = np.uint64(0)

    def prog(s):
        x = share(s, v if s.rank == 1 else None, 1)
        assert x[0].shape == x[1].shape == shape
        return reveal(s, x)

    for out in run(prog):
        assert np.array_equal(out, v)


def test_a_scalar_is_shared_as_one_element():
    out = run(lambda s: rep.reveal(s, rep.share(s, np.uint64(5) if s.rank == 0 else None, 0)))
    assert all(o.tolist() == [5] for o in out)


def test_receivers_get_the_shape_and_one_uniform_component_nothing_else():
    """A receiver's whole view of a sharing: the shape (public), then a uniform component;
    for two different secrets of one shape the announcements are the same."""
    views = []
    for secret in (np.zeros((40, 30), np.uint64), np.arange(1200, dtype=np.uint64).reshape(40, 30)):
        res = run(lambda s, v=secret: rep.share(s, v if s.rank == 2 else None, 2), watch=True)
        views.append([view for _, view in res])
    for rank in (0, 1):
        first, second = views[0][rank], views[1][rank]
        assert len(first) == len(second) == 2
        assert first[0][0] == "P2" and first[0][1].tolist() == second[0][1].tolist() == [40, 30]
        assert first[1][1].shape == (40, 30) and looks_uniform([first[1]], min_size=1000) == []
    assert views[0][2] == [] and views[1][2] == []   # the owner receives nothing


def liar(messages, share=rep.share, given=None):
    """Party 0 sends each other party `messages` instead of sharing; the others call
    `share` (with `given` as shape) and must refuse, naming P0."""
    def prog(s):
        if s.rank == 0:
            for m in messages:
                s.send(1, m)
                s.send(2, m)
            return None
        try:
            share(s, None, 0, given)
        except UnexpectedMessage as exc:
            return str(exc)
        return "accepted"
    return run(prog)[1:]


@pytest.mark.parametrize("kind", SHARE)
@pytest.mark.parametrize("header, why", [
    ([1 << 31, 1 << 31], "more than MAX_SHARE_ELEMENTS = 268,435,456 elements"),
    ([1 << 62, 1 << 62, 1 << 62, 1 << 62], "more than MAX_SHARE_ELEMENTS"),
    ([(1 << 28) + 1], "more than MAX_SHARE_ELEMENTS"),
    ([4, -1], "a negative size"),
    ([1, 1, 1, 1, 1], "expected the shape of its shares as int64 (<=4,)"),  # > MAX_SHARE_DIMS
    ([1] * 100_000, "oversized message"),   # refused unread (over TLS: from its header)
])
def test_a_huge_or_malformed_announced_shape_is_refused_without_allocating(kind, header, why):
    tracemalloc.start()
    try:
        errors = liar([np.array(header, np.int64)], share=SHARE[kind][0])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    for err in errors:
        assert err.startswith("P0 ") and why in err, err
    assert peak < 16 << 20   # the shares such a shape claims would take gigabytes to exabytes


@pytest.mark.parametrize("payload, why", [
    (np.zeros(11, np.uint64), r"P0 sent uint64 \(11,\), expected shares as uint64 \(10,\)"),
    (np.zeros(10 ** 6, np.uint64), "P0 sent an oversized message, expected shares"),
    (np.zeros(10, np.int64), r"P0 sent int64 \(10,\), expected shares as uint64"),
    (np.zeros((2, 5), np.uint64), r"P0 sent uint64 \(2, 5\), expected shares as uint64 \(10,\)"),
])
def test_a_payload_that_is_not_the_announced_shape_is_refused(payload, why):
    for err in liar([np.array([10], np.int64), payload]):
        assert re.search(why, err), err


def test_shape_given_on_one_side_only_fails_clearly_not_silently():
    """`shape` is given at every party or at none; a mix is refused, not misread."""
    v = np.arange(3, dtype=np.uint64)

    def owner_announces(s):   # the owner has no shape, the receivers do
        try:
            rep.share(s, v if s.rank == 0 else None, 0, None if s.rank == 0 else (3,))
        except UnexpectedMessage as exc:
            return str(exc)
        return "ok"

    def receivers_expect_announcement(s):   # the owner has a shape, the receivers do not
        try:
            rep.share(s, v if s.rank == 0 else None, 0, (3,) if s.rank == 0 else None)
        except UnexpectedMessage as exc:
            return str(exc)
        return "ok"

    out = run(owner_announces)
    assert out[0] == "ok" and all("P0 sent int64 (1,), expected shares" in e for e in out[1:])
    out = run(receivers_expect_announcement)
    assert out[0] == "ok" and all("P0 sent uint64 (3,), expected the shape" in e for e in out[1:])


def test_the_owner_refuses_too_large_a_value_and_so_do_the_receivers(monkeypatch):
    monkeypatch.setattr(rep, "MAX_SHARE_ELEMENTS", 100)

    def prog(s):
        with pytest.raises((ValueError, UnexpectedMessage), match="more than MAX_SHARE_ELEMENTS"):
            bl.share_xor(s, np.zeros(101, np.uint64) if s.rank == 2 else None, 2)
        return rep.reveal(s, rep.share(s, np.ones(100, np.uint64) if s.rank == 2 else None, 2))

    assert all(o.tolist() == [1] * 100 for o in run(prog))   # the session goes on


def test_an_owner_value_that_is_not_the_given_shape_is_refused_at_the_owner():
    def prog(s):
        if s.rank != 0:
            return None   # the receivers would wait for it; the owner stops first
        with pytest.raises(ValueError, match=r"shares a value of shape \(4,\), but the parties "
                                             r"were given shape \(3,\)"):
            rep.share(s, np.zeros(4, np.uint64), 0, (3,))
        return True

    assert run(prog)[0] is True
