"""The node's data plane: one mutual-TLS listener that carries both control messages between
nodes (proposals, approvals, start/fail notices) and the per-job protocol channels.

Every connection is authenticated the same way as `yinji.net.connect`: TLS 1.3 with a
certificate from the trust file (peers' pinned certificates), then a hello naming the peer,
whose certificate must be that peer's pinned one. Unknown or mismatched peers are refused and
the refusal is reported to `on_refused` (the node audits it).

After the hello the dialer sends one JSON request frame:
    {"op": "msg", "body": {...}}                 -> one JSON reply frame, then close
    {"op": "anchor", "body": {...}}              -> the same, for audit-head anchoring
                                                   (yinji.node.anchors): kept apart from job
                                                   messages, which are audited one by one
    {"op": "channel", "job": ID, "spec_hash": H} -> {"ok": true} and the connection becomes
                                                   that job's `TlsChannel` between the two
A job's channels follow the `tls_network` rule: of two parties, the one whose name sorts first
dials. The acceptor only takes a channel for a job it has approved with the same spec hash.

JSON frames are at most 4 MiB and nested at most 64 deep (checked on the raw bytes before
decoding, so a deeply nested message is a clear refusal, never a RecursionError).

Every request names the dialer's crypto profile and every reply the acceptor's; either side
refuses a peer of another profile (`yinji.crypto.profile.mismatch`: the message names both
nodes and profiles), before the request is handled, and the acceptor reports the refusal.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from yinji.crypto.profile import DEFAULT, mismatch
from yinji.net.channel import ChannelError, Party, PeerUnavailable, TrafficTotals
from yinji.net.connect import (
    Address,
    TlsConfig,
    check_peer,
    dial,
    recv_hello,
    send_hello,
    tls_reason,
)
from yinji.net.framing import encode_bytes, read_frame
from yinji.net.tls import TlsChannel

_MAX_REQUEST = 4 << 20
_MAX_DEPTH = 64
_HANDSHAKE_TIMEOUT = 10.0   # seconds for the TLS handshake and hello together
_MAX_HANDSHAKES = 64        # unauthenticated connections at once; a new one evicts the oldest
_BRACKET = np.zeros(256, np.int8)
_BRACKET[[ord("["), ord("{")]] = 1
_BRACKET[[ord("]"), ord("}")]] = -1

Handler = Callable[[str, dict[str, Any]], dict[str, Any]]
ChannelCheck = Callable[[str, str, str], str | None]


def _send_json(sock: ssl.SSLSocket, obj: dict[str, Any]) -> None:
    header, payload = encode_bytes(json.dumps(obj, sort_keys=True).encode())
    sock.sendall(header + payload)


def json_depth(data: bytes) -> int:
    """How deeply arrays and objects nest in JSON text: brackets inside strings do not count,
    and a quote is escaped when an odd run of backslashes precedes it. Vectorised over the
    positions of quotes, backslashes and brackets only."""
    b = np.frombuffer(data, np.uint8)
    quotes, slashes = np.flatnonzero(b == ord('"')), np.flatnonzero(b == ord("\\"))
    brackets = np.flatnonzero(_BRACKET[b])
    if len(slashes) and len(quotes):   # drop quotes preceded by an odd run of backslashes
        run_start = np.maximum.accumulate(
            np.where(np.diff(slashes, prepend=-2) != 1, slashes, 0))
        i = np.minimum(np.searchsorted(slashes, quotes - 1), len(slashes) - 1)
        run = np.where(slashes[i] == quotes - 1, quotes - run_start[i], 0)
        quotes = quotes[run % 2 == 0]
    structural = brackets[np.searchsorted(quotes, brackets) % 2 == 0]
    steps = _BRACKET[b[structural]]
    return int(max(np.cumsum(steps, dtype=np.int64).max(), 0)) if len(steps) else 0


def _recv_json(sock: ssl.SSLSocket, peer: str) -> dict[str, Any]:
    frame = read_frame(sock.recv_into, max_payload=_MAX_REQUEST, peer=peer)
    if frame.kind:
        raise ChannelError(f"{peer} sent an array where a JSON message was expected")
    data = bytes(frame.value)
    if data.count(b"[") + data.count(b"{") > _MAX_DEPTH and json_depth(data) > _MAX_DEPTH:
        raise ChannelError(f"{peer} sent JSON nested deeper than {_MAX_DEPTH} levels")
    obj = json.loads(data.decode())
    if not isinstance(obj, dict):
        raise ChannelError(f"{peer} sent a JSON message that is not an object")
    return obj


def _answer(handler: Handler, peer: str, request: dict[str, Any]) -> dict[str, Any]:
    body = request.get("body")
    try:
        return handler(peer, body if isinstance(body, dict) else {})
    except Exception as exc:  # noqa: BLE001 - the peer gets the reason
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


class DataPlane:
    def __init__(self, name: str, bind: Address, tls: Callable[[], TlsConfig],
                 peer_address: Callable[[str], Address], handler: Handler,
                 channel_check: ChannelCheck,
                 on_refused: Callable[[str, str], None] = lambda who, why: None,
                 anchor_handler: Handler | None = None, profile: str = DEFAULT,
                 handshake_timeout: float = _HANDSHAKE_TIMEOUT,
                 max_handshakes: int = _MAX_HANDSHAKES) -> None:
        self.name, self.bind, self.profile = name, bind, profile
        self.handshake_timeout, self.max_handshakes = handshake_timeout, max_handshakes
        # unauthenticated connections, oldest first: accepted socket -> the socket in use
        self._handshaking: dict[socket.socket, list[socket.socket]] = {}
        self._tls, self._peer_address = tls, peer_address
        self._handler, self._channel_check, self._on_refused = handler, channel_check, on_refused
        self._anchor_handler = anchor_handler
        self.traffic = TrafficTotals()   # job channels' bytes, for /metrics
        self._pending: dict[tuple[str, str], tuple[float, ssl.SSLSocket]] = {}
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None

    # -- server -----------------------------------------------------------------------------
    def start(self) -> None:
        self._listener = socket.create_server(self.bind, backlog=128, reuse_port=False)
        self._listener.settimeout(0.5)
        self._thread = threading.Thread(target=self._accept_loop, daemon=True,
                                        name=f"yinji-dataplane {self.name}")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            try:   # wakes the accept loop at once on Linux (else it notices within 0.5 s)
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(5)
        if self._listener is not None:
            self._listener.close()
        with self._cond:
            for _, sock in self._pending.values():
                sock.close()
            self._pending.clear()

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            try:
                raw, addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._cond:   # unauthenticated slots: the oldest gives way to the newest
                while len(self._handshaking) >= self.max_handshakes:
                    (in_use,) = self._handshaking.pop(next(iter(self._handshaking)))
                    try:   # its thread's handshake fails at once and it reports the refusal
                        in_use.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                self._handshaking[raw] = [raw]
            threading.Thread(target=self._serve, args=(raw, f"{addr[0]}:{addr[1]}"),
                             daemon=True, name=f"yinji-dp-conn {self.name}").start()

    def _authenticated(self, raw: socket.socket) -> None:
        with self._cond:
            self._handshaking.pop(raw, None)

    def _serve(self, raw: socket.socket, where: str) -> None:
        """One connection: TLS handshake and hello within one deadline, then one request."""
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        deadline = time.monotonic() + self.handshake_timeout
        raw.settimeout(self.handshake_timeout)  # CPython's ssl: one deadline for the handshake
        config = self._tls()
        sock: socket.socket = raw
        try:
            sock = config.context(server=True).wrap_socket(raw, server_side=True,
                                                           do_handshake_on_connect=False)
            with self._cond:   # wrapping detached `raw`: eviction must shut `sock` down
                if raw not in self._handshaking:  # evicted while wrapping: its shutdown
                    raise ConnectionAbortedError(  # hit the detached socket, so stop here
                        "evicted: too many connections in the handshake")
                self._handshaking[raw][0] = sock
            sock.do_handshake()
        except (ssl.SSLError, OSError) as exc:
            self._authenticated(raw)
            sock.close()
            self._on_refused(f"unknown@{where}", self._reason(exc))
            return
        keep = False
        peer = f"unknown@{where}"
        try:
            said = recv_hello(sock, where, deadline)
            if said == self.name or said not in config.pins:
                raise PeerUnavailable(f"unknown peer name {said!r}")
            check_peer(self.name, sock, said, config)
            peer = said
            self._authenticated(raw)
            sock.settimeout(_HANDSHAKE_TIMEOUT)
            send_hello(sock, self.name)
            request = _recv_json(sock, peer)
            op = request.get("op")
            theirs = request.get("profile") or DEFAULT
            if theirs != self.profile:
                why = mismatch(self.name, self.profile, peer, str(theirs)[:40])
                _send_json(sock, {"ok": False, "error": why, "profile": self.profile})
                self._on_refused(peer, why)
            elif op == "msg":
                body = request.get("body") or {}
                if not isinstance(body, dict):
                    raise ChannelError(f"{peer} sent a message body that is not an object")
                try:
                    reply = self._handler(peer, body)
                except Exception as exc:  # noqa: BLE001 - the peer gets the reason
                    reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                _send_json(sock, {**reply, "profile": self.profile})
            elif op == "anchor" and self._anchor_handler is not None:
                _send_json(sock, {**_answer(self._anchor_handler, peer, request),
                                  "profile": self.profile})
            elif op == "channel":
                job, spec_hash = str(request.get("job", "")), str(request.get("spec_hash", ""))
                reason = self._channel_check(peer, job, spec_hash)
                if reason:
                    _send_json(sock, {"ok": False, "error": reason, "profile": self.profile})
                else:
                    _send_json(sock, {"ok": True, "profile": self.profile})
                    sock.settimeout(None)
                    with self._cond:
                        self._pending[(job, peer)] = (time.monotonic(), sock)
                        self._cond.notify_all()
                    keep = True
            else:
                _send_json(sock, {"ok": False, "error": f"unknown op {op!r}",
                                  "profile": self.profile})
        except (PeerUnavailable, ChannelError, ssl.SSLError, OSError, ValueError) as exc:
            self._on_refused(peer, self._reason(exc) if peer.startswith("unknown@")
                             else tls_reason(exc))
        finally:
            self._authenticated(raw)
            if not keep:
                sock.close()

    def _reason(self, exc: BaseException) -> str:
        if isinstance(exc, TimeoutError):
            return f"did not authenticate within {self.handshake_timeout:g} s"
        return tls_reason(exc)

    # -- client -----------------------------------------------------------------------------
    def _dial(self, peer: str, timeout: float, retry: bool = True) -> ssl.SSLSocket:
        config = self._tls()
        if peer not in config.pins or peer == self.name:
            raise PeerUnavailable(f"{self.name}: {peer!r} is not a known peer")
        sock = dial(self.name, peer, self._peer_address(peer), config,
                    config.context(server=False), time.monotonic() + timeout, retry)
        sock.settimeout(timeout)
        return sock

    def _check_profile(self, peer: str, reply: dict[str, Any]) -> dict[str, Any]:
        theirs = reply.pop("profile", None) or DEFAULT
        if theirs != self.profile:
            raise PeerUnavailable(f"{self.name}: refused {peer!r}: "
                                  + mismatch(self.name, self.profile, peer, str(theirs)[:40]))
        return reply

    def request(self, peer: str, body: dict[str, Any], timeout: float = 10.0,
                op: str = "msg", retry: bool = True) -> dict[str, Any]:
        """Send one control message (`op` "msg" or "anchor") to `peer`; return its reply.
        With `retry`, a refused connection is retried until `timeout` (a peer starting up)."""
        sock = self._dial(peer, timeout, retry)
        try:
            _send_json(sock, {"op": op, "body": body, "profile": self.profile})
            return self._check_profile(peer, _recv_json(sock, peer))
        except (ssl.SSLError, OSError) as exc:
            raise PeerUnavailable(f"{self.name}: {peer!r}: {tls_reason(exc)}") from None
        finally:
            sock.close()

    def job_party(self, job_id: str, spec_hash: str, parties: list[str], timeout: float,
                  channel_timeout: float) -> Party:
        """Channels to the other `parties` of a job (dial those whose names sort after ours,
        wait for the others to dial us)."""
        socks: dict[str, ssl.SSLSocket] = {}
        deadline = time.monotonic() + timeout
        try:
            for peer in sorted(parties):
                if peer == self.name or peer < self.name:
                    continue
                sock = self._dial(peer, max(deadline - time.monotonic(), 0.1))
                try:
                    _send_json(sock, {"op": "channel", "job": job_id, "spec_hash": spec_hash,
                                      "profile": self.profile})
                    reply = self._check_profile(peer, _recv_json(sock, peer))
                except BaseException:
                    sock.close()
                    raise
                if not reply.get("ok"):
                    sock.close()
                    raise PeerUnavailable(f"{self.name}: {peer!r} refused the job channel: "
                                          f"{reply.get('error')}")
                sock.settimeout(None)
                socks[peer] = sock
            for peer in sorted(parties):
                if peer < self.name:
                    socks[peer] = self._wait(job_id, peer, deadline)
        except BaseException:
            for sock in socks.values():
                sock.close()
            raise
        party = Party(self.name, {p: TlsChannel(self.name, p, s, timeout=channel_timeout)
                                  for p, s in socks.items()})
        for ch in party.channels.values():
            self.traffic.track(ch)
        return party

    def _wait(self, job_id: str, peer: str, deadline: float) -> ssl.SSLSocket:
        key = (job_id, peer)
        with self._cond:
            while key not in self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stop.is_set():
                    raise PeerUnavailable(f"{self.name}: {peer!r} did not open its channel for "
                                          f"job {job_id} in time")
                self._cond.wait(min(remaining, 1.0))
            return self._pending.pop(key)[1]

    def drop_job(self, job_id: str) -> None:
        """Close channels that peers opened for a job that will not run here."""
        with self._cond:
            for key in [k for k in self._pending if k[0] == job_id]:
                self._pending.pop(key)[1].close()
