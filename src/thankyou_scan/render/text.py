"""The text report: grouped by status, what needs action first, in aligned columns that fit a width.

The widest layout that fits is used: full dates in four columns; then dates without the
year (when it is the year of the report); then the event's start under its title and the
address under the name (the "When" column given up first); and at last, cells wrapped.
With no width (a library call, a pipe) the widest layout is used, one line per follow-up.
"""

from __future__ import annotations

from datetime import timezone

from ..report import FollowUp, Report, SourceSummary, Status
from .common import ACTION_ORDER, detail, person_label, plural, visible, when_event
from .terminal import STATUS_STYLES, Block, Grid, Paragraph, Row, layout, natural_width

__all__ = ["render_text"]

UTC = timezone.utc


def render_text(report: Report, *, width: int | None = None, color: bool = False) -> str:
    """A readable report: what needs action first, times in each event's own zone.

    Args:
        report: the report to show.
        width: at most this many terminal cells a line (None: no limit, one line a follow-up).
        color: colour each status with ANSI escapes (the status word is written either way).
    """
    return layout(_blocks(report, width), width=width, color=color)


def _source_line(source: SourceSummary) -> str:
    """``imap Sent — 120 sent messages read, 0 skipped``, with the account's name when there is one."""
    where = visible(f" {source.folder}") if source.folder else ""
    account = f"{visible(source.account)}: " if source.account else ""
    return (
        f"{account}{source.kind}{where} — {plural(source.messages_scanned, 'sent message')} read, "
        f"{source.messages_skipped:,} skipped"
    )


def _blocks(report: Report, width: int | None) -> list[Block]:
    blocks: list[Block] = [
        Paragraph(f"Follow-up notes as of {report.now.astimezone(UTC):%a %d %b %Y %H:%M} UTC"),
        *(Paragraph(f"Source: {_source_line(source)}") for source in (report.sources or (report.source,))),
    ]
    if any(followup.event.timezone is None for followup in report.followups):
        blocks.append(
            Paragraph("Times without a zone in the calendar are shown in this machine's local zone.")
        )
    blocks += _selection(report)
    groups = [(status, report.by_status(status)) for status in ACTION_ORDER]
    grids = _grids(report, groups, width)
    for (status, group), grid in zip(groups, grids, strict=True):
        if group:
            style = f"bold {STATUS_STYLES.get(status.value, '')}".strip()
            blocks += [Paragraph(), Paragraph(f"{status.value.upper()} ({len(group)})", style=style), grid]
    if not report.followups:
        empty = "No follow-ups: the calendar has no events with people."
        if report.selection is not None and report.selection.statuses != tuple(Status):
            empty = "No follow-ups with these statuses."
        blocks += [Paragraph(), Paragraph(empty)]
    summary = report.summary
    blocks += [
        Paragraph(),
        Paragraph("Summary: " + ", ".join(f"{count} {name}" for name, count in summary.items())),
    ]
    return blocks


def _selection(report: Report) -> list[Block]:
    selection = report.selection
    if selection is None:
        return []
    lines: list[Block] = []
    if set(selection.statuses) != set(Status):
        total = sum(count for _, count in selection.summary)
        names = ", ".join(status.value for status in selection.statuses)
        lines.append(Paragraph(f"Showing {names}: {len(report.followups)} of {plural(total, 'follow-up')}"))
    if selection.sort != "event":
        lines.append(Paragraph(f"Each group sorted by {selection.sort}"))
    return lines


def _grids(
    report: Report, groups: list[tuple[Status, tuple[FollowUp, ...]]], width: int | None
) -> list[Grid]:
    """One grid per status group, in the widest layout that fits ``width``."""
    layouts = (_wide, _short_dates, _narrow)
    for make in layouts:
        grids = [Grid(tuple(make(report, followup) for followup in group)) for _, group in groups]
        if width is None or natural_width([grid for grid in grids if grid.rows]) <= width:
            return grids
    return grids


def _style(followup: FollowUp) -> str:
    return STATUS_STYLES.get(followup.status.value, "")


def _wide(report: Report, followup: FollowUp) -> Row:
    cells = (
        visible(followup.event.title),
        when_event(followup.event),
        visible(person_label(followup.person)),
        visible(detail(followup, report.now)),
    )
    return Row(cells, ("", "", "", _style(followup)))


def _short_dates(report: Report, followup: FollowUp) -> Row:
    cells = (
        visible(followup.event.title),
        when_event(followup.event, now=report.now),
        visible(person_label(followup.person)),
        visible(detail(followup, report.now, short=True)),
    )
    return Row(cells, ("", "", "", _style(followup)))


def _narrow(report: Report, followup: FollowUp) -> Row:
    person = followup.person
    # Made visible before the newline is added: a newline of their own is shown as \x0a.
    if person.name and person.email:
        who = f"{visible(person.name)}\n{visible(f'<{person.email}>')}"
    else:
        who = visible(person_label(person))
    cells = (
        visible(followup.event.title) + "\n" + when_event(followup.event, now=report.now),
        who,
        visible(detail(followup, report.now, short=True)),
    )
    return Row(cells, ("", "", _style(followup)))
