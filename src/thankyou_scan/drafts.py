"""Drafts of the notes a report says are owed: which follow-ups get one, their key, fields and MIME message.

Pure: no I/O and no clock (``now`` is a parameter). The templates are rendered by
draft_templates.py; the IMAP side (finding Drafts, the key search, APPEND, the thread
looked up in INBOX) is sources/imap_drafts.py; the command is cli_drafts.py.
Nothing here sends mail: a draft is a message for the user's own mail program.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from .errors import MessageError, UsageError
from .message import MAX_FIELD, normalize_address, read_headers
from .report import FollowUp, Report, Status

__all__ = [
    "DEFAULT_STATUSES",
    "DRAFT_STATUSES",
    "KEY_HEADER",
    "Draft",
    "Thread",
    "build_message",
    "clean",
    "company_of",
    "draft_key",
    "owed",
    "parse_statuses",
    "reply_subject",
    "template_fields",
    "thread_for",
]

KEY_HEADER = "X-Thankyou-Scan-Key"
"""The header every draft carries: its key, looked up before a draft is made again."""

DEFAULT_STATUSES = (Status.DUE, Status.MISSING)
DRAFT_STATUSES = (Status.DUE, Status.MISSING, Status.UPCOMING)
"""The statuses a draft may be made for: a note sent (or sent late) needs none, a skipped event neither."""

MAX_REFERENCES = 20
"""At most this many Message-IDs of the thread go into References."""

FREE_MAIL = frozenset(
    {
        "aol.com",
        "fastmail.com",
        "gmail.com",
        "gmx.de",
        "gmx.net",
        "googlemail.com",
        "hotmail.com",
        "icloud.com",
        "live.com",
        "mac.com",
        "me.com",
        "msn.com",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "web.de",
        "yahoo.com",
        "yandex.ru",
    }
)
"""Domains that say nothing about a person's company."""

_SECOND_LEVEL = frozenset({"ac", "co", "com", "edu", "gov", "net", "org"})
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MESSAGE_ID = re.compile(r"<[!-;=?-~]{1,250}>")
"""A Message-ID as a header may carry it: printable ASCII without spaces, ``<`` or ``>`` inside."""


@dataclass(frozen=True, slots=True)
class Thread:
    """The message a draft replies to: found in INBOX, from the person, about the event."""

    message_id: str
    references: tuple[str, ...] = ()
    subject: str = ""


@dataclass(frozen=True, slots=True)
class Draft:
    """One draft to make: the follow-up it pays, its key, subject, body and the thread it replies to."""

    followup: FollowUp
    key: str
    subject: str
    body: str
    thread: Thread | None = None

    @property
    def address(self) -> str:
        """The recipient's address (drafts are only made for people with one)."""
        return self.followup.person.email or ""


def draft_key(event_id: str, address: str) -> str:
    """The draft's key: SHA-256 of the event id, a NUL and the normalized address; hex, first 32 digits."""
    digest = hashlib.sha256(f"{event_id}\0{normalize_address(address)}".encode())
    return digest.hexdigest()[:32]


def owed(
    report: Report, statuses: Iterable[Status] = DEFAULT_STATUSES
) -> tuple[list[FollowUp], list[FollowUp]]:
    """The follow-ups with one of ``statuses``: (those with an address, each once; those without one).

    Raises:
        UsageError: a status no draft is made for (sent, late, skipped).
    """
    wanted = set(statuses)
    refused = sorted(status.value for status in wanted - set(DRAFT_STATUSES))
    if refused:
        allowed = ", ".join(status.value for status in DRAFT_STATUSES)
        raise UsageError(f"no drafts are made for {', '.join(refused)} follow-ups — choose from {allowed}")
    with_address: dict[str, FollowUp] = {}
    without: list[FollowUp] = []
    for followup in report.followups:
        if followup.status not in wanted:
            continue
        if followup.person.email:
            with_address.setdefault(draft_key(followup.event.id, followup.person.email), followup)
        else:
            without.append(followup)
    return list(with_address.values()), without


def company_of(address: str | None, domain: str | None = None) -> str:
    """A company name guessed from an address's domain (``ada@mail.acme-corp.co.uk`` -> ``Acme Corp``).

    Empty for free-mail domains (gmail.com...) and when there is no domain at all.
    """
    host = (address.rpartition("@")[2] if address and "@" in address else domain or "").lower().rstrip(".")
    if not host or host in FREE_MAIL:
        return ""
    labels = [label for label in host.split(".") if label]
    if len(labels) < 2:
        return ""
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        name = labels[-3]
    else:
        name = labels[-2]
    return " ".join(part.capitalize() for part in re.split(r"[-_]+", name) if part)


def _first_name(name: str) -> str:
    words = name.split()
    return words[0] if words else ""


def _long_date(moment: datetime) -> str:
    return f"{_WEEKDAYS[moment.weekday()]}, {_MONTHS[moment.month - 1]} {moment.day}, {moment.year}"


