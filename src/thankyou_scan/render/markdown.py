"""The Markdown report: one table, most urgent first."""

from __future__ import annotations

from datetime import timezone

from ..report import Report, Status
from .common import ACTION_ORDER, detail, person_label, visible, when_event

__all__ = ["render_markdown"]

UTC = timezone.utc


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
    for status in ACTION_ORDER:
        for followup in report.by_status(status):
            cells = (
                f"**{status.value}**"
                if status in (Status.MISSING, Status.DUE, Status.LATE)
                else status.value,
                followup.event.title,
                when_event(followup.event),
                person_label(followup.person),
                detail(followup, report.now),
            )
            lines.append("| " + " | ".join(_md(cell) for cell in cells) + " |")
    lines += ["", "**Summary:** " + ", ".join(f"{count} {name}" for name, count in report.summary.items())]
    return "\n".join(lines) + "\n"
