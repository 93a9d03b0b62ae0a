"""A fast reading of plain header blocks, giving exactly what the full reading gives, or nothing.

The pre-check (:class:`~thankyou_scan.message.HeaderFacts`) runs on every message of a
scan, and the email package's header parser with ``getaddresses`` and mail-parser's
date reader cost ~0.3 ms a message. Most sent mail is plain: ASCII, every line a
``Name: value`` field or a fold, addresses written ``a@b`` or ``Name <a@b>``, the Date
in RFC 5322's own form. For such a block :func:`read_simple` finds the same To/Cc/Bcc
addresses and the same date as the full reading, with a few regular expressions; for
any other block it returns None and the full reading runs. It never guesses: each shape
it accepts is one where the email package, ``getaddresses`` and mail-parser's
``parse_mail_date`` are known to agree with it (tests/test_simple_headers.py checks
that on generated and real mail).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import NamedTuple

__all__ = ["SimpleReading", "read_simple"]

UTC = timezone.utc

# Printable ASCII and tab, in lines that end in CRLF or LF, each a field (a name of RFC 5322
# ftext right before the colon: the email package's own test) or a fold of the one above.
_BLOCK = re.compile(
    rb"(?:[\041-\071\073-\176]+:[\t\x20-\x7e]*(?:\r?\n|\Z)(?:[\t ][\t\x20-\x7e]*(?:\r?\n|\Z))*)*"
)
_WANTED = re.compile(r"^(to|cc|bcc|date):([^\r\n]*(?:\r?\n[\t ][^\r\n]*)*)", re.IGNORECASE | re.MULTILINE)
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDRESS = rf"{_ATEXT}(?:\.{_ATEXT})*@{_ATEXT}(?:\.{_ATEXT})*"
# One item of an address list: a bare address, or words (no dots, quotes or specials) and <address>.
_ITEM = re.compile(rf"[ \t]*(?:({_ADDRESS})|(?:{_ATEXT}(?:[ \t]+{_ATEXT})*)?[ \t]*<({_ADDRESS})>)[ \t]*")
_MONTHS = {m: n for n, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
# RFC 5322's date-time as mail clients write it, folding whitespace allowed between its parts.
_DATE = re.compile(
    r"[ \t\r\n]*(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),[ \t\r\n]+)?([0-9]{1,2})[ \t\r\n]+"
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[ \t\r\n]+([0-9]{4})[ \t\r\n]+"
    r"([0-9]{2}):([0-9]{2}):([0-9]{2})[ \t\r\n]+([+-])([0-9]{2})([0-9]{2})[ \t\r\n]*"
)


class SimpleReading(NamedTuple):
    """The To/Cc/Bcc addresses as ``getaddresses`` finds them, in header order, and the Date.

    ``has_date`` says whether there is a Date field at all; ``date`` is None when there is
    one but its value is not a usable date (the full reading gives None then too).
    """

    recipients: list[str]
    has_date: bool
    date: datetime | None


def read_simple(block: bytes) -> SimpleReading | None:
    """The reading of a plain header block (the bytes up to its blank line), or None: read it in full."""
    if not block or _BLOCK.fullmatch(block) is None:
        return None  # 8-bit, controls, a lone CR, a blank, "From ", "To : x" or stray line: read in full
    recipients: list[str] = []
    date: str | None = None
    for name, value in _WANTED.findall(block.decode("ascii")):
        if len(name) < 4:
            found = _addresses(value.replace("\r", "").replace("\n", "").strip(" \t"))
            if found is None:
                return None
            recipients.extend(found)
        elif date is None:
            date = value
    if date is None:
        return SimpleReading(recipients, False, None)
    moment = _date(date)
    if moment is None:
        return None  # not the common form: mail-parser's reader decides (it may still read it)
    return SimpleReading(recipients, True, moment)


def _addresses(value: str) -> list[str] | None:
    """The addresses of a list of plain items; None when any item is not plain."""
    if not value:
        return []
    found: list[str] = []
    for item in value.split(","):
        match = _ITEM.fullmatch(item)
        if match is None:
            return None
        found.append(match[1] or match[2])
    return found


def _date(value: str) -> datetime | None:
    """The Date in RFC 5322's form, as mail-parser's ``parse_mail_date`` reads it; None for any other form."""
    match = _DATE.fullmatch(value)
    if match is None:
        return None
    day, month, year, hour, minute, second, sign, zone_hours, zone_minutes = match.groups()
    numbers = int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second)
    if numbers[0] < 1900 or numbers[3] > 23 or numbers[4] > 59 or numbers[5] > 59:
        return None  # out of range, or a leap second: mail-parser's own rules decide
    if int(zone_hours) > 23 or int(zone_minutes) > 59:
        return None
    offset = int(zone_hours) * 60 + int(zone_minutes)
    try:
        moment = datetime(*numbers, tzinfo=UTC)
        return moment - timedelta(minutes=-offset if sign == "-" else offset)
    except (ValueError, OverflowError):
        return None
