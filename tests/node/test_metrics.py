"""GET /metrics (Prometheus text format): who may read it, what it counts against the node's
own records; /health and /metrics polls write no audit entry each."""


from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from yinji.net.channel import TrafficTotals
from yinji.net.memory import memory_network
from yinji.node.api import create_app
from yinji.node.audit import JobStateEvent, PirCallEvent, PirServedEvent


def auth(node, role):
    return {"Authorization": f"Bearer {node.add_token(f'{role}-x', role)}"}


def samples(text):
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_need_a_scrape_operator_or_auditor_token(node):
    client = TestClient(create_app(node))
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=auth(node, "approver")).status_code == 403
    scrape = auth(node, "metrics")
    r = client.get("/metrics", headers=scrape)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert client.get("/jobs", headers=scrape).status_code == 403   # scrape token: nothing else
    for role in ("operator", "auditor"):
        assert client.get("/metrics", headers=auth(node, role)).status_code == 200


def test_metrics_match_the_node_records(node):
    client = TestClient(create_app(node))
    for i, state in enumerate(["proposed", "proposed", "succeeded"]):
        node.store.insert_job({"id": f"j{i}", "proposer": "fund", "protocol": "psi.intersect",
                               "spec_json": "{}", "spec_hash": "h", "state": state})
    node.audit.append(JobStateEvent("j2", "running"))
    node.audit.append(JobStateEvent("j2", "succeeded"))
    node.audit.append(PirServedEvent("blacklist", "fund", "oprf", 7, "v1", "ok"))
    node.audit.append(PirServedEvent("blacklist", "fund", "oprf", 2, "v1", "rate_limited"))
    node.audit.append(PirCallEvent("blacklist", "alice", 5, ["fund", "futures"],
                                   {"fund": "ok", "futures": "down"}))
    got = samples(client.get("/metrics", headers=auth(node, "metrics")).text)
    assert got[("yinji_jobs", (("state", "proposed"),))] == 2
    assert got[("yinji_jobs", (("state", "succeeded"),))] == 1
    assert got[("yinji_jobs", (("state", "running"),))] == 0
    key = (("protocol", "psi.intersect"), ("state", "succeeded"))
    assert got[("yinji_job_duration_seconds_count", key)] == 1
    assert 0 <= got[("yinji_job_duration_seconds_sum", key)] < 5
    assert got[("yinji_pir_served_keys_total", (("op", "oprf"), ("service", "blacklist"),
                                                ("status", "ok")))] == 7
    assert got[("yinji_pir_served_keys_total", (("op", "oprf"), ("service", "blacklist"),
                                                ("status", "rate_limited")))] == 2
    assert got[("yinji_pir_queries_total", (("status", "down"),))] == 1
    assert got[("yinji_pir_query_keys_total", ())] == 5
    entries = node.audit.entries()
    assert got[("yinji_audit_head_seq", ())] == entries[-1]["seq"]
    assert got[("yinji_audit_entries", ())] == len(entries)
    own = got[("yinji_cert_expiry_seconds", (("name", "securities"), ("whose", "self")))]
    assert 364 * 86400 < own <= 365 * 86400
    assert got[("yinji_cert_expiry_warning", (("name", "securities"), ("whose", "self")))] == 0
    assert got[("yinji_protocol_bytes", (("direction", "sent"),))] == 0


def test_traffic_totals_keep_counts_of_closed_channels():
    a, b = memory_network(["a", "b"])
    totals = TrafficTotals()
    totals.track(a.channels["b"])
    a.channels["b"].send_bytes(b"x" * 1000)
    b.channels["a"].recv_bytes()
    first = totals.total()
    assert first.bytes_sent >= 1000 and first.messages_sent == 1
    del a
    import gc

    gc.collect()
    assert totals.total() == first        # the channel is gone, its bytes still count


def test_polls_write_no_audit_entry_each(node):
    client = TestClient(create_app(node))
    scrape = auth(node, "metrics")
    before = len(node.audit.entries())
    for _ in range(40):
        assert client.get("/health").status_code == 200
        assert client.get("/metrics", headers=scrape).status_code == 200
    assert len(node.audit.entries()) == before        # not a single entry per poll
    node.repeats.flush()                               # one summary per window and kind
    summaries = {(e["data"]["sample"]["path"], e["data"]["count"])
                 for e in node.audit.entries() if e["kind"] == "repeated"}
    assert summaries == {("/health", 40), ("/metrics", 40)}
    # a refused scrape is still audited as it happens
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert node.audit.entries()[-1]["data"]["status"] == 401
