"""Invitations from an IMAP server, read-only: EXAMINE, SEARCH SINCE, FETCH BODYSTRUCTURE, then
``BODY.PEEK[part]`` of the calendar parts alone — never a whole message, never a flag changed.

Built on the scanner's connection (TLS, login, budgets, retry: sources/imap_connection.py)
and its folder steps (EXAMINE, SEARCH: sources/imap_search.py); the constructor takes the
same arguments as ImapSource.
"""

from __future__ import annotations

import binascii
import quopri
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from imapclient import IMAPClient

from ..errors import InvalidResponseError
from ..sources.imap import connection_settings
from ..sources.imap_sync import FolderState, FolderSync
from .mail import MAX_PART_BYTES, decode_text, is_calendar_part

__all__ = ["CalendarPart", "ImapInvitations", "calendar_parts_of"]

MAX_BATCH_BYTES = 8 * 1024 * 1024
"""Calendar parts fetched in one FETCH add up to at most this (as the server announced their sizes)."""
MAX_STRUCTURE_PARTS = 200
"""Parts of one message's BODYSTRUCTURE looked at."""


@dataclass(frozen=True, slots=True)
class CalendarPart:
    """A calendar part as BODYSTRUCTURE describes it: where it is and how it is encoded."""

    uid: int
    section: str
    encoding: str
    charset: str | None
    size: int


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", "replace")
    return "" if value is None else str(value)


def _pairs(value: Any) -> dict[str, str]:
    if not isinstance(value, (tuple, list)):
        return {}
    items = list(value)
    return {_text(items[i]).lower(): _text(items[i + 1]) for i in range(0, len(items) - 1, 2)}


def calendar_parts_of(uid: int, structure: Any) -> list[CalendarPart]:
    """The calendar parts of one message's BODYSTRUCTURE (as imapclient parses it), walked without recursion."""
    found: list[CalendarPart] = []
    stack: list[tuple[Any, str]] = [(structure, "")]
    seen = 0
    while stack and seen < MAX_STRUCTURE_PARTS:
        body, section = stack.pop()
        seen += 1
        if not isinstance(body, (tuple, list)) or not body:
            continue
        if isinstance(body[0], list):  # multipart: the children, numbered from 1
            children = [
                (child, f"{section}.{n}" if section else str(n)) for n, child in enumerate(body[0], 1)
            ]
            stack.extend(reversed(children))
            continue
        if len(body) < 7:
            continue
        content_type = f"{_text(body[0])}/{_text(body[1])}".lower()
        params = _pairs(body[2])
        filename = params.get("name")
        for extension in body[7:]:
            if (
                isinstance(extension, (tuple, list))
                and len(extension) == 2
                and isinstance(extension[1], tuple)
            ):
                filename = filename or _pairs(extension[1]).get("filename")
        if not is_calendar_part(content_type, filename):
            continue
        size = body[6] if isinstance(body[6], int) else 0
        found.append(CalendarPart(uid, section or "1", _text(body[5]).lower(), params.get("charset"), size))
    return found


def _decode(data: bytes, encoding: str) -> bytes:
    if encoding == "base64":
        try:
            return binascii.a2b_base64(data)
        except binascii.Error:
            return b""
    if encoding == "quoted-printable":
        return quopri.decodestring(data)
    return data


