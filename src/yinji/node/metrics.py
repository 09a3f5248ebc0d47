"""Prometheus metrics of one node (GET /metrics), with the standard client library
(`prometheus-client`) and a registry of the node's own (nothing global: several nodes may
share a process in tests).

Counted as events happen (an `AuditLog` listener, so every audited action counts alike):
job durations by protocol and final state (from `running` to the end, or from the proposal
when the node restarted meanwhile), PIR keys served to peers and PIR queries made, API calls.
Read at scrape time: jobs by state, protocol bytes over job channels (the net layer's
counters, `TrafficTotals`), audit entries and the log's head sequence number, and seconds
until the own and each peer's certificate expires (`yinji.node.certinfo`).

Nothing here names a customer, a key or a value: labels are states, protocols, services,
peers and statuses only. The node does not host the LLM gateway (it is its own process,
`yinji gateway serve`, with its own audit), so no gateway counters appear here.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from yinji.node.audit import ApiCallEvent, Event, JobStateEvent, PirCallEvent, PirServedEvent
from yinji.node.certinfo import cert_status
from yinji.node.store import audit, jobs

if TYPE_CHECKING:
    from yinji.node.node import Node

FINAL = ("succeeded", "failed", "cancelled", "rejected", "expired")
BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, float("inf"))
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class NodeMetrics:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.job_seconds = Histogram("yinji_job_duration_seconds",
                                     "Job run time, from running to its final state",
                                     ["protocol", "state"], buckets=BUCKETS, registry=r)
        self.pir_served = Counter("yinji_pir_served_keys",
                                  "Keys peers asked of this node's PIR services",
                                  ["service", "op", "status"], registry=r)
        self.pir_queries = Counter("yinji_pir_queries",
                                   "PIR queries this node made (POST /pir/query), per member "
                                   "status", ["status"], registry=r)
        self.pir_query_keys = Counter("yinji_pir_query_keys",
                                      "Keys this node asked members' PIR services", registry=r)
        self.api_calls = Counter("yinji_api_calls", "REST API calls by status class",
                                 ["status"], registry=r)
        self._running: dict[str, float] = {}
        r.register(_Scraped(self))
        node.audit.listeners.append(self.observe)

    def observe(self, event: Event) -> None:
        if isinstance(event, JobStateEvent):
            self._job_state(event)
        elif isinstance(event, PirServedEvent):
            self.pir_served.labels(event.service, event.op, event.status).inc(event.keys)
        elif isinstance(event, PirCallEvent):
            self.pir_query_keys.inc(event.keys)
            for status in event.statuses.values():
                self.pir_queries.labels(status).inc()
        elif isinstance(event, ApiCallEvent):
            self.api_calls.labels(f"{event.status // 100}xx").inc()

    def _job_state(self, event: JobStateEvent) -> None:
        now = time.time()
        if event.state == "running":
            self._running[event.job_id] = now
        elif event.state in FINAL:
            start = self._running.pop(event.job_id, None)
            row = self.node.store.job(event.job_id) or {}
            if start is None:
                start = row.get("created", now)
            self.job_seconds.labels(row.get("protocol", ""), event.state).observe(
                max(now - start, 0.0))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _Scraped:
    """Gauges read from the store, the data plane and the certificates at each scrape."""

    def __init__(self, metrics: NodeMetrics) -> None:
        self.metrics = metrics

    def describe(self) -> list:
        return []   # values are read at collect time only

    def collect(self):  # noqa: ANN201 - a generator of metric families
        node = self.metrics.node
        states = GaugeMetricFamily("yinji_jobs", "Jobs on this node by state", labels=["state"])
        counts = {r["state"]: r["n"] for r in node.store.read(
            sa.select(jobs.c.state, sa.func.count().label("n")).group_by(jobs.c.state))}
        for state in ("proposed", "approved", "running", *FINAL):
            states.add_metric([state], counts.pop(state, 0))
        for state, n in counts.items():
            states.add_metric([state], n)
        yield states
        traffic = node.dataplane.traffic.total()
        sent = GaugeMetricFamily("yinji_protocol_bytes",
                                 "Bytes over job channels since the node started",
                                 labels=["direction"])
        sent.add_metric(["sent"], traffic.bytes_sent)
        sent.add_metric(["received"], traffic.bytes_received)
        yield sent
        msgs = GaugeMetricFamily("yinji_protocol_messages",
                                 "Messages over job channels since the node started",
                                 labels=["direction"])
        msgs.add_metric(["sent"], traffic.messages_sent)
        msgs.add_metric(["received"], traffic.messages_received)
        yield msgs
        log = node.store.read(sa.select(sa.func.count().label("n"),
                                        sa.func.max(audit.c.seq).label("last")))[0]
        yield GaugeMetricFamily("yinji_audit_entries", "Entries in the audit log (after "
                                "archiving, those kept)", value=log["n"] or 0)
        yield GaugeMetricFamily("yinji_audit_head_seq", "Sequence number of the newest "
                                "audit entry", value=log["last"] or 0)
        certs = GaugeMetricFamily("yinji_cert_expiry_seconds",
                                  "Seconds until a certificate expires (negative: expired)",
                                  labels=["name", "whose"])
        warn = GaugeMetricFamily("yinji_cert_expiry_warning",
                                 "1 if a certificate expires within cert_warn_days",
                                 labels=["name", "whose"])
        for row in cert_status(node.cfg):
            certs.add_metric([row["name"], row["whose"]], row["seconds_left"])
            warn.add_metric([row["name"], row["whose"]], 1 if row["warning"] else 0)
        yield certs
        yield warn
