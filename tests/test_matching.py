"""Matching rules (DESIGN.md "Matching rules"), table-driven, plus properties that must always hold."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thankyou_scan import Calendar, Event, Person, Policy, SentMessage, Status, match, normalize_address

UTC = timezone.utc
START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
END = START + timedelta(hours=4)
DEADLINE = END + timedelta(hours=48)


def event(**changes: object) -> Event:
    fields: dict[str, object] = {
        "id": "onsite",
        "title": "Onsite",
        "kind": "interview",
        "start": START,
        "end": END,
        "timezone": "America/New_York",
        "people": (Person("Ada", "ada@acme.example"),),
        "follow_up": Policy(timedelta(hours=48)),
    }
    fields.update(changes)
    return Event(**fields)  # type: ignore[arg-type]


def sent(at: datetime, *to: str, subject: str = "Thanks", message_id: str = "") -> SentMessage:
    return SentMessage(
        date=at, recipients=to, subject=subject, message_id=message_id or f"<{at.isoformat()}>"
    )


def statuses(calendar: Calendar, messages: list[SentMessage], now: datetime) -> list[tuple[str, str]]:
    return [(f.person.name, f.status.value) for f in match(calendar, messages, now).followups]


NOW_AFTER = DEADLINE + timedelta(days=1)


@pytest.mark.parametrize(
    ("messages", "now", "expected", "hours_left"),
    [
        ([sent(END + timedelta(hours=5), "ada@acme.example")], NOW_AFTER, Status.SENT, None),
        ([sent(DEADLINE, "ada@acme.example")], NOW_AFTER, Status.SENT, None),  # at the deadline is on time
        ([sent(DEADLINE + timedelta(minutes=1), "ada@acme.example")], NOW_AFTER, Status.LATE, None),
        ([], NOW_AFTER, Status.MISSING, None),
        ([], DEADLINE - timedelta(hours=6, minutes=30), Status.DUE, 6.5),
        ([], END, Status.DUE, 48.0),
        ([], END - timedelta(minutes=1), Status.UPCOMING, None),
        (
            [sent(START + timedelta(hours=1), "ada@acme.example")],
            END - timedelta(minutes=1),
            Status.SENT,
            None,
        ),
        (
            [sent(START - timedelta(hours=1), "ada@acme.example")],
            NOW_AFTER,
            Status.MISSING,
            None,
        ),  # before: a confirmation
        ([sent(START, "ada@acme.example")], NOW_AFTER, Status.MISSING, None),  # at the start is not after it
        ([sent(END + timedelta(hours=1), "someone@else.example")], NOW_AFTER, Status.MISSING, None),
        ([sent(END + timedelta(hours=1), "ADA@Acme.Example")], NOW_AFTER, Status.SENT, None),
        # a message dated after `now` is not known yet at `now`
        ([sent(END + timedelta(hours=30), "ada@acme.example")], END + timedelta(hours=2), Status.DUE, 46.0),
    ],
)
def test_statuses(
    messages: list[SentMessage], now: datetime, expected: Status, hours_left: float | None
) -> None:
    (followup,) = match(Calendar(events=(event(),)), messages, now).followups
    assert followup.status is expected
    assert followup.hours_left == hours_left
    assert followup.deadline == DEADLINE


def test_first_matching_message_decides_and_is_reported() -> None:
    on_time = sent(END + timedelta(hours=7, minutes=30), "ada@acme.example", subject="Thank you")
    later = sent(DEADLINE + timedelta(hours=1), "ada@acme.example", subject="Following up")
    (followup,) = match(Calendar(events=(event(),)), [later, on_time], NOW_AFTER).followups
    assert followup.status is Status.SENT
    assert followup.message == on_time
    assert followup.matched_by == "address"
    assert followup.hours_after_end == 7.5


@pytest.mark.parametrize(
    ("calendar_address", "sent_to", "matches"),
    [
        ("tom.okafor@gmail.com", "tomokafor@gmail.com", True),
        ("tomokafor@gmail.com", "Tom.Okafor+jobs@googlemail.com", True),
        ("tom.okafor@gmail.com", "tom.okafor+x@gmail.com", True),
        ("tom.okafor@example.com", "tomokafor@example.com", False),  # dots matter outside Gmail
        ("tom@example.com", "tom+x@example.com", False),
    ],
)
def test_gmail_dots_and_tags(calendar_address: str, sent_to: str, matches: bool) -> None:
    calendar = Calendar(events=(event(people=(Person("Tom", calendar_address),)),))
    (followup,) = match(calendar, [sent(END + timedelta(hours=1), sent_to)], NOW_AFTER).followups
    assert (followup.status is Status.SENT) is matches


def test_cc_bcc_and_one_message_for_everyone() -> None:
    people = (
        Person("Ada", "ada@acme.example"),
        Person("Grace", "grace@acme.example"),
        Person("Hal", "hal@acme.example"),
    )
    # recipients hold To, Cc and Bcc alike
    message = sent(END + timedelta(hours=2), "ada@acme.example", "grace@acme.example")
    result = statuses(Calendar(events=(event(people=people),)), [message], NOW_AFTER)
    assert result == [("Ada", "sent"), ("Grace", "sent"), ("Hal", "missing")]


def test_domain_matching_only_for_people_without_an_address() -> None:
    people = (Person("Bob Recruiter"), Person("Ada", "ada@acme.example"))
    calendar = Calendar(events=(event(people=people, domain="acme.example"),))
    report = match(calendar, [sent(END + timedelta(hours=2), "talent@acme.example")], NOW_AFTER)
    by_name = {f.person.name: f for f in report.followups}
    assert by_name["Bob Recruiter"].status is Status.SENT
    assert by_name["Bob Recruiter"].matched_by == "domain"
    assert by_name["Ada"].status is Status.MISSING
    assert match(calendar, [sent(END, "x@sub.acme.example")], NOW_AFTER).followups[0].status is Status.MISSING


def test_person_without_address_or_domain_is_never_matched() -> None:
    calendar = Calendar(events=(event(people=(Person("Bob"),)),))
    assert statuses(calendar, [sent(END, "bob@acme.example")], NOW_AFTER) == [("Bob", "missing")]
    assert statuses(calendar, [], END + timedelta(hours=1)) == [("Bob", "due")]


def test_skipped_and_cancelled() -> None:
    calendar = Calendar(events=(event(id="a", follow_up=None), event(id="b", cancelled=True)))
    report = match(calendar, [sent(END, "ada@acme.example")], NOW_AFTER)
    assert [(f.status, f.deadline, f.message) for f in report.followups] == [(Status.SKIPPED, None, None)] * 2
    assert report.exit_code == 0


def test_order_summary_and_exit_code() -> None:
    early = event(id="early", start=START - timedelta(days=1), end=END - timedelta(days=1))
    people = (Person("Zed", "zed@acme.example"), Person("Amy", "amy@acme.example"))
    report = match(Calendar(events=(event(people=people), early)), [], NOW_AFTER)
    assert [(f.event.id, f.person.name) for f in report.followups] == [
        ("early", "Ada"),
        ("onsite", "Amy"),
        ("onsite", "Zed"),
    ]
    assert report.summary == {"sent": 0, "late": 0, "missing": 3, "due": 0, "upcoming": 0, "skipped": 0}
    assert report.exit_code == 1
    assert report.source.messages_scanned == 0


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        match(Calendar(events=(event(),)), [], datetime(2026, 11, 3))


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


# -- properties ------------------------------------------------------------------

ADDRESSES = [
    "ada@acme.example",
    "grace@acme.example",
    "t.om@gmail.com",
    "x@other.example",
    "rec@acme.example",
]
PEOPLE = (
    Person("Ada", "ada@acme.example"),
    Person("Grace", "grace@acme.example"),
    Person("Tom", "tom@gmail.com"),
    Person("Rec"),
)
ZONES = [
    UTC,
    ZoneInfo("America/New_York"),
    ZoneInfo("Asia/Kolkata"),
    ZoneInfo("Pacific/Chatham"),
    timezone(timedelta(hours=-9, minutes=-30)),
]

moments = st.integers(min_value=-48 * 60, max_value=8 * 24 * 60).map(
    lambda minutes: START + timedelta(minutes=minutes)
)
messages_strategy = st.lists(
    st.builds(
        lambda at, to, subject: SentMessage(
            date=at, recipients=tuple(to), subject=subject, message_id=f"<{subject}>"
        ),
        moments,
        st.lists(st.sampled_from(ADDRESSES), min_size=1, max_size=3),
        st.sampled_from(["a", "b", "c", "d"]),
    ),
    max_size=12,
)
CALENDAR = Calendar(
    events=(
        event(people=PEOPLE, domain="acme.example"),
        event(
            id="two",
            start=START + timedelta(days=2),
            end=START + timedelta(days=2, hours=1),
            people=PEOPLE[:2],
        ),
    )
)


def outcome(messages: list[SentMessage], now: datetime) -> list[tuple[str, str, Status, object]]:
    return [
        (f.event.id, f.person.name, f.status, f.message.message_id if f.message else None)
        for f in match(CALENDAR, messages, now).followups
    ]


@settings(max_examples=150, deadline=None)
@given(messages_strategy, moments, st.randoms(use_true_random=False))
def test_order_of_messages_does_not_matter(messages: list[SentMessage], now: datetime, rnd: object) -> None:
    shuffled = list(messages)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert outcome(shuffled, now) == outcome(messages, now)


@settings(max_examples=150, deadline=None)
@given(messages_strategy, messages_strategy, moments)
def test_adding_messages_never_undoes_sent(
    messages: list[SentMessage], more: list[SentMessage], now: datetime
) -> None:
    before = outcome(messages, now)
    after = outcome(messages + more, now)
    for (_, _, status_before, _), (_, _, status_after, _) in zip(before, after, strict=True):
        if status_before is Status.SENT:
            assert status_after is Status.SENT


@settings(max_examples=100, deadline=None)
@given(messages_strategy, moments, st.sampled_from(ZONES))
def test_expressing_times_in_another_zone_changes_nothing(
    messages: list[SentMessage], now: datetime, zone: object
) -> None:
    def shifted(e: Event) -> Event:
        return event(
            **{
                **{f: getattr(e, f) for f in ("id", "people", "domain")},
                "start": e.start.astimezone(zone),
                "end": e.end.astimezone(zone),
            }
        )  # type: ignore[arg-type]

    other = Calendar(events=tuple(shifted(e) for e in CALENDAR.events))
    moved = [
        SentMessage(
            date=m.date.astimezone(zone), recipients=m.recipients, subject=m.subject, message_id=m.message_id
        )  # type: ignore[arg-type]
        for m in messages
    ]
    base = match(CALENDAR, messages, now)
    assert [
        (f.status, f.hours_left, f.hours_after_end)
        for f in match(other, moved, now.astimezone(zone)).followups
    ] == [  # type: ignore[arg-type]
        (f.status, f.hours_left, f.hours_after_end) for f in base.followups
    ]
