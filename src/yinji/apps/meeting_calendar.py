"""A company's calendar for the meeting-booking app, read and reduced locally: busy rows ->
a UTC slot grid -> the company's free vector over the meeting's possible start slots. None
of this leaves the company; only the free vector goes into MPC, as shares.

Accepted rows (one per busy interval; columns owner, kind, start, end, tz optional):
- `kind` is `person` or `room` (also 人员/会议室); `owner` the person's or room's id;
- `start` / `end` in ISO-8601, with an offset (`2026-03-09T09:00+08:00`, `...Z`) or without
  one, in the forms Outlook/Exchange CSV exports give (`2026-03-09 09:00`, `2026/03/09 09:00`,
  or the US-locale Outlook export's date and time joined: `3/9/2026 9:00:00 AM`; day-first
  dates such as 09/03/2026 are not read, they are ambiguous) -- local times in the row's `tz` column (an IANA name such as Europe/London), else in the
  company's time zone from the run's parameters. Local times that a DST change skips or
  repeats are read with the offset before the change (Python's zoneinfo, fold=0);
- a row with empty start and end names a person or room without busy times.
Unreadable rows are refused, naming the row numbers (never the values).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from yinji.apps.base import AppError

UTC = dt.UTC
KINDS = {"person": "person", "room": "room", "人员": "person", "会议室": "room"}
FORMATS = ("%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y%m%dT%H%M%S", "%Y%m%dT%H%M%SZ",
           "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p")
MAX_ROWS = 1_000_000


def zone(name: str, what: str = "time zone") -> ZoneInfo:
    try:
        return ZoneInfo(str(name).strip())
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise AppError(f"{what} {name!r} is not an IANA time zone name "
                       "(e.g. Asia/Shanghai, Europe/London)") from None


@dataclass(frozen=True)
class Grid:
    """The UTC slot grid: `slots` slots of `minutes` from `start` (00:00 UTC of the window's
    first day); a meeting of `length` slots may start at slots 0..candidates-1."""

    start: dt.datetime
    minutes: int
    slots: int
    length: int

    @property
    def candidates(self) -> int:
        return max(self.slots - self.length + 1, 0)

    def at(self, k: int) -> dt.datetime:
        return self.start + dt.timedelta(minutes=self.minutes * k)


def grid(start_date: str, days: int, slot_minutes: int, duration_minutes: int) -> Grid:
    day = dt.date.fromisoformat(start_date)
    start = dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
    return Grid(start, slot_minutes, days * 24 * 60 // slot_minutes,
                duration_minutes // slot_minutes)


def _time(text: str, tz: ZoneInfo | None) -> dt.datetime | None:
    """An aware datetime in UTC, or None if the text is not a time we read."""
    t = None
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        for fmt in FORMATS:
            try:
                t = dt.datetime.strptime(text, fmt)
                if fmt.endswith("Z"):
                    t = t.replace(tzinfo=UTC)
                break
            except ValueError:
                continue
    if t is None:
        return None
    if t.tzinfo is None:
        if tz is None:
            return None
        t = t.replace(tzinfo=tz)
    try:
        return t.astimezone(UTC)
    except (OverflowError, ValueError):   # e.g. 0001-01-01 at +08:00
        return None


@dataclass
class Calendar:
    """One company's resources and busy intervals (minutes since the grid start, UTC)."""

    kind: dict[str, str]                                   # owner -> person | room
    busy: dict[str, list[tuple[float, float]]]


def read(cols: dict[str, np.ndarray], company_tz: ZoneInfo, origin: dt.datetime,
         people: Sequence[str] | None = None, rooms: bool = True) -> Calendar:
    """The calendar from the input columns; AppError naming the unreadable rows. With
    `people`, the times of other persons (and of rooms unless `rooms`) are not read: a
    whole Exchange export can be the input, only the run's rows are parsed."""
    wanted = None if people is None else set(people)
    owners, kinds, starts, ends = (cols[c] for c in ("owner", "kind", "start", "end"))
    tzs = cols.get("tz")
    if len(owners) > MAX_ROWS:
        raise AppError(f"the calendar has {len(owners):,} rows, more than {MAX_ROWS:,}")
    kind: dict[str, str] = {}
    busy: dict[str, list[tuple[float, float]]] = {}
    bad: dict[str, list[int]] = {}
    zones: dict[str, ZoneInfo | None] = {}
    for i in range(len(owners)):
        row = i + 2   # the file's line number, after the header
        owner = str(owners[i]).strip()
        k = KINDS.get(str(kinds[i]).strip().lower())
        if not owner or k is None:
            bad.setdefault("owner or kind (person|room)", []).append(row)
            continue
        if kind.setdefault(owner, k) != k:
            bad.setdefault("owner listed as both person and room", []).append(row)
            continue
        busy.setdefault(owner, [])
        if wanted is not None and (owner not in wanted if k == "person" else not rooms):
            continue
        s, e = str(starts[i]).strip(), str(ends[i]).strip()
        if not s and not e:
            continue
        tzname = str(tzs[i]).strip() if tzs is not None else ""
        if tzname not in zones:
            try:
                zones[tzname] = zone(tzname) if tzname else company_tz
            except AppError:
                zones[tzname] = None
        tz = zones[tzname]
        if tz is None:
            bad.setdefault("time zone", []).append(row)
            continue
        a, b = _time(s, tz), _time(e, tz)
        if a is None or b is None:
            bad.setdefault("start/end time", []).append(row)
        elif b <= a:
            bad.setdefault("end not after start", []).append(row)
        else:
            busy[owner].append(((a - origin).total_seconds() / 60,
                                (b - origin).total_seconds() / 60))
    if bad:
        parts = [f"{what} on row(s) {', '.join(map(str, rows[:10]))}"
                 + (f" and {len(rows) - 10} more" if len(rows) > 10 else "")
                 for what, rows in bad.items()]
        raise AppError("unreadable calendar rows: " + "; ".join(parts))
    return Calendar(kind, busy)


