"""`TlsChannel`: a `Channel` over one mutually authenticated TLS 1.3 connection.

Why one I/O thread per channel that owns the socket: two parties that send each other 8 MB
at the same time must not deadlock, so sends only enqueue and return; and OpenSSL does not
allow one SSL object to be driven from two threads at once, so the same thread that writes
also reads. It runs the socket non-blocking, alternates writing queued frames and reading
incoming ones (straight into the numpy buffer the frame ends up in, see `framing`), and
sleeps in a selector when neither can progress. Callers receive whole frames from a queue, so
a receive timeout never leaves the stream half-read.

Why reading ahead is bounded: the I/O thread reads frames before anyone asks for them (so
decryption overlaps the caller's computing), but only while the frames waiting in the queue
hold less than `read_ahead` bytes. A frame that would not fit is read only once a caller
waits for it, and only if it fits the limit that caller gave (`recv_*_at_most`, else
`max_payload`); until then it stays in the kernel's socket buffer and TCP slows the sender.
So a peer cannot make us hold more than `read_ahead` bytes it was not asked for, and a
protocol can refuse an oversized message from its header, before receiving the payload.
Since sends never block the caller, this adds no deadlock: every frame is read when its
receiver asks for it.

`tls_network` builds a `Party` from such channels; who dials whom, the certificate and name
checks and the hello exchange are in `yinji.net.connect`. For services with clients that come
and go (a PIR member), `TlsListener` accepts any client the trust file vouches for, one
`TlsChannel` per connection, and `tls_connect` is the client's side of that.
"""

from __future__ import annotations

import collections
import itertools
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
    INITIAL_BUFFER,
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
DEFAULT_READ_AHEAD = 64 << 20  # bytes of frames read before a caller asks for them
DEFAULT_HANDSHAKE_TIMEOUT = 10.0  # seconds a TlsListener client has to authenticate
_FRAME_OVERHEAD = 256     # bytes a queued frame costs beyond its wire size (Python objects)

_Parts = tuple[memoryview | bytes, ...]


