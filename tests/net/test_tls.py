"""Mutual-TLS transport: exchange over real processes, and every way a peer must be refused."""

import datetime as dt
import multiprocessing
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from yinji.crypto.certs import (
    fingerprint,
    issue_cert,
    make_ca,
    self_signed_cert,
    write_cert_key,
)
from yinji.net import tls as tls_module
from yinji.net.channel import (
    ChannelClosed,
    ChannelError,
    ChannelStats,
    ChannelTimeout,
    MalformedFrame,
    PeerUnavailable,
)
from yinji.net.framing import encode_array
from yinji.net.tls import TlsConfig, TlsListener, tls_connect, tls_network
from yinji.testing.parties import run_parties
from yinji.testing.tls import free_ports, make_tls_configs, run_parties_tls

pytestmark = pytest.mark.tls

BIG = 10**6


# -- bodies run by both backends (module level: spawned processes import them) ----------

def exchange(party):
    """Every party sends a large array and bytes to every other one before receiving any."""
    me = int(party.name[1:])
    big = np.arange(BIG, dtype=np.uint64) * np.uint64(me + 1)
    for peer in party.peers:
        party.channel(peer).send_array(big)
        party.channel(peer).send_bytes(party.name.encode())
        party.channel(peer).send_array(np.eye(3, dtype=bool))
    big[:] = 0  # queued sends were copied
    ok = []
    for peer in party.peers:
        ch = party.channel(peer)
        got = ch.recv_array()
        them = int(peer[1:])
        ok.append(bool(np.array_equal(got, np.arange(BIG, dtype=np.uint64) * np.uint64(them + 1))))
        ok.append(ch.recv_bytes() == peer.encode())
        ok.append(bool(np.array_equal(ch.recv_array(), np.eye(3, dtype=bool))))
    return all(ok), party.stats()


def fail_in_p0(party):
    if party.name == "P0":
        raise ValueError("boom in P0")
    return party.channel("P0").recv_bytes()  # fails at once: P0 closes its channels


@pytest.mark.parametrize("runner", [run_parties, run_parties_tls], ids=["memory", "tls"])
def test_three_parties_exchange_both_directions(runner):
    results = runner(exchange, 3, timeout=20.0)
    assert [ok for ok, _ in results] == [True, True, True]
    if runner is run_parties_tls:  # exact wire bytes: headers + dims + payloads
        per_peer = (16 + 8 + 8 * BIG) + (16 + 2) + (16 + 16 + 9)
        assert [s for _, s in results] == [ChannelStats(2 * per_peer, 6, 2 * per_peer, 6)] * 3


def test_remote_exception_is_reraised_with_its_traceback():
    start = time.monotonic()
    with pytest.raises(ValueError, match="boom in P0") as info:
        run_parties_tls(fail_in_p0, 3, timeout=120.0)
    assert "traceback in party P0" in "".join(info.value.__notes__)
    # peers learnt of the failure, no timeout: ~2.2 s here (three processes start), the bound
    # is 27x that and half the 120 s the peers would otherwise wait
    assert time.monotonic() - start < 60.0
    assert not multiprocessing.active_children()


# -- in-process connections, one thread per party --------------------------------------

