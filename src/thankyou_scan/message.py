"""SentMessage: the few facts of a sent message that matching needs, parsed with mail-parser."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import mailparser

from .errors import MessageError

__all__ = ["SentMessage"]

UTC = timezone.utc


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


def _clean(value: object) -> str:
    return " ".join(str(value).split()) if value else ""


def _unique_lower(addresses: tuple[str, ...]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for address in addresses:
        seen.setdefault(address.strip().lower(), None)
    return tuple(seen)
