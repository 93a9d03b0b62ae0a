"""SentMessage: the few facts of a sent message that matching needs, parsed with mail-parser."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .errors import MessageError

__all__ = ["HeaderFacts", "SentMessage", "header_addresses", "normalize_address"]

UTC = timezone.utc

_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
# A header line (with its folded continuation lines), and the addresses in it. Addresses
# are never RFC 2047-encoded, so the raw bytes show them; anything but delimiters may
# form the local part (UTF-8 included).
_HEADER_LINE = {
    name: re.compile(rb"^" + name + rb"[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)
    for name in (b"to", b"cc", b"bcc", b"from")
}
_ADDRESS = re.compile(rb"""([^\s<>,;:"()\[\]@]*)@([^\s<>,;:"()\[\]@]+)""")


def normalize_address(address: str) -> str:
    """The form addresses are compared in: lower case; for Gmail also without dots and ``+tags``."""
    local, at, domain = address.strip().lower().rpartition("@")
    if not at:
        return domain
    if domain in _GMAIL_DOMAINS:
        return local.split("+", 1)[0].replace(".", "") + "@gmail.com"
    return f"{local}@{domain}"


def header_addresses(raw: bytes, *names: bytes) -> list[tuple[bytes, bytes]]:
    """(local part, domain) of every address in the named header fields of a raw header block, lower-cased."""
    found = []
    for name in names:
        for match in _HEADER_LINE[name].finditer(raw):
            found += [
                (local.lower(), domain.lower().rstrip(b"."))
                for local, domain in _ADDRESS.findall(match.group(1))
            ]
    return found


@dataclass(frozen=True, slots=True)
class HeaderFacts:
    """What the raw header bytes show cheaply, before any real parsing.

    ``date`` is the time SentMessage.from_headers would give the message: the first
    Date header read by mail-parser's own date function, else the fallback (None when
    neither works). ``addresses`` are the To/Cc/Bcc addresses, normalized
    (:func:`normalize_address`); ``domains`` the domains of every To/Cc/Bcc address;
    ``unreadable`` the domains of those whose local part is too unusual to read here
    (quoted, with comments): a test must treat those as "anybody at that domain".
    """

    date: datetime | None
    addresses: frozenset[str]
    domains: frozenset[str]
    unreadable: frozenset[str] = frozenset()

    @classmethod
    def from_headers(cls, raw: bytes, *, fallback_date: datetime | None = None) -> HeaderFacts:
        addresses, domains, unreadable = set(), set(), set()
        for local, domain in header_addresses(raw, b"to", b"cc", b"bcc"):
            name = domain.decode("utf-8", "replace")
            folded = normalize_address(f"x@{name}").rpartition("@")[2]
            domains.add(folded)
            if local:
                addresses.add(normalize_address(f"{local.decode('utf-8', 'replace')}@{name}"))
            else:
                unreadable.add(folded)
        date = _header_date(raw) or fallback_date
        return cls(date, frozenset(addresses), frozenset(domains), frozenset(unreadable))

    def encode(self) -> bytes:
        """A compact form for the cache."""
        date = "" if self.date is None else str(int(self.date.timestamp()))
        fields = [date, *(" ".join(sorted(part)) for part in (self.addresses, self.domains, self.unreadable))]
        return "\n".join(fields).encode()

    @classmethod
    def decode(cls, data: bytes) -> HeaderFacts:
        date, addresses, domains, unreadable = data.decode().split("\n")
        return cls(
            datetime.fromtimestamp(int(date), UTC) if date else None,
            frozenset(addresses.split()),
            frozenset(domains.split()),
            frozenset(unreadable.split()),
        )


_DATE_LINE = re.compile(rb"^date[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)


def _header_date(raw: bytes) -> datetime | None:
    found = _DATE_LINE.findall(raw)
    if len(found) != 1:
        return None  # none, or several: leave the choice to the real parse
    from mailparser.dates import parse_mail_date  # imported on first use: a rescan may need none

    # As the email package hands it to mail-parser: undecoded bytes as surrogates.
    result = parse_mail_date(found[0].decode("ascii", "surrogateescape").strip())
    value = result.value
    return value if isinstance(value, datetime) and value.utcoffset() is not None else None


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message from the Sent folder: when it went out and to whom.

    ``recipients`` holds the To, Cc and Bcc addresses, lower-cased, in header
    order without repeats. ``date`` is aware and in UTC: the Date header, or the
    source's own time (IMAP INTERNALDATE, the mbox ``From `` line, a Maildir
    file's delivery time) when the header is missing, zone-less or unparseable;
    ``date_from_header`` says which.
    """

    date: datetime
    recipients: tuple[str, ...]
    subject: str = ""
    message_id: str = ""
    in_reply_to: str = ""
    sender: str = ""
    uid: str | None = None
    date_from_header: bool = True

    def __post_init__(self) -> None:
        if self.date.tzinfo is None or self.date.utcoffset() is None:
            raise ValueError(f"SentMessage.date must be timezone-aware, got {self.date!r}")
        if self.date.tzinfo is not UTC:
            object.__setattr__(self, "date", self.date.astimezone(UTC))
        object.__setattr__(self, "recipients", _unique_lower(self.recipients))

    @classmethod
    def from_headers(
        cls, raw: bytes, *, fallback_date: datetime | None = None, uid: str | None = None
    ) -> SentMessage:
        """Build a SentMessage from a message's raw header block (a whole message works too).

        Raises:
            MessageError: the headers cannot be parsed at all, or there is no usable
                date: neither the Date header nor ``fallback_date``.
        """
        if fallback_date is not None and fallback_date.utcoffset() is None:
            raise ValueError(f"fallback_date must be timezone-aware, got {fallback_date!r}")
        import mailparser  # imported on first use: a cached rescan parses nothing

        try:
            parsed: Any = mailparser.parse_from_bytes(raw)
            header_date = parsed.date
            recipients = [address for field in (parsed.to, parsed.cc, parsed.bcc) for _name, address in field]
            senders = [address for _name, address in parsed.from_]
            subject, message_id, in_reply_to = parsed.subject, parsed.message_id, parsed.in_reply_to
        except Exception as exc:  # mail-parser can fail in many ways on hostile input
            raise MessageError(f"cannot parse the message headers ({type(exc).__name__}: {exc})") from exc
        if isinstance(header_date, datetime) and header_date.utcoffset() is not None:
            date, from_header = header_date.astimezone(UTC), True
        elif fallback_date is not None:
            date, from_header = fallback_date.astimezone(UTC), False
        else:
            raise MessageError("no usable Date header and no delivery time to fall back on")
        return cls(
            date=date,
            recipients=tuple(
                address for address in recipients if isinstance(address, str) and "@" in address
            ),
            subject=_clean(subject),
            message_id=_clean(message_id),
            in_reply_to=_clean(in_reply_to),
            sender=next((a.lower() for a in senders if isinstance(a, str) and "@" in a), ""),
            uid=uid,
            date_from_header=from_header,
        )


def encode_message(message: SentMessage) -> bytes:
    """A SentMessage as compact JSON, for the cache."""
    return json.dumps(
        [
            int(message.date.timestamp()),
            message.date_from_header,
            list(message.recipients),
            message.subject,
            message.message_id,
            message.in_reply_to,
            message.sender,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def decode_message(data: bytes, uid: str | None) -> SentMessage:
    """The SentMessage :func:`encode_message` wrote."""
    seconds, from_header, recipients, subject, message_id, in_reply_to, sender = json.loads(data)
    return SentMessage(
        date=datetime.fromtimestamp(int(seconds), UTC),
        recipients=tuple(recipients),
        subject=subject,
        message_id=message_id,
        in_reply_to=in_reply_to,
        sender=sender,
        uid=uid,
        date_from_header=bool(from_header),
    )


def _clean(value: object) -> str:
    return " ".join(str(value).split()) if value else ""


def _unique_lower(addresses: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for address in addresses:
        seen.setdefault(address.strip().lower(), None)
    return tuple(seen)
