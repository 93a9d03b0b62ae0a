"""The calendar as data: Calendar, Event, Person, Policy — frozen, times in UTC.

What every later stage reads (matching, the report, the renderers); reading and
checking the YAML file that makes them is calendar.py's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

__all__ = ["DEFAULT_POLICIES", "Calendar", "Event", "Person", "Policy"]


@dataclass(frozen=True, slots=True)
class Policy:
    """How soon after an event ends the note is owed."""

    within: timedelta


DEFAULT_POLICIES: dict[str, Policy] = {
    "interview": Policy(timedelta(hours=48)),
    "networking": Policy(timedelta(hours=48)),
    "meeting": Policy(timedelta(hours=24)),
    "default": Policy(timedelta(hours=48)),
}


@dataclass(frozen=True, slots=True)
class Person:
    """Somebody who should get a note; ``email`` is None when only the name is known."""

    name: str
    email: str | None = None

    def __str__(self) -> str:
        if self.email and self.name:
            return f"{self.name} <{self.email}>"
        return self.email or self.name


@dataclass(frozen=True, slots=True)
class Event:
    """One interview, meeting or networking event, with times in UTC."""

    id: str
    title: str
    kind: str
    start: datetime
    end: datetime
    timezone: str | None
    """IANA name of the zone the event's times were written in; None = the machine's local zone."""
    people: tuple[Person, ...] = ()
    domain: str | None = None
    follow_up: Policy | None = field(default_factory=lambda: DEFAULT_POLICIES["default"])
    """None when no note is expected (``follow_up: false``)."""
    cancelled: bool = False
    all_day: bool = False
    line: int | None = None

    @property
    def skipped(self) -> bool:
        """True when no note is expected: cancelled, or ``follow_up: false``."""
        return self.cancelled or self.follow_up is None

    @property
    def deadline(self) -> datetime | None:
        """When the note is due (end + within); None for skipped events."""
        if self.skipped or self.follow_up is None:
            return None
        return self.end + self.follow_up.within

    @property
    def zone(self) -> tzinfo | None:
        """The zone to show the event's times in (None = the machine's local zone)."""
        return ZoneInfo(self.timezone) if self.timezone else None

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the zone the event was written in."""
        return moment.astimezone(self.zone)


@dataclass(frozen=True, slots=True)
class Calendar:
    """A validated calendar: events in file order, plus the user's own addresses."""

    events: tuple[Event, ...]
    timezone: str | None = None
    me: tuple[str, ...] = ()
    path: str = "<calendar>"
    warnings: tuple[str, ...] = ()

    @property
    def uses_local_time(self) -> bool:
        """True when some event's times were read in the machine's local zone."""
        return any(event.timezone is None for event in self.events)

    @property
    def earliest_start(self) -> datetime | None:
        """The start of the first event that expects a note; None if none does."""
        starts = [event.start for event in self.events if not event.skipped]
        return min(starts) if starts else None
