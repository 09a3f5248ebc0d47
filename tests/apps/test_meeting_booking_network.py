"""The meeting-booking app on four node processes over loopback TLS, driven through the REST
API only, against the earliest common slot computed in the clear from the same calendar files
(slower lane): booking, non-recipient, rejection, parameters out of bounds."""

import datetime as dt

import pytest
from icalendar import Calendar

from yinji.apps.meeting_demo import (
    COLUMNS,
    SCHEMA,
    demo_params,
    expected_slot,
    write_calendars,
)
from yinji.cli.network import clients, create_network, start_nodes, stop_nodes, wait_job
from yinji.testing.apps import builtin_entries, child_env, package_dir, reject_and_check_nothing_ran

pytestmark = pytest.mark.tls

APP = "meeting-booking"
COMPANIES = ["fund", "futures", "offshore", "securities"]   # compute: the first three
RULE = {"protocols": [f"app.{APP}"]}
POLICIES = {c: [RULE] for c in COMPANIES}
POLICIES["offshore"] = [{**RULE, "proposers": ["securities"]}]   # fund's runs wait for it
START = dt.date(2026, 3, 2)


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    root = tmp_path_factory.mktemp("meetnet")
    create_network(root, COMPANIES, job_timeout=60, policies=POLICIES)
    paths = write_calendars({c: root / c / "data" for c in COMPANIES}, START, seed=5)
    pkg = package_dir(tmp_path_factory.mktemp("apps"), builtin_entries())
    start_nodes(root, env=dict.fromkeys(COMPANIES, child_env(pkg)))
    apis = clients(root)
    for c in COMPANIES:
        apis[c].call("POST", "/datasets", json={
            "id": "calendar", "kind": "csv", "location": "data/calendar.csv", "schema": SCHEMA,
            "policy": [{"columns": list(COLUMNS), "protocols": [f"app.{APP}"]}]})
    yield root, apis, paths
    for api in apis.values():
        api.close()
    stop_nodes(root)


def body(**params):
    return {"params": {**demo_params(START), **params},
            "inputs": {c: {"dataset": "calendar"} for c in COMPANIES}}


def test_every_participant_company_books_the_earliest_common_slot(net):
    from yinji.apps.meeting_booking import APP as app

    root, apis, paths = net
    run = apis["securities"].call("POST", f"/apps/{APP}/runs", json=body())
    job_id = run["job"]["id"]
    assert sorted(run["job"]["spec"]["recipients"]) == ["fund", "offshore", "securities"]
    views = wait_job(apis, job_id, COMPANIES, timeout=120)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    want = expected_slot(app, paths, demo_params(START))
    assert want is not None and want > 0
    for c in ("fund", "offshore", "securities"):
        got = apis[c].call("GET", f"/apps/{APP}/runs/{job_id}")
        data = got["report"]["data"]
        assert data["slot"] == want
        assert data["room"].startswith(f"{c}-room-")
        assert "meeting.ics" in got["files"]
        store = Calendar.from_ical((root / c / "calendar" / "meeting-booking.ics").read_bytes())
        (ev,) = store.walk("VEVENT")
        assert str(ev["uid"]) == f"{job_id}-{c}@meeting-booking.yinji"
        assert ev.decoded("dtstart") == dt.datetime.fromisoformat(data["start_utc"])
        assert str(ev["location"]) == data["room"]
    # futures computes but is no recipient: no result, no booking
    assert not views["futures"]["has_result"]
    with pytest.raises(RuntimeError, match="404"):
        apis["futures"].call("GET", f"/jobs/{job_id}/result")
    assert not (root / "futures" / "calendar").exists()


def test_a_company_rejects_and_nobody_reads_data(net):
    root, apis, _ = net
    run = apis["fund"].call("POST", f"/apps/{APP}/runs", json=body())
    job_id = run["job"]["id"]
    reject_and_check_nothing_ran(apis, job_id, "offshore", COMPANIES, "not this week")


def test_parameters_outside_bounds_are_refused_at_the_proposer(net):
    _, apis, _ = net
    for params, word in ((dict(days=60), "days"), (dict(slot_minutes=20), "slot_minutes"),
                         (dict(duration_minutes=50), "multiple"),
                         (dict(timezones="securities=Asia/Shanghai"), "time zone")):
        with pytest.raises(RuntimeError, match=f"422.*{word}"):
            apis["securities"].call("POST", f"/apps/{APP}/runs", json=body(**params))


def test_make_demo_runs_the_app_and_matches_plaintext(net, tmp_path):
    """`make demo`'s app part for this app (rewrites the calendars: keep it last)."""
    from yinji.apps.meeting_booking import APP as app
    from yinji.cli.apps_demo import run_apps
    from yinji.node import app_runner

    root, _, _ = net
    app_runner.register(app)   # this process finds the app the way the nodes do
    try:
        lines = []
        assert run_apps(root, tmp_path, out=lines.append, only=[APP], timeout=120), lines
    finally:
        app_runner.unregister(APP)
    assert any("matches the plaintext" in line for line in lines), lines
