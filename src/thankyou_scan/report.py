"""The report model: Status, FollowUp, Report, SourceSummary — what a scan found, not how it looks.

Renderers (text, JSON, CSV, Markdown) live in the ``render`` package; matching builds
these objects and never imports a renderer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any

from .calendar_data import Event, Person
from .errors import UsageError
from .message import SentMessage

__all__ = [
    "SORTS",
    "SUMMARY_ORDER",
    "FollowUp",
    "Report",
    "Selection",
    "SourceSummary",
    "Status",
    "hours",
    "iso",
]

UTC = timezone.utc


class Status(str, Enum):
    """Where a follow-up note stands."""

    SENT = "sent"
    LATE = "late"
    MISSING = "missing"
    DUE = "due"
    UPCOMING = "upcoming"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return self.value


SUMMARY_ORDER = (Status.SENT, Status.LATE, Status.MISSING, Status.DUE, Status.UPCOMING, Status.SKIPPED)
"""The order of the summary: the JSON contract's."""


SORTS = ("event", "deadline")
"""The orders a report can be shown in: by event start (the report's own order), or by deadline."""


@dataclass(frozen=True, slots=True)
class Selection:
    """What ``Report.select`` kept: some statuses, in some order, and the summary of the whole scan."""

    statuses: tuple[Status, ...]
    sort: str
    summary: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class SourceSummary:
    """Where the mail came from and how much of it was read."""

    kind: str
    folder: str | None
    messages_scanned: int
    messages_skipped: int = 0
    account: str | None = None
    """The config file's account name, when the mail came from one."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON report's ``source`` object (``account`` only when there is one)."""
        data: dict[str, Any] = {
            "kind": self.kind,
            "folder": self.folder,
            "messages_scanned": self.messages_scanned,
            "messages_skipped": self.messages_skipped,
        }
        if self.account is not None:
            data["account"] = self.account
        return data

    @classmethod
    def combined(cls, parts: tuple[SourceSummary, ...]) -> SourceSummary:
        """One summary for several accounts: kind ``accounts``, no folder, the counts summed."""
        if len(parts) == 1:
            return parts[0]
        return cls(
            "accounts",
            None,
            sum(part.messages_scanned for part in parts),
            sum(part.messages_skipped for part in parts),
        )


@dataclass(frozen=True, slots=True)
class FollowUp:
    """One (event, person) pair: the note owed, and the message that paid it, if any."""

    event: Event
    person: Person
    status: Status
    deadline: datetime | None
    hours_left: float | None = None
    message: SentMessage | None = None
    matched_by: str | None = None
    """"address" or "domain" when a message matched, else None."""

    @property
    def hours_after_end(self) -> float | None:
        """Hours from the event's end to the matching message (negative: sent during it)."""
        if self.message is None:
            return None
        return hours(self.message.date - self.event.end)


@dataclass(frozen=True, slots=True)
class Report:
    """The result of a scan: every follow-up, with a summary by status."""

    now: datetime
    source: SourceSummary
    followups: tuple[FollowUp, ...]
    warnings: tuple[str, ...] = ()
    sources: tuple[SourceSummary, ...] = ()
    """One summary per account when the mail came from the config file's accounts, else empty."""
    selection: Selection | None = None
    """Set by ``select()``: the follow-ups here are a selection; ``summary`` still counts the whole scan."""

    @property
    def summary(self) -> dict[str, int]:
        """How many follow-ups have each status, every status present (after ``select()``: of the whole scan)."""
        if self.selection is not None:
            return dict(self.selection.summary)
        counts = {status.value: 0 for status in SUMMARY_ORDER}
        for followup in self.followups:
            counts[followup.status.value] += 1
        return counts

    def select(self, statuses: Iterable[Status | str] = (), sort: str = "event") -> Report:
        """This report with only the follow-ups of ``statuses`` (none given: all), ordered by ``sort``.

        ``sort`` is "event" (event start, then event id, then person: the report's order)
        or "deadline" (earliest first, follow-ups without one last; ties keep event order).
        The result's ``summary`` still counts every follow-up of the scan; its ``exit_code``
        and every renderer see only the selection.
        """
        if sort not in SORTS:
            raise UsageError(f"unknown sort {sort!r}; choose one of {', '.join(SORTS)}")
        chosen = tuple(dict.fromkeys(_status(status) for status in statuses)) or SUMMARY_ORDER
        kept = [followup for followup in self.followups if followup.status in chosen]
        if sort == "deadline":
            kept.sort(key=lambda followup: (followup.deadline is None, followup.deadline or self.now))
        summary = tuple(self.summary.items())
        return replace(self, followups=tuple(kept), selection=Selection(chosen, sort, summary))

    @property
    def exit_code(self) -> int:
        """The CLI's exit code: 1 when a note shown is missing or late, else 0."""
        return 1 if any(f.status in (Status.MISSING, Status.LATE) for f in self.followups) else 0

    def by_status(self, status: Status) -> tuple[FollowUp, ...]:
        """The follow-ups with one status, in report order."""
        return tuple(followup for followup in self.followups if followup.status is status)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (docs/report.md), as plain data."""
        data: dict[str, Any] = {
            "version": 1,
            "now": iso(self.now),
            "source": self.source.to_dict(),
        }
        if self.sources:
            data["sources"] = [source.to_dict() for source in self.sources]
        data["summary"] = self.summary
        data["followups"] = [_followup_dict(followup) for followup in self.followups]
        return data | self._filter_dict()

    def _filter_dict(self) -> dict[str, Any]:
        if self.selection is None:
            return {}
        statuses = [status.value for status in self.selection.statuses]
        return {"filter": {"status": statuses, "sort": self.selection.sort}}


def _followup_dict(followup: FollowUp) -> dict[str, Any]:
    event, message = followup.event, followup.message
    return {
        "event": {
            "id": event.id,
            "title": event.title,
            "kind": event.kind,
            "start": iso(event.start),
            "end": iso(event.end),
        },
        "person": {"name": followup.person.name, "email": followup.person.email},
        "status": followup.status.value,
        "deadline": iso(followup.deadline),
        "hours_left": followup.hours_left,
        "message": None
        if message is None
        else {
            "date": iso(message.date),
            "subject": message.subject,
            "message_id": message.message_id,
            "matched_by": followup.matched_by,
            "hours_after_end": followup.hours_after_end,
        },
    }


def _status(name: Status | str) -> Status:
    try:
        return Status(name)
    except ValueError:
        names = ", ".join(status.value for status in SUMMARY_ORDER)
        raise UsageError(f"unknown status {name!r}; choose from {names}") from None


def hours(delta: timedelta) -> float:
    """A span in hours, rounded to two places as every report shows it."""
    return round(float(delta.total_seconds()) / 3600, 2)


def iso(moment: datetime | None) -> str | None:
    """A time as the reports write it: ISO 8601 in UTC, whole seconds; None stays None."""
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="seconds")
