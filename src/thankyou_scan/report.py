"""The report: Status, FollowUp, Report, and its renderers (text, JSON, CSV, Markdown)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from .calendar import Event, Person
from .errors import UsageError
from .message import SentMessage

__all__ = ["FORMATS", "FollowUp", "Report", "SourceSummary", "Status", "render"]

UTC = timezone.utc

# What a terminal would act on instead of showing: C0 and C1 controls (ESC starts a sequence
# that can retitle the window, move the cursor or hide text; U+009B is a one-character CSI),
# DEL, line and paragraph separators, and the bidirectional marks, embeddings, overrides
# and isolates that make text read in another order than it is stored. Also lone surrogates:
# Python's stand-ins for bytes that are not UTF-8 (in a file name, say), which no UTF-8
# output can encode.
_UNSHOWN = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_CONTROL = re.compile(f"[\x00-\x1f{_UNSHOWN}]")
# json.dumps escapes C0 itself (and its indentation is made of newlines): the rest only.
_JSON_UNSHOWN = re.compile(f"[{_UNSHOWN}]")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@")

CSV_COLUMNS = (
    "event_id",
    "event_title",
    "kind",
    "event_start",
    "event_end",
    "person_name",
    "person_email",
    "status",
    "deadline",
    "hours_left",
    "message_date",
    "message_subject",
    "matched_by",
)


class Status(str, Enum):
    """Where a follow-up note stands."""

    SENT = "sent"
    LATE = "late"
    MISSING = "missing"
    DUE = "due"
    UPCOMING = "upcoming"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return self.value


# The text report shows what needs action first.
_ACTION_ORDER = (Status.MISSING, Status.DUE, Status.LATE, Status.SENT, Status.UPCOMING, Status.SKIPPED)
# The JSON summary keeps the contract's order.
_SUMMARY_ORDER = (Status.SENT, Status.LATE, Status.MISSING, Status.DUE, Status.UPCOMING, Status.SKIPPED)


@dataclass(frozen=True, slots=True)
class SourceSummary:
    """Where the mail came from and how much of it was read."""

    kind: str
    folder: str | None
    messages_scanned: int
    messages_skipped: int = 0


@dataclass(frozen=True, slots=True)
class FollowUp:
    """One (event, person) pair: the note owed, and the message that paid it, if any."""

    event: Event
    person: Person
    status: Status
    deadline: datetime | None
    hours_left: float | None = None
    message: SentMessage | None = None
    matched_by: str | None = None
    """"address" or "domain" when a message matched, else None."""

    @property
    def hours_after_end(self) -> float | None:
        """Hours from the event's end to the matching message (negative: sent during it)."""
        if self.message is None:
            return None
        return _hours(self.message.date - self.event.end)


@dataclass(frozen=True, slots=True)
class Report:
    """The result of a scan: every follow-up, with a summary by status."""

    now: datetime
    source: SourceSummary
    followups: tuple[FollowUp, ...]
    warnings: tuple[str, ...] = ()

    @property
    def summary(self) -> dict[str, int]:
        """How many follow-ups have each status, every status present."""
        counts = {status.value: 0 for status in _SUMMARY_ORDER}
        for followup in self.followups:
            counts[followup.status.value] += 1
        return counts

    @property
    def exit_code(self) -> int:
        """The CLI's exit code: 1 when a note is missing or late, else 0."""
        return 1 if any(f.status in (Status.MISSING, Status.LATE) for f in self.followups) else 0

    def by_status(self, status: Status) -> tuple[FollowUp, ...]:
        """The follow-ups with one status, in report order."""
        return tuple(followup for followup in self.followups if followup.status is status)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (docs/report.md), as plain data."""
        return {
            "version": 1,
            "now": _iso(self.now),
            "source": {
                "kind": self.source.kind,
                "folder": self.source.folder,
                "messages_scanned": self.source.messages_scanned,
                "messages_skipped": self.source.messages_skipped,
            },
            "summary": self.summary,
            "followups": [_followup_dict(followup) for followup in self.followups],
        }


def _followup_dict(followup: FollowUp) -> dict[str, Any]:
    event, message = followup.event, followup.message
    return {
        "event": {
            "id": event.id,
            "title": event.title,
            "kind": event.kind,
            "start": _iso(event.start),
            "end": _iso(event.end),
        },
        "person": {"name": followup.person.name, "email": followup.person.email},
        "status": followup.status.value,
        "deadline": _iso(followup.deadline),
        "hours_left": followup.hours_left,
        "message": None
        if message is None
        else {
            "date": _iso(message.date),
            "subject": message.subject,
            "message_id": message.message_id,
            "matched_by": followup.matched_by,
            "hours_after_end": followup.hours_after_end,
        },
    }


def visible(text: str) -> str:
    """``text`` with control characters written as escapes (``\\x1b``, ``\\u202e``), safe to print."""
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFF or 0xDC80 <= code <= 0xDCFF:  # the second: the byte a surrogate stands in for
        return f"\\x{code & 0xFF:02x}"
    return f"\\u{code:04x}"


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _cell(text: str) -> str:
    """A CSV text cell: controls made visible, and never read as a formula by a spreadsheet."""
    text = visible(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _hours(delta: Any) -> float:
    return round(float(delta.total_seconds()) / 3600, 2)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")


# -- renderers -----------------------------------------------------------------


def render_json(report: Report) -> str:
    """The JSON report, indented, ending with a newline."""
    text = json.dumps(report.to_dict(), indent=2, ensure_ascii=False)
    # json escapes C0 controls only; C1, DEL and bidi marks get \\u escapes too (same values).
    return _JSON_UNSHOWN.sub(_json_escape, text) + "\n"


def render_csv(report: Report) -> str:
    """One row per follow-up under a header row; times in UTC; text cells safe for spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for followup in report.followups:
        event, message = followup.event, followup.message
        writer.writerow(
            (
                _cell(event.id),
                _cell(event.title),
                _cell(event.kind),
                _iso(event.start),
                _iso(event.end),
                _cell(followup.person.name),
                _cell(followup.person.email or ""),
                followup.status.value,
                _iso(followup.deadline) or "",
                "" if followup.hours_left is None else followup.hours_left,
                _iso(message.date) if message else "",
                _cell(message.subject) if message else "",
                followup.matched_by or "",
            )
        )
    return buffer.getvalue()


