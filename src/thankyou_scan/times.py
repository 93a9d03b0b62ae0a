"""Calendar times, zones and durations read from text: pure, no YAML, no clock.

The calendar's builder hands each value here and turns a ``ValueError`` into a
problem with the file, the line and the event; the messages start with the value
quoted, so the builder only puts the key in front. Kept apart from the schema
so that the DST gap and fold rules can be tested with strings alone.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

__all__ = [
    "EXAMPLE",
    "FIRST_YEAR",
    "LAST_YEAR",
    "MAX_DURATION",
    "Moment",
    "day_after",
    "local_date",
    "parse_duration",
    "read_moment",
    "read_zone",
    "show",
]

UTC = timezone.utc

MAX_DURATION = timedelta(days=365)
"""Longest ``duration`` or ``within``."""

FIRST_YEAR, LAST_YEAR = 1900, 2999
"""Calendar times (and ``--now``) must lie in these years; every derived time then fits a datetime."""

EXAMPLE = "2026-11-02 10:00"
"""How a start or end is written, for messages."""

_DURATION_RE = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*$", re.IGNORECASE)
# IANA names are a few ASCII words joined by "/" (America/Argentina/Buenos_Aires, Etc/GMT+5);
# anything else never reaches zoneinfo, which recurses on names like "a/a/a/…/b".
_ZONE_RE = re.compile(r"^[A-Za-z0-9_+-]{1,32}(?:/[A-Za-z0-9_+-]{1,32}){0,3}$")
_TIME_RE = re.compile(
    r"""^\s*(?P<date>\d{4}-\d{1,2}-\d{1,2})
    (?:(?:[Tt]|\s+)(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d+))?)?)?
    \s*(?P<offset>Z|z|[+-]\d{1,2}(?::?\d{2})?)?\s*$""",
    re.VERBOSE,
)


class Moment(NamedTuple):
    """A start or end as read from the calendar."""

    utc: datetime
    """The time, aware, in UTC."""
    all_day: bool = False
    """Written as a bare date (the event lasts whole days)."""
    repeated: bool = False
    """The local time happens twice (the clocks go back then); the first was taken."""


def parse_duration(text: str) -> timedelta:
    """Parse ``90m``, ``48h``, ``2d``, ``1d12h`` into a timedelta.

    Raises:
        ValueError: with a message saying what a duration looks like, or that it is
            longer than ``MAX_DURATION``.
    """
    match = _DURATION_RE.match(text)
    if not text.strip() or match is None or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration — write it like 90m, 48h, 2d or 1d12h")
    # Compared as whole minutes before any timedelta is made: a 20-digit count overflows one.
    if any(len(group.lstrip("0")) > 9 for group in match.groups() if group):
        minutes = MAX_DURATION // timedelta(minutes=1) + 1
    else:
        days, hours, mins = (int(group or 0) for group in match.groups())
        minutes = (days * 24 + hours) * 60 + mins
    if minutes > MAX_DURATION // timedelta(minutes=1):
        shown = text.strip() if len(text) <= 40 else text.strip()[:40] + "…"
        raise ValueError(
            f"{shown!r} is longer than {MAX_DURATION.days} days, the limit — write it like 48h or 2d"
        )
    return timedelta(minutes=minutes)


def read_zone(name: str) -> str:
    """Check an IANA zone name; returns it unchanged.

    Raises:
        ValueError: the zone is unknown; the message suggests the closest known name.
    """
    try:
        if not _ZONE_RE.match(name):
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {_short(name)!r} — {_zone_hint(name)}") from None
    return name


def read_moment(text: str, zone: str | None, *, end_of_day: bool = False) -> Moment:
    """Read a start or end written like ``2026-11-02 10:00`` (seconds, fraction, offset optional).

    A bare date is midnight in ``zone`` (the next midnight with ``end_of_day``). A time without
    an offset is in ``zone``, or the machine's local zone when ``zone`` is None.

    Raises:
        ValueError: not a date and time, outside FIRST_YEAR–LAST_YEAR, not a real date, or
            in the hour the clocks skip in ``zone``; the message starts with ``text`` quoted.
    """
    match = _TIME_RE.match(text)
    if match is None:
        raise ValueError(f"{_short(text)!r} is not a date and time — write it like {EXAMPLE}")
    year = int(match["date"].split("-")[0])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(
            f"{text!r} is outside the years {FIRST_YEAR}–{LAST_YEAR} this tool handles — "
            f"check the year (like {EXAMPLE})"
        )
    try:
        day = date.fromisoformat("-".join(f"{int(part):02d}" for part in match["date"].split("-")))
        if match["hour"] is None:
            if match["offset"]:
                raise ValueError("a date alone cannot have an offset")
            return Moment(_midnight(day + timedelta(days=1) if end_of_day else day, zone), all_day=True)
        fraction = (match["fraction"] or "0")[:6].ljust(6, "0")
        clock = time(int(match["hour"]), int(match["minute"]), int(match["second"] or 0), int(fraction))
        offset = _offset(match["offset"]) if match["offset"] else None
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a real date or time ({exc}) — write it like {EXAMPLE}") from None
    naive = datetime.combine(day, clock)
    if offset is not None:
        return Moment(naive.replace(tzinfo=offset).astimezone(UTC))
    if zone is None:
        return Moment(naive.astimezone(UTC))
    return _in_zone(naive, zone, text)


def _in_zone(naive: datetime, zone: str, text: str) -> Moment:
    """``naive`` read in ``zone``: refused in the gap when clocks jump forward, flagged in the fold."""
    local = naive.replace(tzinfo=ZoneInfo(zone))
    if local.astimezone(UTC).astimezone(ZoneInfo(zone)).replace(tzinfo=None) != naive:
        raise ValueError(
            f"{text!r} does not exist in {zone} (the clocks jump forward then) — "
            "pick a time outside the gap, or add an offset like +01:00"
        )
    repeated = local.replace(fold=1).utcoffset() != local.utcoffset()
    return Moment(local.astimezone(UTC), repeated=repeated)


def day_after(moment: datetime, zone: str | None) -> datetime:
    """The midnight that ends ``moment``'s day in ``zone`` (None: the machine's local zone), in UTC."""
    return _midnight(local_date(moment, zone) + timedelta(days=1), zone)


def local_date(moment: datetime, zone: str | None) -> date:
    """``moment``'s date in ``zone`` (None: the machine's local zone)."""
    return moment.astimezone(_tz(zone)).date()


def show(moment: datetime, zone: str | None) -> str:
    """``moment`` as the calendar would write it in ``zone``: ``2026-11-02 10:00``."""
    return moment.astimezone(_tz(zone)).strftime("%Y-%m-%d %H:%M")


def _tz(zone: str | None) -> tzinfo | None:
    return ZoneInfo(zone) if zone else None


def _midnight(day: date, zone: str | None) -> datetime:
    naive = datetime.combine(day, time())
    if zone is None:
        return naive.astimezone(UTC)
    return naive.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _offset(text: str) -> timezone:
    if text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"offset {text} is out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _zone_hint(name: str) -> str:
    import difflib  # only when a zone is wrong: it is slow to import

    close = difflib.get_close_matches(name, list(available_timezones()), n=1, cutoff=0.7)
    return f"did you mean {close[0]!r}?" if close else "use an IANA name like Europe/Berlin"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
