"""Invitations read from iCalendar text: each VEVENT kept by UID, the newest version winning,
recurring ones expanded in a window; the result is ``ImportedEvent`` records.

This is the only module that imports ``icalendar`` and ``recurring_ical_events`` (its
helpers in components.py reach icalendar's Windows zone table only when a TZID needs it);
the package imports it only when invitations are read, so other commands never load them.
Everything in an invitation is someone else's input: texts, components, attendees and
recurrences are bounded, and a component that cannot be read is skipped and counted.
"""

from __future__ import annotations

import copy
import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import icalendar
import recurring_ical_events

from ..times import FIRST_YEAR, LAST_YEAR
from .components import (
    CONTROL,
    IGNORED_METHODS,
    MAX_ATTENDEES,
    MAX_ICS_CHARS,
    MAX_OCCURRENCES,
    UTC,
    as_utc,
    clean,
    end_of,
    event_id,
    iana_zone,
    in_window,
    place_named_zones,
    read_attendees,
    recurrence_text,
    recurs,
    rule_readable,
    rule_too_costly,
    short,
    too_big,
    zone_from_name,
    zone_info,
)
from .rules import DEFAULT_KIND_RULES, KindRule, PeopleRules, guess_kind

__all__ = [
    "MAX_ICS_CHARS",
    "MAX_OCCURRENCES",
    "ImportedEvent",
    "InvitationSet",
    "iana_zone",
]

log = logging.getLogger("thankyou_scan")


@dataclass(frozen=True, slots=True)
class ImportedEvent:
    """One event of the calendar to write: an invitation, or one occurrence of a recurring one."""

    id: str | None
    title: str
    kind: str
    start: datetime | date
    """A date for an all-day event; else aware (naive = floating: the calendar's zone applies)."""
    end: datetime | date | None
    timezone: str | None
    """The IANA zone to write the times in; None: written with an offset, or floating."""
    cancelled: bool = False
    people: tuple[tuple[str, str], ...] = ()
    """(name, address); name may be empty."""

    @property
    def all_day(self) -> bool:
        """True when the event is written as dates (an all-day event)."""
        return not isinstance(self.start, datetime)

    @property
    def sort_key(self) -> tuple[datetime, str]:
        """The order events are printed in: start (in UTC), then id."""
        start = self.start
        if not isinstance(start, datetime):
            start = datetime(start.year, start.month, start.day, tzinfo=UTC)
        elif start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        return start.astimezone(UTC), self.id or self.title


@dataclass(slots=True)
class _Version:
    """One VEVENT as one message or file had it."""

    uid: str | None
    recurrence: str | None
    sequence: int
    stamp: datetime
    method: str
    component: Any
    timezones: tuple[Any, ...]
    origin: str

    @property
    def cancels(self) -> bool:
        status = str(self.component.get("STATUS", "")).upper()
        return self.method == "CANCEL" or status == "CANCELLED"

    @property
    def rank(self) -> tuple[int, datetime, bool]:
        return (self.sequence, self.stamp, self.cancels)