def template_fields(followup: FollowUp, *, my_name: str = "", my_email: str = "") -> dict[str, str]:
    """The fields a template may use (docs/drafts.md), as text, each made a single clean line."""
    event, person = followup.event, followup.person
    name = clean(person.name) or (person.email or "")
    return {
        "name": name,
        "first_name": _first_name(clean(person.name)) or name,
        "email": person.email or "",
        "title": clean(event.title),
        "kind": event.kind,
        "date": _long_date(event.local(event.start)),
        "company": company_of(person.email, event.domain),
        "my_name": clean(my_name),
        "my_email": my_email,
    }


def clean(text: str) -> str:
    """``text`` on one line: control characters (CR and LF included) become spaces, runs of space one."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def reply_subject(subject: str) -> str:
    """``Re: SUBJECT``, with the ``Re:``/``AW:``/``Fwd:`` prefixes already there taken off first."""
    bare = clean(subject)
    while (found := re.match(r"(?i)(re|aw|sv|fwd?|wg)\s*:\s*", bare)) is not None:
        bare = bare[found.end() :]
    return f"Re: {bare}" if bare else ""


def _message_ids(text: str) -> list[str]:
    return _MESSAGE_ID.findall(text)


def build_message(
    draft: Draft,
    *,
    sender: str,
    now: datetime,
    sender_name: str = "",
) -> bytes:
    """The draft as an RFC 5322 message (CRLF line ends), ready to APPEND or write as ``.eml``.

    UTF-8, with headers RFC 2047-encoded and the body quoted-printable when they are
    not ASCII; a Message-ID at the sender's domain; Date ``now``; threading headers when
    ``draft.thread`` is set. Every value is one clean line, so no calendar title or name
    can add a header.

    Raises:
        UsageError: ``now`` is naive, or an address cannot be written in a header.
    """
    if now.utcoffset() is None:
        raise UsageError(f"build_message(): now must be timezone-aware, got {now!r}")
    person = draft.followup.person
    message = EmailMessage(policy=SMTP)
    try:
        message["From"] = Address(display_name=clean(sender_name), addr_spec=sender)
        message["To"] = Address(display_name=clean(person.name), addr_spec=draft.address)
    except (ValueError, IndexError) as exc:
        raise UsageError(
            f"cannot write the address {draft.address!r} or {sender!r} in a header: {exc}"
        ) from None
    subject = draft.subject
    if draft.thread is not None:
        subject = reply_subject(draft.thread.subject) or subject
    message["Subject"] = clean(subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=_domain_of(sender))
    if draft.thread is not None and _MESSAGE_ID.fullmatch(draft.thread.message_id):
        references = [ref for ref in draft.thread.references if _MESSAGE_ID.fullmatch(ref)]
        message["In-Reply-To"] = draft.thread.message_id
        message["References"] = " ".join([*references[-(MAX_REFERENCES - 1) :], draft.thread.message_id])
    message[KEY_HEADER] = draft.key
    body = draft.body.replace("\r\n", "\n").replace("\r", "\n")
    plain = body.isascii() and all(len(line) <= 76 for line in body.split("\n"))
    message.set_content(body, charset="utf-8", cte="7bit" if plain else "quoted-printable")
    return message.as_bytes()


def _domain_of(address: str) -> str:
    domain = address.rpartition("@")[2] or "localhost"
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return "localhost"


def parse_statuses(text: str) -> tuple[Status, ...]:
    """``due,missing`` -> the statuses; UsageError for a word that is not one."""
    found = []
    for word in (part.strip().lower() for part in text.split(",")):
        if not word:
            continue
        try:
            found.append(Status(word))
        except ValueError:
            allowed = ", ".join(status.value for status in DRAFT_STATUSES)
            raise UsageError(f"{word!r} is not a status — choose from {allowed}") from None
    if not found:
        raise UsageError("no status given — choose from " + ", ".join(s.value for s in DRAFT_STATUSES))
    return tuple(dict.fromkeys(found))


_STOP_WORDS = frozenset(
    {"about", "after", "call", "from", "meeting", "next", "that", "this", "with", "your", "invitation"}
)


def _words(text: str) -> set[str]:
    """The words of four letters or more that say what a title or subject is about."""
    return {word for word in re.findall(r"\w{4,}", text.casefold()) if word not in _STOP_WORDS}


def thread_for(title: str, headers: Iterable[bytes]) -> Thread | None:
    """The message to reply to, among header blocks of mail from the person (oldest first), or None.

    The newest one whose subject shares a word with the event's title (``Onsite interview,
    Acme`` and ``Your interview at Acme``) and has a usable Message-ID.
    """
    wanted = _words(title)
    for raw in reversed(list(headers)):
        try:
            fields = read_headers(raw)
        except MessageError:
            continue
        subject = _decoded(fields, "subject")
        found = _message_ids(str(fields.get("message-id", ""))[:MAX_FIELD])
        if not found or not wanted & _words(subject):
            continue
        references = _message_ids(
            str(fields.get("references", "") or fields.get("in-reply-to", ""))[:MAX_FIELD]
        )
        return Thread(found[0], tuple(references[-MAX_REFERENCES:]), clean(subject))
    return None


def _decoded(fields: Message, name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    try:
        return str(make_header(decode_header(str(value)[:MAX_FIELD])))
    except (ValueError, LookupError, UnicodeError):
        return str(value)[:MAX_FIELD]
