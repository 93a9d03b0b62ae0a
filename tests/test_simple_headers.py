"""The fast reading of plain header blocks gives exactly the full reading's facts, or stands aside.

``HeaderFacts.from_headers`` reads a plain block with simple_headers.read_simple and any
other with the email package, getaddresses and mail-parser (``read_in_full``). A scan's
answer must not depend on which ran: checked on generated blocks built to sit on the
edge of "plain", on every real message of the suite's corpora, and on mail-parser's own
date reader.
"""

from __future__ import annotations

import email.policy
import email.utils
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mailparser.dates import parse_mail_date

from helpers import HEADER_CASES
from test_hostile import cpython_messages, garbage_messages
from thankyou_scan.message import HeaderFacts, read_headers
from thankyou_scan.simple_headers import read_simple

UTC = timezone.utc
DATA = Path(__file__).parent / "data"
FALLBACK = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


def both(raw: bytes, fallback: datetime | None = FALLBACK) -> tuple[HeaderFacts, HeaderFacts]:
    return (
        HeaderFacts.from_headers(raw, fallback_date=fallback),
        HeaderFacts.read_in_full(raw, fallback_date=fallback),
    )


# -- what a user's scan relies on: the same facts, whichever reading ran ----------------------


def test_plain_mail_is_read_fast_and_the_same() -> None:
    raw = (
        b"From: Jordan <jordan@example.com>\r\nTo: Ada Lovelace <Ada@Acme.example>, bo@acme.example\r\n"
        b"Cc: =?utf-8?q?Zo=C3=AB?= <zoe@x.example>,\r\n Tom.Smith+jobs@GMail.com\r\n"
        b"Subject: Thank you (really)\r\nDate: Tue, 3 Nov 2026 09:15:00 -0500\r\n\r\nbody (with parens)\r\n"
    )
    assert read_simple(raw[: raw.index(b"\r\n\r\n") + 2]) is not None
    fast, full = both(raw)
    assert fast == full
    assert fast.addresses == {"ada@acme.example", "bo@acme.example", "zoe@x.example", "tomsmith@gmail.com"}
    assert fast.date == datetime(2026, 11, 3, 14, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    [
        b"To: Ada <ada@acme.example>\rDate: Tue, 3 Nov 2026 09:15:00 +0000\n\n",  # a lone CR ends lines
        b"To : ada@acme.example\nDate: Tue, 3 Nov 2026 09:15:00 +0000\n\n",  # obsolete space before ":"
        b"To: ada@acme.example\nDate: Tue, 3 Nov 2026 09:15:00 +0000 (UTC)\n\n",  # a comment in the Date
        b"To: ada@acme\n .example\nDate: Tue, 3 Nov 2026 09:15:00 +0000\n\n",  # a fold inside an address
        b'To: "Lovelace, Ada" <ada@acme.example>\nDate: Tue, 3 Nov 2026 09:15:00 +0000\n\n',
        b"To: eve@x.example <frank@y.example>\nDate: Tue, 3 Nov 2026 09:15:00 +0000\n\n",
        b"To: Team: ada@acme.example;\nDate: Tue, 3 Nov 2026 09:15:00 +0000\n\n",
        b"To: ada@acme.example (Ada)\nDate: Tue, 3 Nov 2026 09:15:00 +0000\n\n",
        b"To: J\xc3\xbcrgen <j@firma.example>\nDate: Tue, 3 Nov 2026 09:15:00 +0000\n\n",
        b"To: ada@acme.example\nDate: 3 Nov 26 09:15 EST\n\n",  # obsolete date forms
        b"To: ada@acme.example\nDate: Tue, 3 Nov 2026 23:59:60 +0000\n\n",  # a leap second
        b"To: ada@acme.example\nDate: Tue, 3 Nov 2026 09:15:00 +2400\n\n",  # no zone is 24 h away
        b"To: ada@acme.example\nDate: Tue, 31 Nov 2026 09:15:00 +0000\n\n",
        b"To: ada@acme.example,\nDate: Tue, 3 Nov 2026 09:15:00 +0000\n\n",  # an empty item
        b" folded: first\nTo: ada@acme.example\n\n",
        b"From jordan Tue Nov  3 09:15:00 2026\nTo: ada@acme.example\n\n",
        b"To: ada@acme.example\nstray words\nCc: bo@acme.example\n\n",
        b"To: ada@xn--exmple-cua.com\nDate: Tue, 3 Nov 2026 09:15:00 +0000\n\n",
    ],
)
def test_blocks_that_are_not_plain_get_the_full_reading(raw: bytes) -> None:
    fast, full = both(raw)
    assert fast == full
    assert fast == HeaderFacts.from_headers(raw, fallback_date=FALLBACK)


def test_punycode_domains_are_written_in_unicode_either_way() -> None:
    raw = b"To: ada@xn--exmple-cua.com\nDate: Tue, 3 Nov 2026 09:15:00 +0000\n\n"
    assert read_simple(raw[:-1]) is not None  # plain ASCII: the fast reading takes it
    assert both(raw)[0].addresses == both(raw)[1].addresses == {"ada@exämple.com"}


def _corpus() -> list[bytes]:
    files = sorted((DATA / "corpus").rglob("*.eml")) + sorted((DATA / "corpus2").rglob("*.eml"))
    return [path.read_bytes() for path in files]