class ImapInvitations(FolderSync):
    """The calendar parts of the mail in INBOX (and ``folders``) of an IMAP server.

    For example::

        with ImapInvitations("imap.gmail.com", user="me@gmail.com", password=app_password) as imap:
            for text, origin in imap.calendar_texts(since):
                ...

    Nothing touches the network until ``open()`` or the ``with`` block.
    """

    kind = "imap"

    def __init__(
        self,
        host: str,
        *,
        user: str,
        password: str | None = None,
        oauth2_token: str | None = None,
        port: int | None = None,
        security: str = "ssl",
        tls_ca: str | Path | None = None,
        verify: bool = True,
        timeout: float = 30.0,
        folders: Sequence[str] = (),
        batch_size: int = 200,
        retries: int = 3,
        backoff: float = 0.5,
    ) -> None:
        super().__init__(
            host,
            **connection_settings(
                host,
                user=user,
                password=password,
                oauth2_token=oauth2_token,
                port=port,
                security=security,
                tls_ca=tls_ca,
                verify=verify,
                timeout=timeout,
                retries=retries,
                backoff=backoff,
            ),
        )
        self.requested_folders = tuple(dict.fromkeys(("INBOX", *folders)))
        self.batch_size = batch_size
        self.cache = None
        self.progress = None
        self.folder = None
        self.messages_scanned = 0
        self.messages_fetched = 0
        self.parts_fetched = 0
        self.bytes_fetched = 0
        self.parts_skipped = 0

    def __repr__(self) -> str:
        return f"ImapInvitations(host={self.host!r}, port={self.port}, user={self.user!r})"

    def __enter__(self) -> ImapInvitations:
        self.open()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def calendar_texts(self, since: datetime | None) -> Iterator[tuple[str, str]]:
        """(calendar text, where it came from) for each calendar part of the mail since ``since``."""
        self._require_client()
        for name in self.requested_folders:
            self.folder = name
            state = self._examine_folder(name)
            uids = self._search(name, state.uidvalidity, since)
            self.messages_scanned += len(uids)
            for start in range(0, len(uids), self.batch_size):
                batch = uids[start : start + self.batch_size]
                parts = self._structures(name, state.uidvalidity, batch)
                yield from self._parts(name, state.uidvalidity, parts)

    def _examine_folder(self, name: str) -> FolderState:
        return self._with_reconnect("EXAMINE", lambda: self._examine(name))

    def _structures(self, name: str, uidvalidity: int, batch: list[int]) -> list[CalendarPart]:
        def fetch(client: IMAPClient) -> dict[int, dict[bytes, Any]]:
            try:
                return client.fetch(batch, [b"BODYSTRUCTURE"])  # type: ignore[no-any-return]
            except RecursionError:
                raise InvalidResponseError(
                    f"{self.host} sent a BODYSTRUCTURE nested too deeply to read — broken or hostile",
                    host=self.host,
                ) from None

        response = self._with_reconnect(
            "FETCH BODYSTRUCTURE",
            lambda: self._call("FETCH BODYSTRUCTURE", fetch),
            after_reconnect=lambda: self._reexamine(name, uidvalidity),
        )
        found: list[CalendarPart] = []
        for uid in batch:
            data = response.get(uid) or {}
            structure = data.get(b"BODYSTRUCTURE")
            for part in calendar_parts_of(uid, structure):
                if part.size > MAX_PART_BYTES * 2:
                    self.parts_skipped += 1
                    continue
                found.append(part)
        return found

    def _parts(self, name: str, uidvalidity: int, parts: list[CalendarPart]) -> Iterator[tuple[str, str]]:
        """Fetch the parts, grouped by section and in batches of bounded size, and decode them."""
        by_section: dict[str, list[CalendarPart]] = {}
        for part in parts:
            by_section.setdefault(part.section, []).append(part)
        for section, group in by_section.items():
            batch: list[CalendarPart] = []
            total = 0
            for part in group:
                if batch and total + part.size > MAX_BATCH_BYTES:
                    yield from self._fetch_parts(name, uidvalidity, section, batch)
                    batch, total = [], 0
                batch.append(part)
                total += part.size
            if batch:
                yield from self._fetch_parts(name, uidvalidity, section, batch)

    def _fetch_parts(
        self, name: str, uidvalidity: int, section: str, batch: list[CalendarPart]
    ) -> Iterator[tuple[str, str]]:
        item = f"BODY.PEEK[{section}]".encode("ascii")
        uids = [part.uid for part in batch]
        response = self._with_reconnect(
            "FETCH BODY.PEEK",
            lambda: self._call("FETCH BODY.PEEK", lambda client: client.fetch(uids, [item])),
            after_reconnect=lambda: self._reexamine(name, uidvalidity),
        )
        for part in batch:
            data = response.get(part.uid) or {}
            raw = next((value for key, value in data.items() if key.upper().startswith(b"BODY[")), None)
            if not isinstance(raw, bytes):
                continue
            self.parts_fetched += 1
            self.bytes_fetched += len(raw)
            decoded = _decode(raw, part.encoding)
            if not decoded.strip() or len(decoded) > MAX_PART_BYTES:
                self.parts_skipped += 1
                continue
            yield decode_text(decoded, part.charset), f"{name} UID {part.uid} part {section} on {self.host}"
