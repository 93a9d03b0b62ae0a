"""Who on an invitation is owed a note, and what kind of event it is: pure rules, no iCalendar.

People are the ATTENDEEs and the ORGANIZER, minus: you (``me``), rooms and resources
(``CUTYPE=ROOM|RESOURCE``, and room mailboxes that lack it), groups (``CUTYPE=GROUP``),
whoever declined (``PARTSTAT=DECLINED``), and scheduling robots and no-reply senders.
The lists are data, documented in docs/invitations.md, and ``PeopleRules`` takes others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..message import normalize_address

__all__ = [
    "DEFAULT_KIND_RULES",
    "NOT_PEOPLE_DOMAINS",
    "ROBOT_ADDRESSES",
    "ROBOT_LOCAL_PART",
    "ROOM_WORDS",
    "Attendee",
    "KindRule",
    "PeopleRules",
    "guess_kind",
]

ROBOT_ADDRESSES = frozenset(
    {
        "calendar-notification@google.com",
        "calendar-server@google.com",
        "no-reply@calendly.com",
        "notifications@calendly.com",
        "no-reply@greenhouse.io",
        "notifications@greenhouse.io",
        "no-reply@hire.lever.co",
        "notifications@hire.lever.co",
        "no-reply@goodtime.io",
        "notifications@goodtime.io",
        "no-reply@zoom.us",
        "no-reply@teams.mail.microsoft",
        "noreply@email.teams.microsoft.com",
        "no-reply@microsoft.com",
        "noreply@outlook.com",
        "no_reply@email.apple.com",
        "noreply@email.apple.com",
        "no-reply@ashbyhq.com",
        "no-reply@smartrecruiters.com",
        "no-reply@workday.com",
        "no-reply@myworkday.com",
    }
)
"""Scheduling systems' and calendars' notification senders, never a person to thank."""

ROBOT_LOCAL_PART = re.compile(
    r"^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply|mailer-daemon|postmaster|bounces?"
    r"|notifications?|calendar[-_.]?notifications?|calendar[-_.]?server|scheduler|scheduling[-_.]?bot)"
    r"(?:[-+_.].*)?$",
    re.IGNORECASE,
)
"""Local parts (before the @) that mean a robot at any domain: no-reply@, donotreply@, notifications@…"""

NOT_PEOPLE_DOMAINS = (
    "resource.calendar.google.com",
    "group.calendar.google.com",
    "group.v.calendar.google.com",
    "import.calendar.google.com",
)
"""Google Calendar's addresses for rooms, shared and imported calendars: never a person."""

ROOM_WORDS = re.compile(
    r"(?:^|[^a-z])(?:room|rooms|conference[-_. ]?room|meeting[-_. ]?room|boardroom|confroom|raum|salle|sala)"
    r"(?:$|[^a-z])",
    re.IGNORECASE,
)
"""A room mailbox without ``CUTYPE=ROOM`` (Exchange sends many so): the word in its name or address."""


@dataclass(frozen=True, slots=True)
class Attendee:
    """An ATTENDEE or the ORGANIZER as the invitation names them."""

    email: str
    """The address (``mailto:`` removed); empty when the value is not an email address."""
    name: str = ""
    """CN, or empty."""
    cutype: str = "INDIVIDUAL"
    partstat: str = ""
    organizer: bool = False


@dataclass(frozen=True, slots=True)
class PeopleRules:
    """Which attendees are people owed a note; ``me`` in any spelling (compared normalized)."""

    me: frozenset[str] = frozenset()
    robot_addresses: frozenset[str] = ROBOT_ADDRESSES
    robot_local_part: re.Pattern[str] = ROBOT_LOCAL_PART
    not_people_domains: tuple[str, ...] = NOT_PEOPLE_DOMAINS
    room_words: re.Pattern[str] = ROOM_WORDS
    _me: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_me", frozenset(normalize_address(address) for address in self.me))

    def with_me(self, addresses: Iterable[str]) -> PeopleRules:
        """These rules with more of your own addresses."""
        return PeopleRules(
            me=self.me | frozenset(addresses),
            robot_addresses=self.robot_addresses,
            robot_local_part=self.robot_local_part,
            not_people_domains=self.not_people_domains,
            room_words=self.room_words,
        )

    def is_me(self, address: str) -> bool:
        """Whether ``address`` is one of the user's own (compared as recipients are)."""
        return bool(address) and normalize_address(address) in self._me

    def left_out(self, attendee: Attendee) -> str | None:
        """Why this attendee is not a person owed a note, or None when they are."""
        if not attendee.email:
            return "no email address"
        if self.is_me(attendee.email):
            return "you"
        cutype = attendee.cutype.upper()
        if cutype in ("ROOM", "RESOURCE"):
            return "a room or resource"
        if cutype == "GROUP":
            return "a group"
        if attendee.partstat.upper() == "DECLINED":
            return "declined"
        if attendee.partstat.upper() == "DELEGATED":
            return "delegated it to someone else"
        local, _, domain = attendee.email.lower().rpartition("@")
        if (
            attendee.email.lower() in self.robot_addresses
            or self.robot_local_part.match(local)
            or domain.startswith(("reply.", "noreply."))
        ):
            return "a scheduling robot or no-reply address"
        if any(domain == suffix or domain.endswith("." + suffix) for suffix in self.not_people_domains):
            return "a calendar, room or resource of Google Calendar"
        if self.room_words.search(local) or self.room_words.search(attendee.name):
            return "a room"
        return None


@dataclass(frozen=True, slots=True)
class KindRule:
    """Titles holding one of ``words`` (whole words, any case, a plural ``s`` allowed) are of ``kind``."""

    kind: str
    words: tuple[str, ...]
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        alternatives = "|".join(re.escape(word).replace(r"\ ", r"[\s_-]+") for word in self.words)
        object.__setattr__(
            self, "pattern", re.compile(rf"(?<![^\W_])(?:{alternatives})(?:s|es)?(?![^\W_])", re.IGNORECASE)
        )


DEFAULT_KIND_RULES = (
    KindRule(
        "interview",
        (
            "interview",
            "screen",
            "screening",
            "phone screen",
            "onsite",
            "on-site",
            "on site",
            "panel",
            "hiring manager",
            "recruiter call",
            "technical round",
            "final round",
            "entretien",
            "vorstellungsgespräch",
        ),
    ),
    KindRule(
        "networking",
        (
            "networking",
            "meetup",
            "meet-up",
            "coffee",
            "coffee chat",
            "career fair",
            "job fair",
            "conference",
            "mixer",
            "informational",
        ),
    ),
)
"""The first rule whose word is in the title gives the kind; none: ``meeting``."""


def guess_kind(title: str, rules: Iterable[KindRule] = DEFAULT_KIND_RULES, default: str = "meeting") -> str:
    """The kind of an event from its title: the first rule that matches, else ``default``."""
    for rule in rules:
        if rule.pattern.search(title):
            return rule.kind
    return default
