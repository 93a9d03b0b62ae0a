"""The ``check`` listing: a calendar's events, one aligned row each, with when each note is due."""

from __future__ import annotations

from ..calendar import Calendar
from .common import skipped_reason, visible, when, when_event

__all__ = ["render_check"]


def render_check(calendar: Calendar) -> str:
    """The OK line, then one row per event: start, kind, title, people, and the note's deadline."""
    people = sum(len(event.people) for event in calendar.events)
    zone = calendar.timezone or "this machine's local zone"
    lines = [
        f"{visible(calendar.path)}: OK — {len(calendar.events)} events, {people} people, times in {zone}"
    ]
    rows = []
    for event in calendar.events:
        if event.skipped:
            due = skipped_reason(event)
        else:
            due = f"note due by {when(event, event.deadline or event.end)}"
        count = len(event.people)
        rows.append(
            (
                when_event(event),
                visible(event.kind),
                visible(event.title),
                f"{count} {'person' if count == 1 else 'people'}",
                due,
            )
        )
    widths = [max((len(row[column]) for row in rows), default=0) for column in range(4)]
    for row in rows:
        lines.append(
            "  "
            + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + row[4]
        )
    return "\n".join(lines) + "\n"
