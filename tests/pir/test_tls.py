"""Keyword PIR over the real mutual-TLS transport: separate processes, real certificates.

Lane `tls` (slower): the protocol of test_protocol/test_alliance between spawned processes,
and the long-running `PirService` (clients that connect when they like, unknown clients
refused, concurrent connections sharing one batcher, a member that is down).
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time

import pytest

from yinji.net.channel import PeerUnavailable
from yinji.net.connect import TlsConfig, dial
from yinji.pir.alliance import DOWN, OK, Alliance
from yinji.pir.client import PirClient
from yinji.pir.keyword import KeywordDatabase
from yinji.pir.server import PirServer
from yinji.pir.service import PirService, connect_member
from yinji.testing.tls import free_ports, make_tls_configs, run_parties_tls

from .conftest import RECORDS

pytestmark = [pytest.mark.tls, pytest.mark.timeout(60)]

WANT = dict(RECORDS)
PRESENT = [RECORDS[0][0], RECORDS[777][0], RECORDS[-1][0]]
ABSENT = ["110101199001019999", "nobody"]
LISTS = {
    "broker": [(f"ID{i:05d}", f"broker:{i % 5}".encode()) for i in range(0, 3000, 2)],
    "fund": [(f"ID{i:05d}", f"fund:{i % 3}".encode()) for i in range(0, 3000, 3)],
    "futures": [(f"ID{i:05d}", b"futures") for i in range(1000, 2000)],
}


# -- the protocol between processes (run_parties_tls) ----------------------------------------

def one_member(party):
    if party.name == "member":
        db = KeywordDatabase(RECORDS, label_size=32)
        events = []

        def audit(event):
            events.append((event.client, event.kind, event.count, event.status))
            if len(events) == 2:  # after the first lookup: publish a new version
                db.add([("added-later", b"new")])
                db.remove([PRESENT[0]])
                server.update(db)

        server = PirServer.from_database(db, name="member", audit=audit)
        server.serve(party)
        return events
    c = PirClient(party.channel("member"))
    first = c.query(PRESENT + ABSENT)
    v1, up1 = c.version, party.stats().bytes_sent
    second = c.query([PRESENT[0], "added-later", PRESENT[1]])
    c.close()
    return first, second, v1 != c.version, c.hint_downloads, up1


def test_member_and_client_processes():
    events, (first, second, changed, downloads, upload) = run_parties_tls(
        one_member, names=["member", "client"], timeout=20.0)
    assert first == [WANT[k] for k in PRESENT] + [None, None]
    # The member published a new version in between: stale hint detected and refreshed.
    assert second == [None, b"new", WANT[PRESENT[1]]]
    assert changed and downloads == 2
    assert upload < 200_000  # OPRF points + one query column per key, plus headers
    assert events == [("client", "oprf", 5, "ok"), ("client", "pir", 5, "ok"),
                      ("client", "oprf", 3, "ok"), ("client", "pir", 3, "stale"),
                      ("client", "pir", 3, "ok")]
    assert "ID" not in repr(events) and PRESENT[0] not in repr(events)


def alliance_party(party, down):
    if party.name == down:
        return None  # connected, then gone: its channels close at once
    if party.name != "client":
        db = KeywordDatabase(LISTS[party.name], label_size=16)
        PirServer.from_database(db, name=party.name).serve(party, ["client"])
        return None
    alliance = Alliance({m: PirClient(party.channel(m)) for m in LISTS}, timeout=10.0)
    try:
        answer = alliance.query(["ID01002", "ID01500", "ID02999", "absent"])
    finally:
        alliance.close()
    return {n: (m.status, m.labels) for n, m in answer.members.items()}, answer.complete


def test_alliance_of_member_processes_with_one_down():
    names = ["client", *LISTS]
    results = run_parties_tls(alliance_party, names=names, args=[("fund",)] * len(names),
                              timeout=20.0)
    members, complete = results[0]
    assert not complete
    assert members["fund"][0] == DOWN and members["fund"][1] is None
    assert members["broker"] == (OK, (b"broker:2", b"broker:0", None, None))
    assert members["futures"] == (OK, (b"futures", b"futures", None, None))


# -- the long-running service -----------------------------------------------------------------

def member_process(name, records, config, conn):
    """A member serving `records` on a free port until the parent says stop."""
    db = KeywordDatabase(records, label_size=16)
    with PirService(PirServer.from_database(db, name=name), ("127.0.0.1", 0), config) as svc:
        svc.start()
        conn.send(svc.address[1])
        conn.recv()  # stop


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    good = make_tls_configs([*LISTS, "officer", "auditor"],
                            tmp_path_factory.mktemp("group"))
    rogue = make_tls_configs(["officer"], tmp_path_factory.mktemp("rogue"))
    return good, rogue["officer"]


@pytest.fixture(scope="module")
def members(pki):
    """broker and futures run as processes; fund's address has nobody listening (down)."""
    good, _ = pki
    ctx = mp.get_context("spawn")
    procs, pipes, addresses = [], {}, {}
    for name in ("broker", "futures"):
        parent, child = ctx.Pipe()
        p = ctx.Process(target=member_process, args=(name, LISTS[name], good[name], child),
                        daemon=True)
        p.start()
        procs.append(p)
        pipes[name] = parent
    for name, pipe in pipes.items():
        assert pipe.poll(30), f"{name} did not start"
        addresses[name] = ("127.0.0.1", pipe.recv())
    addresses["fund"] = ("127.0.0.1", free_ports(1)[0])
    yield addresses
    for pipe in pipes.values():
        pipe.send("stop")
    for p in procs:
        p.join(10)
        if p.is_alive():
            p.kill()


