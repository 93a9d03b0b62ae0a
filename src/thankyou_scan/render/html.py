"""The HTML report: one self-contained page — summary, an SVG timeline of the weeks, the table.

The page loads nothing (a Content-Security-Policy meta forbids it: no scripts at all, the
one inline style block allowed by its hash). The timeline is laid out here, in Python, as
plain numbers and strings (``Timeline``); the Jinja2 template only writes them out, with
autoescape on, so every title, name, subject, folder and account name is escaped once,
by the template engine. Jinja2 is imported inside ``render_html`` only: the other
formats never load it.

Contract (docs/report.md): each follow-up is one ``tr`` of the table and one mark of the
timeline, both with ``data-status="<status>"``; nothing else on the page carries
``data-status``.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from ..calendar import Event
from ..report import FollowUp, Report, SourceSummary, Status
from .common import ACTION_ORDER, detail, person_label, plural, visible, when, when_event

if TYPE_CHECKING:
    import jinja2

__all__ = ["GLYPHS", "render_html"]

UTC = timezone.utc

_Scale = Callable[[datetime], float]

GLYPHS = {
    Status.SENT: "●",
    Status.LATE: "◆",
    Status.MISSING: "✕",
    Status.DUE: "▲",
    Status.UPCOMING: "○",
    Status.SKIPPED: "–",
}
"""Each status's shape: the timeline draws it, the summary and the table show it (it reads in greyscale)."""

# The timeline's geometry, in CSS pixels.
LABELS = 200  # the column of titles and names at the left
RIGHT = 28  # room after the last day
AXIS = 46  # month line, day ticks
EVENT_ROW = 26
PERSON_ROW = 21
GROUP_GAP = 8
MARK = 6.0  # a mark's radius
LABEL_CHARS = 28  # a label longer than this is cut, with the whole of it in its tooltip
DAY_MIN, DAY_MAX, PLOT_TARGET = 8.0, 56.0, 900.0  # pixels per day; the plot's width aimed at


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page (docs/report.md, "HTML")."""
    css = _css()
    return _template().render(
        title=f"Follow-up notes as of {report.now.astimezone(UTC):%a %d %b %Y %H:%M} UTC",
        csp=(
            f"default-src 'none'; style-src '{_sha256(css)}'; img-src data:; "
            "base-uri 'none'; form-action 'none'"
        ),
        css=css,
        sources=[_source_line(source) for source in (report.sources or (report.source,))],
        local_time=any(followup.event.timezone is None for followup in report.followups),
        summary=[(name, GLYPHS[Status(name)], count) for name, count in report.summary.items()],
        showing=_showing(report),
        timeline=layout_timeline(report),
        groups=_groups(report),
        empty=_empty(report),
    )


@cache
def _template() -> jinja2.Template:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("thankyou_scan.render", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("report.html")


@cache
def _css() -> str:
    return (resources.files("thankyou_scan.render") / "templates" / "report.css").read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def _source_line(source: SourceSummary) -> str:
    where = f" {visible(source.folder)}" if source.folder else ""
    account = f"{visible(source.account)}: " if source.account else ""
    return (
        f"{account}{source.kind}{where} — {plural(source.messages_scanned, 'sent message')} read, "
        f"{source.messages_skipped:,} skipped"
    )


def _showing(report: Report) -> str:
    selection = report.selection
    if selection is None:
        return ""
    parts = []
    if set(selection.statuses) != set(Status):
        total = sum(count for _, count in selection.summary)
        names = ", ".join(status.value for status in selection.statuses)
        parts.append(f"Showing {names}: {len(report.followups)} of {plural(total, 'follow-up')}.")
    if selection.sort != "event":
        parts.append(f"Each group sorted by {selection.sort}.")
    return " ".join(parts)


def _empty(report: Report) -> str:
    if report.selection is not None and set(report.selection.statuses) != set(Status):
        return "No follow-ups with these statuses."
    return "No follow-ups: the calendar has no events with people."


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the table: the text report's fields."""

    status: str
    glyph: str
    event: str
    when: str
    person: str
    detail: str


def _groups(report: Report) -> list[tuple[str, str, list[Row]]]:
    """The table's groups: what needs action first, each in the report's order (``--sort``)."""
    groups = []
    for status in ACTION_ORDER:
        rows = [
            Row(
                status.value,
                GLYPHS[status],
                visible(followup.event.title),
                when_event(followup.event),
                visible(person_label(followup.person)),
                visible(detail(followup, report.now)),
            )
            for followup in report.by_status(status)
        ]
        if rows:
            groups.append((status.value, GLYPHS[status], rows))
    return groups


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str
    month: str
    """The month's name where a month starts (and at the first tick), else empty."""


@dataclass(frozen=True, slots=True)
class Mark:
    """A follow-up's note on the timeline: a shape by status, at when it went out or is owed."""

    status: str
    x: float
    y: float
    path: str
    tooltip: str


@dataclass(frozen=True, slots=True)
class Line:
    """One row of the timeline: an event (its span and note window) or a person under it (a mark)."""

    y: float
    label: str
    tooltip: str
    is_event: bool
    span: tuple[float, float] | None = None
    window: tuple[float, float] | None = None
    mark: Mark | None = None


@dataclass(frozen=True, slots=True)
class Timeline:
    """The SVG's contents, in pixels: what the template draws."""

    width: float
    height: float
    plot_left: float
    ticks: tuple[Tick, ...]
    lines: tuple[Line, ...]
    now_x: float
    zone: str
    """The zone of the axis's days: the events' own (the most common one when they differ)."""


