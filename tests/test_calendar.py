"""The YAML calendar: every key, defaults, zones and DST, and every kind of mistake."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thankyou_scan import Calendar, CalendarError, load_calendar, parse_calendar
from thankyou_scan.calendar import parse_duration

UTC = timezone.utc


def cal(body: str, **kwargs: bool) -> Calendar:
    return parse_calendar(textwrap.dedent(body), path="cal.yaml", **kwargs)


def problems(body: str) -> list[str]:
    with pytest.raises(CalendarError) as caught:
        parse_calendar(textwrap.dedent(body), path="cal.yaml")
    return [str(problem) for problem in caught.value.problems]


FULL = """\
    version: 1
    timezone: America/New_York
    policies:
      interview: {within: 24h}
    events:
      - id: acme-onsite
        title: Onsite interview, Acme
        kind: interview
        start: 2026-11-02 10:00
        end: 2026-11-02 14:00
        domain: acme.example
        people:
          - name: Ada Lovelace
            email: ada@acme.example
          - Grace Hopper <grace@acme.example>
          - Bob Recruiter
      - title: Meetup
        kind: networking
        timezone: Europe/Berlin
        start: "2026-11-03T18:00:00"
        people: [kim@example.com]
      - title: Sync
        kind: meeting
        start: 2026-11-04 09:30:00+01:00
        duration: 1d12h
        follow_up: {within: 90m}
        people: [Pat <pat@example.com>]
      - title: Skipped lunch
        kind: meeting
        start: 2026-11-05 12:00
        follow_up: false
        people: [Lu <lu@example.com>]
      - title: Cancelled panel
        kind: interview
        start: 2026-11-06 12:00
        cancelled: true
        people: [Cy <cy@example.com>]
