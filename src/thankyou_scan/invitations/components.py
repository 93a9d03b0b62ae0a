"""The parts of one VEVENT read and bounded: times and zones, attendees, ids, recurrence costs, text.

Helpers of ics.py (which alone holds the invitation set and imports icalendar itself);
icalendar's Windows zone table is imported here only when a TZID needs it. Windows and
Outlook display-name zones (``(UTC-05:00) Eastern Time (US & Canada)``) become IANA
names; every text is cleaned and cut; a recurrence rule that would take too many steps
to reach the window is refused before it is expanded.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any

from ..times import read_zone
from .rules import Attendee

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

IGNORED_METHODS = frozenset({"REPLY", "COUNTER", "DECLINECOUNTER", "REFRESH"})
RULE_STEP = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3600,
    "DAILY": 86400,
    "WEEKLY": 7 * 86400,
    "MONTHLY": 28 * 86400,
    "YEARLY": 365 * 86400,
}
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]+")


def too_big(text: str) -> str | None:
    """Why an iCalendar text is refused before it is parsed (too long, too many components or too deep); None: read it."""
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


def place_named_zones(component: Any) -> None:
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
        zone = zone_from_name(str(prop.params["TZID"]))
        if zone is None:
            continue
        component.pop(name)
        component.add(name, value.replace(tzinfo=zone_info(zone)))


def recurs(component: Any) -> bool:
    """Whether a VEVENT repeats (RRULE or RDATE)."""
    return component.get("RRULE") is not None or component.get("RDATE") is not None


def rule_readable(component: Any) -> bool:
    """Whether its RRULE can be read at all (a broken one is skipped, not expanded)."""
    rule = component.get("RRULE")
    try:
        for one in rule if isinstance(rule, list) else [rule] if rule is not None else []:
            one.get("FREQ")
    except Exception:
        return False
    return True


def rule_too_costly(component: Any, until: datetime) -> str | None:
    """Why expanding its RRULE up to ``until`` would take too many steps; None when it is cheap enough."""
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
        step = RULE_STEP.get(frequency)
        if step is None:
            return f"recurrence rule with FREQ={short(frequency)!r} is not one RFC 5545 knows"
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


def end_of(component: Any, start: datetime | date) -> datetime | date | None:
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


def read_attendees(component: Any) -> list[Attendee]:
    """The ORGANIZER and ATTENDEEs of a VEVENT, as Attendee records."""
    result = []
    organizer = component.get("ORGANIZER")
    if organizer is not None:
        result.append(read_attendee(organizer, organizer=True))
    values = component.get("ATTENDEE") or []
    for value in values if isinstance(values, list) else [values]:
        result.append(read_attendee(value))
    return result


ATTENDEE_ADDRESS = re.compile(
    r"^[^\s@<>(),;:\"\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.[A-Za-z]{2,63}$"
)


def read_attendee(value: Any, *, organizer: bool = False) -> Attendee:
    """One ORGANIZER or ATTENDEE property: its address (mailto:, else EMAIL=), CN, CUTYPE and PARTSTAT."""
    params = getattr(value, "params", {})
    # Some writers quote the whole value ("mailto:a@b.example"), and a line folded with two
    # spaces leaves one inside the address (khal's, Exchange's): no address holds whitespace.
    text = "".join(str(value).split()).strip('"')
    address = text[7:] if text.lower().startswith("mailto:") else text
    if not ATTENDEE_ADDRESS.match(address) or len(address) > 254:
        email_param = str(params.get("EMAIL", "")).strip()
        address = email_param if ATTENDEE_ADDRESS.match(email_param) else ""
    return Attendee(
        email=address,
        name=clean(str(params.get("CN", ""))).strip('"'),
        cutype=str(params.get("CUTYPE", "INDIVIDUAL")),
        partstat=str(params.get("PARTSTAT", "")),
        organizer=organizer,
    )


def event_id(uid: str | None, recurrence: str | None) -> str | None:
    """The calendar id of an event: its UID (hashed when over MAX_ID), and ``@`` its RECURRENCE-ID."""
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
    return clean(str(value))


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
        found = zone_from_name(candidate)
        if found is not None:
            return found
    if zone.utcoffset(datetime(2000, 1, 1)) == timedelta(0) and zone.utcoffset(
        datetime(2000, 7, 1)
    ) == timedelta(0):
        names = {zone.tzname(datetime(2000, 1, 1)), zone.tzname(datetime(2000, 7, 1))}
        if names & {"UTC", "GMT", "Z", "Coordinated Universal Time"}:
            return "UTC"
    return None


def zone_from_name(name: str) -> str | None:
    """The IANA zone a TZID names: IANA itself, a Windows name, a vendor-prefixed path or a display name."""
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
    info = zone_info(zone)
    return any(
        info.utcoffset(datetime(year, month, 1)) == offset for year in (2015, 2020, 2025) for month in (1, 7)
    )


def zone_info(name: str) -> tzinfo:
    """The zoneinfo zone of an IANA name (imported on first use)."""
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def as_utc(value: Any) -> datetime | None:
    """A datetime in UTC (a floating one taken as UTC); None for anything else."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return None


def in_window(start: datetime | date, since: datetime, until: datetime) -> bool:
    """Whether a single event is kept: it starts within the window."""
    if not isinstance(start, datetime):
        return since.date() <= start <= until.date()
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    return since <= start <= until


def clean(text: str) -> str:
    """Text for the calendar: control and invisible characters become spaces, runs of spaces one, at most MAX_TEXT."""
    text = unicodedata.normalize("NFC", CONTROL.sub(" ", text))
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def short(text: str, limit: int = 80) -> str:
    """Text for a log line: controls made spaces, cut at ``limit``."""
    text = CONTROL.sub(" ", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
