"""Generated calendars for the meeting-booking app's demo (`make demo`) and its check against
the earliest common slot computed in the clear (seeded sample data)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from yinji.apps.base import DemoRun

COLUMNS = ("owner", "kind", "start", "end", "tz")
SCHEMA = dict.fromkeys(COLUMNS, "string")
ZONES = {"securities": "Asia/Shanghai", "fund": "Asia/Shanghai", "futures": "Asia/Shanghai",
         "offshore": "Asia/Hong_Kong"}
PEOPLE = {"securities": ["li.wei", "wang.fang"], "offshore": ["chan.tm"], "fund": ["zhao.min"]}


def write_calendars(data: dict[str, Path], start: dt.date, days: int = 5, seed: int = 2026,
                    busy: float = 0.2) -> dict[str, Path]:
    """calendar.csv per company: its people (and a few others), 2-3 rooms, busy hours in
    local time (offshore's with a tz column, fund's in ISO-8601 with offset)."""
    rng = np.random.default_rng(seed)
    out = {}
    for company, folder in sorted(data.items()):
        folder.mkdir(parents=True, exist_ok=True)
        tz = ZoneInfo(ZONES.get(company, "Asia/Shanghai"))
        owners = [(p, "person") for p in PEOPLE.get(company, [])] + \
            [(f"staff{i}", "person") for i in range(3)] + \
            [(f"{company}-room-{i + 1}", "room") for i in range(int(rng.integers(2, 4)))]
        rows = [[o, k, "", "", ""] for o, k in owners]
        for o, k in owners:
            for d in range(days + 1):
                day = start + dt.timedelta(days=d)
                for hour in range(8, 19):
                    if rng.random() < busy:
                        a = dt.datetime(day.year, day.month, day.day, hour, tzinfo=tz)
                        b = a + dt.timedelta(minutes=int(rng.choice([30, 60, 90])))
                        if company == "fund":
                            rows.append([o, k, a.isoformat(), b.isoformat(), ""])
                        else:
                            tzcol = str(tz) if company == "offshore" else ""
                            rows.append([o, k, f"{a:%Y-%m-%d %H:%M}", f"{b:%Y-%m-%d %H:%M}",
                                         tzcol])
        order = rng.permutation(len(rows))
        path = folder / "calendar.csv"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(COLUMNS)
            w.writerows(rows[i] for i in order)
        out[company] = path
    return out


def read_calendar(path: Path) -> dict[str, np.ndarray]:
    """A calendar.csv typed as the node's catalog types it (strings)."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {c: np.array([r[c] for r in rows], dtype=object) for c in COLUMNS}


def demo_params(start: dt.date, days: int = 5) -> dict[str, Any]:
    return {"participants": [f"{c}:{p}" for c, ps in sorted(PEOPLE.items()) for p in ps],
            "timezones": ",".join(f"{c}={z}" for c, z in sorted(ZONES.items())),
            "start_date": start.isoformat(), "days": days, "duration_minutes": 60,
            "subject": "Quarterly risk review"}


def expected_slot(app: Any, paths: dict[str, Path], params: dict[str, Any]) -> int | None:
    """The earliest common start computed in the clear from every company's file."""
    from yinji.apps import meeting_calendar as mc

    p = app.resolve_params(params)
    g, needs = app.grid(p), app.needs(p)
    vectors = []
    for c, need in needs.items():
        cal = mc.read(read_calendar(paths[c]), need.tz, g.start, need.people, need.room)
        vectors.append(mc.free_vector(cal, need, g))
    return mc.earliest(vectors)


def demo(app: Any, data: dict[str, Path], seed: int = 2026) -> DemoRun:
    today = dt.datetime.now(dt.UTC).date()
    start = today + dt.timedelta(days=7 - today.weekday())      # next Monday
    paths = write_calendars(data, start, seed=seed)
    params = demo_params(start)
    request = {"params": params, "inputs": {n: {"dataset": "calendar"} for n in data}}
    datasets = {n: [{"id": "calendar", "kind": "csv", "location": "data/calendar.csv",
                     "schema": SCHEMA,
                     "policy": [{"columns": list(COLUMNS), "protocols": [app.protocol]}]}]
                for n in data}

    def check(reports: dict[str, dict[str, Any] | None]) -> list[str]:
        want = expected_slot(app, paths, params)
        problems = []
        for c in sorted(app.needs(app.resolve_params(params))):
            got = ((reports.get(c) or {}).get("data") or {}).get("slot", "missing")
            if got != want:
                problems.append(f"{c} got slot {got}, the plaintext gives {want}")
        return problems

    return DemoRun("securities", datasets, request, check)
