"""`TlsChannel`: a `Channel` over one mutually authenticated TLS 1.3 connection.

Why one I/O thread per channel that owns the socket: two parties that send each other 8 MB
at the same time must not deadlock, so sends only enqueue and return; and OpenSSL does not
allow one SSL object to be driven from two threads at once, so the same thread that writes
also reads. It runs the socket non-blocking, alternates writing queued frames and reading
incoming ones (straight into a freshly allocated numpy buffer, see `framing`), and sleeps in
a selector when neither can progress. Callers receive whole frames from a queue, so a receive
timeout never leaves the stream half-read.

`tls_network` builds a `Party` from such channels; who dials whom, the certificate and name
checks and the hello exchange are in `yinji.net.connect`. For services with clients that come
and go (a PIR member), `TlsListener` accepts any client the trust file vouches for, one
`TlsChannel` per connection, and `tls_connect` is the client's side of that.
"""

from __future__ import annotations

import collections
import queue
import selectors
import socket
import ssl
import threading
import time
from collections.abc import Callable, Collection, Mapping

import numpy as np

from yinji.net.alloc import keep_buffers
from yinji.net.channel import (
    DEFAULT_TIMEOUT,
    Channel,
    ChannelClosed,
    ChannelError,
    ChannelTimeout,
    MalformedFrame,
    Party,
    PeerUnavailable,
)
from yinji.net.connect import (
    Acceptor,
    Address,
    TlsConfig,
    admit,
    check_own_certificate,
    dial,
)
from yinji.net.framing import (
    DEFAULT_MAX_PAYLOAD,
    KIND_ARRAY,
    KIND_BYTES,
    Frame,
    FrameDecoder,
    encode_array,
    encode_bytes,
)

_CHUNK = 1 << 20          # bytes handed to one SSL write
_PASS_BUDGET = 8 << 20    # bytes read or written before the loop turns to the other direction
_COALESCE = 64 << 10      # payloads up to this size go out in one record with their header

_Parts = tuple[memoryview | bytes, ...]


