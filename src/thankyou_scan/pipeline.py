"""scan(): the one place (besides the CLI) where the stages are wired together."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from .calendar import Calendar
from .errors import UsageError
from .matching import Relevance, match_followups
from .report import FollowUp, Report, SourceSummary, Status
from .sources.base import Source
from .sources.imap import ImapSource
from .sources.mailbox import _FileSource

__all__ = ["scan"]

log = logging.getLogger("thankyou_scan")

SEARCH_SLACK = timedelta(days=1)
"""Messages are asked for from a day before the first event: servers cut dates coarsely."""


def scan(calendar: Calendar, source: Source, *, now: datetime | None = None) -> Report:
    """Read the sent mail from ``source`` and report every follow-up as of ``now`` (default: the current time).

    An mbox or Maildir source made without ``me`` uses the calendar's ``me``. An
    :class:`ImapSource` that is not open yet is opened for the scan and closed after it.
    What leaves a report suspicious — no sent mail read at all, or sent mail read but
    none of it to anybody in the calendar — is logged as a warning and listed in
    ``Report.warnings`` after the calendar's own warnings.

    Raises:
        SourceError: the mail could not be read (the report is never partial).
        UsageError: ``now`` is naive.
    """
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.utcoffset() is None:
        raise UsageError(f"scan(): now must be timezone-aware, got {now!r}")
    earliest = calendar.earliest_start
    if earliest is None:
        followups, _ = match_followups(calendar, (), now)
        return _report(calendar, source, now, followups, 0, ())
    with _opened(source):
        relevant = Relevance(calendar, now)
        since = earliest - SEARCH_SLACK
        if isinstance(source, _FileSource):
            messages = source.sent_messages(since, relevant=relevant, me=calendar.me)
        else:
            messages = source.sent_messages(since, relevant=relevant)
        followups, _ = match_followups(calendar, messages, now)
    scanned = source.messages_scanned
    told: tuple[str, ...] = tuple(getattr(source, "warnings", ()))  # the source has logged these
    warnings = told or _suspicions(source, followups, scanned)
    for warning in warnings[len(told) :]:
        log.warning("%s", warning)
    return _report(calendar, source, now, followups, scanned, warnings)


def _report(
    calendar: Calendar,
    source: Source,
    now: datetime,
    followups: tuple[FollowUp, ...],
    scanned: int,
    warnings: tuple[str, ...],
) -> Report:
    return Report(
        now=now,
        source=SourceSummary(source.kind, source.folder, scanned, source.messages_skipped),
        followups=followups,
        warnings=(*calendar.warnings, *warnings),
    )


@contextlib.contextmanager
def _opened(source: Source) -> Iterator[None]:
    """Open an ImapSource for the scan when the caller has not."""
    if not isinstance(source, ImapSource) or source.is_open:
        yield
        return
    with source:
        yield


def _suspicions(source: Source, followups: tuple[FollowUp, ...], scanned: int) -> tuple[str, ...]:
    """What makes this report look wrong, said plainly (none when it looks right)."""
    where = f"{source.kind} {source.folder}" if source.folder else source.kind
    if scanned == 0:
        return (
            f"no sent message was read from {where} in the calendar's time span: every note past its "
            "deadline shows as missing — check that this is your Sent mail",
        )
    missing = sum(1 for followup in followups if followup.status is Status.MISSING)
    if missing and not any(followup.message is not None for followup in followups):
        return (
            f"{scanned:,} sent messages were read from {where}, but none of them went to anybody in "
            f"the calendar after their event ({missing} missing) — check the people's addresses",
        )
    return ()
