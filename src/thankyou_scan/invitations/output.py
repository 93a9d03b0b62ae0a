"""Imported events as calendar YAML (docs/calendar.md), and appended to a calendar file.

Every value goes through ``yaml.safe_dump``, so a title with quotes, colons, markup or
escape characters stays one plain string; the result is checked by the calendar's own
loader before it is printed or written, and an event the loader would refuse is left out.
Appending never rewrites a byte already in the file: the new entries are added after the
last one of its ``events:`` list, written to a new file that replaces the old in one step.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ..calendar import MAX_CALENDAR_BYTES, parse_calendar
from ..errors import CalendarError, UsageError
from ..paths import read_regular_file
from ..times import read_moment

if TYPE_CHECKING:
    from .ics import ImportedEvent  # annotations only: icalendar loads when invitations are read

__all__ = ["append_events", "event_mapping", "render_calendar", "render_items"]

log = logging.getLogger("thankyou_scan")


def event_mapping(event: ImportedEvent) -> dict[str, object]:
    """The event as the calendar writes it: id, title, kind, start/end or duration, timezone, people."""
    entry: dict[str, object] = {}
    if event.id is not None:
        entry["id"] = event.id
    entry["title"] = event.title
    entry["kind"] = event.kind
    if not isinstance(event.start, datetime):
        entry["start"] = event.start.isoformat()
        if event.end is not None and not isinstance(event.end, datetime):
            days = (event.end - event.start).days
            if days > 1:
                entry["duration"] = f"{days}d"
    else:
        zone = event.timezone
        entry["start"] = _moment(event.start, zone)
        if isinstance(event.end, datetime):
            entry["end"] = _moment(event.end, zone)
        if zone is not None:
            entry["timezone"] = zone
    if event.cancelled:
        entry["cancelled"] = True
    people = []
    for name, email in event.people:
        person = {"name": name} if name and "@" not in name else {}
        person["email"] = email
        people.append(person)
    if people:
        entry["people"] = people
    return entry


def _moment(moment: datetime, zone: str | None) -> str:
    """``YYYY-MM-DD HH:MM[:SS]`` in ``zone``; with an offset when there is no zone name, or when
    the wall time would not read back as the same instant (in a DST gap or fold).
    """
    text = moment.strftime("%Y-%m-%d %H:%M" + (":%S" if moment.second else ""))
    if moment.tzinfo is None:
        return text
    if zone is not None:
        with contextlib.suppress(ValueError):
            if read_moment(text, zone).utc == moment:
                return text
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{text}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _dump(entries: list[dict[str, object]]) -> str:
    return yaml.safe_dump(entries, sort_keys=False, allow_unicode=True, width=4096, default_flow_style=False)


def render_items(events: Sequence[ImportedEvent], indent: int = 2) -> str:
    """The events as entries of a block list, each line indented by ``indent`` spaces."""
    text = _dump([event_mapping(event) for event in events])
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))


def loadable(events: Sequence[ImportedEvent], *, origin: str = "<import>") -> list[ImportedEvent]:
    """The events the calendar loader accepts: checked together, and one by one when that fails."""
    if not events:
        return []
    try:
        parse_calendar(render_calendar(events, check=False), path=origin)
        return list(events)
    except CalendarError:
        pass
    kept = []
    for event in events:
        try:
            parse_calendar(render_calendar([event], check=False), path=origin)
        except CalendarError as exc:
            log.warning(
                "left out event %r: the calendar would refuse it (%s)", event.title, exc.problems[0].message
            )
            continue
        kept.append(event)
    return kept


def render_calendar(events: Sequence[ImportedEvent], *, check: bool = True) -> str:
    """A whole calendar file holding ``events`` (``version: 1``, ``events:``)."""
    if check:
        events = loadable(events)
    if not events:
        return "version: 1\nevents: []\n"
    return "version: 1\nevents:\n" + render_items(events)


def append_events(path: str | Path, events: Sequence[ImportedEvent]) -> int:
    """Append ``events`` to the calendar file's ``events:`` list, leaving every byte before them as it was.

    The new file is checked with the calendar loader first and replaces the old in one
    rename (same folder, same permissions). Returns how many events were appended.

    Raises:
        UsageError: the file's ``events:`` list cannot be appended to (a flow list ``[...]``,
            or keys after it); CalendarError: the result would not load.
    """
    name = str(path)
    data = read_regular_file(path, MAX_CALENDAR_BYTES)
    if data is None or len(data) > MAX_CALENDAR_BYTES:
        raise UsageError(f"{name}: not a regular calendar file of at most 10 MB — cannot append to it")
    if not events:
        return 0
    text = data.decode("utf-8-sig")
    indent = _append_indent(text, name)
    addition = ("" if not text or text.endswith("\n") else "\n") + render_items(events, indent)
    parse_calendar(text + addition, path=name)  # the check: nothing is written when it would not load
    _replace(Path(path), data + addition.encode("utf-8"))
    return len(events)


def _append_indent(text: str, name: str) -> int:
    """The column of the ``events:`` list's dashes, after checking the list ends the file."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise UsageError(f"{name}: not readable YAML ({exc}) — fix it with `check` first") from None
    if not isinstance(root, yaml.MappingNode):
        raise UsageError(f"{name}: not a calendar (no top-level keys) — cannot append to it")
    events = None
    for position, (key, value) in enumerate(root.value):
        if isinstance(key, yaml.ScalarNode) and key.value == "events":
            events = value
            if position != len(root.value) - 1:
                raise UsageError(
                    f"{name}: 'events:' is not the last key of the file, so new events cannot be added at its end "
                    "without rewriting it — move 'events:' to the end of the file"
                )
    if not isinstance(events, yaml.SequenceNode) or events.flow_style or not events.value:
        raise UsageError(
            f"{name}: its 'events:' is not a list written one '- ' entry per line with at least one entry, "
            "which appending needs — write the first event by hand, or import into a new file"
        )
    tail = text[events.end_mark.index :]
    if tail.strip() and not all(
        not line.strip() or line.lstrip().startswith("#") for line in tail.splitlines()
    ):
        raise UsageError(f"{name}: there is more after the 'events:' list — cannot append safely")
    return int(events.start_mark.column)


def _replace(path: Path, content: bytes) -> None:
    """Write ``content`` to a new file beside ``path`` (O_EXCL, no link followed) and rename it over ``path``."""
    mode = stat.S_IMODE(os.stat(path).st_mode)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
