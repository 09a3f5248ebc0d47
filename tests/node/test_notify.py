"""Webhook notices of proposals waiting for this node (`yinji.node.notify`), against a node's
REST API and a webhook receiver, both served on loopback."""

import threading

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.console.chart_app import ChartApp
from yinji.cli.main import build_parser
from yinji.node import app_runner
from yinji.node.api import create_app
from yinji.node.catalog import Dataset, PolicyRule
from yinji.node.identity import init_node
from yinji.node.node import Node
from yinji.node.notify import Notifier, NotifyError
from yinji.testing.servers import serve


@pytest.fixture
def setup(tmp_path):
    home = tmp_path / "n"
    init_node(home, "securities")
    (home / "data").mkdir()
    (home / "data" / "c.csv").write_text("customer_id,segment\nG1,retail\n")
    app_runner.register(ChartApp())
    node = Node(home)   # no auto-approval: every run waits for this node's approver
    node.catalog.register(Dataset(id="c", kind="csv", location="data/c.csv",
                                  schema={"customer_id": "string", "segment": "string"},
                                  policy=[PolicyRule(columns=["segment"],
                                                     protocols=["app.console-chart"])]),
                          by="test")
    received, fail = [], threading.Event()
    hook = FastAPI()

    @hook.post("/hook")
    async def take(request: Request) -> JSONResponse:
        if fail.is_set():
            return JSONResponse({}, status_code=500)
        received.append(await request.json())
        return JSONResponse({"ok": True})

    with serve(create_app(node)) as api, serve(hook) as hook_url:
        yield node, api, f"{hook_url}/hook", received, fail
    node.store.close()
    app_runner.unregister("console-chart")


def propose(node):
    return node.apps.create("console-chart", {"inputs": {"securities": {"dataset": "c"}}},
                            by="operator-1")["id"]


def test_one_notice_per_waiting_proposal_with_metadata_only(setup):
    node, api, hook, received, fail = setup
    n = Notifier(api, node.add_token("approver-1", "approver"), hook)
    assert n.poll_once() == [] and received == []
    first = propose(node)
    (sent,) = n.poll_once()
    assert received == [sent]
    assert sent["job_id"] == first and sent["node"] == "securities"
    assert sent["app"] == "console-chart" and sent["proposer"] == "securities"
    assert sent["console"] == f"{api}/console/#/inbox"
    # metadata only: no dataset, column, parameter or data value in the notice
    assert set(sent) == {"event", "node", "job_id", "app", "protocol", "proposer", "created",
                         "text", "console"}
    assert "c.csv" not in str(sent) and "segment" not in str(sent)
    assert n.poll_once() == []                       # announced once
    fail.set()                                       # the webhook is down: retried later
    second = propose(node)
    assert n.poll_once() == []
    fail.clear()
    assert [x["job_id"] for x in n.poll_once()] == [second]
    node.jobs.decide(first, "reject", by="approver-1", reason="not now")
    third = propose(node)
    assert [x["job_id"] for x in n.poll_once()] == [third]   # decided ones are not announced
    assert [x["job_id"] for x in received] == [first, second, third]


def test_bad_urls_and_tokens_are_named(setup):
    node, api, hook, *_ = setup
    with pytest.raises(NotifyError, match="webhook must be an http"):
        Notifier(api, "t", "file:///etc/passwd")
    with pytest.raises(NotifyError, match="401"):
        Notifier(api, "not-a-token", hook).poll_once()
    args = build_parser().parse_args(["approvals", "notify", "--webhook", hook, "--once"])
    assert callable(args.func) and args.once
