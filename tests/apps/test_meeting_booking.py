"""Meeting booking in one process (four companies on an in-memory network) against a
plaintext twin that checks every candidate start with datetimes, on random and edge-case
calendars; the view of a non-compute company and of the compute parties."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from icalendar import Calendar

from yinji.apps import meeting_booking as mb
from yinji.apps import meeting_calendar as mc
from yinji.apps.base import AppError
from yinji.node.runners import RunContext
from yinji.testing.parties import looks_uniform, record_received, run_parties

APP = mb.APP
COMPANIES = ["fund", "futures", "offshore", "securities"]   # compute: the first three
ZONES = {"securities": "Asia/Shanghai", "offshore": "Asia/Hong_Kong",
         "fund": "Europe/London", "futures": "America/New_York"}
UTC = dt.UTC
COLS = ["owner", "kind", "start", "end", "tz"]


def params(**kw):
    base = {"participants": ["securities:li", "securities:wang", "offshore:chan",
                             "fund:smith"],
            "timezones": ",".join(f"{c}={z}" for c, z in ZONES.items()),
            "start_date": "2026-03-02", "days": 5, "slot_minutes": 30,
            "duration_minutes": 60, "work_hours": "07:00-20:00"}
    base.update(kw)
    return APP.resolve_params(base)


def make_spec(p, run="run-1", recipients=None):
    roles = dict.fromkeys(COMPANIES, "calendar")
    return {"id": run, "protocol": APP.protocol,
            "params": {**p, "app_version": APP.version, "roles": roles,
                       "compute": COMPANIES[:3]},
            "inputs": {c: {"dataset": "cal", "columns": COLS} for c in COMPANIES},
            "recipients": recipients or APP.default_recipients(roles, "securities", p)}


def rows_to_cols(rows):
    return {c: np.array([r[i] for r in rows] if rows else [], dtype=object)
            for i, c in enumerate(COLS)}


def run_app(cals, p, tmp_path=None, record=(), run="run-1"):
    spec = make_spec(p, run)
    assert APP.validate(spec) == []
    views = {}

    def body(party):
        if party.name in record:
            views[party.name] = record_received(party)
        ctx = RunContext(spec, party.name, party, rows_to_cols(cals.get(party.name, [])),
                         lambda f, s: None,
                         None if tmp_path is None else tmp_path / party.name)
        return APP.run(ctx)

    out = run_parties(body, names=COMPANIES, timeout=60)
    return dict(zip(COMPANIES, out, strict=True)), views


# ------------------------------------------------------------------------ plaintext twin


def twin(events, p):
    """events: company -> [(owner, kind, start, end)] with aware datetimes (end None: a
    resource without busy times). The first start (as slot index) that suits everyone."""
    people, rooms = APP.companies(p)
    zones = dict(z.split("=") for z in p["timezones"].split(","))
    wh = p["work_hours"]
    per = dict(x.split("=") for x in wh.split(",")) if "=" in wh else {}
    t0 = dt.datetime.fromisoformat(p["start_date"] + "T00:00+00:00")
    step = dt.timedelta(minutes=p["slot_minutes"])
    dur = dt.timedelta(minutes=p["duration_minutes"])
    n = p["days"] * 24 * 60 // p["slot_minutes"] - p["duration_minutes"] // p["slot_minutes"]
    for k in range(n + 1):
        a = t0 + k * step
        b = a + dur

        def free(c, owner, a=a, b=b):
            return not any(o == owner and s is not None and s < b and e > a
                           for o, _, s, e in events[c])
        ok = True
        for c in set(people) | set(rooms):
            tz = ZoneInfo(zones[c])
            hs, he = (dt.time.fromisoformat(x)
                      for x in (per.get(c, "09:00-18:00") if per else wh).split("-"))
            la, lb = a.astimezone(tz), b.astimezone(tz)
            if people.get(c) and not (la.weekday() < 5 and la.date() == lb.date()
                                      and la.time() >= hs and lb.time() <= he):
                ok = False
            if not all(free(c, x) for x in people.get(c, [])):
                ok = False
            if c in rooms and not any(free(c, o) for o, kind, _, _ in events[c]
                                      if kind == "room"):
                ok = False
        if ok:
            return k
    return -1


def to_rows(events, rng, zone):
    """Calendar rows in the accepted forms: ISO with offset, UTC 'Z', or local time with
    the tz column (the row's own zone or, empty, the company's)."""
    rows = []
    for owner, kind, s, e in events:
        if s is None:
            rows.append([owner, kind, "", "", ""])
            continue
        form = rng.integers(0, 4)
        if form == 0:
            rows.append([owner, kind, s.isoformat(), e.isoformat(), ""])
        elif form == 1:
            rows.append([owner, kind, s.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                         e.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), ""])
        elif form == 2:
            tz = ZoneInfo("Asia/Tokyo")
            rows.append([owner, kind, s.astimezone(tz).strftime("%Y/%m/%d %H:%M"),
                         e.astimezone(tz).strftime("%Y/%m/%d %H:%M"), "Asia/Tokyo"])
        else:
            tz = ZoneInfo(zone)
            rows.append([owner, kind, s.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                         e.astimezone(tz).strftime("%Y-%m-%d %H:%M"), ""])
    rng.shuffle(rows)      # unsorted
    return rows


def random_events(rng, p, busy=12):
    people, _ = APP.companies(p)
    t0 = dt.datetime.fromisoformat(p["start_date"] + "T00:00+00:00")
    events = {}
    for c in COMPANIES:
        owners = [(x, "person") for x in people.get(c, [])] + \
            [(f"{c}-room{i}", "room") for i in range(int(rng.integers(1, 3)))] + \
            [(f"{c}-other", "person")]
        ev = [(o, k, None, None) for o, k in owners]
        for o, k in owners:
            for _ in range(int(rng.integers(0, busy + 1))):
                s = t0 + dt.timedelta(minutes=int(rng.integers(-600, p["days"] * 1440)))
                ev.append((o, k, s, s + dt.timedelta(minutes=int(rng.integers(5, 600)))))
        events[c] = ev
    return events


def check(events, p, seed=0, tmp_path=None):
    rng = np.random.default_rng(seed)
    zones = dict(z.split("=") for z in p["timezones"].split(","))
    cals = {c: to_rows(ev, rng, zones.get(c, "UTC")) for c, ev in events.items()}
    got, _ = run_app(cals, p, tmp_path)
    want = twin(events, p)
    people, rooms = APP.companies(p)
    for c in COMPANIES:
        if c in set(people) | set(rooms):
            assert got[c].data["slot"] == (None if want < 0 else want), (c, want)
        else:
            assert got[c] is None
    return want, got


@pytest.mark.parametrize("seed", range(6))
def test_random_calendars_match_the_plaintext_twin(seed):
    rng = np.random.default_rng(seed)
    p = params(duration_minutes=int(rng.choice([30, 60, 90])),
               slot_minutes=int(rng.choice([15, 30])) if seed % 2 else 30)
    events = random_events(rng, p)
    check(events, p, seed)


def test_found_slots_and_rooms_are_consistent_with_each_calendar(tmp_path):
    rng = np.random.default_rng(11)
    p = params()
    events = random_events(rng, p, busy=6)
    want, got = check(events, p, 11, tmp_path)
    assert want >= 0
    start = dt.datetime.fromisoformat(got["securities"].data["start_utc"])
    end = dt.datetime.fromisoformat(got["securities"].data["end_utc"])
    for c in ("securities", "offshore", "fund"):
        room = got[c].data["room"]
        assert room and room.startswith(c)
        assert not any(o == room and s is not None and s < end and e > start
                       for o, _, s, e in events[c])
        local = got[c].tables["meeting"]["rows"]
        assert [r[0] for r in local] == ["fund", "offshore", "securities"]
        row = next(r for r in local if r[0] == c)
        assert row[2].startswith(start.astimezone(ZoneInfo(ZONES[c])).strftime("%Y-%m-%d %H:%M"))


def test_no_common_slot():
    p = params(days=1)
    t0 = dt.datetime(2026, 3, 2, tzinfo=UTC)
    events = random_events(np.random.default_rng(1), p, busy=0)
    events["offshore"].append(("chan", "person", t0, t0 + dt.timedelta(days=1)))
    want, got = check(events, p)
    assert want == -1
    assert got["fund"].data["slot"] is None and "No common free slot" in got["fund"].summary[0]


def test_slot_at_the_first_and_the_last_position():
    # no working hours limit (00:00-23:59 would still cut the last slot: use all days)
    p = params(days=2, work_hours="00:00-23:59", weekdays_only=False, participants=[
        "securities:li"], rooms=["securities", "offshore", "fund"],
        timezones="fund=UTC,offshore=UTC,securities=UTC")
    t0 = dt.datetime(2026, 3, 2, tzinfo=UTC)
    events = {c: [(f"{c}-room", "room", None, None)] for c in COMPANIES}
    events["securities"].append(("li", "person", None, None))
    want, _ = check(events, p)
    assert want == 0                                          # first position
    # last position: everything busy but the last hour of the window (23:00-24:00 is
    # outside 00:00-23:59 for li, so li has no hours; only rooms limit this run)
    p = params(days=2, participants=["securities:li"], rooms=["offshore", "fund"],
               timezones="fund=UTC,offshore=UTC,securities=Asia/Shanghai",
               work_hours="06:00-08:00", weekdays_only=False)
    end = t0 + dt.timedelta(days=2)
    events["fund"].append(("fund-room", "room", t0 - dt.timedelta(hours=1),
                           end - dt.timedelta(hours=1)))
    want, _ = check(events, p)
    assert want == p["days"] * 48 - 2                         # last possible start


def test_dst_change_inside_the_window():
    """London moves to summer time on 29 March 2026, New York on 8 March: 09:00 local is
    09:00 then 08:00 UTC in London, 14:00 then 13:00 UTC in New York."""
    p = params(participants=["fund:smith", "futures:jones", "securities:li"],
               work_hours="09:00-10:00", start_date="2026-03-27", days=5,
               timezones="fund=Europe/London,futures=America/New_York,"
                         "securities=Asia/Shanghai", rooms=[], duration_minutes=60)
    events = {c: [] for c in COMPANIES}
    for c, who in (("fund", "smith"), ("futures", "jones"), ("securities", "li")):
        events[c].append((who, "person", None, None))
    # London 09:00-10:00 and New York 09:00-10:00 never overlap: no slot
    assert check(events, p)[0] == -1
    p = params(participants=["fund:smith", "futures:jones", "securities:li"], rooms=[],
               work_hours="fund=08:00-09:00,futures=04:00-05:00,securities=16:00-17:00",
               start_date="2026-03-27", days=5,
               timezones="fund=Europe/London,futures=America/New_York,"
                         "securities=Asia/Shanghai")
    # before 29 March: London 08:00 = 08:00 UTC, New York 04:00 = 08:00 UTC (EDT) -> Fri 27
    want, _ = check(events, p)
    assert want == 16
    events["futures"].append(("jones", "person", dt.datetime(2026, 3, 27, tzinfo=UTC),
                              dt.datetime(2026, 3, 28, tzinfo=UTC)))
    # Monday 30 March: London 08:00 BST = 07:00 UTC, New York 04:00 EDT = 08:00 UTC: apart
    assert check(events, p)[0] == -1
    # one hour earlier in New York and Shanghai: they meet London only after its change
    p = params(participants=["fund:smith", "futures:jones", "securities:li"], rooms=[],
               work_hours="fund=08:00-09:00,futures=03:00-04:00,securities=15:00-16:00",
               start_date="2026-03-27", days=5,
               timezones="fund=Europe/London,futures=America/New_York,"
                         "securities=Asia/Shanghai")
    events["futures"] = [("jones", "person", None, None)]
    assert check(events, p)[0] == 3 * 48 + 14                 # Monday 07:00 UTC


def test_a_company_with_no_free_room():
    p = params(days=1)
    t0 = dt.datetime(2026, 3, 2, tzinfo=UTC)
    events = random_events(np.random.default_rng(5), p, busy=0)
    h = dt.timedelta(hours=1)
    events["offshore"] = [e for e in events["offshore"] if e[1] == "person"] + [
        ("offshore-room0", "room", t0 + 12 * h, t0 + 24 * h),       # each room is busy
        ("offshore-room0", "room", t0 - h, t0 + 13 * h),            # all day, in pieces
        ("offshore-room1", "room", t0, t0 + 24 * h)]
    assert check(events, p)[0] == -1
    p = params(days=1, rooms=["securities", "fund"])          # offshore books no room
    assert check(events, p)[0] >= 0


def test_overlapping_unsorted_and_duplicate_intervals():
    p = params(days=1, participants=["securities:li"], rooms=[],
               timezones="securities=UTC", work_hours="00:00-12:00")
    t0 = dt.datetime(2026, 3, 2, tzinfo=UTC)
    h = dt.timedelta(hours=1)
    busy = [(t0 + 3 * h, t0 + 5 * h), (t0, t0 + 2 * h), (t0 + h, t0 + 3 * h + 10 * h / 60),
            (t0, t0 + 2 * h), (t0 + 4 * h, t0 + 4 * h + h / 2)]
    events = {c: [] for c in COMPANIES}
    events["securities"] = [("li", "person", None, None)] + [("li", "person", s, e)
                                                             for s, e in busy]
    assert check(events, p)[0] == 10                          # 05:00 UTC


def test_the_booking_is_written_to_ics_once_per_run(tmp_path):
    rng = np.random.default_rng(11)
    p = params()
    events = random_events(rng, p, busy=6)
    cals = {c: to_rows(ev, rng, ZONES[c]) for c, ev in events.items()}
    for _ in range(2):          # the same run twice: one event
        got, _ = run_app(cals, p, tmp_path)
    got, _ = run_app(cals, p, tmp_path, run="run-2")
    store = mb.calendar_path(tmp_path / "securities")
    cal = Calendar.from_ical(store.read_bytes())
    evs = [c for c in cal.walk("VEVENT")]
    assert sorted(str(e["uid"]) for e in evs) == [
        "run-1-securities@meeting-booking.yinji", "run-2-securities@meeting-booking.yinji"]
    ev = evs[0]
    assert ev.decoded("dtstart") == dt.datetime.fromisoformat(got["securities"].data["start_utc"])
    assert str(ev["location"]) == got["securities"].data["room"]
    people = sorted(str(a.params["cn"]) for a in ev.get("attendee") if "cutype" not in a.params)
    assert people == ["li", "wang"]
    assert not (tmp_path / "futures").exists()          # compute only: books nothing
    files = APP.render(got["offshore"].to_json(), tmp_path / "results")
    assert tmp_path / "results" / "meeting.ics" in files
    one = Calendar.from_ical((tmp_path / "results" / "meeting.ics").read_bytes())
    assert [str(e["uid"]) for e in one.walk("VEVENT")] == ["run-2-offshore@meeting-booking.yinji"]


def test_a_failed_store_write_leaves_the_calendar_as_it_was(tmp_path, monkeypatch):
    from yinji.apps import meeting_ics

    data = {"run": "r1", "company": "fund", "start_utc": "2026-03-02T09:00:00+00:00",
            "end_utc": "2026-03-02T10:00:00+00:00", "subject": "s", "people": ["smith"],
            "room": "A", "stamp": "2026-03-01T00:00:00+00:00"}
    path = meeting_ics.book(tmp_path / "c.ics", data)
    before = path.read_bytes()
    monkeypatch.setattr(meeting_ics.Calendar, "to_ical", lambda self: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        meeting_ics.book(path, {**data, "run": "r2"})
    assert path.read_bytes() == before and len(list(tmp_path.iterdir())) == 1


# ------------------------------------------------------------------------------ views


def test_a_company_view_does_not_depend_on_another_company_busy_times():
    """securities (input party, recipient) receives only its three output components; the
    compute parties receive share components that look uniform; and the message pattern of
    every company is the same for two different offshore calendars with the same slot."""
    p = params(days=3)
    base = random_events(np.random.default_rng(21), p, busy=4)
    rng = np.random.default_rng(22)
    other = dict(base)
    other["offshore"] = base["offshore"] + [
        ("chan", "person", s, s + dt.timedelta(minutes=int(rng.integers(30, 300))))
        for s in (dt.datetime(2026, 3, 3, tzinfo=UTC) + dt.timedelta(hours=int(h))
                  for h in rng.integers(0, 48, 10))]
    patterns, slots = [], []
    for ev in (base, other):
        cals = {c: to_rows(e, np.random.default_rng(0), ZONES[c]) for c, e in ev.items()}
        got, views = run_app(cals, p, record=COMPANIES)
        slots.append(got["securities"].data["slot"])
        patterns.append({c: [(s, getattr(m, "shape", None), getattr(m, "dtype", None))
                             for s, m in v] for c, v in views.items()})
        sec = views["securities"]
        assert sorted(s for s, _ in sec) == COMPANIES[:3]
        total = sum(int(m.view(np.uint64)[0]) for _, m in sec) % 2**64
        assert total == got["securities"].data["slot"]
        for c in COMPANIES[:3]:
            assert looks_uniform(views[c]) == []
            from_sec = [m for s, m in views[c] if s == "securities"]
            assert [m.shape for m in from_sec] == [(1,), (3 * 48 - 1,), (3 * 48 - 1,)]
    assert slots[0] == slots[1] is not None
    assert patterns[0] == patterns[1]


def test_a_non_recipient_compute_party_learns_nothing_from_the_opening():
    """futures computes but is no recipient: the only one-element array it receives is
    securities' input shape; fund (a compute recipient) also receives one component of
    the opened index, and sees it sum to the slot with its own."""
    p = params(days=1)
    events = random_events(np.random.default_rng(4), p, busy=3)
    cals = {c: to_rows(e, np.random.default_rng(0), ZONES[c]) for c, e in events.items()}
    got, views = run_app(cals, p, record=["futures", "fund"])
    assert got["futures"] is None and got["fund"].data["slot"] is not None

    def ones(view):
        return [(s, m.dtype.str) for s, m in view if getattr(m, "shape", None) == (1,)]
    assert ones(views["futures"]) == [("securities", "<i8")]
    assert ones(views["fund"]) == [("securities", "<i8"), ("futures", "<u8")]


# ------------------------------------------------------------------------------ refusals


def test_parameters_out_of_bounds_are_refused():
    for bad, word in ((dict(days=40), "days"), (dict(slot_minutes=20), "slot_minutes"),
                      (dict(duration_minutes=45), "multiple"),
                      (dict(duration_minutes=600), "duration_minutes"),
                      (dict(start_date="02/03/2026"), "start_date"),
                      (dict(timezones="securities=Mars/Olympus"), "IANA"),
                      (dict(work_hours="18:00-09:00"), "work_hours"),
                      (dict(participants=["li"]), "company:person"),
                      (dict(participants=["a:x", "a:x"]), "distinct")):
        with pytest.raises(AppError, match=word):
            params(**bad)


def test_spec_checks():
    p = params()
    spec = make_spec(p)
    spec["recipients"] = ["securities"]
    assert any("recipients" in x for x in APP.validate(spec))
    spec = make_spec(p)
    del spec["inputs"]["offshore"], spec["params"]["roles"]["offshore"]
    spec["params"]["compute"] = ["fund", "futures", "securities"]
    assert any("offshore must supply" in x for x in APP.validate(spec))
    spec = make_spec(params(timezones="securities=Asia/Shanghai"), recipients=["fund"])
    assert any("no time zone for" in x for x in APP.validate(spec))


def test_accepted_time_forms_agree():
    tz, origin = ZoneInfo("America/New_York"), dt.datetime(2026, 3, 2, tzinfo=UTC)
    forms = ["2026-03-09 09:30", "2026-03-09T09:30:00-04:00", "2026-03-09T13:30Z",
             "2026/03/09 09:30", "3/9/2026 9:30:00 AM", "3/9/2026 9:30 AM", "20260309T093000",
             "2026-03-09T22:30+09:00"]
    rows = [["li", "person", f, "2026-03-09T14:00Z", ""] for f in forms]
    cal = mc.read(rows_to_cols(rows), tz, origin)
    assert {a for a, _ in cal.busy["li"]} == {7 * 1440 + 13.5 * 60}   # after the DST change


def test_calendar_store_path_may_be_configured(tmp_path):
    assert mb.calendar_path(tmp_path) == tmp_path / "calendar" / "meeting-booking.ics"
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "meeting-booking.json").write_text('{"calendar_path": "cal/x.ics"}')
    assert mb.calendar_path(tmp_path) == tmp_path / "cal" / "x.ics"


def test_unreadable_rows_are_named():
    tz, origin = ZoneInfo("Asia/Shanghai"), dt.datetime(2026, 3, 2, tzinfo=UTC)
    rows = [["li", "person", "2026-03-02 09:00", "2026-03-02 10:00", ""],
            ["li", "person", "tomorrow", "2026-03-02 10:00", ""],
            ["room1", "desk", "", "", ""],
            ["li", "person", "2026-03-02 11:00", "2026-03-02 10:00", ""],
            ["li", "person", "2026-03-02 11:00", "2026-03-02 12:00", "Asia/Nowhere"],
            ["li", "room", "", "", ""],
            ["li", "person", "0001-01-01T00:00+08:00", "2026-03-02 12:00", ""],
            ["li", "person", "09/03/2026 09:00", "2026-03-02 12:00", ""]]
    with pytest.raises(AppError) as err:
        mc.read(rows_to_cols(rows), tz, origin)
    msg = str(err.value)
    for part in ("start/end time on row(s) 3, 8, 9", "kind (person|room) on row(s) 4",
                 "end not after start on row(s) 5", "time zone on row(s) 6",
                 "both person and room on row(s) 7"):
        assert part in msg
    assert "tomorrow" not in msg
    # only the run's people and rooms are read: another person's bad row is not refused
    ok = [rows[0], rows[1], ["zhou", "person", "", "", ""], ["r1", "room", "x", "y", ""]]
    cal = mc.read(rows_to_cols(ok), tz, origin, people=["zhou"], rooms=False)
    assert cal.kind == {"li": "person", "zhou": "person", "r1": "room"} and not cal.busy["li"]
    with pytest.raises(AppError, match="row.s. 5"):
        mc.read(rows_to_cols(ok), tz, origin, people=["zhou"], rooms=True)


def test_a_participant_missing_from_the_calendar_is_refused():
    p = params()
    events = random_events(np.random.default_rng(2), p, busy=1)
    events["offshore"] = [e for e in events["offshore"] if e[0] != "chan"]
    rows = to_rows(events["offshore"], np.random.default_rng(0), ZONES["offshore"])
    ctx = RunContext(make_spec(p), "offshore", None, rows_to_cols(rows), lambda f, s: None)
    with pytest.raises(AppError, match="chan"):
        APP.run(ctx)       # refused before anything is sent