@dataclass
class InvitationSet:
    """Invitations gathered from any number of texts; ``events()`` makes the calendar's events.

    ``skipped`` counts what could not be read (a text or one component), each logged as a
    warning naming where it came from.
    """

    rules: PeopleRules = field(default_factory=PeopleRules)
    kinds: tuple[KindRule, ...] = DEFAULT_KIND_RULES
    skipped: int = 0
    texts: int = 0
    _versions: dict[tuple[str, str | None], list[_Version]] = field(default_factory=dict)
    _anonymous: list[_Version] = field(default_factory=list)
    _all_single: bool = False

    def skip(self, origin: str, why: str) -> None:
        """Count one invitation that cannot be used, and say why in a warning."""
        self.skipped += 1
        log.warning("%s: skipped an invitation: %s", origin, why)

    # -- reading ------------------------------------------------------------------

    def add_text(self, text: str, origin: str) -> None:
        """Read one iCalendar text (a file or a mail part); ``origin`` names it in warnings."""
        self.texts += 1
        problem = too_big(text)
        if problem:
            self.skip(origin, problem)
            return
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                calendars = icalendar.Calendar.from_ical(text, multiple=True)
        except Exception as exc:  # icalendar raises ValueError, KeyError, IndexError... on bad input
            self.skip(origin, f"not iCalendar data ({short(str(exc)) or type(exc).__name__})")
            return
        for calendar in calendars:
            method = str(calendar.get("METHOD", "")).strip().upper()
            if method in IGNORED_METHODS:
                continue
            timezones = tuple(calendar.walk("VTIMEZONE")) if calendar.name == "VCALENDAR" else ()
            events = [calendar] if calendar.name == "VEVENT" else calendar.walk("VEVENT")
            for component in events:
                try:
                    self._add(component, method, timezones, origin)
                except Exception as exc:
                    self.skip(origin, f"an event cannot be read ({short(str(exc)) or type(exc).__name__})")

    def _add(self, component: Any, method: str, timezones: tuple[Any, ...], origin: str) -> None:
        uid = " ".join(CONTROL.sub(" ", str(component.get("UID", ""))).split()) or None
        recurrence = None
        if component.get("RECURRENCE-ID") is not None:
            recurrence = recurrence_text(component.decoded("RECURRENCE-ID"))
        try:
            sequence = max(0, min(int(str(component.get("SEQUENCE", 0)).strip()), 2**31))
        except ValueError:
            sequence = 0
        stamp = as_utc(component.decoded("DTSTAMP")) if component.get("DTSTAMP") is not None else None
        place_named_zones(component)
        version = _Version(
            uid,
            recurrence,
            sequence,
            stamp or datetime.min.replace(tzinfo=UTC),
            method,
            component,
            timezones,
            origin,
        )
        if uid is None:
            self._anonymous.append(version)
        else:
            self._versions.setdefault((uid, recurrence), []).append(version)

    # -- making events ------------------------------------------------------------

    def events(self, since: datetime, until: datetime, *, all_single: bool = False) -> list[ImportedEvent]:
        """The events starting between ``since`` and ``until`` (aware), recurring ones expanded.

        With ``all_single``, events that do not recur are kept whenever they are (a calendar export).
        """
        self._all_single = all_single
        result: list[ImportedEvent] = []
        by_uid: dict[str, dict[str | None, tuple[_Version, Any]]] = {}
        for (uid, recurrence), versions in self._versions.items():
            by_uid.setdefault(uid, {})[recurrence] = _winner(versions)
        for uid, entries in by_uid.items():
            entries = _all_day_overrides(entries)
            try:
                result.extend(self._series(uid, entries, since, until))
            except Exception as exc:
                origin = next(iter(entries.values()))[0].origin
                self.skip(origin, f"event {uid!r} cannot be read ({short(str(exc)) or type(exc).__name__})")
        seen: set[tuple[str, str]] = set()
        for (
            version
        ) in self._anonymous:  # no UID: nothing to merge with; the same event seen twice is kept once
            try:
                events = self._series(None, {None: (version, version.component)}, since, until)
            except Exception as exc:
                self.skip(
                    version.origin, f"an event cannot be read ({short(str(exc)) or type(exc).__name__})"
                )
                continue
            for event in events:
                key = (event.title, str(event.start))
                if key not in seen:
                    seen.add(key)
                    result.append(event)
        return sorted(result, key=lambda event: event.sort_key)

    def _series(
        self,
        uid: str | None,
        entries: dict[str | None, tuple[_Version, Any]],
        since: datetime,
        until: datetime,
    ) -> list[ImportedEvent]:
        master = entries.get(None)
        overrides: dict[str | None, tuple[_Version, Any]] = {
            key: value for key, value in entries.items() if key is not None
        }
        result: list[ImportedEvent] = []
        if master is not None and recurs(master[1]):
            if rule_readable(master[1]):
                return self._expand(uid, master, overrides, since, until)
            log.warning(
                "%s: event %r: its recurrence rule cannot be read; only its first occurrence is kept",
                master[0].origin,
                short(uid or str(master[1].get("SUMMARY", ""))),
            )
        if master is not None:
            version, component = master
            event = self._event(component, version.cancels, uid, None, version.origin)
            if event is not None and (self._all_single or in_window(event.start, since, until)):
                result.append(event)
        for recurrence, (version, component) in overrides.items():
            event = self._event(component, version.cancels, uid, recurrence, version.origin)
            if event is not None and (self._all_single or in_window(event.start, since, until)):
                result.append(event)
        return result

    def _expand(
        self,
        uid: str | None,
        master: tuple[_Version, Any],
        overrides: dict[str | None, tuple[_Version, Any]],
        since: datetime,
        until: datetime,
    ) -> list[ImportedEvent]:
        version, component = master
        problem = rule_too_costly(component, until)
        if problem:
            self.skip(version.origin, f"event {short(uid or str(component.get('SUMMARY', '')))!r}: {problem}")
            return []
        calendar = icalendar.Calendar()
        zones: dict[str, Any] = {}
        for part in (master, *overrides.values()):
            for zone in part[0].timezones:
                zones.setdefault(str(zone.get("TZID", "")), zone)
        for zone in zones.values():
            calendar.add_component(zone)
        calendar.add_component(component)
        for _, override in overrides.values():
            calendar.add_component(override)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            occurrences = recurring_ical_events.of(calendar).between(since, until)
        if len(occurrences) > MAX_OCCURRENCES:
            log.warning(
                "%s: event %r has %d occurrences in the window; only the first %d are kept",
                version.origin,
                short(uid or str(component.get("SUMMARY", ""))),
                len(occurrences),
                MAX_OCCURRENCES,
            )
        result = []
        for occurrence in occurrences[:MAX_OCCURRENCES]:
            raw = occurrence.get("RECURRENCE-ID") or occurrence.get("DTSTART")
            recurrence = recurrence_text(raw.dt)
            cancelled = overrides[recurrence][0].cancels if recurrence in overrides else version.cancels
            event = self._event(occurrence, cancelled, uid, recurrence, version.origin)
            if event is not None:
                result.append(event)
        return result

    def _event(
        self, component: Any, cancelled: bool, uid: str | None, recurrence: str | None, origin: str
    ) -> ImportedEvent | None:
        """One event from a component; None (with a warning when it matters) when it is not one to write."""
        title = clean(str(component.get("SUMMARY", ""))) or "Untitled invitation"
        name = f"event {short(title)!r}"
        if component.get("DTSTART") is None:
            self.skip(origin, f"{name} has no start (DTSTART)")
            return None
        start = component.decoded("DTSTART")
        end = end_of(component, start)
        zone = None
        if isinstance(start, datetime) and start.tzinfo is None and component["DTSTART"].params.get("TZID"):
            # a TZID no VTIMEZONE defines and icalendar does not know (an Outlook display name):
            # the time is in the zone it names when we know it, not a floating time
            named = zone_from_name(str(component["DTSTART"].params["TZID"]))
            if named is not None:
                start = start.replace(tzinfo=zone_info(named))
                if isinstance(end, datetime) and end.tzinfo is None:
                    end = end.replace(tzinfo=zone_info(named))
        if isinstance(start, datetime):
            zone = iana_zone(start.tzinfo, component["DTSTART"].params.get("TZID"))
            if zone is not None and start.tzinfo is not None:
                start = start.astimezone(zone_info(zone))
                end = end.astimezone(zone_info(zone)) if isinstance(end, datetime) and end.tzinfo else end
        if not FIRST_YEAR <= start.year <= LAST_YEAR:
            return None
        attendees = read_attendees(component)
        if len(attendees) > MAX_ATTENDEES:
            log.warning(
                "%s: %s has %d attendees; only the first %d are read",
                origin,
                name,
                len(attendees),
                MAX_ATTENDEES,
            )
            attendees = attendees[:MAX_ATTENDEES]
        if any(self.rules.is_me(a.email) and a.partstat.upper() == "DECLINED" for a in attendees):
            log.info("%s: %s: you declined it; left out", origin, name)
            return None
        people: list[tuple[str, str]] = []
        seen: set[str] = set()
        for attendee in attendees:
            if self.rules.left_out(attendee) is not None:
                continue
            key = attendee.email.lower()
            if key not in seen:
                seen.add(key)
                people.append((attendee.name, attendee.email))
        return ImportedEvent(
            id=event_id(uid, recurrence),
            title=title,
            kind=guess_kind(title, self.kinds),
            start=start,
            end=end,
            timezone=zone,
            cancelled=cancelled,
            people=tuple(people),
        )


