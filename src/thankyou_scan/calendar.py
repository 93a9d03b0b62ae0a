"""The YAML calendar file: ``load_calendar``/``parse_calendar`` → a validated ``Calendar``.

The file format is described in docs/calendar.md. The file is composed into a YAML
node tree (yamlnodes.py: safe loader, size limits), so every problem can name the
line it is on; all problems are collected and reported together. This module reads
the top level (version, timezone, policies, me, the events list and its limits);
calendar_events.py reads each event, times.py its times, and calendar_data.py holds
the frozen Calendar/Event/Person/Policy they make (re-exported here).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from .calendar_data import DEFAULT_POLICIES, Calendar, Event, Person, Policy
from .calendar_events import EventReader
from .errors import CalendarError, CalendarProblem
from .paths import read_regular_file
from .times import parse_duration
from .yamlnodes import compose, file_error, kind_of

__all__ = [
    "DEFAULT_POLICIES",
    "Calendar",
    "Event",
    "Person",
    "Policy",
    "load_calendar",
    "merge_calendars",
    "parse_calendar",
    "parse_duration",
]

MAX_CALENDAR_BYTES = 10 * 1024 * 1024
"""A calendar is a few kilobytes; refuse files larger than this outright."""

MAX_EVENTS = 20_000
"""A calendar of follow-ups is hundreds of events; more than this is refused with a clear error."""

MAX_PEOPLE = 100_000
"""Bound on people summed over all events (the follow-ups a scan works through, aliases included)."""

MAX_KINDS = 100
"""Most ``policies`` kinds and ``me`` addresses; each event's unknown kind is compared with every policy."""

_TOP_KEYS = ("version", "timezone", "policies", "events", "me")


def load_calendar(path: str | Path, *, check_deliverability: bool = False) -> Calendar:
    """Read and validate a calendar file.

    Raises:
        CalendarError: the file is missing, unreadable or wrong; every problem is listed.
    """
    name = str(path)
    try:
        data = read_regular_file(path, MAX_CALENDAR_BYTES)
    except FileNotFoundError as exc:
        raise file_error(name, "no such file — check the calendar's path") from exc
    except IsADirectoryError as exc:
        raise file_error(name, "is a directory — give the calendar's YAML file") from exc
    except OSError as exc:
        raise file_error(name, f"cannot be read ({exc.strerror or exc})") from exc
    if data is None:
        raise file_error(name, "is not a regular file (a FIFO or a device?) — give the calendar's YAML file")
    if len(data) > MAX_CALENDAR_BYTES:
        raise file_error(
            name, f"is larger than {MAX_CALENDAR_BYTES // (1024 * 1024)} MB — is this really a calendar?"
        )
    return parse_calendar(_decode(data, name), path=name, check_deliverability=check_deliverability)


def merge_calendars(calendars: Sequence[Calendar], *, me: Sequence[str] = ()) -> Calendar:
    """One calendar holding the events of ``calendars`` in order, and every ``me`` address.

    Raises:
        CalendarError: two calendars use the same event id (ids name follow-ups in reports).
    """
    if len(calendars) == 1 and not me:
        return calendars[0]
    owner: dict[str, Calendar] = {}
    problems = []
    for calendar in calendars:
        for event in calendar.events:
            first = owner.setdefault(event.id, calendar)
            if first is not calendar:
                problems.append(
                    CalendarProblem(
                        calendar.path,
                        event.line,
                        event.title,
                        f"id {event.id!r} is already used in {first.path} — give one of them a different 'id:'",
                    )
                )
    if problems:
        raise CalendarError(problems)
    addresses = dict.fromkeys([*(a for c in calendars for a in c.me), *(a.lower() for a in me)])
    zones = {calendar.timezone for calendar in calendars}
    return Calendar(
        events=tuple(event for calendar in calendars for event in calendar.events),
        timezone=zones.pop() if len(zones) == 1 else None,
        me=tuple(addresses),
        path=", ".join(calendar.path for calendar in calendars) or "<calendar>",
        warnings=tuple(warning for calendar in calendars for warning in calendar.warnings),
    )


def parse_calendar(text: str, *, path: str = "<calendar>", check_deliverability: bool = False) -> Calendar:
    """Validate calendar YAML given as text; ``path`` is used in error messages.

    Raises:
        CalendarError: listing every problem found, each with its line.
    """
    if "\x00" in text:
        raise file_error(path, "is a binary file, not YAML text — give the calendar's .yaml file")
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        raise file_error(path, "is empty — start it with 'version: 1' and an 'events:' list")
    root = compose(text, path)
    if root is None:
        raise file_error(path, "is empty — start it with 'version: 1' and an 'events:' list")
    return _Builder(path, check_deliverability).read(root)


