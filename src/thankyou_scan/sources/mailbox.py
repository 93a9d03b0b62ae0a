"""MboxSource and MaildirSource: sent mail from files (Google Takeout, local mail stores)."""

from __future__ import annotations

import csv
import logging
import mailbox
import os
import re
import stat
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..errors import MailboxError, MessageError
from ..message import HeaderFacts, SentMessage, header_addresses
from .base import Relevant

__all__ = ["MaildirSource", "MboxSource"]

log = logging.getLogger("thankyou_scan")

UTC = timezone.utc

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
_LABELS_HEADER = re.compile(rb"^x-gmail-labels:(.*(?:\r?\n[ \t].*)*)", re.IGNORECASE | re.MULTILINE)


class _FileSource:
    """What the mbox and Maildir sources share: the "is it sent mail?" filter and counting."""

    kind = "file"

    def __init__(self, path: str | Path, *, me: Iterable[str] = ()) -> None:
        self.path = Path(path)
        self.me = frozenset(address.strip().lower() for address in me)
        self.messages_scanned = 0
        self.messages_skipped = 0

    @property
    def folder(self) -> str:
        """The file or folder name, for the report (the full path is in ``path``)."""
        return self.path.name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    def _raw_messages(self) -> Iterator[tuple[str, bytes, datetime | None]]:
        raise NotImplementedError

    def sent_messages(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        relevant: Relevant | None = None,
    ) -> Iterator[SentMessage]:
        """Yield the messages that are sent mail; unparseable ones are logged and counted."""
        self.messages_scanned = self.messages_skipped = 0
        for key, header_block, delivered in self._raw_messages():
            if not self._is_sent(header_block):
                continue
            self.messages_scanned += 1
            if relevant is not None and not relevant(
                HeaderFacts.from_headers(header_block, fallback_date=delivered)
            ):
                continue
            try:
                message = SentMessage.from_headers(header_block, fallback_date=delivered, uid=key)
            except MessageError as exc:
                self.messages_skipped += 1
                log.warning("skipped message %s in %s: %s", key, self.path, exc)
                continue
            if relevant is not None:
                relevant.learn(message)
            yield message

    def _is_sent(self, header_block: bytes) -> bool:
        # Google Takeout puts all mail in one mbox and marks sent mail with the
        # "Sent" label; a plain Sent-folder export has no labels at all.
        labels = _gmail_labels(header_block)
        if labels is not None and "sent" in labels:
            return True
        if self.me:
            senders = header_addresses(header_block, b"from")
            return any(
                f"{local.decode('utf-8', 'replace')}@{domain.decode('utf-8', 'replace')}" in self.me
                for local, domain in senders
            )
        return labels is None


class MboxSource(_FileSource):
    """Sent mail from an mbox file, such as Google Takeout's ``All mail Including Spam and Trash.mbox``.

    Messages labelled ``Sent`` (``X-Gmail-Labels``) or sent From one of ``me`` are
    kept; a file without Gmail labels and no ``me`` is taken to be all sent mail.
    """

    kind = "mbox"

    def _raw_messages(self) -> Iterator[tuple[str, bytes, datetime | None]]:
        box = self._open()
        try:
            for key in box.iterkeys():
                with box.get_file(key, from_=True) as handle:
                    from_line = handle.readline()
                    yield str(key), _read_header_block(handle), _from_line_date(from_line)
        except OSError as exc:
            raise MailboxError(
                f"cannot read {self.path}: {exc.strerror or exc}", path=str(self.path)
            ) from exc
        finally:
            box.close()

    def _open(self) -> mailbox.mbox:
        where = str(self.path)
        if self.path.is_dir():
            raise MailboxError(f"{where} is a folder, not an mbox file — did you mean --maildir?", path=where)
        if self.path.exists() and not self.path.is_file():  # a FIFO would block the open below
            raise MailboxError(f"{where} is not a regular file — give the mbox file itself", path=where)
        try:
            with open(self.path, "rb") as handle:
                first = handle.readline()
        except FileNotFoundError as exc:
            raise MailboxError(f"{where}: no such file — check the path given to --mbox", path=where) from exc
        except OSError as exc:
            raise MailboxError(f"cannot read {where}: {exc.strerror or exc}", path=where) from exc
        if first and not first.startswith(b"From "):
            raise MailboxError(
                f"{where} is not an mbox file (it should start with a 'From ' line) — "
                "give the .mbox file from Google Takeout, or use --maildir for a Maildir folder",
                path=where,
            )
        return mailbox.mbox(where, create=False)


class MaildirSource(_FileSource):
    """Sent mail from a Maildir folder (the one holding ``cur/`` and ``new/``).

    Read-only: files are listed and read, never renamed (unlike ``mailbox.Maildir``,
    which moves messages from new/ to cur/ when asked for flags).
    """

    kind = "maildir"

    def _raw_messages(self) -> Iterator[tuple[str, bytes, datetime | None]]:
        self._check()
        try:
            for sub in ("new", "cur"):
                with os.scandir(self.path / sub) as entries:
                    names = sorted(entry.name for entry in entries if not entry.name.startswith("."))
                for name in names:
                    file_path = self.path / sub / name
                    try:
                        found = _read_maildir_file(file_path)
                    except FileNotFoundError:
                        continue  # moved or deleted by a mail client while we read
                    if found is None:
                        log.warning("ignoring %s: it is not a regular file", file_path)
                        continue
                    yield name.split(":", 1)[0], *found
        except OSError as exc:
            raise MailboxError(
                f"cannot read {self.path}: {exc.strerror or exc}", path=str(self.path)
            ) from exc

    def _check(self) -> None:
        where = str(self.path)
        if not self.path.is_dir():
            raise MailboxError(f"{where}: no such folder — check the path given to --maildir", path=where)
        if not (self.path / "cur").is_dir() or not (self.path / "new").is_dir():
            hint = (
                f" Sent mail in Maildir++ lives in '.Sent' — try --maildir {self.path / '.Sent'}"
                if (self.path / ".Sent").is_dir()
                else " give the folder that holds cur/ and new/"
            )
            raise MailboxError(f"{where} is not a Maildir (no cur/ and new/ folders) —{hint}", path=where)


def _read_maildir_file(path: Path) -> tuple[bytes, datetime] | None:
    """The header block and delivery time of a Maildir file; None when it is not a regular file.

    Opened with O_NONBLOCK and checked with fstat, so a FIFO named like a message never
    blocks the scan. The file's mtime is its delivery time (as in the stdlib's
    MaildirMessage); reading the whole message for it would parse bodies.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            return None
        os.set_blocking(descriptor, True)
        return _read_header_block(handle), datetime.fromtimestamp(info.st_mtime, UTC)


def _read_header_block(handle: Iterable[bytes]) -> bytes:
    """The header lines of a message up to the blank line; the body is never read."""
    lines = []
    for line in handle:
        if line in (b"\n", b"\r\n"):
            break
        lines.append(line)
    return b"".join(lines)


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
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC)


def _gmail_labels(header_block: bytes) -> set[str] | None:
    """The Gmail labels of a Takeout message, case-folded; None when it has none."""
    match = _LABELS_HEADER.search(header_block)
    if match is None:
        return None
    value = re.sub(rb"\r?\n[ \t]", b" ", match.group(1)).decode("utf-8", "replace")
    fields = next(csv.reader([value.strip()], skipinitialspace=True), [])
    return {label.strip().casefold() for label in fields if label.strip()}