# -- pieces -----------------------------------------------------------------------------


def _winner(versions: list[_Version]) -> tuple[_Version, Any]:
    """The newest version (higher SEQUENCE, then later DTSTAMP, then a cancellation), and the
    component to read its times from: its own, or the newest one that has a DTSTART (a CANCEL
    may leave it out).
    """
    ordered = sorted(versions, key=lambda version: version.rank)
    best = ordered[-1]
    if best.component.get("DTSTART") is not None:
        return best, best.component
    for version in reversed(ordered):
        if version.component.get("DTSTART") is not None:
            return best, version.component
    return best, best.component


def _all_day_overrides(
    entries: dict[str | None, tuple[_Version, Any]],
) -> dict[str | None, tuple[_Version, Any]]:
    """Overrides of an all-day series whose RECURRENCE-ID is a time, as Evolution
    (``RECURRENCE-ID:20180502T000000Z``) and Exchange (``RECURRENCE-ID;TZID=W. Europe Standard
    Time:20260226T000000``) write them, name the occurrence of that day (its date where it is
    written): they are keyed, and given to the expansion, as that date, so they replace it.
    """
    master = entries.get(None)
    if master is None or master[1].get("DTSTART") is None:
        return entries
    if isinstance(master[1].decoded("DTSTART"), datetime):
        return entries
    result: dict[str | None, tuple[_Version, Any]] = {}
    for key, (version, component) in sorted(entries.items(), key=lambda item: item[1][0].rank):
        if key is not None and component.get("RECURRENCE-ID") is not None:
            value = component.decoded("RECURRENCE-ID")
            if isinstance(value, datetime):
                day = value.date()
                component = copy.copy(component)
                component.pop("RECURRENCE-ID")
                component.add("RECURRENCE-ID", day)
                key = recurrence_text(day)
        result[key] = (version, component)  # sorted by rank: the newest of two spellings wins
    return result


def read_all(texts: Iterable[tuple[str, str]], *, rules: PeopleRules) -> InvitationSet:
    """An InvitationSet of (text, origin) pairs."""
    found = InvitationSet(rules=rules)
    for text, origin in texts:
        found.add_text(text, origin)
    return found