def _decode(data: bytes, path: str) -> str:
    if b"\x00" in data:
        raise file_error(path, "is a binary file, not YAML text — give the calendar's .yaml file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CalendarError(
            [
                CalendarProblem(
                    path,
                    line,
                    None,
                    f"byte 0x{data[exc.start]:02x} is not UTF-8 — save the file as UTF-8",
                )
            ]
        ) from exc
    return text


class _Builder(EventReader[Calendar]):
    """Reads a calendar from its YAML tree: the top-level keys here, each event in EventReader."""

    # -- the calendar -------------------------------------------------------

    def build(self, root: yaml.Node) -> Calendar:
        empty = Calendar(events=(), path=self.path)
        top = self.read_top(root, _TOP_KEYS, "the calendar")
        if top is None:
            return empty
        zone = self.read_zone(top["timezone"][1], None) if "timezone" in top else None
        policies = dict(DEFAULT_POLICIES)
        if "policies" in top:
            policies.update(self.read_policies(top["policies"][1]))
        me = self.read_me(top["me"][1]) if "me" in top else ()
        if "events" not in top:
            self.refuse(root, None, "no 'events:' list — add 'events:' with one entry per event")
            return empty
        events_node = top["events"][1]
        if not isinstance(events_node, yaml.SequenceNode):
            self.refuse(
                events_node,
                None,
                f"'events' must be a list (each entry starting with '- '), not {kind_of(events_node)}",
            )
            return empty
        if len(events_node.value) > MAX_EVENTS:
            self.refuse(
                events_node,
                None,
                f"'events' has {len(events_node.value):,} entries; the limit is {MAX_EVENTS:,} — "
                "split the calendar, or drop events whose notes are long settled",
            )
            return empty
        people = sum(_people_count(node) for node in events_node.value)
        if people > MAX_PEOPLE:
            self.refuse(
                events_node,
                None,
                f"the events list {people:,} people in all (aliases counted as often as they are used); "
                f"the limit is {MAX_PEOPLE:,} — split the calendar, or drop events whose notes are long settled",
            )
            return empty
        events = [
            event
            for index, node in enumerate(events_node.value)
            if (event := self.read_event(node, index, zone, policies)) is not None
        ]
        self.check_ids(events)
        if any(event.timezone is None for event in events):
            self.warnings.append(
                f"{self.path}: no 'timezone' is set, so times without an offset are in this machine's "
                "local zone — add 'timezone: Area/City' at the top to make the calendar portable"
            )
        return Calendar(
            events=tuple(events),
            timezone=zone,
            me=me,
            path=self.path,
            warnings=tuple(self.warnings),
        )

    def read_policies(self, node: yaml.Node) -> dict[str, Policy]:
        result: dict[str, Policy] = {}
        if not isinstance(node, yaml.MappingNode):
            self.refuse(node, None, f"'policies' must map a kind to {{within: 48h}}, not {kind_of(node)}")
            return result
        if len(node.value) > MAX_KINDS:
            self.refuse(node, None, f"'policies' has {len(node.value):,} kinds; the limit is {MAX_KINDS}")
            return result
        for key, value in node.value:
            kind = str(key.value).strip() if isinstance(key, yaml.ScalarNode) else ""
            if not kind:
                self.refuse(key, None, "a policy needs a kind name, like 'interview:'")
                continue
            policy = self.read_policy(value, None, f"policy {kind!r}")
            if policy is not None:
                result[kind] = policy
        return result

    def read_me(self, node: yaml.Node) -> tuple[str, ...]:
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if len(items) > MAX_KINDS:
            self.refuse(node, None, f"'me' has {len(items):,} addresses; the limit is {MAX_KINDS}")
            return ()
        result = []
        for item in items:
            text = self.read_text(item, None, "me")
            if text is not None and (address := self.read_address(item, None, text)) is not None:
                result.append(address.lower())
        return tuple(result)


def _people_count(event: yaml.Node) -> int:
    if isinstance(event, yaml.MappingNode):
        for key, value in event.value:
            if (
                isinstance(key, yaml.ScalarNode)
                and key.value == "people"
                and isinstance(value, yaml.SequenceNode)
            ):
                return len(value.value)
    return 0
