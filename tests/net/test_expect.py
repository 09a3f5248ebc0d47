"""yinji.net.expect: a read refused past the expected size (unread over TLS), then checked
for dtype, shape or JSON kind, with errors naming the peer and what was expected."""

import numpy as np
import pytest

from yinji.net.expect import UnexpectedMessage, recv_array, recv_bytes, recv_count, recv_json
from yinji.testing.parties import refuse_unbounded, run_parties


def _exchange(sent, read):
    def body(party):
        if party.name == "A":
            for m in sent:
                (party.channel("B").send_bytes if isinstance(m, bytes)
                 else party.channel("B").send_array)(m)
            return None
        refuse_unbounded(party)
        try:
            return read(party.channel("A"))
        except UnexpectedMessage as exc:
            return exc

    return run_parties(body, names=["A", "B"], timeout=10)[1]


@pytest.mark.parametrize("sent,ok", [
    (np.zeros((3, 4), np.uint8), True), (np.zeros((0, 4), np.uint8), True),
    (np.zeros((6, 4), np.uint8), False), (np.zeros((3, 5), np.uint8), False),
    (np.zeros((3, 4), np.int8), False), (np.zeros(12, np.uint8), False),
    (np.zeros((1 << 12, 4), np.uint8), False)])
def test_arrays_within_a_free_dimension(sent, ok):
    got = _exchange([sent], lambda ch: recv_array(ch, "rows", np.uint8, (None, 4), most=5))
    if ok:
        assert np.array_equal(got, sent)
    else:
        assert isinstance(got, UnexpectedMessage)
        assert str(got).startswith("A sent") and "expected rows as uint8 (<=5, 4)" in str(got)


def test_exact_bytes_and_json_kinds():
    assert _exchange([b"abcd"], lambda ch: recv_bytes(ch, "a key", 4, exact=True)) == b"abcd"
    short = _exchange([b"abc"], lambda ch: recv_bytes(ch, "a key", 4, exact=True))
    assert str(short) == "A sent 3 bytes, expected a key of exactly 4 bytes"
    assert _exchange([b'{"a": 1}'], lambda ch: recv_json(ch, "a status", 64, dict)) == {"a": 1}
    assert "as a JSON list, expected dict" in str(
        _exchange([b"[1]"], lambda ch: recv_json(ch, "a status", 64, dict)))
    assert "not JSON" in str(_exchange([b"{"], lambda ch: recv_json(ch, "a status", 64)))
    assert "oversized" in str(_exchange([b"x" * 65], lambda ch: recv_json(ch, "a status", 64)))


def test_deeply_nested_json_is_refused_naming_the_peer():
    """Within the size bound, `[[[...` nests past the parser's recursion limit: a clear
    error naming the peer, not a RecursionError from inside json."""
    deep = b"[" * 100_000
    got = _exchange([deep], lambda ch: recv_json(ch, "a status", len(deep)))
    assert isinstance(got, UnexpectedMessage) and str(got).startswith("A sent a status")


def test_a_free_dimension_needs_a_bound():
    with pytest.raises(TypeError):
        _exchange([np.zeros(3)], lambda ch: recv_array(ch, "x", np.float64, (None,)))


@pytest.mark.parametrize("sent,ok", [
    (np.array([0], np.int64), True), (np.array([7], np.int64), True),
    (np.array([8], np.int64), False), (np.array([-1], np.int64), False),
    (np.array([1, 2], np.int64), False), (np.array([3.0]), False)])
def test_a_count_is_one_int64_within_its_bound(sent, ok):
    got = _exchange([sent], lambda ch: recv_count(ch, "its record count", 7))
    if ok:
        assert got == int(sent[0])
    else:
        assert isinstance(got, UnexpectedMessage) and str(got).startswith("A ")
        assert "its record count" in str(got)