class TlsChannel(Channel):
    """One end of a TLS connection to `peer`, already handshaken and authenticated.

    `send_*` copies what it is given, queues it and returns; `close()` sends what is queued
    (waiting up to `timeout`) and then closes the connection.
    """

    def __init__(self, owner: str, peer: str, sock: ssl.SSLSocket, *,
                 timeout: float = DEFAULT_TIMEOUT,
                 max_payload: int = DEFAULT_MAX_PAYLOAD) -> None:
        super().__init__()
        keep_buffers()
        self.owner, self.peer, self.timeout = owner, peer, timeout
        self._sock = sock
        self._decoder = FrameDecoder(max_payload)
        self._inbox: queue.Queue[Frame | ChannelError] = queue.Queue()
        self._outbox: collections.deque[_Parts] = collections.deque()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._closed = False      # set by close(): no more calls from this side
        self._closing = False     # the I/O thread should flush and stop
        self._abort = False       # the I/O thread should stop now
        self._failure: ChannelError | None = None
        # Owned by the I/O thread: parts of the message being written, and the chunk SSL
        # is in the middle of.
        self._pending: collections.deque[memoryview | bytes] = collections.deque()
        self._current: memoryview | bytes | None = None
        sock.setblocking(False)
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"yinji-tls {owner}->{peer}")
        self._thread.start()

    # -- caller side -----------------------------------------------------------------------

    def send_bytes(self, data: bytes) -> None:
        header, payload = encode_bytes(bytes(data))
        self._enqueue(header, payload)

    def send_array(self, array: np.ndarray) -> None:
        array = np.asarray(array)
        header, payload = encode_array(array)
        if np.may_share_memory(array, np.frombuffer(payload, dtype=np.uint8)):
            payload = memoryview(payload.tobytes())  # the caller may reuse its buffer
        self._enqueue(header, payload)

    def recv_bytes(self) -> bytes:
        return self._recv(KIND_BYTES)  # type: ignore[return-value]

    def recv_array(self) -> np.ndarray:
        return self._recv(KIND_ARRAY)  # type: ignore[return-value]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = self._closing = True
        self._wake()
        self._thread.join(self.timeout)
        if self._thread.is_alive():  # the peer stopped reading: give up on the queue
            self._abort = True
            self._wake()
            self._thread.join(5.0)
        if not self._thread.is_alive():  # never close descriptors under a live selector
            self._wake_r.close()
            self._wake_w.close()

    def _check_open(self) -> None:
        if self._closed:
            raise ChannelClosed(f"{self.owner}: channel to {self.peer!r} is closed")
        if self._failure is not None:
            raise type(self._failure)(str(self._failure))

    def _enqueue(self, header: bytes, payload: memoryview) -> None:
        self._check_open()
        wire = len(header) + payload.nbytes
        parts: _Parts = (header + payload,) if payload.nbytes <= _COALESCE else (header, payload)
        self.stats.bytes_sent += wire
        self.stats.messages_sent += 1
        self._outbox.append(parts)
        self._wake()

    def _recv(self, kind: int) -> bytes | np.ndarray:
        if self._closed:
            raise ChannelClosed(f"{self.owner}: channel to {self.peer!r} is closed")
        try:
            item = self._inbox.get(timeout=self.timeout)
        except queue.Empty:
            raise ChannelTimeout(
                f"{self.owner}: nothing from {self.peer!r} within {self.timeout:g} s") from None
        if isinstance(item, ChannelError):
            self._inbox.put(item)  # every later call fails the same way
            raise type(item)(str(item))
        if item.kind != kind:
            names = {KIND_BYTES: "bytes", KIND_ARRAY: "array"}
            raise ChannelError(f"{self.owner}: expected {names[kind]} from {self.peer!r}, "
                               f"got {names[item.kind]}")
        self.stats.bytes_received += item.wire_bytes
        self.stats.messages_received += 1
        return item.value

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"\0")
        except OSError:  # a wake-up is already pending, or the thread has ended
            pass

    # -- I/O thread ------------------------------------------------------------------------

    def _run(self) -> None:
        graceful = False
        try:
            self._loop()
            graceful = not self._abort
        except ChannelError as exc:
            self._fail(exc)
        except (ssl.SSLError, OSError) as exc:
            self._fail(ChannelClosed(
                f"{self.owner}: connection to {self.peer!r} failed: {exc}"))
        except BaseException as exc:  # noqa: BLE001 - a bug must still unblock receivers
            self._fail(ChannelError(f"{self.owner}: channel to {self.peer!r} broke: {exc!r}"))
        finally:
            self._shutdown(graceful)

    def _fail(self, exc: ChannelError) -> None:
        self._failure = exc
        self._inbox.put(exc)

    def _loop(self) -> None:
        sock, wake = self._sock, self._wake_r
        with selectors.DefaultSelector() as sel:
            sel.register(sock, selectors.EVENT_READ)
            sel.register(wake, selectors.EVENT_READ)
            events = selectors.EVENT_READ
            while not self._abort:
                more_to_read, read_wants_write = self._read_some()
                more_to_write, write_wants_write = self._write_some()
                # `_closing` first: sends queued before close() are then visible below.
                if self._closing and self._current is None and not self._pending \
                        and not self._outbox:
                    return
                wanted = selectors.EVENT_READ | (
                    selectors.EVENT_WRITE if read_wants_write or write_wants_write else 0)
                if wanted != events:
                    sel.modify(sock, wanted)
                    events = wanted
                ready = sel.select(0 if more_to_read or more_to_write else None)
                if any(key.fileobj is wake for key, _ in ready):
                    try:
                        while wake.recv(4096):
                            pass
                    except BlockingIOError:
                        pass

    def _read_some(self) -> tuple[bool, bool]:
        """Read frames until SSL has nothing more; return (budget ran out, SSL wants write)."""
        budget = _PASS_BUDGET
        while budget > 0:
            try:
                n = self._sock.recv_into(self._decoder.buffer())
            except ssl.SSLWantReadError:
                return False, False
            except ssl.SSLWantWriteError:
                return False, True
            if n == 0:
                where = "" if self._decoder.at_boundary else " in the middle of a message"
                raise ChannelClosed(f"{self.owner}: {self.peer!r} closed the connection{where}")
            try:
                frame = self._decoder.advance(n)
            except MalformedFrame as exc:
                raise MalformedFrame(f"{self.owner}: from {self.peer!r}: {exc}") from None
            if frame is not None:
                self._inbox.put(frame)
            budget -= n
        return True, False

    def _write_some(self) -> tuple[bool, bool]:
        """Write queued chunks until SSL blocks; return (budget ran out, SSL wants write).

        A chunk that SSL refused with WantWrite is kept in `_current` and offered again
        unchanged, as OpenSSL requires."""
        budget = _PASS_BUDGET
        while budget > 0:
            if self._current is None:
                self._current = self._next_chunk()
                if self._current is None:
                    return False, False
            try:
                n = self._sock.send(self._current)
            except ssl.SSLWantWriteError:
                return False, True
            except ssl.SSLWantReadError:
                return False, False
            budget -= n
            self._current = self._current[n:] if n < len(self._current) else None
        return True, False

    def _next_chunk(self) -> memoryview | bytes | None:
        pending = self._pending
        while True:
            while not pending:
                try:
                    pending.extend(self._outbox.popleft())
                except IndexError:
                    return None
            part = pending.popleft()
            if len(part) > _CHUNK:
                pending.appendleft(part[_CHUNK:])
                part = part[:_CHUNK]
            if len(part):
                return part

    def _shutdown(self, graceful: bool) -> None:
        if graceful:
            try:
                self._sock.unwrap()  # sends close_notify; the peer's reply is not awaited
            except (ssl.SSLError, OSError, ValueError):
                pass
        self._sock.close()
        if self._failure is None:
            self._fail(ChannelClosed(f"{self.owner}: channel to {self.peer!r} is closed"))


