"""MboxSource and MaildirSource: Takeout filtering, fallback dates, broken and missing files; the Source contract."""

from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mbox_reference
from greenmail import Mail
from helpers import (
    BARE_CR_CASE,
    HEADER_CASES,
    SPACE_BEFORE_COLON_CASE,
    header_case_calendar,
    raw_message,
    write_mbox,
)
from source_contract import MakeSource, SourceTests
from thankyou_scan import MailboxError, MaildirSource, MboxSource, Source, StaticSource, parse_calendar, scan
from thankyou_scan.sources import mailbox as mailbox_module

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
    with pytest.raises(MailboxError, match=r"try .*\.Sent"):
        list(MaildirSource(tmp_path / "root").sent_messages())


def test_a_fifo_named_like_a_message_does_not_hang_a_maildir_scan(
    tmp_path: Path, alarm: None, caplog: pytest.LogCaptureFixture
) -> None:
    box = make_maildir(tmp_path / "Sent")
    os.mkfifo(box / "cur" / "1.M1.host:2,S")
    (box / "cur" / "2.M2.host:2,S").write_bytes(raw_message(to="a@x.example"))
    source = MaildirSource(box)
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        messages = list(source.sent_messages())
    assert [m.recipients for m in messages] == [("a@x.example",)]
    assert "not a regular file" in caplog.text
    assert source.messages_skipped == 1  # skipped, and counted


def test_a_fifo_given_as_the_mbox_is_an_error_not_a_hang(tmp_path: Path, alarm: None) -> None:
    os.mkfifo(tmp_path / "Sent.mbox")
    with pytest.raises(MailboxError, match="not a regular file"):
        list(MboxSource(tmp_path / "Sent.mbox").sent_messages())


# -- issue 9: what counts as sent, and who "me" is ---------------------------------------

ME_MAIL = [
    ("sent", "X-Gmail-Labels: Sent,Opened", "me@example.com"),
    ("draft", "X-Gmail-Labels: Drafts", "me@example.com"),
    ("sent-draft", "X-Gmail-Labels: Sent,Draft", "me@example.com"),
    ("trash", "X-Gmail-Labels: Trash", "me@example.com"),
    ("spam", "X-Gmail-Labels: Spam", "me@example.com"),
    ("inbox", "X-Gmail-Labels: Inbox", "me@example.com"),
    ("archived", "X-Gmail-Labels: Archived", "Me <ME@example.com>"),
    ("received-sent-label", "X-Gmail-Labels: Sent", "someone@else.example"),
]


@pytest.mark.parametrize("kind", ["mbox", "maildir"])
def test_takeout_labels_decide_and_drafts_never_count(tmp_path: Path, kind: str) -> None:
    mail = [
        raw_message(to=f"{name}@x.example", sender=sender, extra=labels) for name, labels, sender in ME_MAIL
    ]
    expected = ["received-sent-label@x.example", "sent@x.example"]
    assert recipients(file_source(tmp_path / "plain", kind, mail)) == expected
    # `me` changes nothing where labels are: a draft, trash, spam or received mail From you is not sent
    assert recipients(file_source(tmp_path / "me", kind, mail, me=["me@example.com"])) == expected


def test_drafts_in_takeout_never_turn_missing_into_sent(tmp_path: Path) -> None:
    calendar = parse_calendar(
        "version: 1\ntimezone: UTC\nme: [me@example.com]\nevents:\n"
        "  - {title: Onsite, kind: interview, start: 2026-11-02 10:00, people: [ada@acme.example]}\n"
    )
    draft = raw_message(to="ada@acme.example", sender="me@example.com", extra="X-Gmail-Labels: Drafts")
    path = write_mbox(tmp_path / "takeout.mbox", [(FROM_DATE, draft)])
    report = scan(calendar, MboxSource(path), now=datetime(2026, 11, 10, tzinfo=UTC))
    assert [f.status.value for f in report.followups] == ["missing"]


@pytest.mark.parametrize(
    "sender",
    [
        "raasdnil+x@gmail.com",
        "Raas <raasdnil@googlemail.com>",
        "r.a.a.s.d.n.i.l@GMAIL.com",
        "Pete(A wonderful \\) chap) <Raas.Dnil(his account)@gmail.com(his host)>",
    ],
)
@pytest.mark.parametrize("kind", ["mbox", "maildir"])
def test_me_is_normalized_like_recipients(tmp_path: Path, sender: str, kind: str) -> None:
    raw = raw_message(to="a@x.example", sender=sender)
    other = raw_message(to="b@x.example", sender="raasdnil@example.com")
    source = file_source(tmp_path, kind, [raw, other], me=["Raas.Dnil@gmail.com"])
    assert recipients(source) == ["a@x.example"]


