"""SentMessage: the few facts of a sent message that matching needs.

One reading of the raw header block serves everything: the standard library's
header parser (every occurrence of To, Cc and Bcc, read as leniently as
``email.utils.getaddresses``), and mail-parser's own readers for the Date and the
encoded words of the Subject. The cheap pre-check (:class:`HeaderFacts`) and the
full parse (:class:`SentMessage`) share it, so the pre-check can never turn away a
message the parse would match.
"""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import functools
import inspect
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import Message
from typing import Any

from .errors import MessageError, UsageError
from .simple_headers import read_simple

__all__ = [
    "MAX_HEADER_BLOCK",
    "HeaderFacts",
    "SentMessage",
    "from_addresses",
    "normalize_address",
    "read_headers",
]

UTC = timezone.utc

MAX_HEADER_BLOCK = 256 * 1024
"""A header block longer than this is skipped and counted: real ones are a few KB."""
MAX_FIELD = 8 * 1024
"""Subject, Message-ID and In-Reply-To are decoded from at most this many characters."""

_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
# Python 3.11.10+/3.12.6+ made getaddresses strict by default (it then drops whole
# fields over one odd address); we read as leniently as it always did.
_LENIENT: dict[str, bool] = (
    {"strict": False} if "strict" in inspect.signature(email.utils.getaddresses).parameters else {}
)
_PARSER = email.parser.HeaderParser(policy=email.policy.compat32)


def normalize_address(address: str) -> str:
    """The form addresses are compared in: lower case; for Gmail also without dots and ``+tags``.

    ``googlemail.com`` is Gmail too. Recipients, calendar addresses and your own
    addresses (``me``) are all compared in this form.
    """
    local, at, domain = address.strip().lower().rpartition("@")
    if not at:
        return domain
    domain = domain.rstrip(".")
    if domain in _GMAIL_DOMAINS:
        return local.split("+", 1)[0].replace(".", "") + "@gmail.com"
    return f"{local}@{domain}"


def read_headers(raw: bytes) -> Message:
    """The header fields of a raw header block (a whole message works too), as the email package reads them.

    Bytes that are not UTF-8 become U+FFFD; lines end at CR, LF or CRLF. The last few
    blocks read are remembered: a source asks for the same block up to three times in a
    row (whose is it, can it matter, the full parse), and it is parsed once. The result
    is shared, so callers only read it.

    Raises:
        MessageError: the block is longer than :data:`MAX_HEADER_BLOCK`.
    """
    block = _header_block(raw)
    if len(block) > MAX_HEADER_BLOCK:
        raise MessageError(
            f"its header block is {len(block):,} bytes, over the {MAX_HEADER_BLOCK:,}-byte limit"
        )
    return _parsed(block)


def _header_block(raw: bytes) -> bytes:
    """The bytes up to the blank line that ends the header block (all of them when there is none)."""
    ends = [found for found in (raw.find(b"\n\n"), raw.find(b"\n\r\n")) if found >= 0]
    return raw[: min(ends) + 1] if ends else raw


@functools.lru_cache(maxsize=4)
def _parsed(block: bytes) -> Message:
    return _PARSER.parsestr(_repaired(block.decode("utf-8", "replace")), headersonly=True)


# The email package's test for a header line (feedparser's headerRE), and line ends as it splits them.
_HEADER_START = re.compile(r"From |[\041-\071\073-\176]*:|[\t ]")
_OBSOLETE_NAME = re.compile(r"([\041-\071\073-\176]+)[\t ]+:")
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")


def _repaired(text: str) -> str:
    """The header block with the lines the email package would stop at mended, so no field below is lost.

    ``To : x`` (a space before the colon, RFC 5322's obsolete syntax) becomes ``To: x``.
    Any other line that is neither a field nor indented (a fold that lost its indent, a
    stray word) is dropped with its continuation lines: left in, the parser takes it for
    the start of the body and loses every field after it; joined to the field above, it
    would change that field's value.
    """
    parts = _LINE_BREAK.split(text)
    kept: list[str] = []
    dropping = False
    for index in range(0, len(parts), 2):
        line, end = parts[index], parts[index + 1] if index + 1 < len(parts) else ""
        if line[:1] in (" ", "\t"):
            if not dropping:
                kept.append(line + end)
            continue
        dropping = False
        if not line or _HEADER_START.match(line):
            kept.append(line + end)
        elif obsolete := _OBSOLETE_NAME.match(line):
            kept.append(f"{obsolete.group(1)}:{line[obsolete.end() :]}{end}")
        else:
            dropping = True
    return "".join(kept)


