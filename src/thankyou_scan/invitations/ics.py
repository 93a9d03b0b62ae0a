"""Invitations read from iCalendar text: each VEVENT kept by UID, the newest version winning,
recurring ones expanded in a window; the result is ``ImportedEvent`` records.

This is the only module that imports ``icalendar`` and ``recurring_ical_events``; the
package imports it only when invitations are read, so other commands never load them.
Everything in an invitation is someone else's input: texts, components, attendees and
recurrences are bounded, and a component that cannot be read is skipped and counted.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import re
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

import icalendar
import recurring_ical_events

from ..times import FIRST_YEAR, LAST_YEAR, read_zone
from .rules import DEFAULT_KIND_RULES, Attendee, KindRule, PeopleRules, guess_kind

__all__ = [
    "MAX_ICS_CHARS",
    "MAX_OCCURRENCES",
    "ImportedEvent",
    "InvitationSet",
    "iana_zone",
]

log = logging.getLogger("thankyou_scan")

UTC = timezone.utc

MAX_ICS_CHARS = 4 * 1024 * 1024
"""One iCalendar text (a file, a mail part) longer than this is skipped."""
MAX_COMPONENTS = 2_000
"""Components (BEGIN: lines) in one text; an export of a whole calendar has a few thousand at most."""
MAX_DEPTH = 8
"""How deeply components may nest (VCALENDAR > VEVENT > VALARM is 3)."""
MAX_ATTENDEES = 500
"""Attendees read per event; the rest are left out with a warning."""
MAX_OCCURRENCES = 1_000
"""Occurrences of one recurring event within the window; more are left out with a warning."""
MAX_RULE_STEPS = 200_000
"""Estimated steps of a recurrence rule from its start to the window's end; a rule needing more
(FREQ=SECONDLY for years, BYSECOND lists...) is skipped rather than expanded."""
MAX_TEXT = 200
"""Titles and names are cut to this many characters."""
MAX_ID = 300
"""A longer UID is replaced by a hash of it in the event's id."""

_IGNORED_METHODS = frozenset({"REPLY", "COUNTER", "DECLINECOUNTER", "REFRESH"})
_STEP = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3600,
    "DAILY": 86400,
    "WEEKLY": 7 * 86400,
    "MONTHLY": 28 * 86400,
    "YEARLY": 365 * 86400,
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]+")


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
        problem = _too_big(text)
        if problem:
            self.skip(origin, problem)
            return
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                calendars = icalendar.Calendar.from_ical(text, multiple=True)
        except Exception as exc:  # icalendar raises ValueError, KeyError, IndexError... on bad input
            self.skip(origin, f"not iCalendar data ({_short(str(exc)) or type(exc).__name__})")
            return
        for calendar in calendars:
            method = str(calendar.get("METHOD", "")).strip().upper()
            if method in _IGNORED_METHODS:
                continue
            timezones = tuple(calendar.walk("VTIMEZONE")) if calendar.name == "VCALENDAR" else ()
            events = [calendar] if calendar.name == "VEVENT" else calendar.walk("VEVENT")
            for component in events:
                try:
                    self._add(component, method, timezones, origin)
                except Exception as exc:
                    self.skip(origin, f"an event cannot be read ({_short(str(exc)) or type(exc).__name__})")

    def _add(self, component: Any, method: str, timezones: tuple[Any, ...], origin: str) -> None:
        uid = " ".join(_CONTROL.sub(" ", str(component.get("UID", ""))).split()) or None
        recurrence = None
        if component.get("RECURRENCE-ID") is not None:
            recurrence = recurrence_text(component.decoded("RECURRENCE-ID"))
        try:
            sequence = max(0, min(int(str(component.get("SEQUENCE", 0)).strip()), 2**31))
        except ValueError:
            sequence = 0
        stamp = _utc(component.decoded("DTSTAMP")) if component.get("DTSTAMP") is not None else None
        _place_named_zones(component)
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
                self.skip(origin, f"event {uid!r} cannot be read ({_short(str(exc)) or type(exc).__name__})")
        seen: set[tuple[str, str]] = set()
        for (
            version
        ) in self._anonymous:  # no UID: nothing to merge with; the same event seen twice is kept once
            try:
                events = self._series(None, {None: (version, version.component)}, since, until)
            except Exception as exc:
                self.skip(
                    version.origin, f"an event cannot be read ({_short(str(exc)) or type(exc).__name__})"
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
        if master is not None and _recurs(master[1]):
            if _rule_readable(master[1]):
                return self._expand(uid, master, overrides, since, until)
            log.warning(
                "%s: event %r: its recurrence rule cannot be read; only its first occurrence is kept",
                master[0].origin,
                _short(uid or str(master[1].get("SUMMARY", ""))),
            )
        if master is not None:
            version, component = master
            event = self._event(component, version.cancels, uid, None, version.origin)
            if event is not None and (self._all_single or _in_window(event.start, since, until)):
                result.append(event)
        for recurrence, (version, component) in overrides.items():
            event = self._event(component, version.cancels, uid, recurrence, version.origin)
            if event is not None and (self._all_single or _in_window(event.start, since, until)):
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
        problem = _rule_too_costly(component, until)
        if problem:
            self.skip(
                version.origin, f"event {_short(uid or str(component.get('SUMMARY', '')))!r}: {problem}"
            )
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
                _short(uid or str(component.get("SUMMARY", ""))),
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
        title = _clean(str(component.get("SUMMARY", ""))) or "Untitled invitation"
        name = f"event {_short(title)!r}"
        if component.get("DTSTART") is None:
            self.skip(origin, f"{name} has no start (DTSTART)")
            return None
        start = component.decoded("DTSTART")
        end = _end(component, start)
        zone = None
        if isinstance(start, datetime) and start.tzinfo is None and component["DTSTART"].params.get("TZID"):
            # a TZID no VTIMEZONE defines and icalendar does not know (an Outlook display name):
            # the time is in the zone it names when we know it, not a floating time
            named = _zone_from_name(str(component["DTSTART"].params["TZID"]))
            if named is not None:
                start = start.replace(tzinfo=_zoneinfo(named))
                if isinstance(end, datetime) and end.tzinfo is None:
                    end = end.replace(tzinfo=_zoneinfo(named))
        if isinstance(start, datetime):
            zone = iana_zone(start.tzinfo, component["DTSTART"].params.get("TZID"))
            if zone is not None and start.tzinfo is not None:
                start = start.astimezone(_zoneinfo(zone))
                end = end.astimezone(_zoneinfo(zone)) if isinstance(end, datetime) and end.tzinfo else end
        if not FIRST_YEAR <= start.year <= LAST_YEAR:
            return None
        attendees = _attendees(component)
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
            id=_event_id(uid, recurrence),
            title=title,
            kind=guess_kind(title, self.kinds),
            start=start,
            end=end,
            timezone=zone,
            cancelled=cancelled,
            people=tuple(people),
        )