@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A group CA with a certificate each for P0 and P1."""
    d = tmp_path_factory.mktemp("pki")
    configs = make_tls_configs(["P0", "P1"], d)
    return d, configs


def addresses(names=("P0", "P1")):
    return {n: ("127.0.0.1", p) for n, p in zip(names, free_ports(len(names)), strict=True)}


def connect(configs, *, connect_timeout=1.0, timeout=5.0, names=("P0", "P1")):
    """Run `tls_network` for each party in a thread; return each party or its exception."""
    addrs, out = addresses(names), {}

    def one(name):
        try:
            out[name] = tls_network(name, addrs, configs[name], timeout=timeout,
                                    connect_timeout=connect_timeout)
        except Exception as exc:  # noqa: BLE001 - inspected by the test
            out[name] = exc

    threads = [threading.Thread(target=one, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def close_all(out):
    for v in out.values():
        if not isinstance(v, Exception):
            v.close()


def with_cert(pki, name, cert_key, stem):
    d, configs = pki
    cert_file, key_file = write_cert_key(cert_key, d, stem)
    return {**configs, name: replace(configs[name], cert_file=cert_file, key_file=key_file)}


@pytest.fixture
def skip_own_check(monkeypatch):
    """Let a misconfigured party connect anyway, to test what its peers do about it."""
    monkeypatch.setattr(tls_module, "check_own_certificate", lambda name, config: None)


@pytest.fixture
def pair(pki):
    out = connect(pki[1])
    yield out["P0"], out["P1"]
    close_all(out)


def test_pinned_fingerprints_accept_the_right_peer(pki):
    d, configs = pki
    pins = {n: fingerprint(c.cert_file.read_bytes()) for n, c in configs.items()}
    out = connect({n: replace(c, pins=pins) for n, c in configs.items()})
    try:
        out["P0"].channel("P1").send_bytes(b"hi")
        assert out["P1"].channel("P0").recv_bytes() == b"hi"
    finally:
        close_all(out)


def test_self_signed_certificates_with_pins(tmp_path):
    ids = {n: self_signed_cert(n) for n in ("P0", "P1")}
    (tmp_path / "peers.crt").write_bytes(b"".join(c.cert_pem for c in ids.values()))
    pins = {n: fingerprint(c.cert_pem) for n, c in ids.items()}
    configs = {n: TlsConfig(*write_cert_key(c, tmp_path, n), tmp_path / "peers.crt", pins)
               for n, c in ids.items()}
    out = connect(configs)
    try:
        out["P1"].channel("P0").send_bytes(b"no CA needed")
        assert out["P0"].channel("P1").recv_bytes() == b"no CA needed"
    finally:
        close_all(out)


@pytest.mark.parametrize("rogue", ["P0", "P1"])
def test_certificate_from_another_ca_is_refused(pki, rogue):
    configs = with_cert(pki, rogue, issue_cert(make_ca("rogue-ca"), rogue), f"rogue-{rogue}")
    out = connect(configs)
    honest = "P1" if rogue == "P0" else "P0"
    assert isinstance(out[honest], PeerUnavailable) and isinstance(out[rogue], PeerUnavailable)
    assert f"{rogue!r}" in str(out[honest])
    assert "certificate verif" in str(out[honest]) or "certificate verif" in str(out[rogue])


def test_wrong_pinned_fingerprint_is_refused(pki):
    d, configs = pki
    other = fingerprint(issue_cert(make_ca("x"), "P1").cert_pem)
    pins = {"P0": fingerprint(configs["P0"].cert_file.read_bytes()), "P1": other}
    out = connect({n: replace(c, pins=pins) for n, c in configs.items()})
    assert isinstance(out["P0"], PeerUnavailable)
    assert "refused 'P1'" in str(out["P0"]) and "does not match the pinned" in str(out["P0"])


def test_certificate_for_another_name_is_refused_by_the_dialer(pki, skip_own_check):
    d, configs = pki
    ca = make_ca("group")  # a fresh group CA so the impostor's chain itself is valid
    (d / "group.crt").write_bytes(ca.cert_pem)
    configs = {n: replace(c, ca_file=d / "group.crt") for n, c in configs.items()}
    good = write_cert_key(issue_cert(ca, "P0"), d, "g-P0")
    bad = write_cert_key(issue_cert(ca, "P2"), d, "g-P1-as-P2")
    configs["P0"] = replace(configs["P0"], cert_file=good[0], key_file=good[1])
    configs["P1"] = replace(configs["P1"], cert_file=bad[0], key_file=bad[1])
    out = connect(configs)
    assert isinstance(out["P0"], PeerUnavailable)
    assert "refused 'P1'" in str(out["P0"]) and "issued to 'P2'" in str(out["P0"])


def test_dialer_claiming_another_name_is_refused_by_the_acceptor(pki, skip_own_check):
    d, configs = pki
    ca = make_ca("group2")
    (d / "group2.crt").write_bytes(ca.cert_pem)
    configs = {n: replace(c, ca_file=d / "group2.crt") for n, c in configs.items()}
    for name, cert_name in [("P0", "PX"), ("P1", "P1")]:
        cert_file, key_file = write_cert_key(issue_cert(ca, cert_name), d, f"g2-{name}")
        configs[name] = replace(configs[name], cert_file=cert_file, key_file=key_file)
    out = connect(configs)
    assert isinstance(out["P1"], PeerUnavailable)
    assert "'P0' did not connect" in str(out["P1"]) and "issued to 'PX'" in str(out["P1"])
    assert isinstance(out["P0"], PeerUnavailable) and "did not accept us" in str(out["P0"])


def expired_p1(pki):
    now = dt.datetime.now(dt.UTC)
    d, configs = pki
    ca = make_ca("group3")
    (d / "group3.crt").write_bytes(ca.cert_pem)
    configs = {n: replace(c, ca_file=d / "group3.crt") for n, c in configs.items()}
    for name, cert in [("P0", issue_cert(ca, "P0")),
                       ("P1", issue_cert(ca, "P1", not_before=now - dt.timedelta(days=30),
                                         not_after=now - dt.timedelta(days=1)))]:
        cert_file, key_file = write_cert_key(cert, d, f"g3-{name}")
        configs[name] = replace(configs[name], cert_file=cert_file, key_file=key_file)
    return configs


def test_expired_certificate_is_refused_by_the_peer(pki, skip_own_check):
    out = connect(expired_p1(pki))
    assert isinstance(out["P0"], PeerUnavailable)
    assert "'P1'" in str(out["P0"]) and "certificate has expired" in str(out["P0"])


def test_own_expired_or_misnamed_certificate_fails_early(pki):
    configs = expired_p1(pki)
    with pytest.raises(ValueError, match="P1: own certificate .* expired at"):
        tls_network("P1", addresses(), configs["P1"])
    with pytest.raises(ValueError, match="issued to 'P0', not 'P1'"):
        tls_network("P1", addresses(), configs["P0"])


def test_peer_down_is_unavailable_within_the_connect_timeout(pki):
    addrs = addresses()
    start = time.monotonic()
    with pytest.raises(PeerUnavailable, match="cannot reach 'P1' at 127.0.0.1"):
        tls_network("P0", addrs, pki[1]["P0"], connect_timeout=0.5)
    # 0.5 s measured; 12x that, and far below the 30 s default an ignored timeout would take
    assert time.monotonic() - start < 6.0


def test_recv_timeout_leaves_the_channel_usable(pair):
    p0, p1 = pair
    p1.channel("P0").timeout = 0.2
    with pytest.raises(ChannelTimeout, match="nothing from 'P0' within 0.2 s"):
        p1.channel("P0").recv_bytes()
    p0.channel("P1").send_array(np.arange(3))
    np.testing.assert_array_equal(p1.channel("P0").recv_array(), np.arange(3))


def test_peer_closing_mid_message_raises_channel_closed(pair):
    p0, p1 = pair
    header, payload = encode_array(np.arange(10**5, dtype=np.uint64))
    p0.channel("P1")._enqueue(header, payload[:1000])  # a frame cut short, then close
    p0.close()
    with pytest.raises(ChannelClosed, match="'P0' closed the connection in the middle"):
        p1.channel("P0").recv_array()
    with pytest.raises(ChannelClosed):
        p1.channel("P0").recv_array()  # and stays closed


def test_messages_before_a_close_are_delivered(pair):
    p0, p1 = pair
    p0.channel("P1").send_bytes(b"last words")
    p0.close()
    assert p1.channel("P0").recv_bytes() == b"last words"
    with pytest.raises(ChannelClosed, match="'P0' closed the connection$"):
        p1.channel("P0").recv_bytes()
    with pytest.raises(ChannelClosed):
        p0.channel("P1").send_bytes(b"after close")


def test_malformed_frame_from_peer(pair):
    p0, p1 = pair
    header, payload = encode_array(np.arange(4, dtype=np.uint64))
    p0.channel("P1")._enqueue(b"\x80\x04" + header[2:], payload)  # a pickle would start so
    with pytest.raises(MalformedFrame, match="from 'P0': bad magic"):
        p1.channel("P0").recv_array()


def test_kind_mismatch_is_an_error(pair):
    p0, p1 = pair
    p0.channel("P1").send_bytes(b"x")
    with pytest.raises(ChannelError, match="expected array from 'P0', got bytes"):
        p1.channel("P0").recv_array()


def test_listener_admits_any_group_client_repeatedly(pki):
    configs = pki[1]
    served = []

    def echo(ch):
        served.append(ch.peer)
        ch.send_bytes(ch.recv_bytes()[::-1])

    listener = TlsListener("P0", ("127.0.0.1", 0), configs["P0"], timeout=5.0)
    t = threading.Thread(target=listener.serve, args=(echo,), daemon=True)
    t.start()
    try:
        for name in ("P1", "P1"):
            ch = tls_connect(name, "P0", listener.address, configs[name], timeout=5.0)
            ch.send_bytes(b"abc")
            assert ch.recv_bytes() == b"cba"
            ch.close()
    finally:
        listener.close()
        t.join(5)
    assert served == ["P1", "P1"] and not t.is_alive()
