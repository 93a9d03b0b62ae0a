"""The CSV report: one row per follow-up, times in UTC, cells a spreadsheet will not run."""

from __future__ import annotations

import csv
import io

from ..report import Report, iso
from .common import visible

__all__ = ["CSV_COLUMNS", "render_csv"]

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

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@")


def _cell(text: str) -> str:
    """A CSV text cell: controls made visible, and never read as a formula by a spreadsheet."""
    text = visible(text)
    return "'" + text if text.startswith(_FORMULA_START) else text


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
                iso(event.start),
                iso(event.end),
                _cell(followup.person.name),
                _cell(followup.person.email or ""),
                followup.status.value,
                iso(followup.deadline) or "",
                "" if followup.hours_left is None else followup.hours_left,
                iso(message.date) if message else "",
                _cell(message.subject) if message else "",
                followup.matched_by or "",
            )
        )
    return buffer.getvalue()