def tls_network(name: str, addresses: Mapping[str, Address], config: TlsConfig, *,
                timeout: float = DEFAULT_TIMEOUT, connect_timeout: float = 30.0,
                bind: Address | None = None,
                max_payload: int = DEFAULT_MAX_PAYLOAD) -> Party:
    """Connect `name` to every other party in `addresses` and return its `Party`.

    Listens on `bind` (default: its own entry in `addresses`) for parties whose names sort
    before it and dials the others, retrying until `connect_timeout` while they start up.
    Raises `PeerUnavailable` naming the first peer that could not be reached or was refused,
    and `ValueError` at once if our own certificate is expired or issued to another name.
    `timeout` is each channel's receive timeout.
    """
    if name not in addresses:
        raise ValueError(f"{name!r} has no entry in addresses ({', '.join(sorted(addresses))})")
    check_own_certificate(name, config)
    peers = sorted(p for p in addresses if p != name)
    deadline = time.monotonic() + connect_timeout
    earlier = {p for p in peers if p < name}
    acceptor = (Acceptor(name, bind or addresses[name], earlier, config, deadline)
                if earlier else None)
    socks: dict[str, ssl.SSLSocket] = {}
    try:
        ctx = config.context(server=False)
        for peer in peers:
            if peer > name:
                socks[peer] = dial(name, peer, addresses[peer], config, ctx, deadline)
        if acceptor is not None:
            socks.update(acceptor.result())
    except BaseException:
        if acceptor is not None:
            acceptor.cancel()
        for sock in socks.values():
            sock.close()
        raise
    return Party(name, {peer: TlsChannel(name, peer, socks[peer], timeout=timeout,
                                         max_payload=max_payload) for peer in peers})


def tls_connect(owner: str, peer: str, address: Address, config: TlsConfig, *,
                timeout: float = DEFAULT_TIMEOUT, connect_timeout: float = 10.0,
                max_payload: int = DEFAULT_MAX_PAYLOAD) -> TlsChannel:
    """Dial one service `peer` at `address` as `owner` (e.g. a client of a `TlsListener`).

    Retries refused connections until `connect_timeout`, then raises `PeerUnavailable`; the
    same certificate, name and pin checks as `tls_network`.
    """
    check_own_certificate(owner, config)
    sock = dial(owner, peer, address, config, config.context(server=False),
                time.monotonic() + connect_timeout)
    return TlsChannel(owner, peer, sock, timeout=timeout, max_payload=max_payload)


