"""The console on one node in a real headless Chromium: what each role sees, the language
switch, keyboard use and labels, the security headers."""

from __future__ import annotations

import pytest

from tests.console.chart_app import ChartApp
from tests.console.conftest import shot, sign_in
from yinji.node import app_runner
from yinji.node.api import create_app
from yinji.node.identity import init_node
from yinji.node.node import Node
from yinji.testing.servers import serve


@pytest.fixture(scope="module")
def node_url(tmp_path_factory):
    home = tmp_path_factory.mktemp("console") / "n"
    init_node(home, "securities")
    (home / "data").mkdir()
    (home / "data" / "customers.csv").write_text(
        "customer_id,segment\nG1,retail\nG2,retail\nG3,private\n")
    app_runner.register(ChartApp())
    node = Node(home)
    node.cfg.auto_approve = [{"protocols": ["app.console-chart"]}]
    from yinji.node.catalog import Dataset, PolicyRule

    node.catalog.register(Dataset(id="customers", kind="csv", location="data/customers.csv",
                                  schema={"customer_id": "string", "segment": "string"},
                                  policy=[PolicyRule(columns=["segment"],
                                                     protocols=["mpc.aggregate",
                                                                "app.console-chart"])]),
                          by="test")
    tokens = {r: node.add_token(f"{r}-1", r) for r in ("operator", "approver", "auditor")}
    from yinji.gateway.audit import GatewayCallEvent, JsonlAuditSink

    sink = JsonlAuditSink(home / "gateway" / "audit.jsonl")
    for blocked in (False, True):
        sink.record(GatewayCallEvent(time="t", user="analyst", endpoint="/v1/chat/completions",
                                     model="m", route="default", conversation=None,
                                     categories={"person": 2}, blocked=blocked,
                                     blocked_categories=("person",) if blocked else ()))
    with serve(create_app(node)) as url:
        yield url, tokens, node
    node.store.close()
    app_runner.unregister("console-chart")


def test_operator_sees_apps_not_audit(page, node_url):
    url, tokens, _ = node_url
    sign_in(page, url, tokens["operator"])
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Apps").is_visible()
    assert not nav.get_by_role("link", name="Audit").is_visible()
    assert page.locator("#who").inner_text() == "operator-1 · operator"
    # home: node, datasets with schema and column policy
    page.get_by_role("heading", name="customers").wait_for()
    assert page.get_by_role("table", name="Column policy").inner_text().count("mpc.aggregate")
    # the launch form is generated from the parameter schema: bounds and defaults shown
    page.goto(f"{url}/console/#/apps/qualified-investor")
    page.get_by_role("button", name="Start run").wait_for()
    dummies = page.get_by_label("dummies", exact=True)
    assert dummies.get_attribute("min") == "0" and dummies.get_attribute("max") == "1000000"
    assert "default 32000" in page.locator("#param-dummies-hint").inner_text()
    assert page.get_by_label("Private input").is_visible()
    page.goto(f"{url}/console/#/audit")
    page.get_by_role("alert").filter(has_text="Your role may not see this page").wait_for()


