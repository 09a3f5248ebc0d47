"""Opening authenticated TLS 1.3 connections to named peers.

Rule: of two parties, the one whose name sorts first dials, the other accepts, so every pair
gets exactly one connection with no negotiation. After the TLS handshake each side checks the
peer's certificate chain (OpenSSL, against `TlsConfig.ca_file`, which includes expiry), that
the certificate is issued to the expected party name, and its pinned SHA-256 fingerprint if
pins are configured; then both send a hello frame naming themselves, so the acceptor learns
which peer connected and the dialer learns the acceptor accepted its certificate. Anything
that fails these checks is refused with `PeerUnavailable` naming the peer and the reason.

Every wait in set-up has a deadline for the whole exchange, not per read: a client that
dribbles one byte at a time must finish its handshake and hello within the time allowed, and
the hello is read with a 1 KiB limit, so an unauthenticated client costs at most that buffer.

Python's `ssl` cannot ask for a client certificate without verifying its chain, so pins
narrow the trust file rather than replace it. Two set-ups: `ca_file` is a group CA (pins
optional), or, without a CA, `ca_file` holds the peers' own `self_signed_cert`s and every
peer is pinned.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from yinji.crypto.certs import cert_names, fingerprint, normalize_fingerprint
from yinji.net.channel import ChannelError, PeerUnavailable
from yinji.net.framing import encode_bytes, read_frame

Address = tuple[str, int]
_HELLO = b"yinji-hello/1 "
_MAX_HELLO = 1024
_POLL = 0.25  # how often a waiting acceptor checks whether set-up was abandoned
_ADMIT_TIMEOUT = 10.0  # one slow or silent client must not hold up the others for long


class HandshakeTimeout(TimeoutError):
    """The peer did not finish the TLS handshake and hello within the deadline."""


@dataclass(frozen=True)
class TlsConfig:
    """This party's certificate and key files, and whom it trusts.

    `pins` maps peer names to SHA-256 certificate fingerprints (hex, colons allowed), or to
    several (a peer rotating its certificate: old and new); when given, every peer must have
    a pin and present exactly one of those certificates.
    """

    cert_file: Path
    key_file: Path
    ca_file: Path
    pins: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)

    def context(self, server: bool) -> ssl.SSLContext:
        """A TLS 1.3-only context that presents our certificate and requires the peer's."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        if not server:
            ctx.check_hostname = False  # party names are checked by `check_peer`, not DNS
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_cert_chain(self.cert_file, self.key_file)
        ctx.load_verify_locations(cafile=self.ca_file)
        if server:
            ctx.num_tickets = 0  # no resumption; nothing unread is left on the socket
        return ctx


