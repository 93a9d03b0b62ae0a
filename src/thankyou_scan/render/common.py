"""What every human-readable output shares: safe text, times in the event's zone, the wording of a row."""

from __future__ import annotations

import re
from datetime import datetime

from ..calendar import Event, Person
from ..report import FollowUp, Status, hours

__all__ = [
    "ACTION_ORDER",
    "detail",
    "person_label",
    "plural",
    "skipped_reason",
    "visible",
    "when",
    "when_event",
]

# What a terminal would act on instead of showing: C0 and C1 controls (ESC starts a sequence
# that can retitle the window, move the cursor or hide text; U+009B is a one-character CSI),
# DEL, line and paragraph separators, and the bidirectional marks, embeddings, overrides
# and isolates that make text read in another order than it is stored. Also lone surrogates:
# Python's stand-ins for bytes that are not UTF-8 (in a file name, say), which no UTF-8
# output can encode.
UNSHOWN = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_CONTROL = re.compile(f"[\x00-\x1f{UNSHOWN}]")

ACTION_ORDER = (Status.MISSING, Status.DUE, Status.LATE, Status.SENT, Status.UPCOMING, Status.SKIPPED)
"""Human outputs show what needs action first."""


def visible(text: str) -> str:
    """``text`` with control characters written as escapes (``\\x1b``, ``\\u202e``), safe to print."""
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFF or 0xDC80 <= code <= 0xDCFF:  # the second: the byte a surrogate stands in for
        return f"\\x{code & 0xFF:02x}"
    return f"\\u{code:04x}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``count`` and ``word``, in the plural unless the count is one: "1 event", "2 events", "3 people"."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def when(event: Event, moment: datetime, *, now: datetime | None = None) -> str:
    """``moment`` as a short date and time in the event's own zone.

    Given ``now``, the year is left out when it is the year of ``now`` (the narrow layouts).
    """
    local = event.local(moment)
    day = "%a %d %b" if now is not None and event.local(now).year == local.year else "%a %d %b %Y"
    return f"{local.strftime(day)} {local:%H:%M} {local.tzname() or ''}".strip()


def when_event(event: Event, *, now: datetime | None = None) -> str:
    """When the event starts, in its own zone; all-day events show the date only (``now``: as in ``when``)."""
    if event.all_day:
        local = event.local(event.start)
        day = "%a %d %b" if now is not None and event.local(now).year == local.year else "%a %d %b %Y"
        return f"{local.strftime(day)} (all day)"
    return when(event, event.start, now=now)


def skipped_reason(event: Event) -> str:
    """Why no note is owed for a skipped event (the report and `check` say it alike)."""
    return "cancelled" if event.cancelled else "no note expected"


def person_label(person: Person) -> str:
    """A person as a row shows them: ``Name <address>``, either alone, or "(unnamed)"."""
    return str(person) or "(unnamed)"


def _relative(span_hours: float) -> str:
    span = abs(span_hours)
    if span < 1:
        text = f"{round(span * 60)} min"
    elif span < 48:
        text = f"{span:.1f} h"
    else:
        text = f"{span / 24:.1f} days"
    return text


def detail(followup: FollowUp, now: datetime, *, short: bool = False) -> str:
    """The last cell of a row: what was sent when, or what is owed by when (``short``: years of now left out)."""
    event, message = followup.event, followup.message
    this_year = now if short else None

    def at(moment: datetime) -> str:
        return when(event, moment, now=this_year)

    if followup.status is Status.SKIPPED:
        return skipped_reason(event)
    if followup.status is Status.UPCOMING:
        return f"event ends {at(event.end)}; note due by {at(followup.deadline or event.end)}"
    if followup.status is Status.DUE:
        return f"{_relative(followup.hours_left or 0.0)} left — due by {at(followup.deadline or now)}"
    if followup.status is Status.MISSING:
        overdue = hours(now - (followup.deadline or now))
        return f"no note; deadline was {at(followup.deadline or now)} ({_relative(overdue)} ago)"
    assert message is not None
    sent = f"{at(message.date)} {message.subject!r}"
    if followup.status is Status.LATE:
        late_by = hours(message.date - (followup.deadline or message.date))
        return f"sent {sent}, {_relative(late_by)} after the deadline"
    suffix = " (by domain)" if followup.matched_by == "domain" else ""
    return f"sent {sent}{suffix}"
