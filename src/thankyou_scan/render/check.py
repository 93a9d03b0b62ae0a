"""The ``check`` listing: a calendar's events by start, one aligned row each, with when each note is due."""

from __future__ import annotations

from typing import Any

from ..calendar import Calendar, Event
from ..report import iso
from .common import plural, skipped_reason, visible, when, when_event
from .terminal import Grid, Paragraph, Row, layout, natural_width

__all__ = ["check_dict", "render_check", "render_check_json"]


def _by_start(calendar: Calendar) -> list[Event]:
    return sorted(calendar.events, key=lambda event: event.start)  # stable: file order breaks ties


def render_check(calendar: Calendar, *, width: int | None = None, color: bool = False) -> str:
    """The OK line, then one row per event by start: start, kind, title, people, and the note's deadline.

    ``width``: at most this many terminal cells a line (None: no limit); ``color``: ANSI bold heading.
    """
    people = sum(len(event.people) for event in calendar.events)
    zone = calendar.timezone or "this machine's local zone"
    heading = Paragraph(
        f"{visible(calendar.path)}: OK — {plural(len(calendar.events), 'event')}, "
        f"{plural(people, 'person', 'people')}, times in {zone}",
        style="bold",
    )
    rows = []
    for event in _by_start(calendar):
        if event.skipped:
            due = skipped_reason(event)
        else:
            due = f"note due by {when(event, event.deadline or event.end)}"
        rows.append(
            Row(
                (
                    when_event(event),
                    visible(event.kind),
                    visible(event.title),
                    plural(len(event.people), "person", "people"),
                    due,
                )
            )
        )
    grid = Grid(tuple(rows))
    if width is not None and natural_width([grid]) > width:
        # Narrow: the start and the kind share a cell, and so do the people and the deadline.
        grid = Grid(
            tuple(
                Row((f"{r.cells[0]}\n{r.cells[1]}", r.cells[2], f"{r.cells[3]}\n{r.cells[4]}")) for r in rows
            )
        )
    return layout([heading, grid], width=width, color=color)


def check_dict(calendar: Calendar) -> dict[str, Any]:
    """The ``check`` listing as JSON data (docs/report.md)."""
    return {
        "version": 1,
        "calendar": str(calendar.path),
        "timezone": calendar.timezone,
        "events": [_event_dict(event) for event in _by_start(calendar)],
        "warnings": list(calendar.warnings),
    }


def _event_dict(event: Event) -> dict[str, Any]:
    return {
        "id": event.id,
        "title": event.title,
        "kind": event.kind,
        "start": iso(event.start),
        "end": iso(event.end),
        "all_day": event.all_day,
        "timezone": event.timezone,
        "deadline": iso(event.deadline),
        "skipped": skipped_reason(event) if event.skipped else None,
        "people": [{"name": person.name, "email": person.email} for person in event.people],
    }


def render_check_json(calendar: Calendar) -> str:
    """The ``check`` listing as JSON, indented, ending with a newline."""
    from .json import dumps

    return dumps(check_dict(calendar))
