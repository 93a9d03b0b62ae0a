"""SentMessage.from_headers: real-world headers, encodings and dates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from helpers import raw_message
from thankyou_scan import MessageError, SentMessage

UTC = timezone.utc
FALLBACK = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)


def test_reads_recipients_date_subject_and_ids() -> None:
    raw = raw_message(
        to="=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <J.Mueller@Example.COM>, b@y.example",
        cc="Carol <carol@z.example>",
        bcc="Dan <dan@z.example>",
        subject="=?utf-8?q?Danke_sch=C3=B6n?=",
        extra="In-Reply-To: <prev@example.com>",
    )
    message = SentMessage.from_headers(raw, fallback_date=FALLBACK, uid="7")
    assert message.recipients == ("j.mueller@example.com", "b@y.example", "carol@z.example", "dan@z.example")
    assert message.date == datetime(2026, 11, 2, 23, 41, 5, tzinfo=UTC)
    assert message.date_from_header
    assert message.subject == "Danke schön"
    assert message.message_id == "<m1@example.com>"
    assert message.in_reply_to == "<prev@example.com>"
    assert message.sender == "jordan@example.com"
    assert message.uid == "7"


@pytest.mark.parametrize("date", [None, "Mon, 2 Nov 2026 18:41:05", "yesterday-ish", ""])
def test_missing_zoneless_or_garbage_date_uses_the_fallback(date: str | None) -> None:
    message = SentMessage.from_headers(raw_message(date=date), fallback_date=FALLBACK)
    assert message.date == FALLBACK
    assert not message.date_from_header


def test_no_date_and_no_fallback_is_a_message_error() -> None:
    with pytest.raises(MessageError, match="no usable Date"):
        SentMessage.from_headers(raw_message(date=None))


def test_dates_are_converted_to_utc() -> None:
    raw = raw_message(date="Tue, 3 Nov 2026 09:00:00 +0900")
    assert SentMessage.from_headers(raw).date == datetime(2026, 11, 3, 0, 0, tzinfo=UTC)


def test_recipients_are_deduplicated_case_insensitively() -> None:
    raw = raw_message(to="A <a@x.example>, A again <A@X.example>", cc="a@x.example")
    assert SentMessage.from_headers(raw).recipients == ("a@x.example",)


def test_group_syntax_and_undisclosed_recipients_give_no_address() -> None:
    raw = raw_message(to="undisclosed-recipients:;", bcc="Team: x@y.example, z@y.example;")
    assert SentMessage.from_headers(raw).recipients == ("x@y.example", "z@y.example")


@pytest.mark.parametrize(
    "raw",
    [
        b"To: =?bogus-charset?q?=FF=FE?= <a@b.example>\nSubject: =?utf-8?b?!!!notbase64?=\nDate: Mon, 2 Nov 2026 10:00:00 +0000\n\n",
        b"To: \xff\xfe\xfd <a@b.example>\nSubject: \xe9t\xe9\nDate: Mon, 2 Nov 2026 10:00:00 +0000\n\n",
        b"To: <<<>>>@@@\nDate: Mon, 2 Nov 2026 10:00:00 +0000\n\n",
        b"Date: Mon, 2 Nov 2026 10:00:00 +0000\nTo: a@b.example\n" + b"X-Long: " + b"x" * 200_000 + b"\n\n",
    ],
)
def test_messy_headers_do_not_crash(raw: bytes) -> None:
    message = SentMessage.from_headers(raw, fallback_date=FALLBACK)
    assert message.date == datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SentMessage(date=datetime(2026, 11, 2), recipients=())
    with pytest.raises(ValueError, match="timezone-aware"):
        SentMessage.from_headers(raw_message(), fallback_date=datetime(2026, 11, 2))


def test_aware_dates_in_other_zones_are_stored_in_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    message = SentMessage(date=datetime(2026, 11, 3, 9, 0, tzinfo=tokyo), recipients=("A@B.example",))
    assert message.date == datetime(2026, 11, 3, 0, 0, tzinfo=UTC)
    assert message.date.tzinfo is UTC
    assert message.recipients == ("a@b.example",)
