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


# -- HeaderFacts and Relevance: the cheap test never turns away a message that matters ---------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from helpers import BARE_CR_CASE, HEADER_CASES, SPACE_BEFORE_COLON_CASE  # noqa: E402
from thankyou_scan import (  # noqa: E402
    Calendar,
    Event,
    Person,
    Policy,
    match,
    normalize_address,
)
from thankyou_scan.matching import Relevance  # noqa: E402
from thankyou_scan.message import HeaderFacts  # noqa: E402

RECIPIENTS = [
    "Ada <ada@acme.example>",
    "ADA@ACME.EXAMPLE",
    '"Ada Lovelace" <ada@acme.example>',
    '"ada"@acme.example',
    "ada(work)@acme.example",
    "Tom <T.O.M+jobs@googlemail.com>",
    "tom@gmail.com",
    "=?utf-8?q?J=C3=BCrgen?= <juergen@firma.example>",
    "talent@recruit.example",
    "someone@else.example",
    "undisclosed-recipients:;",
    "Team: grace@acme.example, x@y.example;",
]
DATES = [
    "Mon, 2 Nov 2026 18:41:05 -0500",
    "Tue, 3 Nov 2026 09:00:00 +0900",
    "2 Nov 2026 10:00 GMT",
    "Mon, 2 Nov 2026 10:00:00",
    "garbage",
    "Sun, 1 Nov 2026 23:59:59 -0000",
    "Fri, 20 Nov 2026 10:00:00 +0000",
    None,
]
START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
CALENDAR = Calendar(
    events=(
        Event("a", "A", "interview", START, START + timedelta(hours=1), "UTC",
              (Person("Ada", "ada@acme.example"), Person("Tom", "tom@gmail.com"), Person("Rec")),
              domain="recruit.example", follow_up=Policy(timedelta(hours=24))),
        Event("b", "B", "meeting", START + timedelta(days=1), START + timedelta(days=1, hours=1), "UTC",
              (Person("Grace", "grace@acme.example"), Person("Jürgen", "juergen@firma.example")),
              follow_up=Policy(timedelta(hours=24))),
    )
)  # fmt: skip
NOW = datetime(2026, 11, 10, tzinfo=UTC)

raw_messages = st.builds(
    lambda to, cc, date, n: raw_message(
        to=", ".join(to), cc=", ".join(cc) or None, date=date, message_id=f"<m{n}@x>"
    ),
    st.lists(st.sampled_from(RECIPIENTS), min_size=0, max_size=3),
    st.lists(st.sampled_from(RECIPIENTS), max_size=2),
    st.sampled_from(DATES),
    st.integers(0, 10_000),
)
fallbacks = st.sampled_from(
    [
        None,
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 11, 4, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    ]
)


def parsed(raw: bytes, fallback: datetime | None) -> SentMessage | None:
    try:
        return SentMessage.from_headers(raw, fallback_date=fallback)
    except MessageError:
        return None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(raw_messages, fallbacks), max_size=6), raw_messages, fallbacks)
def test_a_message_the_cheap_test_turns_away_never_changes_the_report(
    others: list[tuple[bytes, datetime | None]], raw: bytes, fallback: datetime | None
) -> None:
    facts = HeaderFacts.from_headers(raw, fallback_date=fallback)
    message = parsed(raw, fallback)
    if message is not None and facts.date is not None:
        assert facts.date == message.date  # the cheap date is the real one
    if Relevance(CALENDAR, NOW)(facts) or message is None:
        return
    base = [m for m in (parsed(r, f) for r, f in others) if m is not None]
    without = [(f.status, f.message) for f in match(CALENDAR, base, NOW).followups]
    with_it = [(f.status, f.message) for f in match(CALENDAR, [*base, message], NOW).followups]
    assert with_it == without


def test_header_facts_round_trip_and_read_only_to_cc_bcc() -> None:
    raw = raw_message(
        to='"Ada" <ADA@Acme.example>, "quoted local"@odd.example', cc="T.O.M+x@googlemail.com",
        sender="me@sender.example",
    )  # fmt: skip
    facts = HeaderFacts.from_headers(raw)
    assert facts.addresses == {"ada@acme.example", "tom@gmail.com", '"quoted local"@odd.example'}
    assert facts.domains == {"acme.example", "odd.example", "gmail.com"}
    assert HeaderFacts.decode(facts.encode()) == facts


# Header blocks as mail programs and spammers write them: addresses with comments,
# whitespace and folds around "@", lost brackets, groups, repeated fields, bare CRs.
_LOCALS = st.sampled_from(["ada", "ADA", "a.d.a", "ada+x", "tom", "t.o.m+jobs", "grace", "hr", '"ada"', "x"])
_DOMAINS = st.sampled_from(["acme.example", "ACME.example", "gmail.com", "googlemail.com", "recruit.example",
                            "firma.example", "else.example", "acme.example."])  # fmt: skip
_AT = st.sampled_from(["@", " @ ", "@\n ", "(c)@", "@(c)", " @\r\n\t"])
_NAMES = st.sampled_from(
    ["", "Ada ", '"Lovelace, Ada" ', "=?utf-8?q?J=C3=BCrgen?= ", "(x) ", "Pete(A \\) chap) "]
)


@st.composite
def _address(draw: st.DrawFn) -> str:
    spec = draw(_LOCALS) + draw(_AT) + draw(_DOMAINS)
    name = draw(_NAMES)
    closing = draw(st.sampled_from([">", ">", ""]))  # a lost bracket now and then
    return f"{name}<{spec}{closing}" if name or draw(st.booleans()) else spec