def openers(config, addresses, client="officer"):
    return {m: (lambda m=m: connect_member(client, m, addresses[m], config, timeout=10.0,
                                           connect_timeout=1.0)) for m in addresses}


def test_service_alliance_reports_a_down_member(pki, members):
    good, _ = pki
    addresses = members
    alliance = Alliance.connect(openers(good["officer"], addresses), timeout=10.0)
    try:
        answer = alliance.query(["ID01002", "ID01003", "absent"])
        again = alliance.query(["ID01500"])  # the same connections serve several queries
    finally:
        alliance.close()
    assert answer.members["broker"].labels == (b"broker:2", None, None)
    assert answer.members["futures"].labels == (b"futures", b"futures", None)
    fund = answer.members["fund"]
    assert fund.status == DOWN and "cannot reach 'fund'" in fund.error
    assert again.members["broker"].labels == (b"broker:0",)
    assert again.unavailable == {"fund": DOWN}


def test_service_accepts_clients_one_after_another_and_concurrently(pki, members):
    good, _ = pki
    addresses = members
    results, errors = [], []

    def officer(name):
        try:
            ch = connect_member(name, "broker", addresses["broker"], good[name], timeout=10.0)
            c = PirClient(ch)
            results.append(c.query(["ID00010", "ID00011"]))
            c.close()
            ch.close()
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    officer("officer")
    threads = [threading.Thread(target=officer, args=(n,)) for n in ("officer", "auditor") * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == [[b"broker:0", None]] * 5


def refused(svc, text, wait=20.0):
    """Whether the service logged a refusal containing `text` (it logs just after closing:
    milliseconds; the wait only ends early when it is there, so it can be generous)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if any(text in r for r in svc.refusals):
            return True
        time.sleep(0.02)
    print(svc.refusals)
    return False


@pytest.fixture
def futures_service(pki):
    good, _ = pki
    db = KeywordDatabase(LISTS["futures"], label_size=16)
    return lambda **kw: PirService(PirServer.from_database(db, name="futures"),
                                   ("127.0.0.1", 0), good["futures"], **kw)


def test_service_refuses_unknown_clients(pki, futures_service):
    good, rogue = pki
    with futures_service() as svc:
        svc.start()
        # A certificate from another CA (the client trusts the group CA): refused.
        outsider = TlsConfig(rogue.cert_file, rogue.key_file, good["officer"].ca_file)
        with pytest.raises(PeerUnavailable, match="did not accept us"):
            connect_member("officer", "futures", svc.address, outsider, connect_timeout=2.0)
        # A group certificate, but the client claims another name in its hello.
        cfg = good["officer"]
        with pytest.raises(PeerUnavailable, match="did not accept us"):
            dial("auditor", "futures", svc.address, cfg, cfg.context(server=False),
                 time.monotonic() + 2.0)
        # The member keeps both refusals, with their reason; a real member still gets in.
        c = PirClient(connect_member("officer", "futures", svc.address, cfg))
        assert c.query(["ID01999"]) == [b"futures"]
        c.close()
        assert refused(svc, "certificate verification failed")
        assert refused(svc, "refused 'auditor': its certificate is issued to 'officer'")


def test_allowed_names_narrow_the_group(pki, futures_service):
    good, _ = pki
    with futures_service(allowed={"auditor"}) as svc:
        svc.start()
        ok = PirClient(connect_member("auditor", "futures", svc.address, good["auditor"]))
        assert ok.query(["ID01000"]) == [b"futures"]
        ok.close()
        with pytest.raises(PeerUnavailable):
            connect_member("officer", "futures", svc.address, good["officer"],
                           connect_timeout=2.0)
        assert refused(svc, "unexpected peer 'officer'")


def test_concurrent_connections_share_one_batcher(pki):
    good, _ = pki
    server = PirServer.from_database(KeywordDatabase(LISTS["broker"], label_size=16),
                                     name="broker", window=0.1)
    barrier = threading.Barrier(4)
    results = []

    def client(i):
        name = ("officer", "auditor")[i % 2]
        c = PirClient(connect_member(name, "broker", svc.address, good[name]))
        c.refresh()
        tokens = c.tokens(["ID00002", "ID00003"])
        barrier.wait()
        results.append(c.lookup(tokens))
        c.close()

    with PirService(server, ("127.0.0.1", 0), good["broker"]) as svc:
        svc.start()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == [[b"broker:2", None]] * 4
    assert max(server.batches) > 2  # columns of several connections in one matrix product