def test_auditor_and_approver_views(page, node_url):
    url, tokens, node = node_url
    sign_in(page, url, tokens["auditor"])
    page.get_by_role("link", name="Audit").click()
    assert "verified:" in page.locator("#audit-verified").inner_text()
    page.locator("table.audit").wait_for()
    assert page.locator("table.audit tbody tr").count() > 0
    page.get_by_label("User").fill("auditor-1")      # by the token's name
    whos = page.locator("table.audit tbody tr td:nth-child(4)").all_inner_texts()
    assert whos and all("auditor-1" in w for w in whos)
    page.get_by_label("User").fill("")
    page.get_by_label("Event type").select_option("dataset")
    kinds = page.locator("table.audit tbody tr td:nth-child(3)").all_inner_texts()
    assert kinds and set(kinds) == {"dataset"}
    with page.expect_download() as dl:
        page.get_by_role("button", name="Export (JSON lines)").click()
    assert dl.value.suggested_filename == "audit-securities.jsonl"
    page.get_by_role("link", name="Gateway").click()
    page.get_by_text("2 calls, 1 blocked").wait_for()
    shot(page, "gateway")
    assert page.get_by_role("table", name="Calls per user").inner_text().endswith(
        "analyst\t2\t1")
    page.get_by_role("button", name="Sign out").click()
    node.standing.add({"apps": ["console-chart"], "note": "daily"}, by="approver-1")
    sign_in(page, url, tokens["approver"])
    assert not page.get_by_role("link", name="Audit").is_visible()
    # standing approvals are listed and an approver revokes one
    page.get_by_role("link", name="Approvals").click()
    page.get_by_text("Nothing waiting for this node.").wait_for()
    rules = page.get_by_role("table", name="Standing approvals")
    rules.get_by_role("button", name="Revoke").click()
    page.get_by_text("Standing approval revoked.").wait_for()
    page.get_by_role("table", name="Standing approvals").get_by_role(
        "cell", name="revoked").wait_for()
    assert [r["state"] for r in node.standing.list()] == ["revoked"]
    page.goto(f"{url}/console/#/apps/qualified-investor")
    page.get_by_text("Only an operator may launch runs").wait_for()
    assert page.get_by_role("button", name="Start run").count() == 0


def test_bad_token_and_language_switch(page, node_url):
    url, tokens, _ = node_url
    page.goto(f"{url}/console/")
    page.get_by_label("API token").fill("not-a-token")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Sign-in failed").wait_for()
    page.get_by_role("button", name="Switch language").click()
    page.get_by_role("heading", name="登录").wait_for()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    page.get_by_label("API 令牌").fill(tokens["approver"])
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="审批").wait_for()
    page.reload()                       # token (sessionStorage) and language survive a reload
    page.get_by_role("heading", name="本节点").wait_for()
    page.get_by_role("table", name="字段使用策略").wait_for()
    shot(page, "home-zh")
    page.get_by_role("link", name="模型与场景接口").click()
    page.get_by_role("heading", name="已发布的场景接口").wait_for()
    shot(page, "models-zh")
    page.get_by_role("button", name="切换语言").click()
    page.get_by_role("heading", name="Models and scenario APIs").wait_for()


def test_keyboard_only_and_labels(page, node_url):
    url, tokens, _ = node_url
    page.goto(f"{url}/console/")
    page.locator("#token:focus").wait_for()       # the token field has focus on load
    page.keyboard.press("Shift+Tab")               # back: the language switch,
    assert page.evaluate("document.activeElement.id") == "lang"
    page.keyboard.press("Shift+Tab")               # then the skip link, the first stop
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "token"
    page.keyboard.type(tokens["operator"])
    page.keyboard.press("Enter")
    page.locator("#nav").wait_for(state="visible")
    # the page heading takes focus after navigation (screen readers announce it)
    assert page.evaluate("document.activeElement.tagName") == "H1"
    page.get_by_role("link", name="Apps").focus()
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Apps", level=1).wait_for()
    assert page.get_by_role("link", name="Apps").get_attribute("aria-current") == "page"
    page.goto(f"{url}/console/#/apps/qualified-investor")
    page.get_by_role("button", name="Start run").wait_for()
    # every form control has an accessible name (a <label for> or aria-label)
    unnamed = page.evaluate("""[...document.querySelectorAll('input, select, textarea')]
        .filter(e => !e.closest('[hidden]') && !(e.labels && e.labels.length)
                     && !e.getAttribute('aria-label')).map(e => e.id)""")
    assert unnamed == []
    assert low_contrast(page) == []
    page.goto(f"{url}/console/#/home")
    page.get_by_role("heading", name="customers").wait_for()
    assert low_contrast(page) == []
    snap = page.get_by_role("navigation", name="Main").aria_snapshot()
    assert "link \"Approvals\"" in snap and "link \"Home\"" in snap