def layout_timeline(report: Report) -> Timeline | None:
    """Where everything goes: one row per event, its people under it; None when nothing is shown."""
    if not report.followups:
        return None
    by_event: dict[str, list[FollowUp]] = {}
    for followup in report.followups:
        by_event.setdefault(followup.event.id, []).append(followup)
    groups = sorted(by_event.values(), key=lambda group: (group[0].event.start, group[0].event.id))
    zone_name, zone = _axis_zone([group[0].event for group in groups])

    moments = [report.now]
    for followup in report.followups:
        moments += [followup.event.start, followup.event.end, _mark_time(followup)]
        if followup.deadline is not None:
            moments.append(followup.deadline)
    first = _day_start(min(moments), zone)
    last = _day_start(max(moments), zone) + timedelta(days=1)
    days = max((last - first).total_seconds() / 86400, 1.0)
    per_day = min(DAY_MAX, max(DAY_MIN, PLOT_TARGET / days))
    plot_width = days * per_day

    def x(moment: datetime) -> float:
        return round(LABELS + (moment - first).total_seconds() / 86400 * per_day, 1)

    lines: list[Line] = []
    y = AXIS + 6.0
    for group in groups:
        event = group[0].event
        y += EVENT_ROW / 2
        lines.append(_event_line(event, group[0].deadline, y, x))
        y += EVENT_ROW / 2
        for followup in group:
            y += PERSON_ROW / 2
            lines.append(_person_line(followup, report.now, y, x))
            y += PERSON_ROW / 2
        y += GROUP_GAP
    return Timeline(
        width=round(LABELS + plot_width + RIGHT, 1),
        height=round(y + 4, 1),
        plot_left=LABELS,
        ticks=_ticks(first, last, zone, per_day, x),
        lines=tuple(lines),
        now_x=x(report.now),
        zone=zone_name,
    )


def _axis_zone(events: list[Event]) -> tuple[str, tzinfo | None]:
    """The events' zone (the most common one, ties to the earliest event); None: this machine's."""
    # most_common keeps ties in the order first seen: the events come by start.
    name = Counter(event.timezone for event in events).most_common(1)[0][0]
    if name is None:
        return "this machine's local zone", None
    return name, ZoneInfo(name)


def _day_start(moment: datetime, zone: tzinfo | None) -> datetime:
    local = moment.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def _ticks(
    first: datetime, last: datetime, zone: tzinfo | None, per_day: float, x: _Scale
) -> tuple[Tick, ...]:
    """A tick at the start of every day (or every 2nd, 7th, 14th day: at least 40 px apart)."""
    step = next((days for days in (1, 2, 7, 14) if days * per_day >= 40), 28)
    ticks = []
    day = first.astimezone(zone).date()
    end = last.astimezone(zone).date()
    previous_month = None
    while day <= end:
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
        month = f"{day:%b %Y}" if (day.year, day.month) != previous_month else ""
        previous_month = (day.year, day.month)
        label = f"{day:%a} {day.day}" if step == 1 and per_day >= 40 else str(day.day)
        ticks.append(Tick(x(midnight), label, month))
        day += timedelta(days=step)
    return tuple(ticks)


def _mark_time(followup: FollowUp) -> datetime:
    """Where a follow-up's mark goes: when its note went out, else when it is (or was) owed."""
    if followup.message is not None:
        return followup.message.date
    return followup.deadline or followup.event.end


def _event_line(event: Event, deadline: datetime | None, y: float, x: _Scale) -> Line:
    start, end = x(event.start), x(event.end)
    owed = f"; note due by {when(event, deadline)}" if deadline is not None else ""
    return Line(
        y=y,
        label=_cut(visible(event.title)),
        tooltip=f"{visible(event.title)} — {when_event(event)}{owed}",
        is_event=True,
        span=(start, max(end - start, 2.0)),
        window=None if deadline is None else (end, x(deadline) - end),
    )


def _person_line(followup: FollowUp, now: datetime, y: float, x: _Scale) -> Line:
    who = visible(person_label(followup.person))
    status = followup.status
    mark_x = x(_mark_time(followup))
    return Line(
        y=y,
        label=_cut(visible(followup.person.name) or who),
        tooltip=who,
        is_event=False,
        mark=Mark(
            status.value,
            mark_x,
            y,
            _shape(status, mark_x, y),
            f"{GLYPHS[status]} {status.value}: {who} — {visible(detail(followup, now))}",
        ),
    )


def _shape(status: Status, x: float, y: float) -> str:
    """The SVG path of a mark: ● sent, ◆ late, ✕ missing, ▲ due, ○ upcoming, – skipped."""
    r = MARK
    d = round(r * 0.75, 1)
    if status in (Status.SENT, Status.UPCOMING):
        return f"M{x - r:.1f},{y:.1f}a{r},{r} 0 1,0 {2 * r},0a{r},{r} 0 1,0 {-2 * r},0z"
    if status is Status.LATE:
        return f"M{x:.1f},{y - r - 1:.1f}L{x + r + 1:.1f},{y:.1f}L{x:.1f},{y + r + 1:.1f}L{x - r - 1:.1f},{y:.1f}z"
    if status is Status.MISSING:
        return f"M{x - d:.1f},{y - d:.1f}L{x + d:.1f},{y + d:.1f}M{x + d:.1f},{y - d:.1f}L{x - d:.1f},{y + d:.1f}"
    if status is Status.DUE:
        return f"M{x:.1f},{y - r:.1f}L{x + r:.1f},{y + r * 0.8:.1f}L{x - r:.1f},{y + r * 0.8:.1f}z"
    return f"M{x - r:.1f},{y:.1f}L{x + r:.1f},{y:.1f}"


def _cut(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"
