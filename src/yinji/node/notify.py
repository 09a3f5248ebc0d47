"""Notices of proposals waiting for this node's approval, so approvers need not watch the inbox:
one webhook POST (JSON) per proposal that newly waits for this node.

It is a client of the node's own REST API, like the console: it polls `GET /jobs?state=proposed`
with a token of any console role and announces each job that has no decision of this node yet.
A notice says only which job waits and where to decide -- job id, app/protocol, proposer, time,
the console's inbox URL -- never parameters, datasets, row counts or anything from the data.
Announced ids are kept in memory: a failed POST is retried at the next poll, and after a
restart the proposals still waiting are announced again (at least once)."""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import urlsplit

import httpx

_log = logging.getLogger(__name__)


class NotifyError(ValueError):
    pass


def notice(job: dict[str, Any], node: str, api: str) -> dict[str, Any]:
    """The webhook body for one waiting proposal (metadata only)."""
    protocol = job["protocol"]
    return {"event": "proposal.waiting", "node": node, "job_id": job["id"],
            "app": protocol.removeprefix("app.") if protocol.startswith("app.") else None,
            "protocol": protocol, "proposer": job["proposer"], "created": job["created"],
            "text": f"{node}: {protocol.removeprefix('app.')} proposed by {job['proposer']} "
                    f"waits for approval (job {job['id']})",
            "console": f"{api.rstrip('/')}/console/#/inbox"}


class Notifier:
    def __init__(self, api: str, token: str, webhook: str,
                 client: httpx.Client | None = None, api_verify: Any = True) -> None:
        for what, url in (("api", api), ("webhook", webhook)):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise NotifyError(f"{what} must be an http(s) URL, got {url!r}")
        self.api, self.webhook = api.rstrip("/"), webhook
        self.http = client or httpx.Client(timeout=10)   # the webhook: the system's CAs
        # the node's API: its own certificate or the group CA (`--api-ca`)
        self.api_http = client or httpx.Client(timeout=10, verify=api_verify)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.node: str | None = None
        self.sent: set[str] = set()

    def _get(self, path: str) -> Any:
        r = self.api_http.get(self.api + path, headers=self.headers)
        if r.status_code != 200:
            raise NotifyError(f"GET {path}: {r.status_code} {r.text[:200]}")
        return r.json()

    def poll_once(self) -> list[dict[str, Any]]:
        """Announce every proposal newly waiting for this node; returns the notices sent."""
        if self.node is None:
            self.node = self._get("/whoami")["node"]
        out = []
        for job in self._get("/jobs?state=proposed"):
            if job["id"] in self.sent or any(a["node"] == self.node for a in job["approvals"]):
                continue
            body = notice(job, self.node, self.api)
            try:
                r = self.http.post(self.webhook, json=body)
                ok = 200 <= r.status_code < 300
            except httpx.HTTPError as exc:
                ok = False
                _log.warning("webhook %s: %s", self.webhook, exc)
            if ok:
                self.sent.add(job["id"])
                out.append(body)
        return out

    def run(self, interval: float, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except (NotifyError, httpx.HTTPError) as exc:
                _log.warning("notify: %s", exc)
            stop.wait(interval)
