"""MboxSource and MaildirSource: sent mail from files (Google Takeout, local mail stores).

Which messages are sent mail (docs/takeout.md): a message that carries Gmail labels
(``X-Gmail-Labels``, as Takeout writes them) is judged by its labels alone — ``Sent``
counts, and ``Drafts``/``Draft`` never does, whatever else it carries; a message
without labels counts when it is From one of ``me`` (compared as recipients are, see
:func:`~thankyou_scan.message.normalize_address`), or always when no ``me`` is given.

Files are read at the disk's speed in bounded memory: an mbox is memory-mapped and
searched for its ``\nFrom `` separators (pages already passed are released, so the
resident size stays flat whatever the file's size), and of each message only the
header block is looked at, up to :data:`~thankyou_scan.message.MAX_HEADER_BLOCK` (a
longer one is skipped and counted); a Maildir file is read only up to its blank line.
Whether a Takeout message is sent mail is decided from its raw ``X-Gmail-Labels``
bytes before anything is parsed.
"""

from __future__ import annotations

import csv
import logging
import mmap
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import BinaryIO

from ..errors import MailboxError
from ..message import MAX_HEADER_BLOCK, SentMessage, from_addresses, normalize_address
from ..paths import open_regular_file
from .base import Relevant
from .reading import Reader

__all__ = ["MaildirSource", "MboxSource"]

log = logging.getLogger("thankyou_scan")

UTC = timezone.utc