def check_own_certificate(owner: str, config: TlsConfig) -> None:
    """Fail early and plainly if our own certificate is expired, not yet valid or not ours;
    peers would only refuse us with a TLS alert."""
    pem = Path(config.cert_file).read_bytes()
    cert = x509.load_pem_x509_certificate(pem)
    now = dt.datetime.now(dt.UTC)
    where = f"{owner}: own certificate {config.cert_file}"
    if now > cert.not_valid_after_utc:
        raise ValueError(f"{where} expired at {cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC")
    if now < cert.not_valid_before_utc:
        raise ValueError(f"{where} is not valid before "
                         f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    names = cert_names(pem)
    if owner not in names:
        raise ValueError(f"{where} is issued to {', '.join(map(repr, names))}, not {owner!r}")


def check_peer(owner: str, sock: ssl.SSLSocket, expected: str, config: TlsConfig) -> None:
    """Refuse the connection unless the verified peer certificate is `expected`'s."""
    der = sock.getpeercert(binary_form=True)
    if not der:
        raise PeerUnavailable(f"{owner}: refused {expected!r}: no certificate presented")
    names = cert_names(der)
    if expected not in names:
        raise PeerUnavailable(f"{owner}: refused {expected!r}: its certificate is issued to "
                              f"{', '.join(map(repr, names)) or 'nobody'}")
    if config.pins:
        pin = config.pins.get(expected)
        if pin is None:
            raise PeerUnavailable(f"{owner}: refused {expected!r}: no pinned fingerprint")
        got = fingerprint(der)
        if got not in {normalize_fingerprint(p) for p in ((pin,) if isinstance(pin, str)
                                                          else pin)}:
            raise PeerUnavailable(f"{owner}: refused {expected!r}: certificate fingerprint "
                                  f"{got} does not match the pinned one")


def tls_reason(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verification failed: {exc.verify_message}"
    return str(exc) or type(exc).__name__


def send_hello(sock: ssl.SSLSocket, name: str) -> None:
    header, payload = encode_bytes(_HELLO + name.encode())
    sock.sendall(header + payload)


def _until(sock: ssl.SSLSocket, deadline: float) -> Callable[[memoryview], int]:
    """`sock.recv_into` bounded by one deadline over all calls (monotonic clock)."""
    def recv_into(buf: memoryview) -> int:
        left = deadline - time.monotonic()
        if left <= 0:
            raise HandshakeTimeout("timed out")
        sock.settimeout(left)  # CPython's ssl keeps one deadline within each call
        return sock.recv_into(buf)
    return recv_into


def recv_hello(sock: ssl.SSLSocket, peer: str, deadline: float | None = None) -> str:
    recv_into = sock.recv_into if deadline is None else _until(sock, deadline)
    frame = read_frame(recv_into, max_payload=_MAX_HELLO, peer=peer)
    if frame.kind or not bytes(frame.value).startswith(_HELLO):
        raise ChannelError(f"{peer} sent no hello")
    return bytes(frame.value)[len(_HELLO):].decode("utf-8", errors="replace")


def _tune(raw: socket.socket) -> None:
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def dial(owner: str, peer: str, address: Address, config: TlsConfig, ctx: ssl.SSLContext,
         deadline: float, retry: bool = True) -> ssl.SSLSocket:
    """Connect to `peer`, retrying refused connections until `deadline` (monotonic) unless
    `retry` is false (a peer that is down fails at once)."""
    where = f"{peer!r} at {address[0]}:{address[1]}"
    delay, last = 0.02, "no attempt"
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PeerUnavailable(f"{owner}: cannot reach {where}: {last}")
        try:
            raw = socket.create_connection(address, timeout=remaining)
            break
        except OSError as exc:
            last = str(exc) or type(exc).__name__
            if not retry:
                raise PeerUnavailable(f"{owner}: cannot reach {where}: {last}") from None
            time.sleep(min(delay, max(remaining, 0)))
            delay = min(delay * 2, 0.25)
    _tune(raw)
    try:
        raw.settimeout(max(deadline - time.monotonic(), 0.001))
        sock = ctx.wrap_socket(raw)
    except (ssl.SSLError, OSError) as exc:
        raw.close()
        raise PeerUnavailable(f"{owner}: refused {where}: {tls_reason(exc)}") from None
    try:
        check_peer(owner, sock, peer, config)
        try:
            send_hello(sock, owner)
            said = recv_hello(sock, peer, deadline)
        except (ssl.SSLError, OSError, ChannelError) as exc:
            raise PeerUnavailable(f"{owner}: {where} did not accept us (does it trust our "
                                  f"certificate?): {tls_reason(exc)}") from None
        if said != peer:
            raise PeerUnavailable(f"{owner}: {where} introduced itself as {said!r}")
    except BaseException:
        sock.close()
        raise
    return sock


def admit(owner: str, raw: socket.socket, where: str, config: TlsConfig,
          ctx: ssl.SSLContext, allowed: Callable[[str], bool],
          timeout: float = _ADMIT_TIMEOUT) -> tuple[str, ssl.SSLSocket]:
    """Server side of one connection: TLS handshake, the peer's hello, its certificate.

    Returns (peer name, socket) if the peer names itself, `allowed(name)` holds and its
    verified certificate is issued to that name (and matches its pin, if pins are set);
    otherwise closes the connection and raises `PeerUnavailable` saying why (nothing else,
    whatever the client sent). `timeout` bounds the handshake and hello together, so a
    silent or slow client cannot hold the caller for longer.
    """
    deadline = time.monotonic() + timeout
    late = f"{owner}: refused {where}: did not authenticate within {timeout:g} s"
    _tune(raw)
    raw.settimeout(timeout)  # one deadline for the whole handshake (CPython's ssl)
    try:
        sock = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError) as exc:
        raw.close()
        if isinstance(exc, TimeoutError):
            raise PeerUnavailable(late) from None
        raise PeerUnavailable(f"{owner}: refused {where}: {tls_reason(exc)}") from None
    try:
        said = recv_hello(sock, where, deadline)
        if not allowed(said):
            raise PeerUnavailable(f"{owner}: refused {where}: unexpected peer {said!r}")
        check_peer(owner, sock, said, config)
        send_hello(sock, owner)
    except Exception as exc:  # noqa: BLE001 - whatever a client sends ends in a refusal
        sock.close()
        if isinstance(exc, PeerUnavailable):
            raise
        if isinstance(exc, TimeoutError):
            raise PeerUnavailable(late) from None
        raise PeerUnavailable(f"{owner}: refused {where}: {tls_reason(exc)}") from None
    return said, sock


class Acceptor:
    """Accepts the connections of `expected` peers on a listening socket, in a thread."""

    def __init__(self, owner: str, bind: Address, expected: set[str], config: TlsConfig,
                 deadline: float) -> None:
        self.owner, self.expected, self.config, self.deadline = owner, expected, config, deadline
        self.accepted: dict[str, ssl.SSLSocket] = {}
        self.error: PeerUnavailable | None = None
        self._refusals: list[str] = []
        self._cancel = threading.Event()
        self._ctx = config.context(server=True)
        self._listener = socket.create_server(bind, backlog=len(expected) + 8)
        self.address: Address = self._listener.getsockname()[:2]  # port 0 -> the one chosen
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"yinji-accept {owner}")
        self._thread.start()

    def result(self) -> dict[str, ssl.SSLSocket]:
        """Wait for all expected peers; raise `PeerUnavailable` for those that never came."""
        self._thread.join()
        if self.error is None and self.expected - self.accepted.keys():
            self.error = self._missing()
        if self.error is not None:
            raise self.error
        return self.accepted

    def cancel(self) -> None:
        """Stop waiting and close everything accepted so far."""
        self._cancel.set()
        self._thread.join()
        for sock in self.accepted.values():
            sock.close()

    def _run(self) -> None:
        try:
            while self.expected - self.accepted.keys() and not self._cancel.is_set():
                remaining = self.deadline - time.monotonic()
                if remaining <= 0:
                    self.error = self._missing()
                    return
                self._listener.settimeout(min(remaining, _POLL))
                try:
                    raw, addr = self._listener.accept()
                except TimeoutError:
                    continue
                self._admit(raw, f"{addr[0]}:{addr[1]}", remaining)
        finally:
            self._listener.close()

    def _admit(self, raw: socket.socket, where: str, remaining: float) -> None:
        try:
            said, sock = admit(self.owner, raw, where, self.config, self._ctx,
                               lambda name: name in self.expected and name not in self.accepted,
                               min(remaining, _ADMIT_TIMEOUT))
        except PeerUnavailable as exc:
            self._refusals.append(str(exc))
            return
        self.accepted[said] = sock

    def _missing(self) -> PeerUnavailable:
        missing = ", ".join(repr(p) for p in sorted(self.expected - self.accepted.keys()))
        text = f"{self.owner}: {missing} did not connect in time"
        if self._refusals:
            text += "; refused connections: " + "; ".join(self._refusals[-3:])
        return PeerUnavailable(text)


__all__ = ["Acceptor", "Address", "HandshakeTimeout", "TlsConfig", "admit", "check_own_certificate", "check_peer",
           "dial"]
