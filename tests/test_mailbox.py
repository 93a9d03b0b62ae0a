"""MboxSource and MaildirSource: Takeout filtering, fallback dates, broken and missing files."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from helpers import raw_message, write_mbox
from thankyou_scan import MailboxError, MaildirSource, MboxSource, Source, StaticSource

UTC = timezone.utc
FROM_DATE = "Tue Nov 03 01:02:03 +0000 2026"


def recipients(source: Source) -> list[str]:
    return sorted(r for message in source.sent_messages() for r in message.recipients)


def test_plain_sent_mbox_keeps_every_message(tmp_path: Path) -> None:
    path = write_mbox(
        tmp_path / "Sent.mbox",
        [(FROM_DATE, raw_message(to="a@x.example")), (FROM_DATE, raw_message(to="b@x.example"))],
    )
    source = MboxSource(path)
    assert recipients(source) == ["a@x.example", "b@x.example"]
    assert source.kind == "mbox" and source.folder == "Sent.mbox"
    assert isinstance(source, Source)


def test_takeout_keeps_sent_label_or_my_address(tmp_path: Path) -> None:
    path = write_mbox(
        tmp_path / "All mail Including Spam and Trash.mbox",
        [
            (
                FROM_DATE,
                raw_message(to="sent@x.example", extra="X-Gmail-Labels: Opened,Sent,Category Personal"),
            ),
            (FROM_DATE, raw_message(to="quoted@x.example", extra='X-Gmail-Labels: "Important",\n "Sent"')),
            (
                FROM_DATE,
                raw_message(
                    to="me@x.example", sender="Ada <ada@acme.example>", extra="X-Gmail-Labels: Inbox"
                ),
            ),
            (
                FROM_DATE,
                raw_message(
                    to="alias@x.example", sender="Me <ME@example.com>", extra="X-Gmail-Labels: Archived"
                ),
            ),
            (
                FROM_DATE,
                raw_message(to="spam@x.example", sender="x@spam.example", extra="X-Gmail-Labels: Spam"),
            ),
        ],
    )
    assert recipients(MboxSource(path)) == ["quoted@x.example", "sent@x.example"]
    assert recipients(MboxSource(path, me=["me@example.com"])) == [
        "alias@x.example",
        "quoted@x.example",
        "sent@x.example",
    ]


def test_unlabelled_mbox_with_me_keeps_only_my_messages(tmp_path: Path) -> None:
    path = write_mbox(
        tmp_path / "mixed.mbox",
        [
            (FROM_DATE, raw_message(to="a@x.example", sender="me@example.com")),
            (FROM_DATE, raw_message(to="b@x.example", sender="someone@else.example")),
        ],
    )
    assert recipients(MboxSource(path, me=["me@example.com"])) == ["a@x.example"]


def test_from_line_date_is_the_fallback(tmp_path: Path) -> None:
    path = write_mbox(
        tmp_path / "Sent.mbox",
        [
            ("Sat Nov 07 02:05:00 +0000 2026", raw_message(date="Fri, 6 Nov 2026 21:05:00")),
            ("Sat Nov  7 02:05:00 2026", raw_message(date=None, message_id="<m2@x>")),
            ("Sat Nov 07 03:05:00 +0100 2026", raw_message(date="garbage", message_id="<m3@x>")),
        ],
    )
    dates = [message.date for message in MboxSource(path).sent_messages()]
    assert dates == [datetime(2026, 11, 7, 2, 5, tzinfo=UTC)] * 3


def test_broken_messages_are_skipped_counted_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "Sent.mbox"
    path.write_bytes(
        b"From x Tue Nov 03 01:02:03 +0000 2026\n" + raw_message(to="good@x.example") + b"\n"
        b"From x not-a-date\nTo: a@x.example\nSubject: no date anywhere\n\nbody\n\n"
        b"From x Tue Nov 03 01:02:03 +0000 2026\n" + raw_message(to="good2@x.example") + b"\n"
    )
    source = MboxSource(path)
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        assert recipients(source) == ["good2@x.example", "good@x.example"]
    assert source.messages_skipped == 1
    assert "skipped message 1" in caplog.text and "no usable Date" in caplog.text


def test_only_headers_are_read(tmp_path: Path) -> None:
    huge_body = "x" * 5_000_000 + "\nTo: body-is-not-a-header@x.example\n"
    path = write_mbox(tmp_path / "Sent.mbox", [(FROM_DATE, raw_message(to="a@x.example", body=huge_body))])
    assert recipients(MboxSource(path)) == ["a@x.example"]


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "is a folder, not an mbox file"),
        (lambda p: p.write_text("hello, not mail\n"), "is not an mbox file"),
    ],
)
def test_mbox_errors(tmp_path: Path, setup: object, fragment: str) -> None:
    path = tmp_path / "Sent.mbox"
    setup(path)  # type: ignore[operator]
    with pytest.raises(MailboxError, match=fragment):
        list(MboxSource(path).sent_messages())


def test_empty_mbox_has_no_messages(tmp_path: Path) -> None:
    path = tmp_path / "Sent.mbox"
    path.write_bytes(b"")
    assert list(MboxSource(path).sent_messages()) == []


def make_maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    return root


def test_maildir_reads_new_and_cur_with_delivery_time_fallback(tmp_path: Path) -> None:
    box = make_maildir(tmp_path / "Sent")
    (box / "cur" / "1762135323.M1P1.host:2,S").write_bytes(raw_message(to="a@x.example"))
    (box / "new" / "1762135324.M2P1.host").write_bytes(raw_message(to="b@x.example", date=None))
    delivered = datetime(2026, 11, 4, 12, 0, tzinfo=UTC).timestamp()
    os.utime(box / "new" / "1762135324.M2P1.host", (delivered, delivered))
    (box / "tmp" / "partial").write_bytes(raw_message(to="tmp@x.example"))
    source = MaildirSource(box)
    messages = sorted(source.sent_messages(), key=lambda m: m.recipients)
    assert [m.recipients for m in messages] == [("a@x.example",), ("b@x.example",)]
    assert messages[1].date == datetime(2026, 11, 4, 12, 0, tzinfo=UTC)
    assert messages[1].uid == "1762135324.M2P1.host"
    assert source.kind == "maildir"


def test_maildir_is_never_changed(tmp_path: Path) -> None:
    box = make_maildir(tmp_path / "Sent")
    (box / "new" / "1.M1.host").write_bytes(raw_message())
    before = sorted(str(p.relative_to(box)) for p in box.rglob("*"))
    list(MaildirSource(box).sent_messages())
    assert sorted(str(p.relative_to(box)) for p in box.rglob("*")) == before


def test_maildir_errors(tmp_path: Path) -> None:
    with pytest.raises(MailboxError, match="no such folder"):
        list(MaildirSource(tmp_path / "nope").sent_messages())
    make_maildir(tmp_path / "root" / ".Sent")
    with pytest.raises(MailboxError, match=r"try --maildir .*\.Sent"):
        list(MaildirSource(tmp_path / "root").sent_messages())


@pytest.fixture
def alarm() -> Iterator[None]:
    """Fail a test that blocks for 20 s instead of hanging the suite."""

    def timeout(signum: int, frame: object) -> None:
        raise TimeoutError("blocked for 20 s")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_a_fifo_named_like_a_message_does_not_hang_a_maildir_scan(
    tmp_path: Path, alarm: None, caplog: pytest.LogCaptureFixture
) -> None:
    box = make_maildir(tmp_path / "Sent")
    os.mkfifo(box / "cur" / "1.M1.host:2,S")
    (box / "cur" / "2.M2.host:2,S").write_bytes(raw_message(to="a@x.example"))
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        messages = list(MaildirSource(box).sent_messages())
    assert [m.recipients for m in messages] == [("a@x.example",)]
    assert "not a regular file" in caplog.text


def test_a_fifo_given_as_the_mbox_is_an_error_not_a_hang(tmp_path: Path, alarm: None) -> None:
    os.mkfifo(tmp_path / "Sent.mbox")
    with pytest.raises(MailboxError, match="not a regular file"):
        list(MboxSource(tmp_path / "Sent.mbox").sent_messages())


def test_static_source_yields_what_it_holds() -> None:
    from thankyou_scan import SentMessage

    message = SentMessage(date=datetime(2026, 11, 2, tzinfo=UTC), recipients=("a@x.example",))
    source = StaticSource([message], folder="Sent", skipped=2)
    assert list(source.sent_messages()) == [message]
    assert (source.kind, source.folder, source.messages_skipped) == ("static", "Sent", 2)
    assert isinstance(source, Source)
