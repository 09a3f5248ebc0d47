"""The models page in a real headless Chromium: at the label holder, a trained model's
health-report charts (ROC, KS, calibration, lift) drawn from the training job's report."""

from __future__ import annotations

from tests.console.conftest import shot, sign_in
from tests.node.test_model_serving import net, trained  # noqa: F401 - the three-node fixtures


def test_models_page_shows_the_health_report_charts(page, net, trained):  # noqa: F811
    _, apis, _ = net
    fund = apis["fund"]
    sign_in(page, str(fund.http.base_url).rstrip("/"), fund.tokens["operator"])
    page.get_by_role("link", name="Models & APIs").click()
    charts = page.locator("[data-model='lead-score/v1'] img")
    charts.first.wait_for(timeout=30_000)
    assert charts.count() >= 3
    titles = page.locator("[data-model='lead-score/v1'] figcaption").all_inner_texts()
    # each image under its own title (the report's order: ROC, then KS, calibration, lift)
    assert titles[0].startswith("ROC") and titles[1].startswith("KS"), titles
    assert [page.locator("[data-model='lead-score/v1'] img").nth(i).get_attribute("alt")
            for i in range(2)] == [titles[0], titles[1]]
    shot(page, "models")
    # a feature holder has the model's metadata but no report: no charts, and it says so
    sec = apis["securities"]
    sign_in(page, str(sec.http.base_url).rstrip("/"), sec.tokens["operator"])
    page.get_by_role("link", name="Models & APIs").click()
    page.get_by_role("cell", name="lead-score").first.wait_for()
    assert page.locator("[data-model] img").count() == 0