# -- pieces -----------------------------------------------------------------------------


def _too_big(text: str) -> str | None:
    if len(text) > MAX_ICS_CHARS:
        return f"larger than {MAX_ICS_CHARS // (1024 * 1024)} MB"
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    depth = count = 0
    for match in re.finditer(r"^(BEGIN|END):", unfolded, re.MULTILINE | re.IGNORECASE):
        if match.group(1).upper() == "BEGIN":
            depth += 1
            count += 1
            if depth > MAX_DEPTH:
                return f"components nested more than {MAX_DEPTH} deep"
            if count > MAX_COMPONENTS:
                return f"more than {MAX_COMPONENTS:,} components"
        else:
            depth = max(0, depth - 1)
    return None


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


def _place_named_zones(component: Any) -> None:
    """Put times whose TZID is a display name we can map into that zone.

    DTSTART, DTEND and RECURRENCE-ID whose TZID no VTIMEZONE defines and icalendar does not
    know (Outlook's display names, ``(UTC-05:00) Eastern Time (US & Canada)``) are read as
    floating times; when the name is one we can map, they are put in that zone instead, so the
    expansion of a recurring event keeps it too. (EXDATE and RDATE are left as they are.)
    """
    for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        prop = component.get(name)
        if prop is None or isinstance(prop, list) or not prop.params.get("TZID"):
            continue
        value = getattr(prop, "dt", None)
        if not isinstance(value, datetime) or value.tzinfo is not None:
            continue
        zone = _zone_from_name(str(prop.params["TZID"]))
        if zone is None:
            continue
        component.pop(name)
        component.add(name, value.replace(tzinfo=_zoneinfo(zone)))


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


def _recurs(component: Any) -> bool:
    return component.get("RRULE") is not None or component.get("RDATE") is not None


def _rule_readable(component: Any) -> bool:
    rule = component.get("RRULE")
    try:
        for one in rule if isinstance(rule, list) else [rule] if rule is not None else []:
            one.get("FREQ")
    except Exception:
        return False
    return True