_WINDOW = 8 << 20
"""An mbox is searched this many bytes at a time; the mapped pages of windows passed are released."""
_MAILDIR_READ = 16 << 10
MAX_FROM_LINE = 4096
"""An mbox ``From `` line is read up to this many bytes; the rest of a longer one is ignored."""
_NOT_SENT_LABELS = frozenset({"drafts", "draft"})
_FROM_LINE_DATE = re.compile(
    rb"(?P<month>[A-Z][a-z]{2})\s+(?P<day>\d{1,2})\s+(?P<clock>\d{1,2}:\d{2}(?::\d{2})?)"
    rb"(?:\s+(?P<offset>[+-]\d{4}))?\s+(?P<year>\d{4})\s*$"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"),
        start=1,
    )
}
_HEADER_END = re.compile(rb"\n\r?\n")
_QUOTED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)
_LABELS_HEADER = re.compile(rb"^x-gmail-labels[ \t]*:(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)


_Delivered = Callable[[], "datetime | None"]
"""A message's fallback time, worked out only for the messages that are read (most of a Takeout file is not)."""


class _TooLarge:
    """Stands for a header block over the limit: the message is skipped and counted."""

    def __init__(self, size: int) -> None:
        self.size = size


class _FileSource:
    """What the mbox and Maildir sources share: the "is it sent mail?" filter, counting, warnings."""

    kind = "file"

    def __init__(
        self,
        path: str | Path,
        *,
        me: Iterable[str] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """``progress(done, total)`` is called as the file is read (mbox: bytes; Maildir: messages)."""
        self.path = Path(path)
        self.progress = progress
        self.me = None if me is None else frozenset(normalize_address(address) for address in me)
        self.messages_scanned = 0
        self.warnings: tuple[str, ...] = ()
        self._reader = Reader(None, self._where)

    @property
    def messages_skipped(self) -> int:
        """How many messages the last ``sent_messages`` call skipped (unreadable, or not parseable)."""
        return self._reader.skipped

    @property
    def folder(self) -> str:
        """The file or folder name, for the report (the full path is in ``path``)."""
        return self.path.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def _raw_messages(self) -> Iterator[tuple[str, bytes | _TooLarge, _Delivered]]:
        raise NotImplementedError

    def sent_messages(
        self,
        since: datetime | None = None,
        *,
        relevant: Relevant | None = None,
        me: Iterable[str] = (),
    ) -> Iterator[SentMessage]:
        """Yield the messages that are sent mail; unparseable ones are logged and counted.

        ``me`` is used only when the source was made without one (``scan()`` passes the
        calendar's). When the file holds messages but none of them counts as sent mail,
        a warning says why (in the log and in ``warnings``).
        """
        mine = self.me if self.me is not None else frozenset(normalize_address(address) for address in me)
        self.messages_scanned = 0
        self.warnings = ()
        self._reader = reader = Reader(relevant, self._where)
        seen = labelled = 0
        senders: Counter[str] = Counter()
        for key, header_block, delivered in self._raw_messages():
            seen += 1
            if isinstance(header_block, _TooLarge):
                # Too large to read safely: it cannot be told sent or not, so it is counted.
                self.messages_scanned += 1
                reader.read(
                    key, b"", delivered(), unreadable=f"its header block is over {MAX_HEADER_BLOCK:,} bytes"
                )
                continue
            labels = _gmail_labels(header_block)
            if labels is not None:
                labelled += 1
                if "sent" not in labels or labels & _NOT_SENT_LABELS:
                    continue
            elif mine:
                found = from_addresses(header_block)
                if not any(address in mine for address in found):
                    if len(senders) < 10_000:
                        senders.update(found[:1] or ["(no From address)"])
                    continue
            self.messages_scanned += 1
            message = reader.read(key, header_block, delivered()).message
            if message is not None:
                yield message
        if seen and not self.messages_scanned:
            self._warn_nothing_sent(seen, labelled, mine, senders)

    def _where(self, key: str) -> str:
        return f"message {key} in {self.path}"

    def _warn_nothing_sent(
        self, seen: int, labelled: int, mine: frozenset[str], senders: Counter[str]
    ) -> None:
        where = f"{self.path.name}: none of its {seen:,} messages"
        if labelled:
            warning = (
                f"{where} is labelled Sent (Gmail labels decide in a Takeout file; drafts never count) — "
                "export the Sent label, or all mail, from Google Takeout"
            )
        else:
            common = ", ".join(f"{address} ({count})" for address, count in senders.most_common(3))
            warning = (
                f"{where} is From you ({', '.join(sorted(mine))}); the most common senders are {common} — "
                "put the address you send from in the calendar's `me:`"
            )
        self.warnings = (warning,)
        log.warning("%s", warning)


class MboxSource(_FileSource):
    """Sent mail from an mbox file, such as Google Takeout's ``All mail Including Spam and Trash.mbox``.

    Messages labelled ``Sent`` (``X-Gmail-Labels``) are kept, drafts never; a message
    without labels is kept when it is From one of ``me``, or always when there is no
    ``me`` (a plain Sent-folder export). When ``me`` is None, ``scan()`` uses the
    calendar's.
    """

    kind = "mbox"

    def _raw_messages(self) -> Iterator[tuple[str, bytes | _TooLarge, _Delivered]]:
        where = str(self.path)
        try:
            with self._open() as handle:
                size = os.fstat(handle.fileno()).st_size
                if size == 0:
                    return
                # A file truncated by another program while it is mapped would end the
                # process (SIGBUS): Takeout files are read once they are complete.
                with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
                    yield from self._mapped_messages(view, size)
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise MailboxError(f"cannot read {where}: {reason}", path=where) from exc

    def _mapped_messages(
        self, view: mmap.mmap, size: int
    ) -> Iterator[tuple[str, bytes | _TooLarge, _Delivered]]:
        if hasattr(mmap, "MADV_SEQUENTIAL"):
            view.madvise(mmap.MADV_SEQUENTIAL)
        starts = _message_starts(view)
        start = next(starts, None)
        number = 0
        while start is not None:
            following = next(starts, None)
            end = size if following is None else following
            from_line, header_block = _read_entry(view, start, end)
            if self.progress is not None:
                self.progress(end, size)
            yield str(number), header_block, partial(_from_line_date, from_line)
            number += 1
            start = following

    def _open(self) -> BinaryIO:
        where = str(self.path)
        if self.path.is_dir():
            raise MailboxError(f"{where} is a folder, not an mbox file — is it a Maildir?", path=where)
        try:
            handle = open_regular_file(self.path)
        except FileNotFoundError as exc:
            raise MailboxError(f"{where}: no such file — check the mbox path", path=where) from exc
        except OSError as exc:
            raise MailboxError(f"cannot read {where}: {exc.strerror or exc}", path=where) from exc
        if handle is None:
            raise MailboxError(f"{where} is not a regular file (a FIFO or a device?)", path=where)
        first = handle.read(5)
        if first and first != b"From ":
            handle.close()
            raise MailboxError(
                f"{where} is not an mbox file (it should start with a 'From ' line) — "
                "give the .mbox file from Google Takeout, or read a Maildir folder with MaildirSource",
                path=where,
            )
        handle.seek(0)
        return handle


class MaildirSource(_FileSource):
    """Sent mail from a Maildir folder (the one holding ``cur/`` and ``new/``).

    Read-only: files are listed and read, never renamed (unlike ``mailbox.Maildir``,
    which moves messages from new/ to cur/ when asked for flags). Only regular files
    are read: a FIFO or device named like a message is skipped and counted.
    """

    kind = "maildir"

    def _raw_messages(self) -> Iterator[tuple[str, bytes | _TooLarge, _Delivered]]:
        self._check()
        try:
            listing = []
            for sub in ("new", "cur"):
                with os.scandir(self.path / sub) as entries:
                    names = sorted(entry.name for entry in entries if not entry.name.startswith("."))
                listing += [(sub, name) for name in names]
            for done, (sub, name) in enumerate(listing, start=1):
                if self.progress is not None:
                    self.progress(done, len(listing))
                key = name.split(":", 1)[0]
                try:
                    handle = open_regular_file(self.path / sub / name)
                except (FileNotFoundError, IsADirectoryError):
                    continue  # moved or deleted by a mail client while we read
                if handle is None:
                    self._reader.skip(key, "it is not a regular file")
                    continue
                with handle:
                    # A Maildir file's mtime is its delivery time (as in the stdlib's
                    # MaildirMessage); reading the whole message for it would parse bodies.
                    delivered = datetime.fromtimestamp(os.fstat(handle.fileno()).st_mtime, UTC)
                    header_block = _read_header_block(handle)
                yield key, header_block, _known(delivered)
        except OSError as exc:
            raise MailboxError(
                f"cannot read {self.path}: {exc.strerror or exc}", path=str(self.path)
            ) from exc

    def _check(self) -> None:
        where = str(self.path)
        if not self.path.is_dir():
            raise MailboxError(f"{where}: no such folder — check the Maildir path", path=where)
        if not (self.path / "cur").is_dir() or not (self.path / "new").is_dir():
            hint = (
                f" Sent mail in Maildir++ lives in '.Sent' — try {self.path / '.Sent'}"
                if (self.path / ".Sent").is_dir()
                else " give the folder that holds cur/ and new/"
            )
            raise MailboxError(f"{where} is not a Maildir (no cur/ and new/ folders) —{hint}", path=where)


def _message_starts(view: mmap.mmap) -> Iterator[int]:
    """The offset of every line that starts with ``From `` (mbox separators, mboxo and mboxrd alike).

    The file is searched a window at a time, and the pages of the windows passed are
    released from this process (they stay in the page cache; a header read behind
    the search maps its page again): memory stays flat whatever the file's size.
    """
    marker = b"\nFrom "
    if view[:5] == b"From ":
        yield 0
    size, position, released = len(view), 0, 0
    release = hasattr(mmap, "MADV_DONTNEED")
    while position < size:
        stop = min(position + _WINDOW, size)
        # A separator starting in this window may end in the next one.
        found = view.find(marker, position, stop + len(marker) - 1)
        while found >= 0:
            yield found + 1
            found = view.find(marker, found + 1, stop + len(marker) - 1)
        passed = position - position % mmap.PAGESIZE
        if release and passed > released:
            view.madvise(mmap.MADV_DONTNEED, released, passed - released)
            released = passed
        position = stop


def _read_entry(view: mmap.mmap, start: int, end: int) -> tuple[bytes, bytes | _TooLarge]:
    """The ``From `` line and the header block of the mbox message between ``start`` and ``end``."""
    limit = start + min(MAX_FROM_LINE, end - start)
    newline = view.find(b"\n", start, limit)
    if newline >= 0:
        from_line = view[start : newline + 1]
    else:
        # An overlong From line (its first MAX_FROM_LINE bytes are kept): the headers
        # start after its end, or there are none.
        from_line = view[start:limit]
        newline = view.find(b"\n", limit, end)
        if newline < 0:
            return from_line, b""
    header_block = _header_block(view, newline + 1, end)
    if isinstance(header_block, bytes) and b">From " in header_block:
        # mbox writers quote a header line that starts with "From " as ">From " (mboxrd
        # adds one ">" a level); left quoted, it ends the header block for the parser.
        header_block = _QUOTED_FROM.sub(rb"\1", header_block)
    return from_line, header_block


def _header_block(data: mmap.mmap | bytes, start: int, end: int) -> bytes | _TooLarge:
    """The header lines of the message at ``data[start:end]`` up to the blank line; the body is never copied.

    At most ``MAX_HEADER_BLOCK`` bytes are looked at: a longer block gives ``_TooLarge``.
    """
    stop = min(start + MAX_HEADER_BLOCK + 2, end)
    if data[start : min(start + 2, stop)].startswith((b"\n", b"\r\n")):
        return b""
    blank = _HEADER_END.search(data, start, stop)
    if blank is not None:
        return data[start : blank.start() + 1]
    if stop - start > MAX_HEADER_BLOCK:
        return _TooLarge(stop - start)
    return data[start:stop]


def _read_header_block(handle: BinaryIO) -> bytes | _TooLarge:
    """The header block of a message file, read a little at a time up to its blank line (never the body)."""
    data = handle.read(_MAILDIR_READ)
    while (
        len(data) < MAX_HEADER_BLOCK + 2
        and not data.startswith((b"\n", b"\r\n"))
        and _HEADER_END.search(data) is None
    ):
        more = handle.read(min(len(data), MAX_HEADER_BLOCK + 2 - len(data)))
        if not more:
            break
        data += more
    return _header_block(data, 0, len(data))


def _known(moment: datetime | None) -> _Delivered:
    return lambda: moment


def _from_line_date(from_line: bytes) -> datetime | None:
    """The date of an mbox ``From `` line (asctime, UTC unless an offset is given)."""
    match = _FROM_LINE_DATE.search(from_line.rstrip())
    if match is None or match["month"] not in _MONTHS:
        return None
    clock = [int(part) for part in match["clock"].split(b":")] + [0]
    offset = match["offset"]
    try:
        moment = datetime(
            int(match["year"]), _MONTHS[match["month"]], int(match["day"]), clock[0], clock[1], clock[2]
        )
        if offset:
            sign = -1 if offset.startswith(b"-") else 1
            minutes = sign * (int(offset[1:3]) * 60 + int(offset[3:5]))
            return moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return moment.replace(tzinfo=UTC)


def _gmail_labels(header_block: bytes) -> set[str] | None:
    """The Gmail labels of a Takeout message (of all its X-Gmail-Labels fields), case-folded; None when it has none."""
    found = _LABELS_HEADER.findall(header_block)
    if not found:
        return None
    labels: set[str] = set()
    for raw in found:  # every X-Gmail-Labels field: a Drafts label in a second one still counts
        value = re.sub(rb"\r?\n[ \t]", b" ", raw).decode("utf-8", "replace")
        fields = next(csv.reader([value.strip()], skipinitialspace=True), [])
        labels.update(label.strip().casefold() for label in fields if label.strip())
    return labels
