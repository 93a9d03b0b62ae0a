"""Matching: which sent message paid which follow-up note. Pure: no I/O, no clock.

The rules are docs/report.md's (DESIGN.md "Matching rules"). Work is
O(messages × recipients + people): the calendar's addresses and domains are
indexed once (``_Index``, which the pre-check reads too), and each message is looked
up by its recipients.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from .calendar_data import Calendar, Event, Person
from .errors import UsageError
from .message import HeaderFacts, SentMessage, normalize_address
from .report import FollowUp, Report, SourceSummary, Status

__all__ = ["Relevance", "match", "match_followups", "normalize_address"]


@dataclass(slots=True, eq=False)
class _Slot:
    """One (event, person) pair being matched, and the best message found so far."""

    event: Event
    person: Person
    domain: str | None = None  # for a person without an address: the event's domain, lower-cased
    message: SentMessage | None = None
    matched_by: str | None = None


class _Index:
    """The calendar's (event, person) slots, and who can pay each: built once, for matching and the pre-check.

    A person with an address is paid by a message to that address (compared as
    :func:`normalize_address` compares). A person without one is paid by a message to
    anybody at their event's domain, compared exactly (lower-cased): the index keys it
    by the normalized domain, which is all :class:`HeaderFacts` carries, and
    :meth:`paid_by` keeps the exact comparison. Skipped events have slots but no keys.
    """

    def __init__(self, calendar: Calendar) -> None:
        self.slots: list[_Slot] = []
        self.by_address: dict[str, list[_Slot]] = defaultdict(list)
        self.by_domain: dict[str, list[_Slot]] = defaultdict(list)
        for event in calendar.events:
            for person in event.people:
                slot = _Slot(event, person)
                self.slots.append(slot)
                if event.skipped:
                    continue
                if person.email:
                    self.by_address[normalize_address(person.email)].append(slot)
                elif event.domain:
                    slot.domain = event.domain.lower()
                    self.by_domain[_domain(f"x@{event.domain}")].append(slot)

    def paid_by(self, recipient: str) -> tuple[Sequence[_Slot], Sequence[_Slot]]:
        """The slots a message to ``recipient`` can pay: (by its address, by its domain)."""
        address = normalize_address(recipient)
        by_address = self.by_address.get(address, ())
        slots = self.by_domain.get(address.rpartition("@")[2]) if self.by_domain else None
        if not slots:
            return by_address, ()
        exact = recipient.rpartition("@")[2].lower()
        return by_address, [slot for slot in slots if slot.domain == exact]


def _domain(address: str) -> str:
    return normalize_address(address).rpartition("@")[2]


class Relevance:
    """Decides from :class:`HeaderFacts` alone whether a message can still change the report.

    For each (event, person) only the first message after the event's start counts. A
    message can matter if it is to somebody in the calendar (by address, or by domain
    for people without one), was sent after the start of one of their events, not after
    ``now``, and not after a message already parsed for that same (event, person).
    Sources call it before parsing and :meth:`learn` with each message they parsed, so
    in a Sent folder read oldest first, about one message per (event, person) is parsed.
    Ties are let through: the report's tie-break decides them. The result never depends
    on the order messages arrive in, only the amount of parsing does.

    It reads matching's own index; by domain it compares the normalized domain, a
    superset of matching's exact one, so it may let through a message matching ignores.
    """

    def __init__(self, calendar: Calendar, now: datetime) -> None:
        self.now = now
        self.index = _Index(calendar)
        # Per slot, the date of the earliest message parsed for it so far.
        self.best: dict[_Slot, datetime] = {}

    def _open(self, entries: list[_Slot] | None, date: datetime) -> bool:
        if entries is None:
            return False
        best = self.best
        for slot in entries:
            if date > slot.event.start:
                first = best.get(slot)
                if first is None or date <= first:
                    return True
        return False

    def __call__(self, facts: HeaderFacts) -> bool:
        """Whether this message can still change the report (the pre-check before a full parse)."""
        date = facts.date
        if date is None:
            return True  # no date to judge by: the real parse decides (and counts a failure)
        if date > self.now:
            return False
        # Plain loops: on a rescan this runs once for every cached message.
        by_address = self.index.by_address
        for address in facts.addresses:
            if self._open(by_address.get(address), date):
                return True
        by_domain = self.index.by_domain
        if by_domain:
            for domain in facts.domains:
                if self._open(by_domain.get(domain), date):
                    return True
        return False

    def targets(self) -> tuple[frozenset[str], frozenset[str]]:
        """The addresses and domains outside which every dated message is turned away (sources read less by them)."""
        return frozenset(self.index.by_address), frozenset(self.index.by_domain)

    def replay_key(self) -> tuple[str, datetime] | None:
        """A digest of all but ``now`` that decides what this pre-check and :meth:`learn` do, and ``now``.

        Two pre-checks with the same digest, each told of the same messages, turn away the
        same ones but for the messages dated between their ``now`` values. None once a message
        was learnt (a source read before this one): only a fresh pre-check is described.
        """
        if self.best:
            return None
        by_address = {
            a: sorted(s.event.start.isoformat() for s in slots) for a, slots in self.index.by_address.items()
        }
        by_domain = {
            d: sorted(f"{s.domain} {s.event.start.isoformat()}" for s in slots)
            for d, slots in self.index.by_domain.items()
        }
        text = json.dumps([1, by_address, by_domain], sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(text.encode()).hexdigest(), self.now

    def learn(self, message: SentMessage) -> None:
        """Record a parsed message: later ones to the same people after the same events cannot be first."""
        date = message.date
        if date > self.now:
            return
        for recipient in message.recipients:
            by_address, by_domain = self.index.paid_by(recipient)
            for slot in (*by_address, *by_domain):
                first = self.best.get(slot)
                if date > slot.event.start and (first is None or date < first):
                    self.best[slot] = date


def _order(message: SentMessage) -> tuple[datetime, str, str, str, tuple[str, ...]]:
    # The earliest message wins; the rest of the key only breaks ties, so the
    # result never depends on the order messages arrive in.
    return (message.date, message.message_id, message.subject, message.uid or "", message.recipients)


def match_followups(
    calendar: Calendar, messages: Iterable[SentMessage], now: datetime
) -> tuple[tuple[FollowUp, ...], int]:
    """Match messages to the calendar's follow-ups; returns them and the count of messages read.

    Messages dated after ``now`` are ignored, so a report "as of" a past time
    shows what was known then.
    """
    if now.utcoffset() is None:
        raise UsageError(f"now must be timezone-aware, got {now!r}")
    index = _Index(calendar)
    count = 0
    for message in messages:
        count += 1
        if message.date > now:
            continue
        for recipient in message.recipients:
            by_address, by_domain = index.paid_by(recipient)
            for slot in by_address:
                _consider(slot, message, "address")
            for slot in by_domain:
                _consider(slot, message, "domain")

    followups = [_followup(slot, now) for slot in index.slots]
    followups.sort(key=lambda f: (f.event.start, f.event.id, f.person.name.casefold(), f.person.email or ""))
    return tuple(followups), count


def _consider(slot: _Slot, message: SentMessage, matched_by: str) -> None:
    if message.date <= slot.event.start:
        return  # sent before the event: a confirmation, not a follow-up
    if slot.message is None or _order(message) < _order(slot.message):
        slot.message, slot.matched_by = message, matched_by


def _followup(slot: _Slot, now: datetime) -> FollowUp:
    event, person = slot.event, slot.person
    deadline = event.deadline
    if event.skipped or deadline is None:
        return FollowUp(event, person, Status.SKIPPED, None)
    if slot.message is not None:
        status = Status.SENT if slot.message.date <= deadline else Status.LATE
        return FollowUp(event, person, status, deadline, None, slot.message, slot.matched_by)
    if now < event.end:
        return FollowUp(event, person, Status.UPCOMING, deadline)
    if now <= deadline:
        hours_left = round((deadline - now).total_seconds() / 3600, 2)
        return FollowUp(event, person, Status.DUE, deadline, hours_left)
    return FollowUp(event, person, Status.MISSING, deadline)


def match(
    calendar: Calendar,
    messages: Iterable[SentMessage],
    now: datetime,
    *,
    source_kind: str = "static",
    folder: str | None = None,
) -> Report:
    """Match messages against the calendar as of ``now`` and return the report."""
    followups, count = match_followups(calendar, messages, now)
    return Report(
        now=now,
        source=SourceSummary(source_kind, folder, count, 0),
        followups=followups,
        warnings=calendar.warnings,
    )