def _rule_too_costly(component: Any, until: datetime) -> str | None:
    rule = component.get("RRULE")
    if rule is None:
        return None
    rules = rule if isinstance(rule, list) else [rule]
    start = component.decoded("DTSTART") if component.get("DTSTART") is not None else None
    if start is None:
        return None
    begin = start if isinstance(start, datetime) else datetime(start.year, start.month, start.day)
    if begin.tzinfo is None:
        begin = begin.replace(tzinfo=UTC)
    span = max((until - begin).total_seconds(), 0)
    for one in rules:
        frequency = str((one.get("FREQ") or [""])[0]).upper()
        step = _STEP.get(frequency)
        if step is None:
            return f"recurrence rule with FREQ={_short(frequency)!r} is not one RFC 5545 knows"
        try:
            interval = max(int((one.get("INTERVAL") or [1])[0]), 1)
        except (TypeError, ValueError):
            interval = 1
        steps = span / (step * interval)
        for key in (
            "BYMONTH",
            "BYWEEKNO",
            "BYYEARDAY",
            "BYMONTHDAY",
            "BYDAY",
            "BYHOUR",
            "BYMINUTE",
            "BYSECOND",
        ):
            values = one.get(key)
            if values:
                steps *= len(values)
        if steps > MAX_RULE_STEPS:
            return (
                f"its recurrence rule (FREQ={frequency}) needs about {steps:,.0f} steps to reach the window, "
                f"more than the {MAX_RULE_STEPS:,} allowed — left out"
            )
    return None


def _end(component: Any, start: datetime | date) -> datetime | date | None:
    """DTEND, or DTSTART + DURATION; None when missing or not after the start (within 365 days)."""
    end: Any = None
    if component.get("DTEND") is not None:
        end = component.decoded("DTEND")
    elif component.get("DURATION") is not None:
        duration = component.decoded("DURATION")
        if isinstance(duration, timedelta):
            end = start + duration
    if end is None or isinstance(end, datetime) != isinstance(start, datetime):
        return None
    if (
        isinstance(end, datetime)
        and isinstance(start, datetime)
        and (end.tzinfo is None) != (start.tzinfo is None)
    ):
        return None
    if not start <= end <= start + timedelta(days=365):
        return None
    return end if isinstance(end, (datetime, date)) else None


def _attendees(component: Any) -> list[Attendee]:
    result = []
    organizer = component.get("ORGANIZER")
    if organizer is not None:
        result.append(_attendee(organizer, organizer=True))
    values = component.get("ATTENDEE") or []
    for value in values if isinstance(values, list) else [values]:
        result.append(_attendee(value))
    return result


_ADDRESS = re.compile(r"^[^\s@<>(),;:\"\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.[A-Za-z]{2,63}$")


def _attendee(value: Any, *, organizer: bool = False) -> Attendee:
    params = getattr(value, "params", {})
    # Some writers quote the whole value ("mailto:a@b.example"), and a line folded with two
    # spaces leaves one inside the address (khal's, Exchange's): no address holds whitespace.
    text = "".join(str(value).split()).strip('"')
    address = text[7:] if text.lower().startswith("mailto:") else text
    if not _ADDRESS.match(address) or len(address) > 254:
        email_param = str(params.get("EMAIL", "")).strip()
        address = email_param if _ADDRESS.match(email_param) else ""
    return Attendee(
        email=address,
        name=_clean(str(params.get("CN", ""))).strip('"'),
        cutype=str(params.get("CUTYPE", "INDIVIDUAL")),
        partstat=str(params.get("PARTSTAT", "")),
        organizer=organizer,
    )


def _event_id(uid: str | None, recurrence: str | None) -> str | None:
    if uid is None:
        return None
    if len(uid) > MAX_ID:
        uid = "uid-" + hashlib.sha256(uid.encode("utf-8", "replace")).hexdigest()[:32]
    return uid if recurrence is None else f"{uid}@{recurrence}"


