"""The product-heatmap protocol in one process (four companies on an in-memory network)
against its plaintext twin, the recipient's and a bystander company's views, and bad input."""

import json

import numpy as np
import pytest
from yinji.testing.parties import record_received, run_parties

from yinji_heatmap.protocol import (
    HeatmapError,
    holdings,
    joint_heatmap,
    plaintext,
    suppress,
)
from yinji_heatmap.sample import id_number, sample_rows

COMPANIES = ["fund", "futures", "offshore", "securities"]
COMPUTE = ["fund", "futures", "offshore"]


def run(rows, recipient="securities", min_cohort=1, names=None, record=None):
    names = names or sorted({*rows, recipient})
    views = {}

    def body(party):
        if party.name == record:
            views[record] = record_received(party)
        mine = rows.get(party.name)
        return joint_heatmap(party, sorted(rows), COMPUTE, recipient,
                             None if mine is None else (mine["id_no"], mine["product_line"]),
                             min_cohort=min_cohort)

    out = run_parties(body, names=names, timeout=60)
    got = dict(zip(names, out, strict=True))
    assert all(v is None for k, v in got.items() if k != recipient)
    return got[recipient], views.get(record)


def expected(rows, min_cohort):
    axis, m = plaintext({c: (r["id_no"], r["product_line"]) for c, r in rows.items()})
    return axis, suppress(m, min_cohort)


@pytest.mark.parametrize("seed", [1, 2])
def test_matches_plaintext_on_random_holdings(seed):
    rows = sample_rows(COMPANIES, clients=40, seed=seed)
    (axis, cells), _ = run(rows, min_cohort=3)
    want_axis, want = expected(rows, 3)
    assert axis == want_axis
    assert cells.tolist() == want.tolist()
    assert any(v is None for v in want.ravel()) and any(v is not None for v in want.ravel())


def test_edge_cases_duplicates_one_client_empty_company_and_id_forms():
    """Duplicated rows count once; one client held everywhere; a company with no rows; the
    same ID written in other forms (15-digit legacy, lower-case x, full-width) matches."""
    a, b = id_number(1), id_number(2)
    legacy = "110101500101001"                       # 15 digits -> 18 after normalisation
    rows = {
        "fund": {"id_no": [a, a, b, legacy], "product_line": ["bond", "bond", "bond", "equity"]},
        "futures": {"id_no": [], "product_line": []},
        "offshore": {"id_no": [" " + a.lower()], "product_line": ["HK"]},
        "securities": {"id_no": ["110101195001010017", "".join(chr(ord(c) + 0xFEE0)
                                                              for c in b)],
                       "product_line": ["margin", "margin"]},
    }
    (axis, cells), _ = run(rows)
    want_axis, want = expected(rows, 1)
    assert axis == want_axis == ["fund: bond", "fund: equity", "offshore: HK",
                                 "securities: margin"]
    assert cells.tolist() == want.tolist()
    m = plaintext({c: (r["id_no"], r["product_line"]) for c, r in rows.items()})[1]
    assert m[0, 0] == 2 and m[0, 3] == 1 and m[1, 3] == 1   # the legacy ID is the same person


def test_one_client_large_cohort_suppresses_everything_and_recipient_outside_the_run():
    rows = {c: {"id_no": [id_number(7)], "product_line": ["x"]} for c in COMPANIES}
    (axis, cells), _ = run(rows, recipient="office", min_cohort=2)
    assert len(axis) == 4 and all(v is None for v in cells.ravel())
    (axis, cells), _ = run(rows, recipient="fund", min_cohort=1)     # a compute party
    assert cells.tolist() == [[1] * 4] * 4


@pytest.mark.parametrize("who", COMPANIES)
def test_company_views_do_not_depend_on_the_others_holdings(who):
    """Every company (securities: input only; fund: the ledger's lookup party; futures,
    offshore: compute) receives the same senders, kinds and shapes of messages whether the
    clients are held everywhere or nowhere else; securities, not the recipient, receives
    only line lists, key fingerprints and group elements (no count, no share)."""
    ids = [id_number(i) for i in range(6)]
    lines = {"fund": "bond", "futures": "index", "offshore": "HK", "securities": "margin"}
    shared = {c: {"id_no": ids, "product_line": [p] * 6} for c, p in lines.items()}
    apart = {c: {"id_no": [id_number(100 * (k + 1) + i) for i in range(6)],
                 "product_line": [lines[c]] * 6} for k, c in enumerate(COMPANIES)}
    shapes = []
    for rows, both in ((shared, 6), (apart, None)):
        out, view = run(rows, recipient="office", record=who, names=[*COMPANIES, "office"])
        shapes.append([(p, type(m).__name__, getattr(m, "dtype", None),
                        getattr(m, "shape", len(m))) for p, m in view])
        assert out[1][0, 3] == both and out[1][3, 3] == 6
        for _, m in view if who == "securities" else ():
            if isinstance(m, bytes):
                assert len(m) == 16 or set(json.loads(m)) == {"lines"}
            else:
                assert m.dtype == np.uint8 and m.shape[1:] == (32,)
    assert shapes[0] == shapes[1]


def test_recipient_outside_compute_receives_only_lines_and_the_suppressed_matrix():
    rows = sample_rows(COMPANIES, clients=30, seed=5)
    (axis, cells), view = run(rows, recipient="office", min_cohort=4,
                              names=[*COMPANIES, "office"], record="office")
    arrays = [m for _, m in view if isinstance(m, np.ndarray)]
    assert len(arrays) == 3 and {a.shape for a in arrays} == {(2, len(axis), len(axis))}
    texts = [m for _, m in view if isinstance(m, bytes)]
    assert len(texts) == 4 and all(b"clients" not in t for t in texts)   # no client counts
    assert cells.tolist() == expected(rows, 4)[1].tolist()


def test_bad_input_is_refused_with_the_row():
    with pytest.raises(HeatmapError, match="row 2 has an empty client ID"):
        holdings(["a1", " "], ["x", "y"])
    with pytest.raises(HeatmapError, match="row 1 has an empty product line"):
        holdings(["a1"], [""])
    with pytest.raises(HeatmapError, match="2 IDs but 1 product lines"):
        holdings(["a1", "a2"], ["x"])
    rows = {c: {"id_no": [], "product_line": []} for c in COMPANIES}
    with pytest.raises(HeatmapError, match="no company has any rows"):
        run(rows)


def test_too_many_product_lines_are_refused_before_any_ledger_work():
    rows = {c: {"id_no": [id_number(i) for i in range(13)],
                "product_line": [f"line {i}" for i in range(13)]} for c in COMPANIES}
    with pytest.raises(HeatmapError, match="52 product lines across the companies; at most 48"):
        run(rows)


@pytest.mark.parametrize("message", [
    b"not json", b'{"lines": ["b", "a"], "clients": 3}', b'{"lines": ["a"], "clients": -1}',
    b'{"lines": [], "clients": 2}', b'{"lines": ["a"], "clients": true}',
    b'{"lines": ["' + b"x" * 61 + b'"], "clients": 1}', b"[" * 70_000, b"[" * 60_000])
def test_a_malformed_peer_message_is_refused_naming_the_sender(message):
    from yinji.net.memory import memory_network

    from yinji_heatmap.protocol import _receive

    a, b = memory_network(["fund", "futures"], timeout=5)
    a.channel("futures").send_bytes(message)
    with pytest.raises(HeatmapError, match="fund sent a malformed"):
        _receive(b, "fund", with_count=True)