def addresses_in(headers: Message, *names: str) -> list[str]:
    """The addresses in every occurrence of the named fields, in header order, as getaddresses reads them.

    Raises:
        MessageError: the fields nest groups or comments too deeply to read.
    """
    wanted = {name.lower() for name in names}
    values = [_readable(str(value)) for name, value in headers.items() if name.lower() in wanted]
    if not values:
        return []
    try:
        pairs = email.utils.getaddresses(values, **_LENIENT)
    except RecursionError:
        raise MessageError(f"its {'/'.join(names)} fields nest too deeply to read") from None
    return [address for address in map(_address, (found for _name, found in pairs)) if _is_address(address)]


def _is_address(text: str) -> bool:
    """A local part, "@", a domain: ``@powerupdev.com`` or ``@develop`` (a route) name nobody."""
    local, at, domain = text.rpartition("@")
    return bool(at and local and domain)


def _address(found: str) -> str:
    """An address as getaddresses found it, in the form a person would write it.

    ``Ada Lovelace ada@acme.example`` (or an encoded-word name) comes back as one
    "address" with spaces in it: the address is its last word. A quoted local part that
    needs no quotes loses them (``"ada"@x`` is ``ada@x``); the domain loses a trailing
    dot, and punycode labels are written in Unicode (``xn--exmple-cua.com`` is
    ``exämple.com``), as calendar addresses are.
    """
    found = found.strip()
    if '"' not in found and any(character.isspace() for character in found):
        found = found.split()[-1]
    local, at, domain = found.rpartition("@")
    if not at:
        return found
    if _NEEDLESS_QUOTES.fullmatch(local):
        local = local[1:-1]
    return f"{local}@{_domain(domain)}"


# A quoted local part whose content is a dot-atom: the quotes change nothing (RFC 5322 3.4.1).
_NEEDLESS_QUOTES = re.compile(r'"[A-Za-z0-9!#$%&\'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&\'*+/=?^_`{|}~-]+)*"')


def _domain(domain: str) -> str:
    """A recipient's domain as calendars hold it: no trailing dot, IDNA labels in Unicode."""
    domain = domain[:-1] if domain.endswith(".") else domain
    if "xn--" not in domain.lower():
        return domain
    try:
        return domain.encode("ascii").decode("idna")
    except UnicodeError:
        return domain  # not valid IDNA: left as written, it matches nobody by accident


# An unquoted display name that looks like an address, right before an angle address:
# `eve@example.com <frank@example.com>` is to frank only (getaddresses would add eve).
# The name can hold no delimiter and no second "@", so each try is linear in its token.
_ADDRESS_AS_NAME = re.compile(r"""(^|[,;:>])(\s*)([^\s<>,;:"()\\@\[\]]+@[^\s<>,;:"()\\@\[\]]*)(?=\s*<)""")


def _readable(value: str) -> str:
    """A field value unfolded (line breaks removed, as RFC 5322 unfolds), address-like names quoted."""
    unfolded = value.replace("\r", "").replace("\n", "")
    return _ADDRESS_AS_NAME.sub(r'\1\2"\3"', unfolded)


def from_addresses(raw: bytes) -> list[str]:
    """The addresses in a raw header block's From fields, normalized (:func:`normalize_address`)."""
    try:
        return [normalize_address(address) for address in addresses_in(read_headers(raw), "from")]
    except MessageError:
        return []


_NUMERIC_ZONE = re.compile(r"[+-](?P<hours>\d\d)(?P<minutes>\d\d)\s*(?:\([^()]*\)\s*)?$")


def _header_date(headers: Message) -> datetime | None:
    """The first Date field read by mail-parser's own date reader, as mail-parser does; None when unusable."""
    value = headers.get("date")
    if value is None:
        return None
    from mailparser.dates import parse_mail_date  # imported on first use: a cached rescan needs none

    result = parse_mail_date(str(value))
    moment = result.value
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        return None
    zone = _NUMERIC_ZONE.search(str(value))
    if zone is not None and (int(zone["hours"]) > 23 or int(zone["minutes"]) > 59):
        return None  # `-3000`: shaped like an offset, but no zone is 30 hours away
    return moment


