"""SentMessage.from_headers: real-world headers, encodings and dates."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from helpers import BARE_CR_CASE, HEADER_CASES, SPACE_BEFORE_COLON_CASE, raw_message
from thankyou_scan import MessageError, SentMessage, normalize_address
from thankyou_scan.message import HeaderFacts

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


# -- HeaderFacts: the pre-check's facts come from the same reading as the parse ---------------


NOW = datetime(2026, 11, 10, tzinfo=UTC)


def test_header_facts_round_trip_and_read_only_to_cc_bcc() -> None:
    raw = raw_message(
        to='"Ada" <ADA@Acme.example>, "quoted local"@odd.example', cc="T.O.M+x@googlemail.com",
        sender="me@sender.example",
    )  # fmt: skip
    facts = HeaderFacts.from_headers(raw)
    assert facts.addresses == {"ada@acme.example", "tom@gmail.com", '"quoted local"@odd.example'}
    assert facts.domains == {"acme.example", "odd.example", "gmail.com"}
    assert HeaderFacts.decode(facts.encode()) == facts


@pytest.mark.parametrize(
    "case", [*HEADER_CASES, BARE_CR_CASE, SPACE_BEFORE_COLON_CASE], ids=lambda case: case[0]
)
def test_real_world_headers_give_every_recipient(case: tuple[str, bytes, str]) -> None:
    _name, raw, recipient = case
    message = SentMessage.from_headers(raw)
    assert recipient in message.recipients
    assert normalize_address(recipient) in HeaderFacts.from_headers(raw).addresses


def test_every_occurrence_of_to_cc_and_bcc_counts() -> None:
    raw = b"To: a@x.example\nCc: b@x.example\nCc: c@x.example\nTo: d@x.example\nBcc: e@x.example\nBcc: f@x.example\n"
    message = SentMessage.from_headers(raw, fallback_date=NOW)
    assert message.recipients == tuple(f"{letter}@x.example" for letter in "abcdef")


def test_an_address_written_as_a_display_name_is_not_a_recipient() -> None:
    # `eve@example.com <frank@example.com>`: the note went to frank; getaddresses alone adds eve
    raw = b"To: eve@example.com <frank@example.com>, Mikel@Lindsaar <raasdnil@gmail.com>, a@x.example\n"
    message = SentMessage.from_headers(raw, fallback_date=NOW)
    assert message.recipients == ("frank@example.com", "raasdnil@gmail.com", "a@x.example")
    assert HeaderFacts.from_headers(raw).addresses == {
        "frank@example.com",
        "raasdnil@gmail.com",
        "a@x.example",
    }


@pytest.mark.parametrize(
    ("to", "recipients"),
    [
        ("@powerupdev.example, a@b.example", ("a@b.example",)),  # getaddresses' reading of a comma-less list
        ("<Undisclosed-Recipient:@mailman.example;>", ()),  # an empty group in brackets
        ("@develop:sblab!att!thumper.example!nsb", ()),  # a source route, not an address
    ],
)
def test_a_domain_alone_names_nobody(to: str, recipients: tuple[str, ...]) -> None:
    # A person known only by name at that domain must not come out "sent" for such a message.
    assert SentMessage.from_headers(f"To: {to}\n".encode(), fallback_date=NOW).recipients == recipients


def test_a_zone_offset_out_of_range_makes_the_date_unreadable() -> None:
    message = SentMessage.from_headers(
        b"To: a@b.example\nDate: Wed, 1 Dec 1999 23:56:33 -3000 (CST)\n", fallback_date=NOW
    )
    assert (message.date, message.date_from_header) == (NOW, False)


@pytest.mark.parametrize(
    ("to", "recipient"),
    [
        ("ada@xn--exmple-cua.com", "ada@exämple.com"),  # punycode, as calendars hold it in Unicode
        ('"ada"@acme.example', "ada@acme.example"),  # quotes that change nothing
        ("bob@acme.example.", "bob@acme.example"),  # a trailing dot on the domain
        ('"john doe"@acme.example', '"john doe"@acme.example'),  # quotes that matter stay
    ],
)
def test_recipients_are_written_as_calendars_write_them(to: str, recipient: str) -> None:
    assert SentMessage.from_headers(f"To: {to}\n".encode(), fallback_date=NOW).recipients == (recipient,)


def test_the_same_person_in_another_spelling_gets_the_note() -> None:
    from thankyou_scan import parse_calendar

    calendar = parse_calendar(
        "version: 1\ntimezone: UTC\nevents:\n"
        "  - {title: A, kind: interview, start: 2026-11-02 10:00, domain: acme.example,"
        " people: [ada@exämple.com, Bob Recruiter]}\n"
    )
    from thankyou_scan import match

    raw = b"To: ada@xn--exmple-cua.com, bob@acme.example.\nDate: Tue, 3 Nov 2026 09:00:00 +0000\n"
    report = match(calendar, [SentMessage.from_headers(raw)], NOW)
    assert sorted((f.person.name or f.person.email, f.status.value) for f in report.followups) == [
        ("Bob Recruiter", "sent"),
        ("ada@exämple.com", "sent"),
    ]


@pytest.mark.parametrize(
    ("address", "normal"),
    [
        ("Ada@Acme.Example", "ada@acme.example"),
        ("T.O.M+jobs@GoogleMail.com", "tom@gmail.com"),
        ("a.b+c@example.com", "a.b+c@example.com"),
    ],
)
def test_normalize_address(address: str, normal: str) -> None:
    assert normalize_address(address) == normal
