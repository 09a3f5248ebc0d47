"""Where a node's parallel local work runs: threads in this process, or actors on Ray.

A protocol that splits its work into independent pieces (e.g. bucketed PSI's lanes) creates
one object per piece with `start(cls, args)` and calls a method on all of them at once with
`call(objects, method, args)`; it never needs to know where they run. `LocalWorkers` keeps the
objects in this process and runs the calls on threads (enough on one machine: the hot loops
release the GIL); `RayWorkers` makes each object a Ray actor with its own CPU reservation, so
the pieces spread over every machine of a Ray cluster (`ray.address` in the node's config).
We use Ray rather than a scheduler of our own: placement, retries of lost workers and the
object store are Ray's.

Objects must be importable by the workers (the package installed on every Ray machine) and
their arguments picklable. Nothing here adds or removes any leakage: a worker is part of the
node that started it, and what it sends to peers is what the protocol sends.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any


class Workers:
    """Runs objects' methods in parallel; see the module docstring."""

    size = 1  # how many pieces run at once

    def start(self, cls: type, args: Sequence[tuple]) -> list[Any]:
        raise NotImplementedError

    def call(self, objects: Sequence[Any], method: str, args: Sequence[tuple]) -> list[Any]:
        raise NotImplementedError

    def map(self, fn: Callable[..., Any], args: Sequence[tuple]) -> list[Any]:
        """`fn(*a)` for every tuple, in parallel, results in order: stateless pieces of work
        (Ray tasks; threads here). `fn` must be a module-level function."""
        raise NotImplementedError

    def stop(self, objects: Sequence[Any]) -> None:
        """Let the objects go (Ray actors are killed; local ones are garbage)."""

    def close(self) -> None:
        """Release the workers (a Ray cluster this object started is shut down)."""


class LocalWorkers(Workers):
    """The objects live in this process; `call` runs on up to `size` threads."""

    def __init__(self, size: int | None = None) -> None:
        self.size = max(1, size or os.cpu_count() or 1)

    def start(self, cls: type, args: Sequence[tuple]) -> list[Any]:
        return [cls(*a) for a in args]

    def call(self, objects: Sequence[Any], method: str, args: Sequence[tuple]) -> list[Any]:
        if len(objects) != len(args):
            raise ValueError(f"{len(objects)} objects but {len(args)} argument tuples")
        if not objects:
            return []
        with ThreadPoolExecutor(max_workers=len(objects), thread_name_prefix="yinji-work") as ex:
            futures = [ex.submit(getattr(o, method), *a) for o, a in zip(objects, args, strict=True)]
            return [f.result() for f in futures]

    def map(self, fn: Callable[..., Any], args: Sequence[tuple]) -> list[Any]:
        if not args:
            return []
        with ThreadPoolExecutor(max_workers=min(self.size, len(args)),
                                thread_name_prefix="yinji-work") as ex:
            return list(ex.map(lambda a: fn(*a), args))


class RayWorkers(Workers):
    """Each object is a Ray actor reserving `cpus` CPUs.

    `address`: a running cluster ("ray://host:10001", "host:6379" or "auto"); None starts a
    local Ray instance on this machine bound to 127.0.0.1 with `local_cpus` CPUs (tests, or one
    big machine), shut down again by `close()`.
    """

    def __init__(self, address: str | None = None, *, cpus: float = 1.0,
                 local_cpus: int | None = None, size: int | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise RuntimeError("Ray is not installed on this node: pip install 'yinji[ray]'") \
                from None
        self._ray, self.cpus = ray, cpus
        self._own = False
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no phoning home
        if not ray.is_initialized():
            if address is None:
                ray.init(num_cpus=local_cpus or os.cpu_count() or 1,
                         _node_ip_address="127.0.0.1", include_dashboard=False,
                         log_to_driver=False, configure_logging=False)
            else:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
            self._own = True
        total = float(ray.cluster_resources().get("CPU", 1.0))
        self.size = size or max(1, int(total // cpus))

    def start(self, cls: type, args: Sequence[tuple]) -> list[Any]:
        actor = self._ray.remote(num_cpus=self.cpus)(cls)
        return [actor.remote(*a) for a in args]

    def call(self, objects: Sequence[Any], method: str, args: Sequence[tuple]) -> list[Any]:
        if len(objects) != len(args):
            raise ValueError(f"{len(objects)} objects but {len(args)} argument tuples")
        refs = [getattr(o, method).remote(*a) for o, a in zip(objects, args, strict=True)]
        try:
            return self._ray.get(refs)
        except self._ray.exceptions.RayTaskError as exc:  # the worker's own exception
            raise exc.as_instanceof_cause() from None

    def map(self, fn: Callable[..., Any], args: Sequence[tuple]) -> list[Any]:
        task = self._ray.remote(num_cpus=self.cpus)(fn)
        refs = [task.remote(*a) for a in args]
        try:
            return self._ray.get(refs)
        except self._ray.exceptions.RayTaskError as exc:
            raise exc.as_instanceof_cause() from None

    def stop(self, objects: Sequence[Any]) -> None:
        for o in objects:
            self._ray.kill(o)

    def close(self) -> None:
        if self._own and self._ray.is_initialized():
            self._ray.shutdown()
            self._own = False


__all__ = ["LocalWorkers", "RayWorkers", "Workers"]