@dataclass(frozen=True, slots=True)
class HeaderFacts:
    """What decides whether a message can matter, read before the (costlier) full parse.

    ``date`` is exactly the time :meth:`SentMessage.from_headers` gives the message (the
    Date field, else the fallback; None when neither works or the block cannot be read,
    and then the full parse decides). ``addresses`` are its To/Cc/Bcc addresses,
    normalized (:func:`normalize_address`), and ``domains`` their domains: the very
    recipients the full parse finds, so a test on them never turns away a message
    that would match.
    """

    date: datetime | None
    addresses: frozenset[str]
    domains: frozenset[str]

    @classmethod
    def from_headers(cls, raw: bytes, *, fallback_date: datetime | None = None) -> HeaderFacts:
        """The facts of a raw header block; an unreadable one gives no date (so it is parsed, and counted).

        A plain block is read by :func:`~thankyou_scan.simple_headers.read_simple`, which
        gives what the full reading would, ~20 times faster.
        """
        block = _header_block(raw)
        simple = read_simple(block) if len(block) <= MAX_HEADER_BLOCK else None
        if simple is not None:
            # Plain addresses hold no spaces, quotes or empty parts: only the domain is rewritten.
            plain = frozenset(
                normalize_address(f"{local}@{_domain(domain)}")
                for local, _, domain in (address.rpartition("@") for address in simple.recipients)
            )
            return cls.of(simple.date or fallback_date, plain)
        return cls.read_in_full(raw, fallback_date=fallback_date)

    @classmethod
    def read_in_full(cls, raw: bytes, *, fallback_date: datetime | None = None) -> HeaderFacts:
        """The facts by the full reading (the email package, getaddresses, mail-parser), whatever the block."""
        try:
            headers = read_headers(raw)
            recipients = addresses_in(headers, "to", "cc", "bcc")
        except MessageError:
            return cls(None, frozenset(), frozenset())
        addresses = frozenset(normalize_address(address) for address in recipients)
        return cls.of(_header_date(headers) or fallback_date, addresses)

    @classmethod
    def of(cls, date: datetime | None, addresses: frozenset[str]) -> HeaderFacts:
        """The facts of a date and normalized addresses (their domains derived)."""
        return cls(date, addresses, frozenset(address.rpartition("@")[2] for address in addresses))

    def encode(self) -> bytes:
        """A compact form for the cache (JSON: addresses may hold any character)."""
        date = None if self.date is None else int(self.date.timestamp())
        return json.dumps([date, sorted(self.addresses)], ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> HeaderFacts:
        """The facts :meth:`encode` wrote."""
        date, addresses = _loads(data)
        return cls.of(None if date is None else datetime.fromtimestamp(int(date), UTC), frozenset(addresses))


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message from the Sent folder: when it went out and to whom.

    ``recipients`` holds the To, Cc and Bcc addresses (every occurrence of each
    field), lower-cased, in header order without repeats. ``date`` is aware and in
    UTC: the Date header, or the source's own time (IMAP INTERNALDATE, the mbox
    ``From `` line, a Maildir file's delivery time) when the header is missing,
    zone-less or unparseable; ``date_from_header`` says which.

    Raises:
        UsageError: ``date`` is naive.
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
            raise UsageError(f"SentMessage: date must be timezone-aware, got {self.date!r}")
        if self.date.tzinfo is not UTC:
            object.__setattr__(self, "date", self.date.astimezone(UTC))
        object.__setattr__(self, "recipients", _unique_lower(self.recipients))

    @classmethod
    def from_headers(
        cls, raw: bytes, *, fallback_date: datetime | None = None, uid: str | None = None
    ) -> SentMessage:
        """Build a SentMessage from a message's raw header block (a whole message works too).

        Raises:
            MessageError: the headers cannot be read (too long, too deeply nested), or
                there is no usable date: neither the Date header nor ``fallback_date``.
            UsageError: ``fallback_date`` is naive.
        """
        if fallback_date is not None and fallback_date.utcoffset() is None:
            raise UsageError(
                f"SentMessage.from_headers: fallback_date must be timezone-aware, got {fallback_date!r}"
            )
        headers = read_headers(raw)
        recipients = addresses_in(headers, "to", "cc", "bcc")
        senders = addresses_in(headers, "from")
        header_date = _header_date(headers)
        if header_date is not None:
            date, from_header = header_date.astimezone(UTC), True
        elif fallback_date is not None:
            date, from_header = fallback_date.astimezone(UTC), False
        else:
            raise MessageError("no usable Date header and no delivery time to fall back on")
        return cls(
            date=date,
            recipients=tuple(recipients),
            subject=_decoded(headers, "subject"),
            message_id=_decoded(headers, "message-id"),
            in_reply_to=_decoded(headers, "in-reply-to"),
            sender=senders[0].lower() if senders else "",
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
    seconds, from_header, recipients, subject, message_id, in_reply_to, sender = _loads(data)
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


def _loads(data: bytes) -> Any:
    """JSON from the cache; nesting too deep to read is a ValueError like any other damage."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _decoded(headers: Message, name: str) -> str:
    """The first ``name`` field with its encoded words decoded (by mail-parser), whitespace collapsed."""
    value = headers.get(name)
    if value is None:
        return ""
    from mailparser.utils import decode_header_part

    try:
        text = decode_header_part(str(value)[:MAX_FIELD])
    except Exception:  # mail-parser's decoder on hostile encoded words: keep the raw text
        text = str(value)[:MAX_FIELD]
    return " ".join(str(text).split())


def _unique_lower(addresses: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for address in addresses:
        seen.setdefault(address.strip().lower(), None)
    return tuple(seen)