class TlsChannel(Channel):
    """One end of a TLS connection to `peer`, already handshaken and authenticated.

    `send_*` copies what it is given, queues it and returns; `close()` sends what is queued
    (waiting up to `timeout`) and then closes the connection. Limits: no message over
    `max_payload` bytes; at most `read_ahead` bytes of messages received before a caller
    asked for them (module docstring). Breaking a limit fails the channel with
    `MalformedFrame`.
    """

    def __init__(self, owner: str, peer: str, sock: ssl.SSLSocket, *,
                 timeout: float = DEFAULT_TIMEOUT,
                 max_payload: int = DEFAULT_MAX_PAYLOAD,
                 read_ahead: int = DEFAULT_READ_AHEAD) -> None:
        super().__init__()
        keep_buffers()
        self.owner, self.peer, self.timeout = owner, peer, timeout
        self.max_payload, self.read_ahead = max_payload, read_ahead
        self._sock = sock
        self._decoder = FrameDecoder(max_payload, initial=max(INITIAL_BUFFER, read_ahead))
        # Shared with the I/O thread, under `_cv`: received frames (or the failure) with the
        # bytes each counts against `read_ahead`, their total, the limit of a caller waiting
        # for the next frame, and whether the I/O thread stopped reading for want of either.
        self._cv = threading.Condition()
        self._inbox: collections.deque[tuple[Frame | ChannelError, int]] = collections.deque()
        self._buffered = 0
        self._claim: int | None = None
        self._parked = False
        self._admitted = False  # I/O thread: the payload being read was allowed in
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
        return self._recv(KIND_BYTES, self.max_payload)  # type: ignore[return-value]

    def recv_array(self) -> np.ndarray:
        return self._recv(KIND_ARRAY, self.max_payload)  # type: ignore[return-value]

    def recv_bytes_at_most(self, limit: int) -> bytes:
        return self._recv(KIND_BYTES, limit)  # type: ignore[return-value]

    def recv_array_at_most(self, limit: int) -> np.ndarray:
        return self._recv(KIND_ARRAY, limit)  # type: ignore[return-value]

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

    def _recv(self, kind: int, limit: int) -> bytes | np.ndarray:
        if self._closed:
            raise ChannelClosed(f"{self.owner}: channel to {self.peer!r} is closed")
        limit = min(limit, self.max_payload)
        deadline = time.monotonic() + self.timeout
        with self._cv:
            while not self._inbox:
                if self._claim != limit:  # tell the I/O thread what we accept next
                    self._claim = limit
                    if self._parked:
                        self._wake()
                left = deadline - time.monotonic()
                if left <= 0:
                    self._claim = None
                    raise ChannelTimeout(f"{self.owner}: nothing from {self.peer!r} within "
                                         f"{self.timeout:g} s")
                self._cv.wait(left)
            item, cost = self._inbox[0]
            if isinstance(item, ChannelError):  # stays queued: every later call fails so
                raise type(item)(str(item))
            self._inbox.popleft()
            self._buffered -= cost
            if cost and self._parked and self._buffered <= self.read_ahead // 2:
                self._wake()  # room for a batch of frames, not one wake-up per frame
        if item.kind != kind:
            names = {KIND_BYTES: "bytes", KIND_ARRAY: "array"}
            raise ChannelError(f"{self.owner}: expected {names[kind]} from {self.peer!r}, "
                               f"got {names[item.kind]}")
        size = len(item.value) if item.kind == KIND_BYTES else item.value.nbytes
        if size > limit:  # read ahead before the caller said its limit
            exc = self._too_big(size, limit)
            self._fail(exc, drop_queued=True)
            self._abort = True
            self._wake()
            raise exc
        self.stats.bytes_received += item.wire_bytes
        self.stats.messages_received += 1
        return item.value

    def _too_big(self, size: int, limit: int) -> MalformedFrame:
        return MalformedFrame(f"{self.owner}: from {self.peer!r}: message of {size} bytes "
                              f"exceeds the limit of {limit} bytes")

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

    def _fail(self, exc: ChannelError, drop_queued: bool = False) -> None:
        """Record the channel's first failure; receivers get it after the frames queued
        before it, or at once with `drop_queued`."""
        with self._cv:
            first = self._failure is None
            if first:
                self._failure = exc
            if drop_queued:
                self._inbox.clear()
                self._buffered = 0
            if first or drop_queued:
                self._inbox.append((self._failure, 0))  # type: ignore[arg-type]
                self._cv.notify_all()

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
                wanted = (0 if self._parked else selectors.EVENT_READ) | (
                    selectors.EVENT_WRITE if read_wants_write or write_wants_write else 0)
                if wanted != events:  # parked and nothing to write: only the wake-up counts
                    if not events:
                        sel.register(sock, wanted)
                    elif not wanted:
                        sel.unregister(sock)
                    else:
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
        """Read frames until SSL has nothing more or the next one must wait (`_parked`);
        return (budget ran out, SSL wants write)."""
        budget = _PASS_BUDGET
        while budget > 0:
            if not self._admitted and not self._may_read():
                return False, False
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
                self._deliver(frame)
            budget -= n
        return True, False

    def _may_read(self) -> bool:
        """Whether to read on now: into a header if a caller waits or there is read-ahead
        room; into a payload if a waiting caller accepts its size (else the channel fails)
        or it fits the read-ahead room. Sets `_parked` when not."""
        announced = self._decoder.announced
        with self._cv:
            waiting = self._claim is not None and not self._inbox
            if announced is None:
                ok = waiting or self._buffered < self.read_ahead
            elif waiting:
                if announced > self._claim:  # type: ignore[operator]
                    raise self._too_big(announced, self._claim)  # type: ignore[arg-type]
                ok = True
            else:
                ok = self._buffered + announced <= self.read_ahead
            self._parked = not ok
        self._admitted = ok and announced is not None
        return ok

    def _deliver(self, frame: Frame) -> None:
        self._admitted = False
        with self._cv:
            if self._claim is not None and not self._inbox:  # a caller waits for this one
                self._claim, cost = None, 0
            else:
                cost = frame.wire_bytes + _FRAME_OVERHEAD
            self._buffered += cost
            self._inbox.append((frame, cost))
            self._cv.notify()

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
                max_payload: int = DEFAULT_MAX_PAYLOAD,
                read_ahead: int = DEFAULT_READ_AHEAD) -> Party:
    """Connect `name` to every other party in `addresses` and return its `Party`.

    Listens on `bind` (default: its own entry in `addresses`) for parties whose names sort
    before it and dials the others, retrying until `connect_timeout` while they start up.
    Raises `PeerUnavailable` naming the first peer that could not be reached or was refused,
    and `ValueError` at once if our own certificate is expired or issued to another name.
    `timeout` is each channel's receive timeout; `max_payload` and `read_ahead` are each
    channel's limits (see `TlsChannel`).
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
                                         max_payload=max_payload, read_ahead=read_ahead)
                        for peer in peers})


def tls_connect(owner: str, peer: str, address: Address, config: TlsConfig, *,
                timeout: float = DEFAULT_TIMEOUT, connect_timeout: float = 10.0,
                max_payload: int = DEFAULT_MAX_PAYLOAD,
                read_ahead: int = DEFAULT_READ_AHEAD) -> TlsChannel:
    """Dial one service `peer` at `address` as `owner` (e.g. a client of a `TlsListener`).

    Retries refused connections until `connect_timeout`, then raises `PeerUnavailable`; the
    same certificate, name and pin checks as `tls_network`.
    """
    check_own_certificate(owner, config)
    sock = dial(owner, peer, address, config, config.context(server=False),
                time.monotonic() + connect_timeout)
    return TlsChannel(owner, peer, sock, timeout=timeout, max_payload=max_payload,
                      read_ahead=read_ahead)


class TlsListener:
    """A long-running mutual-TLS endpoint: admits clients one connection at a time, for ever.

    Any client whose certificate chains to `config.ca_file` (and matches its pin, if pins are
    set) and is issued to the name it introduces itself with is admitted; `allowed`, if
    given, narrows that to a set of names. Everyone else is refused at the handshake and the
    refusal is kept in `refusals` and told to `on_refused`. Each connection gets its own
    thread, which does the handshake (so a slow client holds up nobody else), calls
    `handler(channel)` and closes the channel when the handler returns. `channel.peer` is the
    authenticated name.

    Why two kinds of slots: anyone who can reach the port can open TCP connections, so
    unauthenticated ones must not use up what authenticated clients need. A connection has
    `handshake_timeout` seconds for its TLS handshake and hello (in total); at most
    `max_handshakes` may be under way, and one more evicts the oldest (an idle connection
    is old; a real client's handshake takes milliseconds). Only authenticated connections
    count towards `max_connections`; one over that is refused after its handshake.
    """

    def __init__(self, owner: str, bind: Address, config: TlsConfig, *,
                 allowed: Collection[str] | None = None, timeout: float = DEFAULT_TIMEOUT,
                 max_connections: int = 256, max_handshakes: int = 64,
                 handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
                 max_payload: int = DEFAULT_MAX_PAYLOAD, read_ahead: int = DEFAULT_READ_AHEAD,
                 on_refused: Callable[[str], None] | None = None) -> None:
        if max_handshakes < 1 or max_connections < 1 or handshake_timeout <= 0:
            raise ValueError("max_handshakes, max_connections and handshake_timeout must be "
                             "positive")
        check_own_certificate(owner, config)
        self.owner, self.config, self.timeout = owner, config, timeout
        self.on_refused = on_refused  # told each refusal's reason (e.g. to audit it)
        self.allowed = frozenset(allowed) if allowed is not None else None
        self.max_connections, self.max_handshakes = max_connections, max_handshakes
        self.handshake_timeout = handshake_timeout
        self.max_payload, self.read_ahead = max_payload, read_ahead
        self.refusals: collections.deque[str] = collections.deque(maxlen=100)
        self._ctx = config.context(server=True)
        self._listener = socket.create_server(bind, backlog=64)
        self.address: Address = self._listener.getsockname()[:2]
        self._stop = threading.Event()
        self._serving = False
        self._lock = threading.Lock()
        self._ids = itertools.count()
        # Connection id -> a duplicate of its socket, kept to cut a pending handshake short
        # (the TLS wrapper takes over the original descriptor); ids evicted for room.
        self._pending: dict[int, socket.socket] = {}
        self._evicted: set[int] = set()
        self._live: dict[int, TlsChannel | None] = {}  # authenticated: id -> its channel

    def retrust(self, config: TlsConfig, allowed: Collection[str] | None) -> None:
        """Whom to admit from the next handshake on (peers added or removed while serving);
        open connections of a client no longer admitted are closed (their handlers see
        ChannelClosed). Our own certificate stays the same."""
        check_own_certificate(self.owner, config)
        ctx = config.context(server=True)
        with self._lock:
            self.config, self._ctx = config, ctx
            self.allowed = frozenset(allowed) if allowed is not None else None
            gone = [ch for ch in self._live.values() if ch is not None and (
                not self._allowed(ch.peer) or (config.pins and ch.peer not in config.pins))]
        for ch in gone:
            ch.close()

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
                except OSError as exc:  # out of descriptors, say: refuse, retry shortly
                    self._refused(f"{self.owner}: cannot accept a connection: {exc}")
                    self._stop.wait(0.1)
                    continue
                where = f"{addr[0]}:{addr[1]}"
                try:
                    dup = raw.dup()
                except OSError as exc:
                    raw.close()
                    self._refused(f"{self.owner}: refused {where}: {exc}")
                    continue
                with self._lock:
                    cid = next(self._ids)
                    if len(self._pending) >= self.max_handshakes:
                        self._evict_oldest()
                    self._pending[cid] = dup
                threading.Thread(target=self._connection, args=(cid, raw, where, handler),
                                 daemon=True, name=f"yinji-conn {self.owner}<-{where}").start()
        finally:
            self._listener.close()

    def _evict_oldest(self) -> None:
        """Cut the oldest pending handshake short (caller holds the lock)."""
        oldest = next(iter(self._pending))
        self._evicted.add(oldest)
        _cut(self._pending.pop(oldest))

    def _connection(self, cid: int, raw: socket.socket, where: str,
                    handler: Callable[[TlsChannel], None]) -> None:
        ch: TlsChannel | None = None
        try:
            try:
                peer, sock = admit(self.owner, raw, where, self.config, self._ctx,
                                   self._allowed, self.handshake_timeout)
            except PeerUnavailable as exc:
                with self._lock:
                    evicted = cid in self._evicted
                self._refused(f"{self.owner}: refused {where}: handshake cut short, "
                              f"{self.max_handshakes} newer ones pending" if evicted
                              else str(exc))
                return
            finally:
                with self._lock:
                    dup = self._pending.pop(cid, None)
                    self._evicted.discard(cid)
                if dup is not None:
                    dup.close()
            with self._lock:
                full = len(self._live) >= self.max_connections
                if not full:
                    self._live[cid] = None
            if full:
                sock.close()
                self._refused(f"{self.owner}: refused {peer!r} at {where}: "
                              f"{self.max_connections} connections open")
                return
            ch = TlsChannel(self.owner, peer, sock, timeout=self.timeout,
                            max_payload=self.max_payload, read_ahead=self.read_ahead)
            with self._lock:
                self._live[cid] = ch
            if self._stop.is_set():
                return
            handler(ch)
        finally:
            with self._lock:
                self._live.pop(cid, None)
            if ch is not None:
                ch.close()

    @property
    def connections(self) -> int:
        """Authenticated connections being served right now."""
        with self._lock:
            return len(self._live)

    @property
    def handshakes(self) -> int:
        """Connections whose handshake is under way."""
        with self._lock:
            return len(self._pending)

    def close(self) -> None:
        """Stop accepting, cut pending handshakes short and close every open connection
        (their handlers see ChannelClosed)."""
        with self._lock:
            self._stop.set()
            if not self._serving:  # otherwise `serve` closes it within its next poll
                self._listener.close()
            live = [ch for ch in self._live.values() if ch is not None]
            pending, self._pending = list(self._pending.values()), {}
        for dup in pending:
            _cut(dup)
        for ch in live:
            ch.close()


def _cut(sock: socket.socket) -> None:
    """End a connection another thread is using (shutdown reaches every descriptor of it),
    then close our descriptor."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


__all__ = ["DEFAULT_HANDSHAKE_TIMEOUT", "DEFAULT_READ_AHEAD", "TlsChannel", "TlsConfig",
           "TlsListener", "tls_connect", "tls_network"]
