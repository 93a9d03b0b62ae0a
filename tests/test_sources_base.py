"""The Source protocol and StaticSource, the in-memory source (sources/base.py)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from greenmail import Mail
from source_contract import MakeSource, SourceTests
from thankyou_scan import MessageError, SentMessage, Source, StaticSource

UTC = timezone.utc


def test_static_source_yields_what_it_holds() -> None:
    message = SentMessage(date=datetime(2026, 11, 2, tzinfo=UTC), recipients=("a@x.example",))
    source = StaticSource([message], folder="Sent", skipped=2)
    assert list(source.sent_messages()) == [message]
    assert (source.kind, source.folder, source.messages_skipped) == ("static", "Sent", 2)
    assert isinstance(source, Source)


class TestStaticSource(SourceTests):
    """StaticSource holds parsed messages: what could not be parsed is counted by whoever built it."""

    kind = "static"
    folder = "Sent"

    @pytest.fixture
    def make_source(self) -> MakeSource:
        def make(mail: list[Mail]) -> Source:
            parsed, skipped = [], 0
            for item in mail:
                try:
                    parsed.append(SentMessage.from_headers(item.raw, fallback_date=item.internaldate))
                except MessageError:
                    skipped += 1
            return StaticSource(parsed, folder="Sent", skipped=skipped)

        return make