def when(event: Event, moment: datetime) -> str:
    """``moment`` as a short date and time in the event's own zone."""
    local = event.local(moment)
    return f"{local:%a %d %b %Y %H:%M} {local.tzname() or ''}".strip()


def when_event(event: Event) -> str:
    """When the event starts, in its own zone; all-day events show the date only."""
    if event.all_day:
        return f"{event.local(event.start):%a %d %b %Y} (all day)"
    return when(event, event.start)


def _relative(hours: float) -> str:
    span = abs(hours)
    if span < 1:
        text = f"{round(span * 60)} min"
    elif span < 48:
        text = f"{span:.1f} h"
    else:
        text = f"{span / 24:.1f} days"
    return text


def _detail(followup: FollowUp, now: datetime) -> str:
    event, message = followup.event, followup.message
    if followup.status is Status.SKIPPED:
        return "cancelled" if event.cancelled else "no note expected"
    if followup.status is Status.UPCOMING:
        return (
            f"event ends {when(event, event.end)}; note due by {when(event, followup.deadline or event.end)}"
        )
    if followup.status is Status.DUE:
        return (
            f"{_relative(followup.hours_left or 0.0)} left — due by {when(event, followup.deadline or now)}"
        )
    if followup.status is Status.MISSING:
        overdue = _hours(now - (followup.deadline or now))
        return f"no note; deadline was {when(event, followup.deadline or now)} ({_relative(overdue)} ago)"
    assert message is not None
    sent = f"{when(event, message.date)} {message.subject!r}"
    if followup.status is Status.LATE:
        late_by = _hours(message.date - (followup.deadline or message.date))
        return f"sent {sent}, {_relative(late_by)} after the deadline"
    suffix = " (by domain)" if followup.matched_by == "domain" else ""
    return f"sent {sent}{suffix}"


def _person(person: Person) -> str:
    return str(person) or "(unnamed)"


def render_text(report: Report) -> str:
    """A readable report: what needs action first, times in each event's own zone."""
    source = report.source
    where = visible(f" {source.folder}") if source.folder else ""
    lines = [
        f"Follow-up notes as of {report.now.astimezone(UTC):%a %d %b %Y %H:%M} UTC",
        f"Source: {source.kind}{where} — {source.messages_scanned} sent messages read, "
        f"{source.messages_skipped} skipped",
    ]
    if any(followup.event.timezone is None for followup in report.followups):
        lines.append("Times without a zone in the calendar are shown in this machine's local zone.")
    groups = [(status, report.by_status(status)) for status in _ACTION_ORDER]
    rows = {
        id(followup): (
            visible(followup.event.title),
            when_event(followup.event),
            visible(_person(followup.person)),
            visible(_detail(followup, report.now)),
        )
        for _, group in groups
        for followup in group
    }
    widths = [max((len(row[column]) for row in rows.values()), default=0) for column in range(3)]
    for status, group in groups:
        if not group:
            continue
        lines += ["", f"{status.value.upper()} ({len(group)})"]
        for followup in group:
            row = rows[id(followup)]
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            lines.append("  " + "  ".join([*cells, row[3]]).rstrip())
    if not report.followups:
        lines += ["", "No follow-ups: the calendar has no events with people."]
    summary = report.summary
    lines += ["", "Summary: " + ", ".join(f"{count} {name}" for name, count in summary.items())]
    return "\n".join(lines) + "\n"


def _md(cell: str) -> str:
    return visible(cell.replace("\\", "\\\\").replace("|", "\\|"))


def render_markdown(report: Report) -> str:
    """A Markdown table, one row per follow-up, most urgent first."""
    lines = [
        f"# Follow-up notes as of {report.now.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        "| Status | Event | When | Person | Details |",
        "|---|---|---|---|---|",
    ]
    for status in _ACTION_ORDER:
        for followup in report.by_status(status):
            cells = (
                f"**{status.value}**"
                if status in (Status.MISSING, Status.DUE, Status.LATE)
                else status.value,
                followup.event.title,
                when_event(followup.event),
                _person(followup.person),
                _detail(followup, report.now),
            )
            lines.append("| " + " | ".join(_md(cell) for cell in cells) + " |")
    lines += ["", "**Summary:** " + ", ".join(f"{count} {name}" for name, count in report.summary.items())]
    return "\n".join(lines) + "\n"


FORMATS: dict[str, Callable[[Report], str]] = {
    "text": render_text,
    "json": render_json,
    "csv": render_csv,
    "markdown": render_markdown,
}


def render(report: Report, format: str = "text") -> str:
    """Render a report as "text", "json", "csv" or "markdown"."""
    try:
        renderer = FORMATS[format]
    except KeyError:
        raise UsageError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}") from None
    return renderer(report)