@st.composite
def _field(draw: st.DrawFn) -> str:
    field_name = draw(st.sampled_from(["To", "Cc", "Bcc", "TO", "cc", "From", "Subject", "Reply-To", "X-To"]))
    addresses = draw(st.lists(_address(), min_size=1, max_size=3))
    value = draw(st.sampled_from([", ", ",", ",\n ", " "])).join(addresses)
    if draw(st.booleans()) and field_name.lower() in ("to", "cc"):
        value = f"Team: {value};"
    return f"{field_name}: {value}"


@st.composite
def hostile_header_blocks(draw: st.DrawFn) -> bytes:
    fields = draw(st.lists(_field(), min_size=1, max_size=6))
    # lines mail programs get wrong: a fold without its indent, a stray word, a space before the colon
    fields += draw(st.lists(st.sampled_from(["by localhost with SMTP; 19 Nov 2014", "From", " : <x@acme.example>",
                                             "To : ada@acme.example", "\ufeffCc: grace@acme.example"]), max_size=2))  # fmt: skip
    fields.append(
        "Date: " + draw(st.sampled_from([d for d in DATES if d] + ["Mon, 2 Nov 2026 18:00:00 +0000"]))
    )
    fields = draw(st.permutations(fields))
    text = ""
    for field in fields:
        text += field + draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return text.encode()


@settings(max_examples=2000, deadline=None)
@given(hostile_header_blocks(), fallbacks, st.lists(st.tuples(raw_messages, fallbacks), max_size=3))
def test_the_pre_check_never_turns_away_a_message_the_full_parse_would_match(
    raw: bytes, fallback: datetime | None, others: list[tuple[bytes, datetime | None]]
) -> None:
    # relevant(facts) is False only when adding the fully parsed message changes nothing.
    relevance = Relevance(CALENDAR, NOW)
    base = [m for m in (parsed(r, f) for r, f in others) if m is not None]
    for message in base:
        relevance.learn(message)
    message = parsed(raw, fallback)
    facts = HeaderFacts.from_headers(raw, fallback_date=fallback)
    if message is not None:
        assert facts.date == message.date
        assert facts.addresses == {normalize_address(r) for r in message.recipients}
    if relevance(facts) or message is None:
        return
    without = [(f.status, f.message) for f in match(CALENDAR, base, NOW).followups]
    with_it = [(f.status, f.message) for f in match(CALENDAR, [*base, message], NOW).followups]
    assert with_it == without


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


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(raw_messages, fallbacks), max_size=10), st.randoms(use_true_random=False))
def test_a_source_that_parses_only_what_can_matter_gives_the_full_report_in_any_order(
    mail: list[tuple[bytes, datetime | None]], rnd: object
) -> None:
    import tempfile
    from pathlib import Path

    from helpers import write_mbox
    from thankyou_scan import MboxSource, scan

    everything = [m for m in (parsed(raw, fallback) for raw, fallback in mail) if m is not None]
    expected = [
        (f.status, f.message and f.message.message_id) for f in match(CALENDAR, everything, NOW).followups
    ]
    shuffled = list(mail)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as folder:
        # a From_ line from 1999 stands for "no usable fallback" while staying a valid mbox
        entries = [
            (f"{f:%a %b %d %H:%M:%S +0000 %Y}" if f else "Fri Jan 01 00:00:00 +0000 1999", raw)
            for raw, f in shuffled
        ]
        report = scan(CALENDAR, MboxSource(write_mbox(Path(folder) / "Sent.mbox", entries)), now=NOW)
    assert [(f.status, f.message and f.message.message_id) for f in report.followups] == expected


def test_relevance_turns_away_later_messages_once_an_earlier_one_was_parsed() -> None:
    relevance = Relevance(CALENDAR, NOW)

    def facts(to: str, when: datetime) -> HeaderFacts:
        return HeaderFacts.from_headers(raw_message(to=to, date=f"{when:%a, %d %b %Y %H:%M:%S +0000}"))

    first = START + timedelta(hours=3)
    assert relevance(facts("ada@acme.example", first + timedelta(hours=1)))
    relevance.learn(SentMessage(first, ("ada@acme.example",)))
    assert not relevance(facts("ada@acme.example", first + timedelta(hours=1)))  # cannot be first now
    assert relevance(facts("ada@acme.example", first))  # a tie: the report's tie-break decides
    assert relevance(facts("ada@acme.example", first - timedelta(hours=1)))  # earlier: may be first
    assert relevance(facts("tom@gmail.com", first + timedelta(hours=1)))  # another person's slot
    relevance.learn(SentMessage(first, ("talent@recruit.example",)))  # the domain person's slot
    assert not relevance(facts("hr@recruit.example", first + timedelta(hours=1)))
    relevance.learn(SentMessage(START - timedelta(hours=1), ("tom@gmail.com",)))  # before the event
    assert relevance(facts("tom@gmail.com", first + timedelta(hours=1)))  # closes nothing


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
    raw = b"To: ada@xn--exmple-cua.com, bob@acme.example.\nDate: Tue, 3 Nov 2026 09:00:00 +0000\n"
    report = match(calendar, [SentMessage.from_headers(raw)], NOW)
    assert sorted((f.person.name or f.person.email, f.status.value) for f in report.followups) == [
        ("Bob Recruiter", "sent"),
        ("ada@exämple.com", "sent"),
    ]
