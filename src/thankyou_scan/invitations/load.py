"""An .ics file read as invitations, and as a ``Calendar`` (``scan``/``check`` accept .ics files)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..calendar import Calendar, parse_calendar
from ..errors import CalendarError, CalendarProblem
from ..paths import read_regular_file
from . import ICS_SUFFIXES, is_ics_path
from .mail import decode_text
from .output import render_calendar
from .rules import PeopleRules

__all__ = ["ICS_SUFFIXES", "ICS_WINDOW", "is_ics_path", "load_ics_calendar", "read_ics_file"]

ICS_WINDOW = timedelta(days=365)
"""An .ics calendar given to scan or check: its recurring events from this long before now, to 30 days after."""


def read_ics_file(path: str | Path) -> str:
    """The text of an .ics file (UTF-8, else Latin-1 as some exports are).

    Raises:
        OSError: it cannot be opened; ValueError: not a regular file, or too large.
    """
    from .ics import MAX_ICS_CHARS  # icalendar loads only when an .ics file is read

    data = read_regular_file(path, MAX_ICS_CHARS)
    if data is None:
        raise ValueError("is not a regular file (a FIFO or a device?)")
    if len(data) > MAX_ICS_CHARS:
        raise ValueError(f"is larger than {MAX_ICS_CHARS // (1024 * 1024)} MB")
    if b"\x00" in data:
        raise ValueError("is a binary file, not iCalendar text")
    return decode_text(data.removeprefix(b"\xef\xbb\xbf"), None)


def load_ics_calendar(
    path: str | Path,
    *,
    me: Iterable[str] = (),
    now: datetime | None = None,
    check_deliverability: bool = False,
) -> Calendar:
    """An .ics file (a Google Calendar or Outlook export, one invitation) as a validated Calendar.

    Every event that does not recur is kept; recurring ones are expanded from a year before
    ``now`` to 30 days after.

    Raises:
        CalendarError: the file cannot be read, or holds no readable event.
    """
    name = str(path)
    try:
        text = read_ics_file(path)
    except FileNotFoundError as exc:
        raise CalendarError(
            [CalendarProblem(name, None, None, "no such file — check the calendar's path")]
        ) from exc
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CalendarError([CalendarProblem(name, None, None, f"cannot be read: {reason}")]) from exc
    moment = now or datetime.now(timezone.utc)
    from .ics import InvitationSet

    found = InvitationSet(rules=PeopleRules(me=frozenset(me)))
    found.add_text(text, name)
    events = found.events(moment - ICS_WINDOW, moment + timedelta(days=30), all_single=True)
    if not events and found.skipped:
        raise CalendarError(
            [
                CalendarProblem(
                    name, None, None, "holds no event that can be read — is it an iCalendar (.ics) file?"
                )
            ]
        )
    return parse_calendar(render_calendar(events), path=name, check_deliverability=check_deliverability)