def file_source(
    tmp_path: Path, kind: str, messages: list[bytes], *, me: list[str] | None = None
) -> MboxSource | MaildirSource:
    """The messages as an mbox file or as a Maildir."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    if kind == "mbox":
        return MboxSource(write_mbox(tmp_path / "Sent.mbox", [(FROM_DATE, raw) for raw in messages]), me=me)
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "Sent" / sub).mkdir(parents=True, exist_ok=True)
    for number, raw in enumerate(messages):
        (tmp_path / "Sent" / "cur" / f"{number}.M{number}.host:2,S").write_bytes(raw)
    return MaildirSource(tmp_path / "Sent", me=me)


@pytest.mark.parametrize("kind", ["mbox", "maildir"])
def test_a_me_that_matches_nothing_says_so_and_names_the_senders(
    tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    calendar = parse_calendar(
        "version: 1\ntimezone: UTC\nme: [you@gmail.com]\nevents:\n"
        "  - {title: Onsite, kind: interview, start: 2026-11-02 10:00, people: [ada@acme.example]}\n"
    )
    mine = [raw_message(to="ada@acme.example", sender="Jordan <jordan@example.com>")] * 3
    source = file_source(tmp_path, kind, [*mine, raw_message(sender="other@example.com")])
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        report = scan(calendar, source, now=datetime(2026, 11, 10, tzinfo=UTC))
    assert report.source.messages_scanned == 0
    assert "jordan@example.com (3)" in caplog.text and "other@example.com (1)" in caplog.text
    assert any("jordan@example.com (3)" in warning for warning in report.warnings)


def test_a_labelled_store_without_sent_mail_says_so(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write_mbox(
        tmp_path / "Inbox.mbox", [(FROM_DATE, raw_message(extra="X-Gmail-Labels: Inbox,Important"))]
    )
    source = MboxSource(path)
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        assert recipients(source) == []
    assert "labelled Sent" in caplog.text and source.warnings


@pytest.mark.parametrize("kind", ["mbox", "maildir"])
@pytest.mark.parametrize(
    "case", [*HEADER_CASES, BARE_CR_CASE, SPACE_BEFORE_COLON_CASE], ids=lambda case: case[0]
)
def test_real_world_headers_find_every_recipient(
    tmp_path: Path, kind: str, case: tuple[str, bytes, str]
) -> None:
    _name, raw, recipient = case
    calendar = parse_calendar(header_case_calendar([case]))
    report = scan(calendar, file_source(tmp_path, kind, [raw]), now=datetime(2026, 11, 10, tzinfo=UTC))
    assert [(f.person.email, f.status.value) for f in report.followups] == [(recipient, "sent")]


def test_readme_snippet_takes_the_calendars_me_and_the_current_time(tmp_path: Path) -> None:
    # The README's snippet passes no `me` and no `now`: the calendar's `me` and the clock are used.
    calendar = parse_calendar(
        "version: 1\ntimezone: UTC\nme: [me@example.com]\nevents:\n"
        "  - {title: Onsite, kind: interview, start: 2020-11-02 10:00, people: [ada@acme.example]}\n"
    )
    mine = raw_message(to="ada@acme.example", sender="me@example.com", date="Tue, 3 Nov 2020 09:00:00 +0000")
    theirs = raw_message(
        to="ada@acme.example", sender="ada@acme.example", date="Mon, 2 Nov 2020 11:00:00 +0000"
    )
    path = write_mbox(tmp_path / "mixed.mbox", [(FROM_DATE, theirs), (FROM_DATE, mine)])
    report = scan(calendar, MboxSource(path))
    assert [f.status.value for f in report.followups] == ["sent"]
    assert report.followups[0].message is not None
    assert report.followups[0].message.date == datetime(2020, 11, 3, 9, 0, tzinfo=UTC)
    assert report.source.messages_scanned == 1  # Ada's own message is not yours
    assert abs((report.now - datetime.now(UTC)).total_seconds()) < 60


def test_naive_times_are_library_errors() -> None:
    from thankyou_scan import SentMessage, ThankyouScanError

    calendar = parse_calendar("version: 1\ntimezone: UTC\nevents: []\n")
    with pytest.raises(ThankyouScanError, match="now must be timezone-aware"):
        scan(calendar, StaticSource([]), now=datetime(2026, 11, 10))
    with pytest.raises(ThankyouScanError, match="timezone-aware"):
        SentMessage(date=datetime(2026, 11, 10), recipients=())
    with pytest.raises(ThankyouScanError, match="fallback_date"):
        SentMessage.from_headers(raw_message(), fallback_date=datetime(2026, 11, 10))


def test_a_quoted_from_header_line_in_an_mbox_does_not_end_the_headers(tmp_path: Path) -> None:
    # mbox writers quote a header line starting "From " as ">From "; left so, the parser
    # took it for the start of the body and lost the To below it (SpamAssassin spam/008).
    raw = b"Subject: hi\n>From  :<tst1@x.example>\nTo: jenny@acme.example\nDate: Tue, 3 Nov 2026 09:00:00 +0000\n\nbody\n"
    path = tmp_path / "Sent.mbox"
    path.write_bytes(b"From x@y Tue Nov 03 09:00:00 2026\n" + raw)
    assert recipients(MboxSource(path)) == ["jenny@acme.example"]


@pytest.mark.parametrize("kind", ["mbox", "maildir"])
def test_a_drafts_label_in_a_second_labels_field_still_counts(tmp_path: Path, kind: str) -> None:
    draft = raw_message(to="ada@acme.example", extra="X-Gmail-Labels: Sent\nX-Gmail-Labels: Drafts")
    assert recipients(file_source(tmp_path, kind, [draft])) == []


# -- the memory-mapped reader against the chunked one it replaced ------------------------

# Pieces that make separators, quoted From lines, both line endings, blank lines, long
# lines and header blocks near the cap, in every order.
PIECES = [
    b"From ",
    b"\n",
    b"\r\n",
    b"\r",
    b">From ",
    b">>From ",
    b"To: ada@acme.example",
    b"X-Gmail-Labels: Sent",
    b"\n\n",
    b"\n\r\n",
    b"From x@y Tue Nov 03 09:00:00 2026",
    b"a" * 5_000,
    b"b" * (mailbox_module.MAX_HEADER_BLOCK - 3),
    b" ",
]


def fast_entries(path: Path) -> list[tuple[bytes | int, datetime | None]]:
    return [(_comparable(block), delivered()) for _, block, delivered in MboxSource(path)._raw_messages()]


def reference_entries(path: Path) -> list[tuple[bytes | int, datetime | None]]:
    return [
        (_comparable(block), mailbox_module._from_line_date(from_line))
        for _, from_line, block in mbox_reference.entries(str(path))
    ]


def _comparable(block: bytes | mailbox_module._TooLarge | mbox_reference.TooLarge) -> bytes | int:
    return block if isinstance(block, bytes) else -block.size


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=25), st.sampled_from([1, 7, 4096, 8 << 20]))
def test_the_mapped_reader_finds_what_the_chunked_one_found(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[bytes], window: int
) -> None:
    path = tmp_path_factory.mktemp("mbox") / "Sent.mbox"
    path.write_bytes(b"From " + b"".join(pieces))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mailbox_module, "_WINDOW", window)  # separators across window edges too
        assert fast_entries(path) == reference_entries(path)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*PIECES, b"c" * 20_000]), max_size=25))
def test_a_maildir_file_is_read_up_to_its_blank_line_as_before(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[bytes]
) -> None:
    path = tmp_path_factory.mktemp("maildir") / "message"
    path.write_bytes(b"".join(pieces))
    with open(path, "rb") as fast, open(path, "rb") as reference:
        got = mailbox_module._read_header_block(fast)
        assert _comparable(got) == _comparable(mbox_reference._read_header_block(reference))
        if isinstance(got, bytes):
            assert fast.tell() <= max(len(got), 16_384) * 2 + 2  # never the body beyond the header


def test_the_mapped_reader_agrees_on_the_hostile_and_real_world_cases(tmp_path: Path) -> None:
    entries = [(FROM_DATE, raw) for _, raw, _ in HEADER_CASES] + [
        (FROM_DATE, BARE_CR_CASE[1]),
        (FROM_DATE, SPACE_BEFORE_COLON_CASE[1]),
        (FROM_DATE, b"Subject: hi\n>From  :<x@y.example>\nTo: j@acme.example\n\nFrom the body\n"),
        ("garbage date", b"To: a@b.example\r\n\r\nbody"),
    ]
    path = write_mbox(tmp_path / "Sent.mbox", entries)
    found = fast_entries(path)
    assert found == reference_entries(path)
    assert len(found) == len(entries) + 1  # "From the body" at a line start separates, as mboxo says


def test_progress_reaches_the_file_size(tmp_path: Path) -> None:
    path = write_mbox(tmp_path / "Sent.mbox", [(FROM_DATE, raw_message()), (FROM_DATE, raw_message())])
    seen: list[tuple[int, int]] = []
    list(MboxSource(path, progress=lambda done, total: seen.append((done, total))).sent_messages())
    size = path.stat().st_size
    assert seen[-1] == (size, size)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


# -- the Source contract ------------------------------------------------------------------


class TestMboxSource(SourceTests):
    kind = "mbox"
    folder = "Sent.mbox"

    @pytest.fixture
    def make_source(self, tmp_path: Path) -> MakeSource:
        made = iter(range(1_000))

        def make(mail: list[Mail]) -> Source:
            folder = tmp_path / str(next(made))
            folder.mkdir()
            entries = [(f"{m.internaldate:%a %b %d %H:%M:%S +0000 %Y}", m.raw) for m in mail]
            return MboxSource(write_mbox(folder / "Sent.mbox", entries))

        return make


class TestMaildirSource(SourceTests):
    kind = "maildir"
    folder = "Sent"

    @pytest.fixture
    def make_source(self, tmp_path: Path) -> MakeSource:
        made = iter(range(1_000))

        def make(mail: list[Mail]) -> Source:
            box = make_maildir(tmp_path / str(next(made)) / "Sent")
            for number, item in enumerate(mail):
                path = box / "cur" / f"{number}.M{number}.host:2,S"
                path.write_bytes(item.raw)
                os.utime(path, (item.internaldate.timestamp(), item.internaldate.timestamp()))
            return MaildirSource(box)

        return make