"""


def test_full_calendar_reads_every_key() -> None:
    calendar = cal(FULL)
    onsite, meetup, sync, lunch, panel = calendar.events
    assert onsite.id == "acme-onsite"
    assert onsite.start == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # EST, after the Nov 1 change
    assert onsite.end == datetime(2026, 11, 2, 19, 0, tzinfo=UTC)
    assert onsite.deadline == onsite.end + timedelta(hours=24)  # the calendar's interview policy
    assert [(p.name, p.email) for p in onsite.people] == [
        ("Ada Lovelace", "ada@acme.example"),
        ("Grace Hopper", "grace@acme.example"),
        ("Bob Recruiter", None),
    ]
    assert onsite.domain == "acme.example"
    assert meetup.id == "meetup-2026-11-03"
    assert meetup.start == datetime(2026, 11, 3, 17, 0, tzinfo=UTC)  # Berlin is UTC+1 in November
    assert meetup.end - meetup.start == timedelta(hours=2)  # networking default length
    assert meetup.deadline == meetup.end + timedelta(hours=48)
    assert meetup.people[0].email == "kim@example.com"
    assert sync.start == datetime(2026, 11, 4, 8, 30, tzinfo=UTC)  # the offset wins over the zone
    assert sync.end - sync.start == timedelta(days=1, hours=12)
    assert sync.deadline == sync.end + timedelta(minutes=90)
    assert lunch.skipped and lunch.deadline is None and not lunch.cancelled
    assert panel.skipped and panel.cancelled


def test_dst_is_applied_per_date() -> None:
    calendar = cal(
        """\
        timezone: America/New_York
        events:
          - {title: Summer, kind: meeting, start: 2026-10-30 10:00, people: [a@example.com]}
          - {title: Winter, kind: meeting, start: 2026-11-02 10:00, people: [a@example.com]}
        """
    )
    summer, winter = calendar.events
    assert summer.start.hour == 14  # EDT, UTC-4
    assert winter.start.hour == 15  # EST, UTC-5


def test_a_duration_across_the_dst_change_is_elapsed_time() -> None:
    calendar = cal(
        """\
        timezone: America/New_York
        events:
          - {title: Overnight, kind: meeting, start: 2026-10-31 23:00, duration: 4h, people: [a@example.com]}
        """
    )
    (event,) = calendar.events
    assert event.end - event.start == timedelta(hours=4)


def test_a_bare_date_is_an_all_day_event_in_its_zone() -> None:
    calendar = cal(
        """\
        timezone: Europe/Berlin
        events:
          - {title: Fair, kind: networking, start: 2026-11-07, people: [a@example.com]}
          - {title: Conference, kind: networking, start: 2026-11-09, end: 2026-11-10, people: [a@example.com]}
        """
    )
    fair, conference = calendar.events
    assert fair.all_day
    assert fair.start == datetime(2026, 11, 6, 23, 0, tzinfo=UTC)
    assert fair.end == datetime(2026, 11, 7, 23, 0, tzinfo=UTC)
    assert conference.end == datetime(2026, 11, 10, 23, 0, tzinfo=UTC)  # the end date is inclusive


def test_without_any_zone_the_local_zone_is_used_and_said(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        calendar = cal(
            "events:\n  - {title: T, kind: meeting, start: 2026-11-02 10:00, people: [a@example.com]}\n"
        )
    finally:
        monkeypatch.undo()
        time.tzset()
    (event,) = calendar.events
    assert event.start == datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    assert event.timezone is None
    assert calendar.uses_local_time
    assert any("local zone" in warning for warning in calendar.warnings)


def test_me_and_default_policy() -> None:
    calendar = cal(
        """\
        timezone: UTC
        me: [Me@Example.com, other@example.org]
        policies:
          default: {within: 3d}
        events:
          - {title: Chat, kind: coffee, start: 2026-11-02 10:00, people: [a@example.com]}
        """
    )
    assert calendar.me == ("me@example.com", "other@example.org")
    (event,) = calendar.events
    assert event.deadline - event.end == timedelta(days=3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("48h", timedelta(hours=48)),
        ("2d", timedelta(days=2)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1d 2h 30m", timedelta(days=1, hours=2, minutes=30)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "h", "48", "2 weeks", "-1h", "1.5h", "12h1d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    "text", ["366d", "8761h", "525601m", "364d25h", "9" * 20 + "d", "0" * 30 + "9" * 12 + "m"]
)
def test_durations_over_a_year_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is longer than 365 days, the limit"):
        parse_duration(text)
    assert parse_duration("365d") == parse_duration("0" * 30 + "8760h") == timedelta(days=365)


EVENT = "  - title: Onsite\n    kind: interview\n    start: 2026-11-02 10:00\n    people: [a@example.com]\n"


@pytest.mark.parametrize(
    ("body", "line", "fragment"),
    [
        ("timezone: UTC\nevents:\n  - title: X\n    kind: [a\n", 4, "YAML syntax error"),
        (
            "timezone: UTC\nevents:\n  - title: Onsite\n    kind: interview\n    start: 2026-11-02 10:00\n    people: [ada@acme]\n",
            6,
            "'ada@acme' is not a usable email address",
        ),
        (
            "timezone: UTC\nevents:\n  - title: Onsite\n    kind: interview\n    strat: 2026-11-02 10:00\n",
            5,
            "unknown key 'strat' in an event — did you mean 'start'?",
        ),
        (
            "timezone: UTC\nevents:\n  - title: Onsite\n    kind: interview\n    start: 2026-11-02 10:00\n    end: 2026-11-02 09:00\n",
            6,
            "is before start",
        ),
        (
            "timezone: America/New_Yrok\nevents: []\n",
            1,
            "unknown time zone 'America/New_Yrok' — did you mean 'America/New_York'?",
        ),
        (
            "timezone: UTC\nevents:\n  - title: Onsite\n    kind: interview\n    start: 2026-11-02 10:00\n    duration: 2 weeks\n",
            6,
            "not a duration",
        ),
        (
            "timezone: UTC\nevents:\n  - title: Onsite\n    kind: interview\n    start: 2026-11-02 10:00\n    duration: 90\n",
            6,
            "give a unit, like 90h",
        ),
        (
            "timezone: UTC\nevents:\n  - title: Onsite\n    kind: interview\n    start: 2026-13-02 10:00\n",
            5,
            "is not a real date",
        ),
        (
            "timezone: UTC\nevents:\n  - title: Onsite\n    kind: interview\n    start: next tuesday\n",
            5,
            "is not a date and time",
        ),
        (
            "timezone: UTC\nevents:\n  - title: Onsite\n    kind: interview\n    start: 2026-11-02 25:00\n",
            5,
            "is not a real date",
        ),
        ("timezone: UTC\nevents:\n  - title: Onsite\n    kind: interview\n", 3, "no 'start'"),
        ("timezone: UTC\nevents:\n  - kind: interview\n    start: 2026-11-02 10:00\n", 3, "no 'title'"),
        ("timezone: UTC\nevents:\n  - title: Onsite\n    start: 2026-11-02 10:00\n", 3, "no 'kind'"),
        (
            "timezone: UTC\nevents:\n  - !!python/object/apply:os.system ['echo pwned']\n",
            3,
            "YAML tag '!!python/object/apply:os.system' is not allowed",
        ),
        (
            "timezone: UTC\nevents:\n  - title: Onsite\n    kind: interview\n    start: [2026]\n",
            5,
            "'start' must be a date and time",
        ),
        (
            "timezone: UTC\nevents:\n  - title: Onsite\n    kind: interview\n    start: 2026-11-02 10:00\n    cancelled: maybe\n",
            6,
            "'cancelled' must be true or false",
        ),
        (
            "timezone: UTC\nevents:\n  - title: Onsite\n    kind: interview\n    start: 2026-11-02 10:00\n    people: ada@acme.example\n",
            6,
            "'people' must be a list",
        ),
        (
            "timezone: UTC\nevents:\n  - title: Onsite\n    kind: interview\n    start: 2026-11-02 10:00\n    follow_up: soon\n",
            6,
            "'follow_up' must be false or {within: 24h}",
        ),
        (
            "timezone: UTC\nevents:\n  - title: Onsite\n    kind: interview\n    start: 2026-11-02 10:00\n    follow_up: {whithin: 2h}\n",
            6,
            "did you mean 'within'",
        ),
        (
            "timezone: UTC\nevents:\n  - title: Onsite\n    kind: interview\n    start: 2026-11-02 10:00\n    end: 2026-11-02 11:00\n    duration: 1h\n",
            7,
            "both 'end' and 'duration'",
        ),
        (
            "timezone: UTC\nevents:\n  - title: Onsite\n    kind: interview\n    start: 2026-11-02 10:00\n    domain: acme\n",
            6,
            "domain 'acme' is not valid",
        ),
        (
            "timezone: UTC\nevents:\n  - title: Onsite\n    kind: interview\n    start: 2026-11-02 10:00\n    people: [Ada <ada@>]\n",
            6,
            "is not",
        ),
        (
            "timezone: America/New_York\nevents:\n  - title: Onsite\n    kind: interview\n    start: 2026-03-08 02:30\n",
            5,
            "does not exist in America/New_York",
        ),
        ("version: 2\nevents: []\n", 1, "version '2' is not supported"),
        ("events: {title: x}\n", 1, "'events' must be a list"),
        ("- a\n- b\n", 1, "the calendar must be a mapping"),
        ("timezone: UTC\n", 1, "no 'events:' list"),
        ("timezone: UTC\ntimezone: UTC\nevents: []\n", 2, "key 'timezone' appears twice"),
        (
            "timezone: UTC\nevents:\n  - title: Onsite\n    kind: interview\n    start: 2026-11-02 10:00 +25:00\n",
            5,
            "out of range",
        ),
        (
            "timezone: UTC\npolicies:\n  interview: 24h\nevents: []\n",
            3,
            "policy 'interview' must be a mapping",
        ),
        (
            "timezone: UTC\nme: [not-an-address]\nevents: []\n",
            2,
            "'not-an-address' is not a usable email address",
        ),
        ("base: &b {title: x}\nevents: []\n", 1, "unknown key 'base'"),
    ],
)
def test_mistakes_name_file_line_and_fix(body: str, line: int, fragment: str) -> None:
    found = problems(body)
    assert any(p.startswith(f"cal.yaml:{line}: ") and fragment in p for p in found), found


def test_problems_name_the_event() -> None:
    (problem,) = problems("timezone: UTC\nevents:\n" + EVENT.replace("a@example.com", "ada@acme"))
    assert problem.startswith("cal.yaml:6: event 'Onsite': 'ada@acme' is not a usable email address")
    assert "—" in problem  # says what would be right


def test_every_problem_is_reported_in_one_pass() -> None:
    found = problems(
        """\
        timezone: UTC
        events:
          - title: One
            kind: interview
            strat: 2026-11-02 10:00
          - title: Two
            kind: interview
            start: 2026-11-02 10:00
            people: [bad@address]
          - title: Three
            kind: meeting
            start: 2026-11-02 10:00
            duration: forever
        """
    )
    assert [p.split(":")[1] for p in found] == ["5", "3", "9", "13"]
    assert {p.split("'")[1] for p in found} == {"One", "Two", "Three"}


def test_duplicate_ids_are_an_error() -> None:
    found = problems("timezone: UTC\nevents:\n" + EVENT + EVENT)
    assert found == [
        "cal.yaml:7: event 'Onsite': id 'onsite-2026-11-02' is already used by event 'Onsite' on line 3"
        " — give one of them a different 'id:'"
    ]


def test_python_tags_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    body = f"timezone: UTC\nevents:\n  - !!python/object/apply:os.system ['touch {marker}']\n"
    problems(body)
    assert not marker.exists()


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for level in range(1, 12):
        prev = chr(ord("a") + level - 1)
        name = chr(ord("a") + level)
        lines.append(
            f"{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]"
        )
    started = time.perf_counter()
    found = problems("\n".join(lines) + "\nevents: []\n")
    assert time.perf_counter() - started < 2
    # Refused for its expansion (9^7 nodes under 'g'), before its unknown keys are even read.
    assert found == [
        "cal.yaml:7: this YAML expands through its aliases (*name) to more than 2,000,000 nodes, "
        "the limit — a calendar is far smaller; write repeated entries out"
    ]


def test_people_repeated_through_aliases_count_against_the_people_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("thankyou_scan.calendar.MAX_PEOPLE", 1_000)
    team = ", ".join(f"p{n}@acme.example" for n in range(50))

    def body(events: int) -> str:
        event = "  - {{title: E{}, kind: meeting, start: 2026-11-02 10:00, people: *team}}\n"
        return f"timezone: UTC\nme: &team [{team}]\nevents:\n" + "".join(map(event.format, range(events)))

    assert len(cal(body(20)).events) == 20  # 1,000 people: at the limit
    assert problems(body(21)) == [
        "cal.yaml:4: the events list 1,050 people in all (aliases counted as often as they are used); "
        "the limit is 1,000 — split the calendar, or drop events whose notes are long settled"
    ]


def test_an_alias_inside_itself_is_refused() -> None:
    assert problems(
        "timezone: UTC\nevents: &e [{title: X, kind: meeting, start: 2026-11-02 10:00, people: *e}]\n"
    ) == ["cal.yaml:2: a YAML alias (*name) refers to a list or mapping it is inside — remove it"]


HOSTILE_VALUES = [
    ("    start: 9999-12-31 22:00\n", "'start' '9999-12-31 22:00' is outside the years 1900–2999"),
    ("    start: 9999-12-31\n", "'start' '9999-12-31' is outside the years 1900–2999"),
    ("    start: 0001-01-01 00:00\n", "'start' '0001-01-01 00:00' is outside the years 1900–2999"),
    ("    start: 2026-11-02 10:00\n    end: 9999-12-31\n", "'end' '9999-12-31' is outside the years 1900–2999"),
    ("    start: 2026-11-02 10:00\n    duration: 999999999d\n", "'duration': '999999999d' is longer than 365 days, the limit"),
    ("    start: 2026-11-02 10:00\n    duration: 99999999999999999999h\n", "'duration': '99999999999999999999h' is longer than 365 days"),
    ("    start: 2026-11-02 10:00\n    duration: " + "9" * 5000 + "m\n", "'duration' is 5,001 characters long; the limit is 1,000"),
    ("    start: 2026-11-02 10:00\n    follow_up: {within: 3000000d}\n", "'within': '3000000d' is longer than 365 days"),
    ("    start: 2026-11-02 10:00\n    timezone: " + "a/" * 499 + "b\n", "unknown time zone 'a/a/a/"),
    ("    start: 2026-11-02 10:00\n    timezone: '" + "/" * 1000 + "'\n", "unknown time zone '///"),
    ("    start: 2026-11-02 10:00\n    timezone: Europe/../../etc/passwd\n", "unknown time zone 'Europe/../../etc/passwd'"),
]  # fmt: skip


@pytest.mark.parametrize(("lines", "fragment"), HOSTILE_VALUES)
def test_values_out_of_range_are_calendar_errors(lines: str, fragment: str) -> None:
    found = problems("timezone: America/New_York\nevents:\n  - title: X\n    kind: meeting\n" + lines)
    assert len(found) == 1 and found[0].startswith("cal.yaml:"), found
    assert ": event 'X': " in found[0] and fragment in found[0], found


def test_the_range_edges_are_accepted() -> None:
    calendar = cal(
        """\
        timezone: Pacific/Kiritimati
        events:
          - {title: First, kind: meeting, start: 1900-01-01 00:00, people: [a@example.com]}
          - {title: Last, kind: meeting, start: 2999-12-31, duration: 365d, follow_up: {within: 365d}, people: [a@example.com]}
        """
    )
    first, last = calendar.events
    assert first.start.year == 1900 and last.deadline is not None and last.deadline.year == 3001


def test_long_texts_are_refused_and_labels_kept_short() -> None:
    found = problems(
        f"timezone: UTC\nevents:\n  - {{title: {'T' * 2000}, kind: meeting, start: 2026-11-02 10:00}}\n"
    )
    assert found == [
        f"cal.yaml:3: event '{'T' * 79}…': 'title' is 2,000 characters long; the limit is 1,000 — shorten it"
    ]


def test_warnings_for_unmatchable_people_and_odd_kinds() -> None:
    calendar = cal(
        """\
        timezone: UTC
        events:
          - title: Chat
            kind: interveiw
            start: 2026-11-02 10:00
            people: [Bob Recruiter]
        """
    )
    warnings = "\n".join(calendar.warnings)
    assert "cal.yaml:6: event 'Chat': 'Bob Recruiter' has no email address" in warnings
    assert "did you mean 'interview'" in warnings


def test_ambiguous_time_takes_the_first_and_warns() -> None:
    calendar = cal(
        "timezone: America/New_York\nevents:\n"
        "  - {title: Late, kind: meeting, start: 2026-11-01 01:30, people: [a@example.com]}\n"
    )
    (event,) = calendar.events
    assert event.start == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # EDT, the first 01:30
    assert any("happens twice" in w for w in calendar.warnings)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "is empty"),
        (b"# only a comment\n\n", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "is a binary file"),
        (b"timezone: UTC\nevents:\n  - title: Caf\xe9\n", "cal.yaml:3: byte 0xe9 is not UTF-8"),
    ],
)
def test_bad_files(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "cal.yaml"
    path.write_bytes(content)
    with pytest.raises(CalendarError) as caught:
        load_calendar(path)
    assert fragment in str(caught.value)
    assert str(path).split("/")[-1] in str(caught.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="no such file"):
        load_calendar(tmp_path / "nope.yaml")
    with pytest.raises(CalendarError, match="is a directory"):
        load_calendar(tmp_path)


def test_utf8_with_bom_and_non_ascii_titles(tmp_path: Path) -> None:
    path = tmp_path / "cal.yaml"
    path.write_bytes(
        "\ufefftimezone: Europe/Paris\nevents:\n  - {title: Entretien à Lyon, kind: interview, "
        "start: 2026-11-02 10:00, people: [Zoë <zoe@example.fr>]}\n".encode()
    )
    (event,) = load_calendar(path).events
    assert event.id == "entretien-a-lyon-2026-11-02"
    assert event.people[0].name == "Zoë"


def test_every_iana_zone_this_machine_knows_is_accepted() -> None:
    from zoneinfo import available_timezones

    zones = sorted(available_timezones())
    events = "".join(
        f"  - {{id: e{n}, title: E, kind: meeting, timezone: {zone}, start: 2026-11-02 10:00, people: [a@example.com]}}\n"
        for n, zone in enumerate(zones)
    )
    calendar = cal("events:\n" + events)
    assert [event.timezone for event in calendar.events] == zones


def test_a_file_of_too_many_values_is_refused_before_its_tree_is_built() -> None:
    # 600,000 two-byte values: well under 10 MB, but ~200 MB as a node tree.
    found = problems("timezone: UTC\nevents: [" + "a," * 600_000 + "a]\n")
    assert found == [
        "cal.yaml:2: has more than 500,000 YAML values, the limit — a calendar is far smaller; "
        "split it, or drop events whose notes are long settled"
    ]


def test_problems_stop_at_a_hundred() -> None:
    found = problems("timezone: UTC\nevents:\n" + EVENT.replace("a@example.com", "ada@acme") * 150)
    assert len(found) == 101
    assert found[0].startswith("cal.yaml:6: event 'Onsite': 'ada@acme' is not a usable email address")
    assert found[-1] == "cal.yaml: stopped after 100 problems — fix these, then check the file again"


def test_policies_and_me_are_bounded() -> None:
    def policies(count: int) -> str:
        return "policies: {" + ", ".join(f"k{n}: {{within: 1h}}" for n in range(count)) + "}"

    def me(count: int) -> str:
        return "me: [" + ", ".join(f"me{n}@example.com" for n in range(count)) + "]"

    assert problems(f"timezone: UTC\n{policies(101)}\nevents: []\n") == [
        "cal.yaml:2: 'policies' has 101 kinds; the limit is 100"
    ]
    assert problems(f"timezone: UTC\n{me(101)}\nevents: []\n") == [
        "cal.yaml:2: 'me' has 101 addresses; the limit is 100"
    ]
    assert len(cal(f"timezone: UTC\n{policies(100)}\n{me(100)}\nevents: []\n").me) == 100


def test_a_fifo_given_as_the_calendar_is_an_error_not_a_hang(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "calendar.yaml")  # nobody will ever write to it
    with pytest.raises(CalendarError, match="is not a regular file"):
        load_calendar(tmp_path / "calendar.yaml")


# -- plain addresses are decided without email-validator, exactly as it would ---------------

_ADDRESS_LOCALS = st.sampled_from(
    [
        "ada",
        "Ada.Lovelace",
        "o'neil+jobs",
        "a_b",
        "x",
        "a..b",
        ".a",
        "a.",
        "a%b",
        "ä",
        '"q"',
        "a" * 65,
        "a b",
        "Info",
        "POSTMASTER",
        "Sales.Team",
        "www",
    ]
)
_ADDRESS_DOMAINS = st.sampled_from(
    ["acme.example", "ACME.Example", "a-b.co.uk", "b.c", "b.test", "x.localhost", "b.123", "localhost",
     "xn--exmple-cua.com", "b-.com", "-b.com", "a--b.com", "x_y.com", "1.2.3.com", "exämple.com",
     ("a" * 64) + ".com", ("a" * 60 + ".") * 4 + "com", "b.onion", "b.arpa", "[1.2.3.4]", "b.c.", "b..c"]
)  # fmt: skip


@settings(max_examples=600, deadline=None)
@given(_ADDRESS_LOCALS, _ADDRESS_DOMAINS)
def test_a_plain_address_is_what_email_validator_makes_of_it(local: str, domain: str) -> None:
    from email_validator import EmailNotValidError, validate_email

    from thankyou_scan.calendar_events import plain_address

    text = f"{local}@{domain}"
    fast = plain_address(text)
    try:
        expected: str | None = validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        expected = None
    if fast is not None:
        assert fast == expected
    elif local in ("ada", "Ada.Lovelace", "o'neil+jobs") and domain in (
        "acme.example",
        "ACME.Example",
        "a-b.co.uk",
    ):
        pytest.fail(f"{text} is plain and should not need email-validator")


def test_the_special_use_names_email_validator_refuses_are_refused_without_it() -> None:
    import email_validator

    from thankyou_scan import calendar_events

    assert set(email_validator.SPECIAL_USE_DOMAIN_NAMES) <= calendar_events._RESERVED
    # The role mailboxes whose case it drops (Info@x is info@x) are the ones dropped here.
    assert (
        set(email_validator.rfc_constants.CASE_INSENSITIVE_MAILBOX_NAMES) == calendar_events._ROLE_MAILBOXES
    )


def test_a_calendar_of_plain_addresses_loads_without_importing_email_validator(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(
        "timezone: UTC\nevents:\n  - {title: Onsite, kind: interview, start: 2026-11-02 10:00,\n"
        "     people: [Ada <Ada@Acme.example>, bo@x.io], domain: ACME.example}\n"
    )
    code = (
        "import sys, thankyou_scan\n"
        f"c = thankyou_scan.load_calendar({str(path)!r})\n"
        "print(sorted(p.email for e in c.events for p in e.people), c.events[0].domain)\n"
        "print('email_validator' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split("\n")[:2] == ["['Ada@acme.example', 'bo@x.io'] acme.example", "False"]
