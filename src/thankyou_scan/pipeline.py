"""scan(): the one place (besides the CLI) where the stages are wired together."""

from __future__ import annotations

from datetime import datetime, timedelta

from .calendar import Calendar
from .matching import Relevance, match_followups
from .report import Report, SourceSummary
from .sources.base import Source

__all__ = ["scan"]

SEARCH_SLACK = timedelta(days=1)
"""Messages are asked for from a day before the first event: servers cut dates coarsely."""


def scan(calendar: Calendar, source: Source, *, now: datetime) -> Report:
    """Read the sent mail from ``source`` and report every follow-up as of ``now``.

    Raises:
        SourceError: the mail could not be read (the report is never partial).
    """
    if now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")
    earliest = calendar.earliest_start
    if earliest is None:
        followups, _ = match_followups(calendar, (), now)
        scanned = 0
    else:
        messages = source.sent_messages(
            since=earliest - SEARCH_SLACK, until=now, relevant=Relevance(calendar, now)
        )
        followups, _ = match_followups(calendar, messages, now)
        scanned = source.messages_scanned
    return Report(
        now=now,
        source=SourceSummary(source.kind, source.folder, scanned, source.messages_skipped),
        followups=followups,
        warnings=calendar.warnings,
    )