def recurrence_text(value: Any) -> str:
    """A RECURRENCE-ID (an occurrence's original start) as the id shows it: ``YYYYMMDDTHHMMSSZ`` in UTC,
    ``YYYYMMDD`` for a date, ``YYYYMMDDTHHMMSS`` for a floating time.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.strftime("%Y%m%dT%H%M%S")
        return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    return _clean(str(value))


def iana_zone(zone: tzinfo | None, tzid: Any = None) -> str | None:
    """The IANA name for a time's zone: its TZID as written, a Windows zone name mapped (CLDR's
    windowsZones, as icalendar ships it), or a vendor prefix (``/mozilla.org/…/Europe/Berlin``)
    removed; None when none is known (the time is then written with its offset).
    """
    if zone is None:
        return None
    candidates = [str(tzid)] if tzid else []
    key = getattr(zone, "key", None) or getattr(zone, "zone", None)
    if key:
        candidates.append(str(key))
    for candidate in candidates:
        found = _zone_from_name(candidate)
        if found is not None:
            return found
    if zone.utcoffset(datetime(2000, 1, 1)) == timedelta(0) and zone.utcoffset(
        datetime(2000, 7, 1)
    ) == timedelta(0):
        names = {zone.tzname(datetime(2000, 1, 1)), zone.tzname(datetime(2000, 7, 1))}
        if names & {"UTC", "GMT", "Z", "Coordinated Universal Time"}:
            return "UTC"
    return None


def _zone_from_name(name: str) -> str | None:
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    cleaned = name.strip().strip('"').strip("/")
    if not cleaned or len(cleaned) > 200:
        return None
    if cleaned.upper() in ("UTC", "Z", "GMT", "ETC/UTC"):
        return "UTC"
    tries = [cleaned]
    if cleaned in WINDOWS_TO_OLSON:
        tries.insert(0, WINDOWS_TO_OLSON[cleaned])
    parts = cleaned.split("/")
    tries += ["/".join(parts[start:]) for start in range(1, len(parts))]
    for candidate in tries:
        try:
            return read_zone(candidate)
        except ValueError:
            continue
    return _zone_from_display_name(cleaned)


_DISPLAY_NAME = re.compile(r"^\((?:UTC|GMT)\s*(?:([+-])(\d{1,2}):?(\d{2}))?\)\s*(.+)$", re.IGNORECASE)
_NORTH_AMERICA = {
    "eastern": "America/New_York",
    "central": "America/Chicago",
    "mountain": "America/Denver",
    "pacific": "America/Los_Angeles",
    "atlantic": "America/Halifax",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
    "arizona": "America/Phoenix",
}
_NORTH_AMERICA_NAME = re.compile(
    r"^(\w+)(?:\s+time)?(?:\s*\((?:us\s*(?:&|and)\s*)?canada\))?$", re.IGNORECASE
)


def _zone_from_display_name(name: str) -> str | None:
    """An IANA zone for a Windows display name as Outlook and Exchange write it as TZID
    (``(UTC-05:00) Eastern Time (US & Canada)``, ``(GMT+10:00) Canberra, Melbourne, Sydney``):
    the North American names, else the first listed city that names an IANA zone whose offset
    (standard or daylight) is the one shown. None when nothing fits.
    """
    match = _DISPLAY_NAME.match(name)
    if match is None:
        return None
    sign, hours, minutes, rest = match.groups()
    offset = timedelta(hours=int(hours or 0), minutes=int(minutes or 0)) * (-1 if sign == "-" else 1)
    rest = rest.replace("\\,", ",").strip()
    if re.search(r"coordinated universal time", rest, re.IGNORECASE) and not offset:
        return "UTC"
    american = _NORTH_AMERICA_NAME.match(rest)
    if american and american.group(1).lower() in _NORTH_AMERICA:
        return _NORTH_AMERICA[american.group(1).lower()]
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    cities = _zone_cities()
    found = [cities.get(city.strip().replace(" ", "_").lower()) for city in re.split(r"[,:;/]", rest)]
    fitting = [zone for zone in found if zone is not None and _has_offset(zone, offset)]
    preferred = set(WINDOWS_TO_OLSON.values())  # CLDR's choice (Sydney, not its link Canberra)
    return next((zone for zone in fitting if zone in preferred), fitting[0] if fitting else None)


_CITIES: dict[str, str] = {}


def _zone_cities() -> dict[str, str]:
    """The last part of each IANA region zone (``sydney`` → ``Australia/Sydney``)."""
    if not _CITIES:
        from zoneinfo import available_timezones

        regions = (
            "Africa/",
            "America/",
            "Antarctica/",
            "Asia/",
            "Atlantic/",
            "Australia/",
            "Europe/",
            "Indian/",
            "Pacific/",
        )
        for zone in sorted(available_timezones()):
            if zone.startswith(regions):
                _CITIES.setdefault(zone.rsplit("/", 1)[-1].lower(), zone)
    return _CITIES


def _has_offset(zone: str, offset: timedelta) -> bool:
    info = _zoneinfo(zone)
    return any(
        info.utcoffset(datetime(year, month, 1)) == offset for year in (2015, 2020, 2025) for month in (1, 7)
    )


def _zoneinfo(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _utc(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return None


def _in_window(start: datetime | date, since: datetime, until: datetime) -> bool:
    """Whether a single event is kept: it starts within the window."""
    if not isinstance(start, datetime):
        return since.date() <= start <= until.date()
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return since <= start <= until


def _clean(text: str) -> str:
    """Text for the calendar: control and invisible characters become spaces, runs of spaces one, at most MAX_TEXT."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text))
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _short(text: str, limit: int = 80) -> str:
    text = _CONTROL.sub(" ", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_all(texts: Iterable[tuple[str, str]], *, rules: PeopleRules) -> InvitationSet:
    """An InvitationSet of (text, origin) pairs."""
    found = InvitationSet(rules=rules)
    for text, origin in texts:
        found.add_text(text, origin)
    return found
