"""Calendar times, zones and durations from text alone: offsets, bare dates, the DST gap and fold."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thankyou_scan.times import (
    LAST_YEAR,
    Moment,
    day_after,
    local_date,
    parse_duration,
    read_moment,
    read_zone,
    show,
)

UTC = timezone.utc


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2026-11-02 10:00", "America/New_York", Moment(utc(2026, 11, 2, 15, 0))),
        ("2026-07-02 10:00", "America/New_York", Moment(utc(2026, 7, 2, 14, 0))),  # EDT
        ("2026-11-02T10:00:30", "Europe/Berlin", Moment(utc(2026, 11, 2, 9, 0, 30))),
        ("2026-11-02t10:00z", "Europe/Berlin", Moment(utc(2026, 11, 2, 10, 0))),
        ("2026-11-02 10:00 -03", "Europe/Berlin", Moment(utc(2026, 11, 2, 13, 0))),
        ("2026-11-02 10:00:00.123456789+0530", None, Moment(utc(2026, 11, 2, 4, 30, 0, 123456))),
        ("  2026-3-8 1:59:59  ", "America/New_York", Moment(utc(2026, 3, 8, 6, 59, 59))),
        ("2026-11-02", "Europe/Berlin", Moment(utc(2026, 11, 1, 23, 0), all_day=True)),
        ("2026-03-08", "America/New_York", Moment(utc(2026, 3, 8, 5, 0), all_day=True)),
        ("1900-01-01 00:00", "UTC", Moment(utc(1900, 1, 1))),
        ("2999-12-31", "Pacific/Kiritimati", Moment(utc(2999, 12, 30, 10, 0), all_day=True)),
        # The fold: the first of the two 01:30s (EDT), flagged.
        ("2026-11-01 01:30", "America/New_York", Moment(utc(2026, 11, 1, 5, 30), repeated=True)),
        ("2026-10-25 02:30", "Europe/Berlin", Moment(utc(2026, 10, 25, 0, 30), repeated=True)),
        # An offset settles the fold: nothing to flag.
        ("2026-11-01 01:30 -05:00", "America/New_York", Moment(utc(2026, 11, 1, 6, 30))),
    ],
)
def test_moments(text: str, zone: str | None, expected: Moment) -> None:
    assert read_moment(text, zone) == expected


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2026-11-02", "Europe/Berlin", utc(2026, 11, 2, 23, 0)),
        ("2026-03-07", "America/New_York", utc(2026, 3, 8, 5, 0)),  # the next midnight is in EST still
        ("2026-03-08", "America/New_York", utc(2026, 3, 9, 4, 0)),  # ... and here in EDT
        ("2026-11-02 10:00", "Europe/Berlin", utc(2026, 11, 2, 9, 0)),  # a time is not moved
    ],
)
def test_an_end_date_is_the_end_of_that_day(text: str, zone: str, expected: datetime) -> None:
    assert read_moment(text, zone, end_of_day=True).utc == expected


@pytest.mark.parametrize(
    ("text", "zone", "message"),
    [
        ("next tuesday", None, "'next tuesday' is not a date and time — write it like 2026-11-02 10:00"),
        ("x" * 100, None, f"'{'x' * 79}…' is not a date and time"),
        ("2026-11-02 10", None, "is not a date and time"),
        ("9999-12-31 22:00", None, "'9999-12-31 22:00' is outside the years 1900–2999 this tool handles"),
        ("0001-01-01", "UTC", "'0001-01-01' is outside the years 1900–2999"),
        ("2026-13-02 10:00", None, "'2026-13-02 10:00' is not a real date or time (month must be in 1..12)"),
        ("2026-02-30", "UTC", "is not a real date or time (day is out of range for month)"),
        ("2026-11-02 25:00", None, "is not a real date or time (hour must be in 0..23)"),
        ("2026-11-02 10:00 +25:00", None, "(offset +25:00 is out of range)"),
        ("2026-11-02 10:00 +01:75", None, "(offset +01:75 is out of range)"),
        ("2026-11-02 Z", "UTC", "(a date alone cannot have an offset)"),
        (
            "2026-03-08 02:30",
            "America/New_York",
            "'2026-03-08 02:30' does not exist in America/New_York (the clocks jump forward then) — "
            "pick a time outside the gap, or add an offset like +01:00",
        ),
        ("2026-03-29 02:00", "Europe/Berlin", "does not exist in Europe/Berlin"),
    ],
)
def test_bad_moments_say_what_and_how(text: str, zone: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        read_moment(text, zone)
    assert str(caught.value).startswith("'")  # the builder puts the key in front


def test_the_gap_is_refused_only_without_an_offset() -> None:
    assert read_moment("2026-03-08 02:30 -05:00", "America/New_York") == Moment(utc(2026, 3, 8, 7, 30))


def test_without_a_zone_the_machine_s_local_zone_is_used() -> None:
    naive = datetime(2026, 11, 2, 10, 0)
    assert read_moment("2026-11-02 10:00", None) == Moment(naive.astimezone(UTC))


@pytest.mark.parametrize("name", ["UTC", "America/New_York", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
def test_known_zones(name: str) -> None:
    assert read_zone(name) == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("America/New_Yrok", "unknown time zone 'America/New_Yrok' — did you mean 'America/New_York'?"),
        ("Nowhere", "unknown time zone 'Nowhere' — use an IANA name like Europe/Berlin"),
        ("Europe/../../etc/passwd", "unknown time zone 'Europe/../../etc/passwd'"),
        ("a/" * 499 + "b", "unknown time zone 'a/a/a/"),
        ("/" * 1000, f"unknown time zone '{'/' * 79}…'"),
    ],
)
def test_unknown_zones(name: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        read_zone(name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90m", timedelta(minutes=90)), ("1D12H", timedelta(hours=36)), ("365d", timedelta(days=365))],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2 weeks", "'2 weeks' is not a duration — write it like 90m, 48h, 2d or 1d12h"),
        ("365d1m", "'365d1m' is longer than 365 days, the limit"),
        ("9" * 30 + "h", "is longer than 365 days"),
    ],
)
def test_bad_durations(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_duration(text)


@pytest.mark.parametrize(
    ("moment", "zone", "day", "next_midnight", "shown"),
    [
        (utc(2026, 11, 2, 23, 30), "Europe/Berlin", date(2026, 11, 3), utc(2026, 11, 3, 23, 0), "2026-11-03 00:30"),
        (utc(2026, 11, 2, 3, 0), "America/New_York", date(2026, 11, 1), utc(2026, 11, 2, 5, 0), "2026-11-01 22:00"),
        (utc(2026, 3, 28, 12, 0), "Europe/Berlin", date(2026, 3, 28), utc(2026, 3, 28, 23, 0), "2026-03-28 13:00"),
    ],
)  # fmt: skip
def test_days_in_a_zone(moment: datetime, zone: str, day: date, next_midnight: datetime, shown: str) -> None:
    assert local_date(moment, zone) == day
    assert day_after(moment, zone) == next_midnight
    assert show(moment, zone) == shown


ZONES = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Pacific/Kiritimati",
    "Asia/Kathmandu",
]


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(LAST_YEAR, 12, 30)),
    st.sampled_from(ZONES),
)
def test_a_time_written_in_a_zone_reads_back_as_written(naive: datetime, zone: str) -> None:
    text = f"{naive:%Y-%m-%d %H:%M:%S}"
    try:
        moment = read_moment(text, zone)
    except ValueError as exc:
        assert "does not exist in" in str(exc)  # only the gap is refused
        return
    local = moment.utc.astimezone(ZoneInfo(zone))
    assert local.replace(tzinfo=None) == naive.replace(microsecond=0)
    assert moment.utc.tzinfo is UTC and not moment.all_day
    assert moment.repeated == (local.replace(fold=1).utcoffset() != local.utcoffset())