def test_launch_run_and_charts_on_one_node(page, node_url):
    url, tokens, _ = node_url
    sign_in(page, url, tokens["operator"])
    page.goto(f"{url}/console/#/apps/console-chart")
    assert page.get_by_label("Dataset of securities").input_value() == "customers"
    page.get_by_role("button", name="Start run").click()
    page.locator("#run-state[data-state='succeeded']").wait_for()
    rows = page.get_by_role("table", name="segments").locator("tbody tr").all_inner_texts()
    assert rows == ["private\t1", "retail\t2"]
    chart = page.get_by_role("img", name="Customers per segment")
    chart.wait_for()
    assert chart.evaluate("i => i.complete && i.naturalWidth > 100")   # the SVG rendered
    assert chart.get_attribute("src").startswith("blob:")
    chart.scroll_into_view_if_needed()
    shot(page, "chart")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download report.xlsx").click()
    assert dl.value.suggested_filename == "report.xlsx"
    assert open(dl.value.path(), "rb").read(2) == b"PK"


def test_token_only_in_the_tab_and_csp_enforced(page, node_url):
    url, tokens, _ = node_url
    sign_in(page, url, tokens["auditor"])
    assert page.evaluate("sessionStorage.getItem('yinji-token')") == tokens["auditor"]
    assert page.evaluate("Object.keys(localStorage)") in ([], ["yinji-lang"])
    assert page.evaluate("document.cookie") == ""
    assert tokens["auditor"] not in page.url
    # the CSP refuses inline script and off-origin fetches, even if something injected them
    page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.injected = 1'; document.body.append(s); }""")
    assert page.evaluate("window.injected") is None
    assert page.evaluate("""() => fetch('http://192.0.2.1/x').then(() => 'sent',
        e => 'refused')""") == "refused"
    assert any("Content Security Policy" in e for e in page.errors)
    page.errors.clear()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("API token").wait_for()
    assert page.evaluate("sessionStorage.getItem('yinji-token')") is None


CONTRAST = """() => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((a, v, i) => a + v * [0.2126, 0.7152, 0.0722][i], 0);
  const bg = el => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el)
    .backgroundColor); if (c.length === 3 || c[3] > 0) return c.slice(0, 3); } return [255, 255, 255]; };
  const bad = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(bg(el))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) bad.push(`${el.tagName} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  return bad;
}"""


def low_contrast(page) -> list[str]:
    """Visible text below WCAG AA's 4.5:1 against its (nearest opaque) background."""
    return page.evaluate(CONTRAST)


def test_operator_cancels_a_waiting_run(page, node_url):
    url, tokens, node = node_url
    node.cfg.auto_approve = []            # this run waits for this node's approver
    try:
        sign_in(page, url, tokens["operator"])
        page.goto(f"{url}/console/#/apps/console-chart")
        page.get_by_role("button", name="Start run").click()
        page.locator("#run-state[data-state='proposed']").wait_for()
        page.get_by_role("button", name="Cancel run").click()
        page.locator("#run-state[data-state='cancelled']").wait_for()
        assert page.get_by_role("button", name="Cancel run").is_hidden()
        job_id = page.url.rsplit("/", 1)[1]
        assert node.store.job(job_id)["state"] == "cancelled"
    finally:
        node.cfg.auto_approve = [{"protocols": ["app.console-chart"]}]


def test_certificate_expiry_warning_on_home(page, node_url):
    """Certificates expiring within cert_warn_days are named on the home page."""
    url, tokens, node = node_url
    before = node.cfg.cert_warn_days
    node.cfg.cert_warn_days = 100_000      # every certificate "expires soon"
    try:
        sign_in(page, url, tokens["auditor"])
        box = page.locator("#cert-warnings")
        box.wait_for()
        assert "own certificate (securities) expires in" in box.inner_text()
        assert "rotate-cert" in box.inner_text()
    finally:
        node.cfg.cert_warn_days = before
    page.reload()
    page.locator("#nav").wait_for(state="visible")
    page.get_by_role("heading", name="customers").wait_for()
    assert page.locator("#cert-warnings").count() == 0
