"""What every Source must do, as a test class each source's test module runs over its own kind.

After vdirsyncer's tests/storage/__init__.py (StorageTests): a subclass sets ``kind`` and
``folder`` and supplies the fixture ``make_source``, a function from the mail a source
should hold (raw bytes with the time a store would record) to a Source ready to read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from greenmail import Mail
from helpers import raw_message
from thankyou_scan import Calendar, Event, Person, Policy, Source, match
from thankyou_scan.matching import Relevance

UTC = timezone.utc
START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 10, tzinfo=UTC)


def _at(hours: float) -> str:
    return f"{START + timedelta(hours=hours):%a, %d %b %Y %H:%M:%S +0000}"


GOOD = [
    Mail(raw_message(to="Ada <ada@acme.example>", date=_at(5), message_id="<ada@x>"), START + timedelta(hours=5)),
    Mail(raw_message(to="grace@acme.example", cc="tom@gmail.com", date=_at(-2), message_id="<early@x>"),
         START - timedelta(hours=2)),
    Mail(raw_message(to="talent@recruit.example", date=_at(30), message_id="<rec@x>"), START + timedelta(hours=30)),
    Mail(raw_message(to="ada@acme.example", date=_at(50), message_id="<again@x>"), START + timedelta(hours=50)),
]  # fmt: skip
# Groups nested 5,000 deep: no reader can make recipients of that, on any source.
BROKEN = Mail(
    b"From: me@example.com\nTo: bo@acme.example, " + b"(" * 5_000 + b"\nSubject: x\nDate: " + _at(6).encode()
    + b"\nMessage-ID: <broken@x>\n\nbody\n",
    START + timedelta(hours=6),
)  # fmt: skip
CALENDAR = Calendar(
    events=(
        Event("a", "A", "interview", START, START + timedelta(hours=1), "UTC",
              (Person("Ada", "ada@acme.example"), Person("Grace", "grace@acme.example"), Person("Rec")),
              domain="recruit.example", follow_up=Policy(timedelta(hours=24))),
    )
)  # fmt: skip

MakeSource = Callable[[list[Mail]], Source]


class SourceTests:
    """The behaviours every source shares; subclasses name their kind and folder and build sources."""

    kind: str
    folder: str | None

    @pytest.fixture
    def make_source(self) -> MakeSource:
        raise NotImplementedError  # each subclass supplies its own

    def test_is_a_source_of_its_kind_and_folder(self, make_source: MakeSource) -> None:
        source = make_source(GOOD)
        assert isinstance(source, Source)
        list(source.sent_messages())  # an IMAP source knows its folder once it has chosen it
        assert (source.kind, source.folder) == (self.kind, self.folder)

    def test_yields_the_messages_it_holds_with_their_recipients_and_dates(
        self, make_source: MakeSource
    ) -> None:
        source = make_source(GOOD)
        got = sorted((m.message_id, m.recipients, m.date) for m in source.sent_messages())
        assert got == [
            ("<ada@x>", ("ada@acme.example",), START + timedelta(hours=5)),
            ("<again@x>", ("ada@acme.example",), START + timedelta(hours=50)),
            ("<early@x>", ("grace@acme.example", "tom@gmail.com"), START - timedelta(hours=2)),
            ("<rec@x>", ("talent@recruit.example",), START + timedelta(hours=30)),
        ]
        assert (source.messages_scanned, source.messages_skipped) == (4, 0)

    def test_holding_nothing_yields_nothing(self, make_source: MakeSource) -> None:
        source = make_source([])
        assert list(source.sent_messages()) == []
        assert (source.messages_scanned, source.messages_skipped) == (0, 0)

    def test_a_broken_message_is_skipped_and_counted(self, make_source: MakeSource) -> None:
        source = make_source([GOOD[0], BROKEN, GOOD[2]])
        assert sorted(m.message_id for m in source.sent_messages()) == ["<ada@x>", "<rec@x>"]
        assert source.messages_skipped == 1
        assert source.messages_scanned >= 2

    def test_the_relevant_hint_never_changes_the_report(self, make_source: MakeSource) -> None:
        every = match(CALENDAR, make_source([*GOOD, BROKEN]).sent_messages(), NOW)
        hinted = match(
            CALENDAR, make_source([*GOOD, BROKEN]).sent_messages(relevant=Relevance(CALENDAR, NOW)), NOW
        )
        assert hinted.followups == every.followups
        assert [f.status.value for f in every.followups] == ["sent", "missing", "late"]
