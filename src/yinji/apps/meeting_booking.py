"""Integrated domestic and overseas meeting booking (境内外会议预定一体化管理): the earliest
slot at which every participant at every company is free, within each company's working
hours in its own time zone, with a free room at each company that needs one -- found in MPC
on availability bitmaps; every calendar stays at its company.

Pipeline: each company reads its calendar (yinji.apps.meeting_calendar), aligns it on the
run's UTC slot grid and computes locally, per possible start slot of the meeting, one bit:
all its participants free and in working hours for the whole meeting, and (if it must book a
room) one of its rooms free all along (the same room for the whole meeting, so the AND over
the meeting's consecutive slots is taken locally, before the OR over rooms). It
secret-shares the bit vector into the three compute parties (yinji.mpc.inputs; a compute
company shares as an owner). In MPC: the AND across companies (yinji.mpc.scan.and_all) and
the index of the first 1 by prefix product (scan.first_one); only that index -- the
earliest common start, or "none" -- is opened, to each recipient only (the companies with
participants or a room to book). Each recipient then books locally: it picks its first free
room at that slot and writes the event to an .ics file (`icalendar`) in the run's results
and to its calendar store, idempotently per run id.

Participants are a public parameter (company:person ids): every company approves which of
its people's availability the run uses, and needs the list to compute its bits.

Adversary model: semi-honest; no two compute parties collude (yinji.mpc); an input company
may collude with one compute party. Leakage, exactly: every recipient learns the chosen
start slot or "none" -- which inherently says that at that slot everyone is free (and each
company that books has a free room), and that at every earlier start someone is busy or out
of working hours or without a room (not who). Compute parties that are not recipients learn
nothing; nobody learns another company's busy times, rooms or per-company free bits. The
parameters (participants, time zones, working hours, window) are public to the run's
companies; the number of rows in a calendar never leaves its company.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from yinji.apps import meeting_calendar as mc
from yinji.apps.base import App, AppError, Column, DemoRun, Param, Report, Role, inputs_by_role
from yinji.mpc import replicated as rep
from yinji.mpc import scan
from yinji.mpc.inputs import receive_input, receive_output, reveal_outside, send_input
from yinji.mpc.session import Session
from yinji.mpc.tensor import SharedTensor
from yinji.net.channel import Party

if TYPE_CHECKING:
    from yinji.node.runners import RunContext

MAX_PARTICIPANTS = 100
MAX_SLOTS = 31 * 96


# ----------------------------------------------------------------------- the MPC step


def earliest_common(party: Party, companies: list[str], compute: list[str],
                    recipients: list[str], free: np.ndarray | None, candidates: int
                    ) -> int | None:
    """Run by every company (`free`: its 0/1 vector over the candidate starts). Returns the
    earliest start free at every company, or -1 if none, at recipients; None elsewhere.

    Rounds: 1 (inputs) + ceil(log2 companies) (AND) + ceil(log2 candidates) (scan) + 1."""
    me = party.name
    if free is not None and np.asarray(free).shape != (candidates,):
        raise AppError(f"{me}'s free vector has {np.asarray(free).shape}, not {candidates}")
    if me not in compute:
        send_input(party, compute, np.asarray(free, np.uint64), frac_bits=0)
        if me not in recipients:
            return None
        n = int(receive_output(party, compute, frac_bits=0).reshape(-1)[0])
        return n if n < candidates else -1
    s = Session(party, compute, frac_bits=0)
    vecs = []
    for c in companies:
        if c in compute:
            vecs.append(rep.share(s, np.asarray(free, np.uint64) if c == me else None,
                                  compute.index(c), shape=(candidates,)))
        else:
            x = receive_input(s, c, frac_bits=0, max_elements=MAX_SLOTS)
            if x.shape != (candidates,):
                raise AppError(f"{c} shared {x.shape} bits, the run has {candidates} starts")
            vecs.append(x.shares)
    index = scan.first_one(s, scan.and_all(s, vecs))          # shape (1,)
    out = None
    for r in recipients:
        if r in compute:
            got = rep.reveal_to(s, index, compute.index(r))
            if r == me:
                out = int(got[0])  # type: ignore[index]
        else:
            reveal_outside(SharedTensor(s, index, 0), r)
    if me not in recipients:
        return None
    return out if out < candidates else -1  # type: ignore[operator]


# --------------------------------------------------------------------- parameters


def _pairs(text: str, what: str) -> dict[str, str]:
    out = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        k, sep, v = part.partition("=")
        if not sep or not k.strip() or not v.strip() or k.strip() in out:
            raise AppError(f"parameter {what!r} must look like company=value,company=value "
                           f"(each company once), got {part!r}")
        out[k.strip()] = v.strip()
    return out


def _hours(text: str) -> tuple[dt.time, dt.time]:
    a, sep, b = text.partition("-")
    try:
        lo, hi = dt.time.fromisoformat(a.strip()), dt.time.fromisoformat(b.strip())
    except ValueError:
        lo = hi = None
    if not sep or lo is None or hi is None or hi <= lo:
        raise AppError(f"parameter 'work_hours': {text!r} is not a range like 09:00-18:00")
    return lo, hi


class MeetingBooking(App):
    name = "meeting-booking"
    version = "1"
    title = "Meeting booking across companies (境内外会议预定)"
    summary = ("Finds the earliest slot at which every participant at every company is free "
               "(each company's working hours in its time zone, a free room where needed); "
               "nobody sees anyone's busy times.")
    roles = (Role("calendar", (
        Column("owner", "id", "person or room id"),
        Column("kind", "text", "person or room"),
        Column("start", "date", "busy from (ISO-8601, or local time with tz)"),
        Column("end", "date", "busy until"),
        Column("tz", "text", "IANA time zone of local start/end (default: the company's)"),
    ), help="every company's busy times of its people and rooms", optional=("tz",)),)
    params = (
        Param("participants", "names", required=True,
              help="company:person ids, e.g. securities:li.wei, offshore:chan.tm"),
        Param("rooms", "names", None, help="companies that book a room (default: every "
                                           "company with participants)"),
        Param("timezones", "str", required=True,
              help="company=IANA zone, e.g. securities=Asia/Shanghai,offshore=Asia/Hong_Kong"),
        Param("work_hours", "str", "09:00-18:00",
              help="local working hours for all (09:00-18:00) or per company "
                   "(securities=09:00-17:30,offshore=09:30-18:00)"),
        Param("weekdays_only", "bool", True, help="working hours on Monday-Friday only"),
        Param("start_date", "str", required=True, help="first day of the window, YYYY-MM-DD "
                                                       "(the window starts at 00:00 UTC)"),
        Param("days", "int", 5, 1, 31, help="length of the window in days"),
        Param("slot_minutes", "int", 30, choices=(15, 30), help="grid step"),
        Param("duration_minutes", "int", 60, 15, 480,
              help="meeting length, a multiple of slot_minutes"),
        Param("subject", "str", "Meeting", help="the calendar entry's title"),
    )

    # -- parameters -----------------------------------------------------------------------
    def resolve_params(self, given: dict[str, Any]) -> dict[str, Any]:
        out = super().resolve_params(given)
        people = out["participants"]
        if not 0 < len(people) <= MAX_PARTICIPANTS or len(set(people)) != len(people):
            raise AppError(f"parameter 'participants' must list 1..{MAX_PARTICIPANTS} "
                           "distinct company:person ids")
        for p in people:
            c, sep, who = p.partition(":")
            if not sep or not c.strip() or not who.strip():
                raise AppError(f"parameter 'participants': {p!r} is not company:person")
        out["participants"] = [f"{p.partition(':')[0].strip()}:{p.partition(':')[2].strip()}"
                               for p in people]
        zones = _pairs(out["timezones"], "timezones")
        for c, z in zones.items():
            mc.zone(z, f"parameter 'timezones': {c}'s zone")
        out["timezones"] = ",".join(f"{c}={z}" for c, z in sorted(zones.items()))
        wh = out["work_hours"]
        if "=" in wh:
            per = _pairs(wh, "work_hours")
            for v in per.values():
                _hours(v)
            out["work_hours"] = ",".join(f"{c}={v}" for c, v in sorted(per.items()))
        else:
            _hours(wh)
            out["work_hours"] = wh.strip()
        try:
            dt.date.fromisoformat(out["start_date"])
        except ValueError:
            raise AppError("parameter 'start_date' must be a date YYYY-MM-DD") from None
        if out["duration_minutes"] % out["slot_minutes"]:
            raise AppError("parameter 'duration_minutes' must be a multiple of "
                           f"slot_minutes ({out['slot_minutes']})")
        if out["duration_minutes"] > out["days"] * 24 * 60:
            raise AppError("parameter 'duration_minutes' is longer than the window")
        return out

    def companies(self, params: dict[str, Any]) -> tuple[dict[str, list[str]], list[str]]:
        """(company -> its participants, companies that book a room)."""
        people: dict[str, list[str]] = {}
        for p in params["participants"]:
            c, _, who = p.partition(":")
            people.setdefault(c, []).append(who)
        rooms = params.get("rooms")
        return people, sorted(people) if rooms is None else sorted(set(rooms))

    def needs(self, params: dict[str, Any]) -> dict[str, mc.Need]:
        people, rooms = self.companies(params)
        zones = _pairs(params["timezones"], "timezones")
        wh = params["work_hours"]
        per = _pairs(wh, "work_hours") if "=" in wh else {}
        out = {}
        for c in sorted(set(people) | set(rooms)):
            if c not in zones:
                raise AppError(f"parameter 'timezones' gives no time zone for {c}")
            hours = per.get(c, per.get("*", wh if not per else "09:00-18:00"))
            out[c] = mc.Need(tuple(people.get(c, ())), c in rooms, mc.zone(zones[c]),
                             _hours(hours), bool(params.get("weekdays_only", True)))
        return out

    def plan(self, params: dict[str, Any], roles: dict[str, str], proposer: str,
             private: dict[str, Any] | None) -> dict[str, Any]:
        self._check_companies(params, roles)
        return {}

    def _check_companies(self, params: dict[str, Any], roles: dict[str, str]) -> None:
        needs = self.needs(params)
        absent = sorted(set(needs) - set(roles))
        if absent:
            raise AppError(f"{', '.join(absent)} must supply a calendar: they have "
                           "participants or book a room")
        if len(roles) < 3:
            raise AppError("a run needs three companies with a calendar (three compute "
                           "parties); add a company without participants to compute")

    def default_recipients(self, roles: dict[str, str], proposer: str,
                           params: dict[str, Any]) -> list[str]:
        return sorted(self.needs(params))

    def validate(self, spec: dict[str, Any]) -> list[str]:
        problems = super().validate(spec)
        if problems:
            return problems
        p = spec["params"]
        try:
            self._check_companies(p, p["roles"])
            want = sorted(self.needs(p))
        except AppError as exc:
            return [str(exc)]
        if sorted(spec["recipients"]) != want:
            problems.append(f"the recipients must be exactly the companies with participants "
                            f"or a room to book: {', '.join(want)}")
        stray = [c for c in p["roles"] if c not in want and c not in p["compute"]]
        if stray:
            problems.append(f"{', '.join(stray)} neither take part nor compute")
        g = self.grid(p)
        if g.slots > MAX_SLOTS:
            problems.append(f"the window has {g.slots} slots, more than {MAX_SLOTS}")
        return problems

    def grid(self, params: dict[str, Any]) -> mc.Grid:
        return mc.grid(params["start_date"], int(params["days"]), int(params["slot_minutes"]),
                       int(params["duration_minutes"]))

    # -- the run ------------------------------------------------------------------------
    def run(self, ctx: RunContext) -> Report | None:
        params = ctx.spec["params"]
        g, needs = self.grid(params), self.needs(params)
        need = needs.get(ctx.me)
        cols = inputs_by_role(ctx, self)
        cal = None
        if need is not None:
            if cols is None:
                raise AppError(f"{ctx.me} takes part but supplies no calendar")
            cal = mc.read(cols, need.tz, g.start, need.people, need.room)
            mc.check_need(cal, need, ctx.me)
            free = mc.free_vector(cal, need, g)
        else:
            free = np.ones(g.candidates, np.uint64)   # a compute-only company
        ctx.progress(0.3, "finding the earliest common slot")
        k = earliest_common(ctx.party, sorted(params["roles"]), list(params["compute"]),
                            sorted(ctx.spec["recipients"]), free, g.candidates)
        if k is None:
            return None
        if k >= 0 and not free[k]:
            raise AppError("the opened slot is not free here: the compute parties disagree")
        room = mc.pick_room(cal, g, k) if k >= 0 and need is not None and need.room else None
        report = self._report(ctx, g, needs, k, room)
        if k >= 0 and ctx.home is not None:
            from yinji.apps import meeting_ics

            meeting_ics.book(calendar_path(ctx.home), report.data)
        return report

    def _report(self, ctx: RunContext, g: mc.Grid, needs: dict[str, mc.Need], k: int,
                room: str | None) -> Report:
        params, me = ctx.spec["params"], ctx.me
        rep_ = Report(f"{self.title}: {params['subject']}")
        mine = list(needs[me].people) if me in needs else []
        if k < 0:
            rep_.summary.append(f"No common free slot of {params['duration_minutes']} minutes "
                                f"in the {params['days']} days from {params['start_date']}.")
            rep_.data = {"slot": None}
            return rep_
        start, end = g.at(k), g.at(k + g.length)
        rows = []
        for c, n in sorted(needs.items()):
            a, b = start.astimezone(n.tz), end.astimezone(n.tz)
            rows.append([c, str(n.tz), a.strftime("%Y-%m-%d %H:%M %a"),
                         b.strftime("%Y-%m-%d %H:%M"), len(n.people),
                         (room or "") if c == me else ("(booked there)" if n.room else "")])
        rep_.table("meeting", ["company", "time_zone", "local_start", "local_end",
                               "participants", "room"], rows)
        rep_.summary.append(f"Earliest common slot: {start:%Y-%m-%d %H:%M}-{end:%H:%M} UTC"
                            + (f"; room {room} booked at {me}" if room else ""))
        rep_.data = {"slot": k, "start_utc": start.isoformat(), "end_utc": end.isoformat(),
                     "room": room, "company": me, "people": mine,
                     "subject": params["subject"], "run": ctx.spec.get("id", ""),
                     "stamp": dt.datetime.now(mc.UTC).replace(microsecond=0).isoformat()}
        return rep_

    def render(self, report: dict[str, Any], directory: Path) -> list[Path]:
        files = super().render(report, directory)
        data = report.get("data") or {}
        if data.get("slot") is not None:
            from yinji.apps import meeting_ics

            files.append(meeting_ics.book(directory / "meeting.ics", data))
        return files

    def demo(self, data: dict[str, Path], seed: int = 2026) -> DemoRun:
        from yinji.apps.meeting_demo import demo

        return demo(self, data, seed)


def calendar_path(home: Path) -> Path:
    """The company's calendar store: `calendar_path` in HOME/apps/meeting-booking.json if
    that file exists (relative to HOME), else HOME/calendar/meeting-booking.ics."""
    conf = home / "apps" / "meeting-booking.json"
    if conf.is_file():
        path = json.loads(conf.read_text(encoding="utf-8")).get("calendar_path")
        if path:
            return home / os.path.expanduser(str(path))
    return home / "calendar" / "meeting-booking.ics"


APP = MeetingBooking()
