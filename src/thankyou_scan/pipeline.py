"""scan(): the one place (besides the CLI) where the stages are wired together."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone

from .calendar import Calendar
from .errors import UsageError
from .matching import Relevance, match_followups
from .message import SentMessage
from .report import FollowUp, Report, SourceSummary, Status
from .sources.base import Source
from .sources.imap import ImapSource
from .sources.mailbox import _FileSource

__all__ = ["scan"]

log = logging.getLogger("thankyou_scan")

SEARCH_SLACK = timedelta(days=1)
"""Messages are asked for from a day before the first event: servers cut dates coarsely."""


def scan(calendar: Calendar, source: Source | Mapping[str, Source], *, now: datetime | None = None) -> Report:
    """Read the sent mail from ``source`` and report every follow-up as of ``now`` (default: the current time).

    ``source`` is one source, or several by account name (``{"gmail": ..., "work": ...}``):
    their mail makes one report, in which a note sent from any account pays the
    follow-up (the earliest wins), and ``Report.sources`` has one summary per account.
    An mbox or Maildir source made without ``me`` uses the calendar's ``me``. An
    :class:`ImapSource` that is not open yet is opened for the scan and closed after it
    (several accounts: one after the other). What leaves a report suspicious — no sent
    mail read at all, or sent mail read but none of it to anybody in the calendar — is
    logged as a warning and listed in ``Report.warnings`` after the calendar's own warnings.

    Raises:
        SourceError: the mail could not be read (the report is never partial).
        UsageError: ``now`` is naive, or no source is given.
    """
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.utcoffset() is None:
        raise UsageError(f"scan(): now must be timezone-aware, got {now!r}")
    accounts: dict[str | None, Source] = (
        dict(source.items()) if isinstance(source, Mapping) else {None: source}
    )
    if not accounts:
        raise UsageError("scan(): no source given")
    earliest = calendar.earliest_start
    if earliest is None:
        followups, _ = match_followups(calendar, (), now)
        return _report(calendar, accounts, now, followups, ())
    relevant = Relevance(calendar, now)
    since = earliest - SEARCH_SLACK

    def messages() -> Iterator[SentMessage]:
        for one in accounts.values():
            with _opened(one):
                if isinstance(one, _FileSource):
                    yield from one.sent_messages(since, relevant=relevant, me=calendar.me)
                else:
                    yield from one.sent_messages(since, relevant=relevant)

    followups, _ = match_followups(calendar, messages(), now)
    told: list[str] = []
    for one in accounts.values():
        told.extend(getattr(one, "warnings", ()))  # the source has logged these
    suspicions = _suspicions(accounts, followups)
    for warning in suspicions:
        log.warning("%s", warning)
    return _report(calendar, accounts, now, followups, (*told, *suspicions))


def _report(
    calendar: Calendar,
    accounts: dict[str | None, Source],
    now: datetime,
    followups: tuple[FollowUp, ...],
    warnings: tuple[str, ...],
) -> Report:
    parts = tuple(
        SourceSummary(one.kind, one.folder, one.messages_scanned, one.messages_skipped, account=name)
        for name, one in accounts.items()
    )
    return Report(
        now=now,
        source=SourceSummary.combined(parts),
        followups=followups,
        warnings=(*calendar.warnings, *warnings),
        sources=parts if None not in accounts else (),
    )


@contextlib.contextmanager
def _opened(source: Source) -> Iterator[None]:
    """Open an ImapSource for the scan when the caller has not."""
    if not isinstance(source, ImapSource) or source.is_open:
        yield
        return
    with source:
        yield


def _suspicions(accounts: dict[str | None, Source], followups: tuple[FollowUp, ...]) -> tuple[str, ...]:
    """What makes this report look wrong, said plainly (none when it looks right)."""
    found = []
    told = False
    for name, source in accounts.items():
        if getattr(source, "warnings", ()):
            told = True  # the source has said what is wrong with it, more precisely than we can
        elif source.messages_scanned == 0:
            where = f"{source.kind} {source.folder}" if source.folder else source.kind
            if name is not None:
                where = f"account {name} ({where})"
            found.append(
                f"no sent message was read from {where} in the calendar's time span: every note past its "
                "deadline shows as missing — check that this is your Sent mail"
            )
    scanned = sum(source.messages_scanned for source in accounts.values())
    missing = sum(1 for followup in followups if followup.status is Status.MISSING)
    if not told and scanned and missing and not any(followup.message is not None for followup in followups):
        where = ", ".join(
            (f"{source.kind} {source.folder}" if source.folder else source.kind)
            if name is None
            else f"account {name}"
            for name, source in accounts.items()
        )
        found.append(
            f"{scanned:,} sent messages were read from {where}, but none of them went to anybody in "
            f"the calendar after their event ({missing} missing) — check the people's addresses"
        )
    return tuple(found)
