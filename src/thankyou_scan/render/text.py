"""The text report: grouped by status, what needs action first, in aligned columns."""

from __future__ import annotations

from datetime import timezone

from ..report import Report
from .common import ACTION_ORDER, detail, person_label, visible, when_event

__all__ = ["render_text"]

UTC = timezone.utc


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
    groups = [(status, report.by_status(status)) for status in ACTION_ORDER]
    rows = {
        id(followup): (
            visible(followup.event.title),
            when_event(followup.event),
            visible(person_label(followup.person)),
            visible(detail(followup, report.now)),
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
