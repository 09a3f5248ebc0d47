"""Query alliance (匿踪联盟): one call asks every member the same keys, concurrently.

Why explicit statuses: a risk officer reading "no hit" must know whether every member
actually answered. Each member's entry is `ok` (labels, None meaning absent), or `timeout`,
`down`, `rate_limited` or `error` with the reason — a member is never silently missing.

Leakage: per member exactly that of `PirClient` (the member learns a query of k keys happened,
not which). Members do not talk to each other and learn nothing of the others' answers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from yinji.net.channel import (
    Channel,
    ChannelClosed,
    ChannelError,
    ChannelTimeout,
    PeerUnavailable,
)
from yinji.pir.client import PirClient
from yinji.pir.hint_cache import HintCache
from yinji.pir.keyword import Key, as_key
from yinji.pir.oprf import RateLimited

OK, TIMEOUT, DOWN, RATE_LIMITED, ERROR = "ok", "timeout", "down", "rate_limited", "error"


@dataclass(frozen=True)
class MemberAnswer:
    """One member's part of an alliance answer."""

    member: str
    status: str
    labels: tuple[bytes | None, ...] | None  # aligned with the keys; None unless status ok
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK


@dataclass(frozen=True)
class AllianceAnswer:
    keys: tuple[bytes, ...]
    members: dict[str, MemberAnswer]

    @property
    def complete(self) -> bool:
        """True when every member answered (a miss then means absent everywhere)."""
        return all(m.ok for m in self.members.values())

    @property
    def unavailable(self) -> dict[str, str]:
        """Members that did not answer, with their status."""
        return {n: m.status for n, m in self.members.items() if not m.ok}

    def hits(self, key: Key) -> dict[str, bytes]:
        """Label per member that holds `key` (among members that answered)."""
        i = self.keys.index(as_key(key))
        return {n: m.labels[i] for n, m in self.members.items()
                if m.ok and m.labels is not None and m.labels[i] is not None}


class Alliance:
    """A client's connections to several members (one `PirClient` each)."""

    def __init__(self, members: Mapping[str, PirClient], timeout: float = 5.0, *,
                 unavailable: Mapping[str, str] | None = None) -> None:
        """`unavailable`: members that could not even be connected to, with the reason;
        every answer reports them as `down`."""
        self.members = dict(members)
        self.unavailable = dict(unavailable or {})
        self.timeout = timeout
        self._owns_channels = False  # True when `connect` opened them
        self._pool = ThreadPoolExecutor(max_workers=max(1, 2 * len(self.members)),
                                        thread_name_prefix="alliance")

    @classmethod
    def connect(cls, openers: Mapping[str, Callable[[], Channel]], timeout: float = 5.0,
                *, hint_cache: HintCache | None = None,
                hint_keys: Mapping[str, str] | None = None) -> Alliance:
        """Open a channel to every member concurrently (`openers[name]()`, e.g. a TLS dial);
        members that cannot be reached or refuse us are kept, as `down` with the reason.
        `hint_cache`: start from each member's hint kept on disk, under `hint_keys[name]`
        (default: the name)."""
        def open_one(item: tuple[str, Callable[[], Channel]]) -> PirClient | str:
            cache = None if hint_cache is None else \
                (hint_cache, (hint_keys or {}).get(item[0], item[0]))
            try:
                return PirClient(item[1](), hint_cache=cache)
            except ChannelError as exc:
                return str(exc)
            except OSError as exc:
                return f"{type(exc).__name__}: {exc}"

        with ThreadPoolExecutor(max_workers=max(1, len(openers))) as pool:
            opened = dict(zip(openers, pool.map(open_one, openers.items()), strict=True))
        alliance = cls({n: c for n, c in opened.items() if isinstance(c, PirClient)}, timeout,
                       unavailable={n: c for n, c in opened.items() if isinstance(c, str)})
        alliance._owns_channels = True
        return alliance

    def _ask(self, name: str, keys: list[bytes]) -> MemberAnswer:
        client = self.members[name]
        start = time.perf_counter()
        if not client.lock.acquire(blocking=False):
            return MemberAnswer(name, TIMEOUT, None, 0.0, "still busy with an earlier query")
        client.lock.release()  # PirClient.query takes it again
        try:
            labels = tuple(client.query(keys))
            status, err = OK, None
        except (ChannelClosed, PeerUnavailable) as exc:
            labels, status, err = None, DOWN, str(exc)
        except ChannelTimeout as exc:
            labels, status, err = None, TIMEOUT, str(exc)
        except RateLimited as exc:
            labels, status, err = None, RATE_LIMITED, str(exc)
        except Exception as exc:  # noqa: BLE001 - reported per member, never swallowed
            labels, status, err = None, ERROR, f"{type(exc).__name__}: {exc}"
        return MemberAnswer(name, status, labels, time.perf_counter() - start, err)

    def query(self, keys: Sequence[Key], timeout: float | None = None) -> AllianceAnswer:
        """Ask every member for every key; wait at most `timeout` seconds overall."""
        keys_b = [as_key(k) for k in keys]
        limit = self.timeout if timeout is None else timeout
        start = time.perf_counter()
        futures: dict[str, Future] = {n: self._pool.submit(self._ask, n, keys_b)
                                      for n in self.members}
        wait(futures.values(), timeout=limit)
        answers: dict[str, MemberAnswer] = {
            name: MemberAnswer(name, DOWN, None, 0.0, reason)
            for name, reason in self.unavailable.items()}
        for name, fut in futures.items():
            if fut.done():
                answers[name] = fut.result()
            else:
                answers[name] = MemberAnswer(name, TIMEOUT, None, time.perf_counter() - start,
                                             f"no answer within {limit:g} s")
        return AllianceAnswer(tuple(keys_b), answers)

    def prepare(self, count: int) -> None:
        """Offline work for the next `count` keys at every member (see `PirClient.prepare`)."""
        list(self._pool.map(lambda c: c.prepare(count), self.members.values()))

    def close(self, *, keep_clients: bool = False) -> None:
        """Say bye to the members that are still reachable, close the channels if `connect`
        opened them, and stop the worker threads. `keep_clients`: only stop the worker
        threads; the caller goes on using the clients (e.g. a node's pool of connections,
        which keeps each member's hint across queries)."""
        if keep_clients:
            self._pool.shutdown(wait=False, cancel_futures=True)
            return
        for client in self.members.values():
            if client.lock.acquire(blocking=False):
                client.lock.release()
                try:
                    client.close()
                except ChannelError:
                    pass
            if self._owns_channels:
                try:
                    client.channel.close()
                except ChannelError:
                    pass
        self._pool.shutdown(wait=False, cancel_futures=True)


__all__ = ["DOWN", "ERROR", "OK", "RATE_LIMITED", "TIMEOUT", "Alliance", "AllianceAnswer",
           "MemberAnswer"]