def test_every_real_message_of_the_corpora_gives_the_same_facts() -> None:
    messages = _corpus() + cpython_messages() + garbage_messages() + [raw for _, raw, _ in HEADER_CASES]
    fast = 0
    for raw in messages:
        for fallback in (FALLBACK, None):
            assert HeaderFacts.from_headers(raw, fallback_date=fallback) == HeaderFacts.read_in_full(
                raw, fallback_date=fallback
            ), raw[:300]
        block = raw[: min(i for i in (raw.find(b"\n\n"), raw.find(b"\n\r\n"), len(raw)) if i >= 0) + 1]
        fast += read_simple(block) is not None
    # Real mail is mostly not "plain" (8-bit names, comments in dates, quoted names), but
    # some is: the fast reading must be exercised here, not only beside the point.
    assert len(messages) > 1400 and fast > 50


# -- generated blocks on the edge of plain --------------------------------------------------


def _mostly(plain: list[str], edge: list[str]) -> st.SearchStrategy[str]:
    """Fifteen draws in sixteen from the plain values: many generated blocks take the fast reading."""
    return st.sampled_from(plain * 15 + edge)


_WORDS = _mostly(
    ["Ada", "Lovelace", "=?utf-8?q?Zo=C3=AB?=", "O'Neil", "a_b", "=?UTF-8?B?SsO8cmdlbg==?="],
    ["Dr.", '"Q"', "(c)", "x@y", "é", "", "Ü", "a,b"],
)
_LOCAL = _mostly(
    ["ada", "ADA", "a.d.a", "ada+x", "t.o.m", "x", "o'neil"], ["a..b", ".a", "a.", '"ada"', "a b"]
)
_DOMAIN = _mostly(
    [
        "acme.example",
        "ACME.example",
        "gmail.com",
        "googlemail.com",
        "xn--exmple-cua.com",
        "a_b.example",
        "acme",
    ],
    ["acme.example.", "[1.2.3.4]", "acme .example", "", "acme..example"],
)
_SPACE = _mostly(["", " ", "\t"], ["  ", "\r\n ", "\n\t", "\r\n"])


@st.composite
def _item(draw: st.DrawFn) -> str:
    address = draw(_LOCAL) + draw(_mostly(["@"], [" @", "@@", "@ "])) + draw(_DOMAIN)
    words = draw(st.lists(_WORDS, max_size=3))
    if not words and draw(st.booleans()):
        return draw(_SPACE) + address + draw(_SPACE)
    return " ".join(words) + draw(_SPACE) + "<" + address + draw(_mostly([">"], [""])) + draw(_SPACE)


_DATE_VALUES = st.builds(
    lambda dow, day, mon, year, time, zone, gap: f"{dow}{day}{gap}{mon} {year} {time}{gap}{zone}",
    _mostly(["Mon, ", "Tue, ", "", "Sun,\r\n "], ["mon, ", "Tue,", "Tue ,"]),
    _mostly(["1", "03", "29", "30", "31"], ["0", "99", "001"]),
    _mostly(["Jan", "Feb", "Nov", "Dec"], ["nov", "Foo"]),
    _mostly(["2026", "2024", "1900", "9999"], ["1899", "0999", "26", "926", "02026"]),
    _mostly(["09:15:00", "23:59:59", "00:00:00"], ["23:59:60", "24:00:00", "09:60:00", "9:15:00", "09:15"]),
    _mostly(
        ["+0000", "-0500", "+0530", "-2359", "-0000", "+2300"], ["+2400", "+0060", "GMT", "+05:30", "+000"]
    ),
    _mostly([" ", "\r\n ", "  ", "\t"], ["", "\r\n"]),
)


@st.composite
def near_plain_blocks(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(1, 5))):
        name = draw(
            _mostly(["To", "Cc", "Bcc", "tO", "CC", "Subject", "From", "X-To", "Date"], ["To ", "", "Dä"])
        )
        if name == "Date":
            value = draw(_DATE_VALUES)
        elif name in ("Subject", "From", "X-To"):
            value = draw(_mostly(["Thanks (again)", "ada@acme.example", ""], ["é", "x\ry"]))
        else:
            value = draw(_mostly([",", ", ", ",\r\n "], [",\n\t", ",,", ";"])).join(
                draw(st.lists(_item(), min_size=0, max_size=3))
            )
        lines.append(f"{name}:{draw(st.sampled_from([' ', '', '  ']))}{value}")
    end = draw(st.sampled_from(["\r\n", "\n"]))
    return (end.join(lines) + end + end).encode("utf-8")


@settings(max_examples=1500, deadline=None)
@given(near_plain_blocks(), st.sampled_from([FALLBACK, None]))
def test_generated_blocks_give_the_same_facts_either_way(raw: bytes, fallback: datetime | None) -> None:
    fast, full = both(raw, fallback)
    assert fast == full


@settings(max_examples=1500, deadline=None)
@given(_DATE_VALUES)
def test_the_fast_date_is_mail_parsers_date(value: str) -> None:
    raw = f"To: ada@acme.example\nDate: {value}\n\n".encode()
    simple = read_simple(raw[:-1])
    if simple is None:
        return
    expected = parse_mail_date(str(read_headers(raw).get("date"))).value
    if expected is not None:
        # _header_date also refuses an offset of 24 hours or more, as the fast reading does.
        assert simple.date == expected
    else:
        assert simple.date is None


def test_the_full_reading_is_the_email_packages() -> None:
    # The reference the fast reading is held to is the standard library's, leniently.
    raw = b"To: Ada <ada@acme.example>, bo@acme.example\nDate: Tue, 3 Nov 2026 09:15:00 +0000\n\n"
    parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
    expected = {address.lower() for _, address in email.utils.getaddresses(parsed.get_all("to", []))}
    assert HeaderFacts.read_in_full(raw).addresses == expected == HeaderFacts.from_headers(raw).addresses
