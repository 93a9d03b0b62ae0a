"""One event of the YAML calendar read and checked: title, kind, times, people, follow-up.

``EventReader`` is the part of the calendar's builder (calendar.py) that reads what an
event says; the keys the file may hold are listed here. Times, zones and durations are
read by times.py; every problem goes to ``refuse`` with its node, so it keeps its line.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from email.utils import parseaddr
from typing import TypeVar

import yaml

from . import times
from .calendar_data import Event, Person, Policy
from .errors import CalendarProblem
from .times import Moment, parse_duration
from .yamlnodes import NodeReader, describe, did_you_mean, kind_of, line_of, short

__all__ = ["EventReader", "plain_address"]

T = TypeVar("T")

# An address email-validator accepts and writes back as local@domain-in-lower-case: a plain
# ASCII dot-atom local part and DNS labels with an alphabetic top level. Anything else
# (IDN, quotes, odd characters, lengths near the limits) goes to email-validator itself.
_PLAIN_ADDRESS = re.compile(
    r"([A-Za-z0-9_%+'-]+(?:\.[A-Za-z0-9_%+'-]+)*)@((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]+)"
)
# email-validator's SPECIAL_USE_DOMAIN_NAMES, and the RFC 2142 mailbox names whose local
# part it writes in lower case (CASE_INSENSITIVE_MAILBOX_NAMES): tests fail if either changes.
_RESERVED = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
_ROLE_MAILBOXES = frozenset(
    {"abuse", "ftp", "hostmaster", "info", "marketing", "news", "noc", "postmaster", "sales", "security",
     "support", "usenet", "uucp", "webmaster", "www"}
)  # fmt: skip


def plain_address(text: str) -> str | None:
    """``text`` as email-validator would normalize it, when it is a plain address; None: ask email-validator.

    Reading a calendar of 400 people through email-validator costs ~0.1 s and its import
    ~0.03 s on every scan; plain addresses (most of them) are decided here, the same way.
    """
    found = _PLAIN_ADDRESS.fullmatch(text)
    if found is None or len(text) > 200 or len(found[1]) > 64:
        return None
    domain = found[2].lower()
    labels = domain.split(".")
    if any(len(label) > 63 or "--" in label for label in labels) or labels[-1] in _RESERVED:
        return None
    if any(domain.endswith("." + name) for name in _RESERVED):
        return None
    local = found[1].lower() if found[1].lower() in _ROLE_MAILBOXES else found[1]
    return f"{local}@{domain}"


_EVENT_KEYS = (
    "id",
    "title",
    "kind",
    "start",
    "end",
    "duration",
    "timezone",
    "domain",
    "follow_up",
    "cancelled",
    "people",
    "location",
    "notes",
)
_PERSON_KEYS = ("name", "email")
_POLICY_KEYS = ("within",)
_TIME_TAGS = {"tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp"}

_DEFAULT_LENGTH = {"networking": timedelta(hours=2)}
_FALLBACK_LENGTH = timedelta(hours=1)


def _slug(title: str, day: date) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return f"{words}-{day.isoformat()}" if words else f"event-{day.isoformat()}"


class EventReader(NodeReader[T]):
    """Reads events, their people and policies; a subclass reads the file around them in ``build``."""

    def __init__(self, path: str, check_deliverability: bool) -> None:
        super().__init__(path)
        self.check_deliverability = check_deliverability
        # An address repeated (by hand or through an alias) is validated once: it costs ~100 µs.
        self.addresses: dict[str, str | ValueError] = {}

    def read_duration(self, node: yaml.Node, event: str | None, key: str) -> timedelta | None:
        """A duration such as ``90m``, ``1h30m`` or ``2d``, or None (refused) when it has no unit or is out of range."""
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:int":
            self.refuse(node, event, f"{key!r} is {node.value}: give a unit, like {node.value}h")
            return None
        value = self.read_text(node, event, key)
        if value is None:
            return None
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.refuse(node, event, f"{key!r}: {exc}")
            return None

    def read_zone(self, node: yaml.Node, event: str | None) -> str | None:
        """An IANA zone name (``timezone:``) checked against the zone database, or None (refused)."""
        name = self.read_text(node, event, "timezone")
        if name is None:
            return None
        try:
            return times.read_zone(name)
        except ValueError as exc:
            self.refuse(node, event, str(exc))
            return None

    def read_address(self, node: yaml.Node, event: str | None, text: str) -> str | None:
        """An email address checked (and cached) with email-validator, in the form matching compares; None when refused."""
        if text not in self.addresses:
            plain = None if self.check_deliverability else plain_address(text)
            if plain is not None:
                self.addresses[text] = plain
            else:
                from email_validator import EmailNotValidError, validate_email  # a plain calendar needs none

                try:
                    valid = validate_email(text, check_deliverability=self.check_deliverability)
                    self.addresses[text] = str(valid.normalized)
                except EmailNotValidError as exc:
                    self.addresses[text] = exc
        result = self.addresses[text]
        if isinstance(result, ValueError):
            reason = str(result).rstrip(".")
            self.refuse(
                node,
                event,
                f"{text!r} is not a usable email address ({reason}) — write it like name@company.com",
            )
            return None
        return result

    def read_domain(self, node: yaml.Node, event: str | None) -> str | None:
        """An event's ``domain:`` (a bare domain name, lower-cased), or None when refused."""
        text = self.read_text(node, event, "domain")
        if text is None:
            return None
        text = text.lstrip("@").lower()
        if not self.check_deliverability and plain_address(f"x@{text}") is not None:
            return text
        from email_validator import EmailNotValidError, validate_email

        try:
            validate_email(f"x@{text}", check_deliverability=self.check_deliverability)
        except EmailNotValidError as exc:
            reason = str(exc).replace("x@", "").rstrip(".")
            self.refuse(node, event, f"domain {text!r} is not valid ({reason}) — write it like company.com")
            return None
        return text

    def read_policy(self, node: yaml.Node, event: str | None, what: str) -> Policy | None:
        """A ``{within: 48h}`` policy, or None when refused."""
        keys = self.read_mapping(node, _POLICY_KEYS, event, what)
        if keys is None:
            return None
        if "within" not in keys:
            self.refuse(node, event, f"{what} has no 'within' — write it like {{within: 48h}}")
            return None
        within = self.read_duration(keys["within"][1], event, "within")
        return Policy(within) if within is not None else None

    def read_event(
        self, node: yaml.Node, index: int, default_zone: str | None, policies: dict[str, Policy]
    ) -> Event | None:
        """The event at ``index`` of the events list, or None when any of its keys is refused."""
        label = f"#{index + 1}"
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if (
                    isinstance(key, yaml.ScalarNode)
                    and key.value == "title"
                    and isinstance(value, yaml.ScalarNode)
                    and value.value
                ):
                    label = short(str(value.value))
        keys = self.read_mapping(node, _EVENT_KEYS, label, "an event")
        if keys is None:
            return None
        before = len(self.problems)

        def require(key: str, hint: str) -> yaml.Node | None:
            if key not in keys:
                self.refuse(node, label, f"no {key!r} — {hint}")
                return None
            return keys[key][1]

        title_node = require("title", "add 'title: Onsite interview, Acme'")
        title = self.read_text(title_node, label, "title") if title_node is not None else None
        kind_node = require("kind", "add 'kind: interview', 'networking' or 'meeting'")
        kind = self.read_text(kind_node, label, "kind") if kind_node is not None else None
        if kind is not None and kind_node is not None:
            kind = kind.lower()
            if kind not in policies and (hint := did_you_mean(kind, policies)):
                self.warn(kind_node, label, f"kind {kind!r} has no policy, so the default applies — {hint}")
        zone = self.read_zone(keys["timezone"][1], label) if "timezone" in keys else default_zone
        if "timezone" in keys and zone is None:
            return None
        start_node = require("start", "add 'start: 2026-11-02 10:00'")
        start = self.read_moment(start_node, label, "start", zone) if start_node is not None else None
        end = self.read_end(keys, label, zone, kind or "", start)
        domain = self.read_domain(keys["domain"][1], label) if "domain" in keys else None
        cancelled = (
            bool(self.read_boolean(keys["cancelled"][1], label, "cancelled"))
            if "cancelled" in keys
            else False
        )
        follow_up = self.read_follow_up(keys, label, kind or "default", policies)
        people = self.read_people(keys, node, label, domain)
        event_id = self.read_text(keys["id"][1], label, "id") if "id" in keys else None
        if len(self.problems) > before or title is None or kind is None or start is None or end is None:
            return None
        return Event(
            id=event_id or _slug(title, times.local_date(start.utc, zone)),
            title=title,
            kind=kind,
            start=start.utc,
            end=end,
            timezone=zone,
            people=people,
            domain=domain,
            follow_up=follow_up,
            cancelled=cancelled,
            all_day=start.all_day,
            line=line_of(node),
        )

    def read_end(
        self,
        keys: dict[str, tuple[yaml.Node, yaml.Node]],
        label: str,
        zone: str | None,
        kind: str,
        start: Moment | None,
    ) -> datetime | None:
        """The event's end: ``end:``, ``start`` + ``duration:``, or the kind's default length."""
        if "end" in keys and "duration" in keys:
            self.refuse(keys["duration"][0], label, "has both 'end' and 'duration' — keep one of them")
            return None
        if start is None:
            return None
        if "end" in keys:
            end_node = keys["end"][1]
            end = self.read_moment(end_node, label, "end", zone, end_of_day=True)
            if end is None:
                return None
            if end.utc < start.utc:
                self.refuse(
                    end_node,
                    label,
                    f"end {end_node.value} is before start — the end must come after {times.show(start.utc, zone)}",
                )
                return None
            return end.utc
        if "duration" in keys:
            length = self.read_duration(keys["duration"][1], label, "duration")
            return start.utc + length if length is not None else None
        if start.all_day:
            return times.day_after(start.utc, zone)
        return start.utc + _DEFAULT_LENGTH.get(kind, _FALLBACK_LENGTH)

    def read_moment(
        self, node: yaml.Node, label: str, key: str, zone: str | None, *, end_of_day: bool = False
    ) -> Moment | None:
        """A start or end; the fold (a time that happens twice) is a warning, not a problem."""
        if not isinstance(node, yaml.ScalarNode) or node.tag not in _TIME_TAGS:
            self.refuse(
                node, label, f"{key!r} must be a date and time like {times.EXAMPLE}, not {describe(node)}"
            )
            return None
        try:
            moment = times.read_moment(str(node.value), zone, end_of_day=end_of_day)
        except ValueError as exc:
            self.refuse(node, label, f"{key!r} {exc}")
            return None
        if moment.repeated:
            self.warn(
                node,
                label,
                f"{key!r} {node.value!r} happens twice in {zone} (the clocks go back then); "
                "the first is used — add an offset to choose",
            )
        return moment

    def read_follow_up(
        self,
        keys: dict[str, tuple[yaml.Node, yaml.Node]],
        label: str,
        kind: str,
        policies: dict[str, Policy],
    ) -> Policy | None:
        """The event's policy: ``follow_up: false``, an inline ``{within: …}``, or the kind's policy."""
        default = policies.get(kind, policies["default"])
        if "follow_up" not in keys:
            return default
        node = keys["follow_up"][1]
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
            return default if self.read_boolean(node, label, "follow_up") else None
        if isinstance(node, yaml.MappingNode):
            return self.read_policy(node, label, "'follow_up'")
        self.refuse(node, label, f"'follow_up' must be false or {{within: 24h}}, not {describe(node)}")
        return default

    def read_people(
        self,
        keys: dict[str, tuple[yaml.Node, yaml.Node]],
        event_node: yaml.Node,
        label: str,
        domain: str | None,
    ) -> tuple[Person, ...]:
        """The event's ``people:`` list, each a mapping, ``Name <address>``, a bare address or a name."""
        if "people" not in keys:
            self.warn(event_node, label, "no 'people' — nobody is owed a note for this event")
            return ()
        node = keys["people"][1]
        if isinstance(node, yaml.SequenceNode) and not node.value:
            self.warn(node, label, "'people' is empty — nobody is owed a note for this event")
            return ()
        if not isinstance(node, yaml.SequenceNode):
            self.refuse(
                node, label, f"'people' must be a list (each entry starting with '- '), not {kind_of(node)}"
            )
            return ()
        result = []
        for item in node.value:
            person = self.read_person(item, label)
            if person is None:
                continue
            if person.email is None and domain is None:
                self.warn(
                    item,
                    label,
                    f"{person.name!r} has no email address and the event has no 'domain', so no message "
                    "can match them — add their email, or 'domain:' to the event",
                )
            result.append(person)
        return tuple(result)

    def read_person(self, node: yaml.Node, label: str) -> Person | None:
        """One person of a ``people:`` list, or None when refused."""
        if isinstance(node, yaml.MappingNode):
            keys = self.read_mapping(node, _PERSON_KEYS, label, "a person")
            if keys is None:
                return None
            name = self.read_text(keys["name"][1], label, "name") if "name" in keys else None
            email = None
            if "email" in keys:
                text = self.read_text(keys["email"][1], label, "email")
                email = self.read_address(keys["email"][1], label, text) if text else None
                if email is None:
                    return None
            if name is None and email is None:
                self.refuse(node, label, "a person needs a 'name' or an 'email'")
                return None
            return Person(name or "", email)
        text = self.read_text(node, label, "person")
        if text is None:
            return None
        if "<" in text or ">" in text:
            name, address = parseaddr(text)
            if not address or "@" not in address:
                self.refuse(
                    node,
                    label,
                    f"{text!r} is not 'Name <address>' — write it like Ada Lovelace <ada@acme.com>",
                )
                return None
            checked = self.read_address(node, label, address)
            return Person(name.strip(), checked) if checked else None
        if "@" in text and " " not in text:
            checked = self.read_address(node, label, text)
            return Person("", checked) if checked else None
        return Person(text, None)

    def check_ids(self, events: list[Event]) -> None:
        """Refuse two events with the same id (ids name follow-ups in reports)."""
        seen: dict[str, Event] = {}
        for event in events:
            if event.id in seen:
                first = seen[event.id]
                self.add_problem(
                    CalendarProblem(
                        self.path,
                        event.line,
                        event.title,
                        f"id {event.id!r} is already used by event {first.title!r} on line {first.line} — "
                        "give one of them a different 'id:'",
                    )
                )
            else:
                seen[event.id] = event
