"""Writing a booked meeting to a company's local calendar store: an iCalendar (.ics) file,
built and parsed with the `icalendar` library (RFC 5545).

`book` is idempotent per run: the event's UID is derived from the run id and the company, an
existing event with that UID is replaced (never duplicated), and the file is replaced
atomically, so a failed write leaves the previous calendar as it was.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//Yinji//meeting-booking//EN"


def uid(data: dict[str, Any]) -> str:
    return f"{data['run']}-{data['company']}@meeting-booking.yinji"


def _address(company: str, who: str) -> vCalAddress:
    return vCalAddress(f"mailto:{who}" if "@" in who else f"urn:yinji:{company}:{who}")


def event(data: dict[str, Any]) -> Event:
    ev = Event()
    ev.add("uid", uid(data))
    ev.add("dtstamp", dt.datetime.fromisoformat(data["stamp"]))
    ev.add("dtstart", dt.datetime.fromisoformat(data["start_utc"]))
    ev.add("dtend", dt.datetime.fromisoformat(data["end_utc"]))
    ev.add("summary", data["subject"])
    ev.add("x-yinji-run", data["run"])
    for who in data.get("people") or []:
        a = _address(data["company"], who)
        a.params["cn"] = vText(who)
        a.params["role"] = vText("REQ-PARTICIPANT")
        ev.add("attendee", a, encode=0)
    if data.get("room"):
        ev.add("location", data["room"])
        r = _address(data["company"], data["room"])
        r.params["cn"] = vText(data["room"])
        r.params["cutype"] = vText("ROOM")
        ev.add("attendee", r, encode=0)
    return ev


def book(path: Path, data: dict[str, Any]) -> Path:
    """Add (or replace) the run's event in the .ics file at `path`; returns `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file():
        cal = Calendar.from_ical(path.read_bytes())
        keep = [c for c in cal.subcomponents
                if not (c.name == "VEVENT" and str(c.get("uid")) == uid(data))]
        cal.subcomponents[:] = keep
    else:
        cal = Calendar()
        cal.add("prodid", PRODID)
        cal.add("version", "2.0")
    cal.add_component(event(data))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".ics")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(cal.to_ical())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
