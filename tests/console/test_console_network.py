"""The console end to end on four node processes over mutual-TLS loopback, in a real headless
Chromium: an operator launches qualified-investor from the generated form, each data owner's
approver approves it in the inbox (an auditor there sees it but cannot), the operator watches
progress and downloads the CSV (checked against the plaintext computation), and the auditor
sees the log verified and anchored at the peers. Screenshots go to build/console-shots/ (YINJI_SHOTS_DIR=docs/img refreshes the README's)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time

import numpy as np
import pytest

from tests.apps.test_qualified_investor_network import COLS, SCHEMA, write_holdings
from tests.console.conftest import shot, sign_in
from yinji.apps import qualified_investor as qi
from yinji.cli.network import clients, create_network, start_nodes, stop_nodes
from yinji.testing.apps import builtin_entries, child_env, package_dir

pytestmark = pytest.mark.tls

FOUR = ["securities", "fund", "futures", "offshore"]
OWNERS = ["securities", "fund", "futures"]   # approve by hand; offshore proposes (policy)
PROTOCOL = qi.APP.protocol


@pytest.fixture(scope="module")
def net(tmp_path_factory, browser):   # browser first: skip before starting any node
    root = tmp_path_factory.mktemp("consolenet")
    apps_dir = package_dir(tmp_path_factory.mktemp("consoleapps"), builtin_entries())
    policies = {n: ([{"protocols": [PROTOCOL]}] if n == "offshore" else []) for n in FOUR}
    create_network(root, FOUR, job_timeout=60, policies=policies)
    rng = np.random.default_rng(7)
    universe = [f"{rng.integers(10**16, 10**17)}{rng.integers(0, 10)}" for _ in range(30)]
    tables = write_holdings(root, rng, universe)
    start_nodes(root, env=dict.fromkeys(FOUR, child_env(apps_dir)))
    apis = clients(root)
    try:
        for name in FOUR:
            apis[name].call("POST", "/datasets", json={
                "id": "holdings", "kind": "csv", "location": "data/holdings.csv",
                "schema": SCHEMA, "policy": [{"columns": COLS, "protocols": [PROTOCOL]}]})
        import yaml

        tokens = yaml.safe_load((root / "tokens.yaml").read_text())
        yield {n: apis[n].url for n in FOUR}, tokens, tables, universe
    finally:
        for api in apis.values():
            api.close()
        stop_nodes(root)


def test_launch_approve_watch_download_verify(browser, net):
    urls, tokens, tables, universe = net
    ids = universe[:12] + ["110101200001010000"]          # the last is nobody's client

    def page_of(node: str, role: str):
        ctx = browser.new_context(locale="en-GB", accept_downloads=True,  # self-signed HTTPS
                                  ignore_https_errors=True, viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(30_000)
        p = ctx.new_page()
        sign_in(p, urls[node], tokens[node][role])
        return p

    # 1. offshore's operator launches the app from the form generated from its parameters
    op = page_of("offshore", "operator")
    op.locator("td .ok").first.wait_for()            # home: peers, reachability, expiry
    assert op.locator("td .ok").count() == 3
    op.get_by_role("heading", name="holdings").wait_for()
    shot(op, "home")
    op.goto(f"{urls['offshore']}/console/#/apps/qualified-investor")
    op.get_by_label("explain", exact=True).check()
    op.get_by_label("rates", exact=True).fill("HKD=0.9120,USD=7.1050")
    op.get_by_label("dummies", exact=True).fill("0")
    for n in FOUR:
        assert op.get_by_label(f"Dataset of {n}").input_value() == "holdings"
    op.get_by_label("Private input").fill("\n".join(ids))
    shot(op, "launch")
    op.get_by_role("button", name="Start run").click()
    op.locator("#run-state[data-state='proposed']").wait_for()
    job_id = op.url.rsplit("/", 1)[1]

    # 2. at fund an auditor sees the proposal but no approve button
    aud = page_of("fund", "auditor")
    aud.get_by_role("link", name="Approvals").click()
    card = aud.locator(f"article[data-job='{job_id}']")
    card.wait_for()
    assert card.get_by_role("button", name="Approve").count() == 0
    aud.context.close()

    # 3. each data owner's approver approves it in the inbox (badge, datasets, rows shown)
    for k, owner in enumerate(OWNERS):
        ap = page_of(owner, "approver")
        ap.locator("#badge:not([hidden])").wait_for()
        assert ap.locator("#badge").inner_text() == "1"
        ap.get_by_role("link", name="Approvals").click()
        card = ap.locator(f"article[data-job='{job_id}']")
        card.wait_for()
        text = card.inner_text()
        assert "qualified-investor" in text and f"v{qi.APP.version}" in text
        assert "data/holdings.csv" in text and " rows" in text
        # the others' decisions so far, asked of the proposer while the job waits
        others = card.locator("[data-decisions] table")
        others.wait_for()
        shown = others.inner_text()
        assert all(n in shown for n in ["offshore", *OWNERS[:k]]), shown
        assert not any(n in shown for n in OWNERS[k:]), shown
        if k == 0:
            shot(ap, "inbox")
        card.get_by_label("Reason").fill(f"checked by {owner}")
        card.get_by_role("button", name="Approve").click()
        ap.get_by_text(f"Approved {job_id}.").wait_for()
        assert ap.locator(f"article[data-job='{job_id}']").count() == 0
        ap.context.close()

    # 4. the operator watches it run and downloads the CSV: it matches the plaintext oracle
    op.locator("#run-state[data-state='succeeded']").wait_for(timeout=60_000)
    assert op.locator("progress").evaluate("p => p.value") == 1
    decided = op.get_by_role("table", name="Decisions").inner_text()
    for owner in OWNERS:
        assert f"{owner}\tapproved\tchecked by {owner}" in decided
    op.get_by_role("table", name="clients").wait_for()
    op.locator(".charts img, .charts p").first.wait_for()
    shot(op, "result")
    with op.expect_download() as dl:
        op.get_by_role("button", name="Download clients.csv").click()
    rows = list(csv.reader(io.StringIO(open(dl.value.path(), encoding="utf-8-sig").read())))
    params = qi.APP.resolve_params({"explain": True, "rates": "HKD=0.9120,USD=7.1050"})
    want = qi.plaintext(tables, ids, params, dt.datetime.now(dt.UTC).date())
    assert [r[0] for r in rows[1:]] == ids
    assert [r[2] for r in rows[1:]] == [qi.RULES.get(w, "") for w in want]
    assert 0 < sum(map(bool, want)) < len(want)
    op.context.close()

    # 5. offshore's auditor: the log verifies, the head is anchored at every peer and checks
    au = page_of("offshore", "auditor")
    au.get_by_role("link", name="Audit").click()
    assert "verified:" in au.locator("#audit-verified").inner_text()
    au.get_by_role("button", name="Anchor our head at the peers now").click()
    au.get_by_text("Head anchored at the peers.").wait_for()
    # The page checks the peers once per render, each with a 10 s deadline: on a loaded
    # machine a peer may answer late ("unreachable"), so look again, up to a minute and a half
    # (a fork or a rollback would stay bad and fail here).
    deadline = time.monotonic() + 90
    while not au.locator("#audit-peers.ok").count():
        au.locator("#audit-peers").wait_for()
        if au.locator("#audit-peers.ok").count() or time.monotonic() > deadline:
            break
        au.wait_for_timeout(1000)
        au.reload()   # the tab keeps its token (sessionStorage) and renders the audit again
    assert au.locator("#audit-peers.ok").count(), au.locator("#peer-checks").inner_text()
    statuses = au.locator("#peer-checks tbody tr td:nth-child(2)").all_inner_texts()
    assert statuses == ["ok", "ok", "ok"]
    au.get_by_label("Job").fill(job_id)
    au.get_by_role("button", name="Apply").click()
    au.get_by_role("cell", name="job.result").first.wait_for()
    kinds = set(au.locator("table.audit tbody tr td:nth-child(3)").all_inner_texts())
    assert {"job.proposed", "job.approval", "job.state", "job.result"} <= kinds
    shot(au, "audit")
    au.context.close()