class TlsListener:
    """A long-running mutual-TLS endpoint: admits clients one connection at a time, for ever.

    Any client whose certificate chains to `config.ca_file` (and matches its pin, if pins are
    set) and is issued to the name it introduces itself with is admitted; `allowed`, if
    given, narrows that to a set of names. Everyone else is refused at the handshake and the
    refusal is kept in `refusals`. Each admitted connection gets its own thread, which does
    the handshake (so a slow client holds up nobody else), calls `handler(channel)` and
    closes the channel when the handler returns. `channel.peer` is the authenticated name.
    """

    def __init__(self, owner: str, bind: Address, config: TlsConfig, *,
                 allowed: Collection[str] | None = None, timeout: float = DEFAULT_TIMEOUT,
                 max_connections: int = 256, max_payload: int = DEFAULT_MAX_PAYLOAD,
                 on_refused: Callable[[str], None] | None = None) -> None:
        check_own_certificate(owner, config)
        self.owner, self.config, self.timeout = owner, config, timeout
        self.on_refused = on_refused  # told each refusal's reason (e.g. to audit it)
        self.allowed = frozenset(allowed) if allowed is not None else None
        self.max_connections, self.max_payload = max_connections, max_payload
        self.refusals: collections.deque[str] = collections.deque(maxlen=100)
        self._ctx = config.context(server=True)
        self._listener = socket.create_server(bind, backlog=64)
        self.address: Address = self._listener.getsockname()[:2]
        self._stop = threading.Event()
        self._serving = False
        self._lock = threading.Lock()
        self._live: dict[int, TlsChannel | None] = {}  # connection thread id -> its channel

    def _refused(self, reason: str) -> None:
        self.refusals.append(reason)
        if self.on_refused is not None:
            self.on_refused(reason)

    def _allowed(self, name: str) -> bool:
        return name != self.owner and (self.allowed is None or name in self.allowed)

    def serve(self, handler: Callable[[TlsChannel], None]) -> None:
        """Accept connections until `close()`, then close the listening socket and return."""
        with self._lock:
            if self._stop.is_set():
                return
            self._serving = True
        try:
            while not self._stop.is_set():
                self._listener.settimeout(0.25)
                try:
                    raw, addr = self._listener.accept()
                except TimeoutError:
                    continue
                where = f"{addr[0]}:{addr[1]}"
                with self._lock:
                    full = len(self._live) >= self.max_connections
                if full:
                    raw.close()
                    self._refused(f"{self.owner}: refused {where}: too many connections")
                    continue
                t = threading.Thread(target=self._connection, args=(raw, where, handler),
                                     daemon=True, name=f"yinji-conn {self.owner}<-{where}")
                with self._lock:
                    self._live[id(t)] = None
                t.start()
        finally:
            self._listener.close()

    def _connection(self, raw: socket.socket, where: str,
                    handler: Callable[[TlsChannel], None]) -> None:
        me = id(threading.current_thread())
        ch: TlsChannel | None = None
        try:
            try:
                peer, sock = admit(self.owner, raw, where, self.config, self._ctx, self._allowed)
            except PeerUnavailable as exc:
                self._refused(str(exc))
                return
            ch = TlsChannel(self.owner, peer, sock, timeout=self.timeout,
                            max_payload=self.max_payload)
            with self._lock:
                self._live[me] = ch
            if self._stop.is_set():
                return
            handler(ch)
        finally:
            with self._lock:
                self._live.pop(me, None)
            if ch is not None:
                ch.close()

    @property
    def connections(self) -> int:
        """Connections being set up or served right now."""
        with self._lock:
            return len(self._live)

    def close(self) -> None:
        """Stop accepting and close every open connection (their handlers see ChannelClosed)."""
        with self._lock:
            self._stop.set()
            if not self._serving:  # otherwise `serve` closes it within its next poll
                self._listener.close()
            live = [ch for ch in self._live.values() if ch is not None]
        for ch in live:
            ch.close()


__all__ = ["TlsChannel", "TlsConfig", "TlsListener", "tls_connect", "tls_network"]