def busy_slots(intervals: Sequence[tuple[float, float]], g: Grid) -> np.ndarray:
    """Bool per slot: the slot overlaps one of the intervals (any order, overlaps allowed)."""
    diff = np.zeros(g.slots + 1, np.int64)
    if intervals:
        iv = np.asarray(intervals, np.float64)
        first = np.clip(np.floor(iv[:, 0] / g.minutes), 0, g.slots).astype(np.int64)
        last = np.clip(np.ceil(iv[:, 1] / g.minutes), 0, g.slots).astype(np.int64)
        keep = last > first
        np.add.at(diff, first[keep], 1)
        np.add.at(diff, last[keep], -1)
    return np.cumsum(diff[:-1]) > 0


def work_slots(g: Grid, tz: ZoneInfo, hours: tuple[dt.time, dt.time],
               weekdays_only: bool) -> np.ndarray:
    """Bool per slot: the slot lies inside the company's working hours, in its own time zone
    on each local day (so DST changes move the UTC hours)."""
    ok = np.zeros(g.slots, bool)
    first = (g.start.astimezone(tz) - dt.timedelta(days=1)).date()
    last = (g.at(g.slots).astimezone(tz) + dt.timedelta(days=1)).date()
    day = first
    while day <= last:
        if not weekdays_only or day.weekday() < 5:
            a = dt.datetime.combine(day, hours[0], tz).astimezone(UTC)
            b = dt.datetime.combine(day, hours[1], tz).astimezone(UTC)
            lo = int(np.ceil((a - g.start).total_seconds() / 60 / g.minutes))
            hi = int(np.floor((b - g.start).total_seconds() / 60 / g.minutes))
            ok[max(lo, 0):max(min(hi, g.slots), 0)] = True
        day += dt.timedelta(days=1)
    return ok


def _whole(bad: np.ndarray, g: Grid) -> np.ndarray:
    """Bool per candidate start k: no bad slot among k..k+length-1."""
    c = np.concatenate([[0], np.cumsum(bad, dtype=np.int64)])
    return (c[g.length:] - c[:-g.length]) == 0 if g.candidates else np.zeros(0, bool)


@dataclass(frozen=True)
class Need:
    """What the run asks of one company (all public in the run's parameters)."""

    people: tuple[str, ...]
    room: bool
    tz: ZoneInfo
    hours: tuple[dt.time, dt.time]
    weekdays_only: bool = True


def check_need(cal: Calendar, need: Need, company: str) -> None:
    missing = [p for p in need.people if cal.kind.get(p) != "person"]
    if missing:
        raise AppError(f"participant(s) {', '.join(missing)} have no person row in {company}'s "
                       "calendar (a person without busy times needs a row with empty "
                       "start and end)")
    if need.room and not any(k == "room" for k in cal.kind.values()):
        raise AppError(f"{company} must book a room but its calendar lists no room")


def free_vector(cal: Calendar, need: Need, g: Grid) -> np.ndarray:
    """0/1 per candidate start: every participant of the company is free and within working
    hours for the whole meeting, and (if it needs one) one of its rooms is free all along."""
    ok = np.ones(g.candidates, bool)
    if need.people:
        bad = ~work_slots(g, need.tz, need.hours, need.weekdays_only)
        for p in need.people:
            bad |= busy_slots(cal.busy[p], g)
        ok &= _whole(bad, g)
    if need.room:
        ok &= np.logical_or.reduce([np.zeros(g.candidates, bool)] + [
            _whole(busy_slots(cal.busy[r], g), g) for r in rooms(cal)])
    return ok.astype(np.uint64)


def rooms(cal: Calendar) -> list[str]:
    return sorted(o for o, k in cal.kind.items() if k == "room")


def pick_room(cal: Calendar, g: Grid, k: int) -> str:
    """The first room (by id) free for the whole meeting starting at slot k."""
    for r in rooms(cal):
        if not busy_slots(cal.busy[r], g)[k:k + g.length].any():
            return r
    raise AppError("no room is free at the chosen slot (the calendar changed during the run?)")


def earliest(vectors: Sequence[np.ndarray]) -> int | None:
    """The plaintext twin of the MPC step: the first start free at every company."""
    both = np.logical_and.reduce([np.asarray(v, bool) for v in vectors])
    hits = np.flatnonzero(both)
    return int(hits[0]) if hits.size else None
