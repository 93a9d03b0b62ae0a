"""The search half of a folder scan: EXAMINE, the window's SEARCH, and the SEARCH narrowed to the calendar's people.

``UID SEARCH OR SINCE d SENTSINCE d`` finds the window (SINCE compares INTERNALDATE,
SENTSINCE the Date header, so an imported message is found by either); when the
pre-check can say whom mail must be to, the same window narrowed on the server to the
calendar's people (imap_narrow.py builds the criteria: Gmail's X-GM-RAW where offered;
HEADER TO/CC/BCC elsewhere only when asked, ``narrow=True`` — Dovecot answers it by
reading every message, slower than fetching their header fields). Any failure of the
narrowed SEARCH falls back to the whole window. Every number the server sends is checked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from imapclient import IMAPClient

from ..errors import ConnectError, FolderNotFoundError, ServerError, ThankyouScanError
from .base import narrowing_targets
from .imap_connection import ImapConnection
from .imap_narrow import gmail_criteria, imap_criteria, narrowing_key, search_day
from .reading import Reader

__all__ = ["UID_LIMIT", "FolderSearch", "FolderState"]

log = logging.getLogger("thankyou_scan")

UTC = timezone.utc
UID_LIMIT = 2**32  # UIDs, UIDVALIDITY and UIDNEXT are nz-number: 1 .. 2**32 - 1 (RFC 3501)


@dataclass(frozen=True, slots=True)
class FolderState:
    """What EXAMINE says of a folder (UIDNEXT and EXISTS when the server sent them)."""

    uidvalidity: int
    uidnext: int | None
    exists: int | None


def _number(value: object, what: str) -> int:
    """A number the server sent (imapclient has parsed it), checked: 0 .. 2**32 - 1."""
    if isinstance(value, int) and 0 <= value < UID_LIMIT:
        return value
    raise ValueError(f"{what} {str(value)[:40]!r} is not a number from 0 to {UID_LIMIT - 1}")


def _nz_number(value: object, what: str) -> int:
    """A UID, UIDVALIDITY or UIDNEXT the server sent, checked: 1 .. 2**32 - 1."""
    if isinstance(value, int) and 0 < value < UID_LIMIT:
        return value
    raise ValueError(f"{what} {str(value)[:40]!r} is not a number from 1 to {UID_LIMIT - 1}")


@dataclass(frozen=True, slots=True)
class _Narrowing:
    """The narrowed SEARCH's criteria for one scan: plain IMAP, and Gmail's X-GM-RAW."""

    key: str
    imap: list[str]
    gmail: list[str]


class FolderSearch(ImapConnection):
    """EXAMINE and SEARCH for FolderSync, on the connection it inherits."""

    narrow: bool | None = False
    """True: narrow on any server; None: only where the server's index answers (Gmail); False: never."""
    _reader: Reader

    def _examine(self, name: str) -> FolderState:
        """EXAMINE the folder (read-only) and say where it stands."""

        def examine(client: IMAPClient) -> FolderState:
            selected: dict[bytes, Any] = client.select_folder(name, readonly=True)
            uidvalidity = selected.get(b"UIDVALIDITY")
            return FolderState(
                0 if uidvalidity is None else _nz_number(uidvalidity, "UIDVALIDITY"),
                None if selected.get(b"UIDNEXT") is None else _nz_number(selected[b"UIDNEXT"], "UIDNEXT"),
                None if selected.get(b"EXISTS") is None else _number(selected[b"EXISTS"], "EXISTS"),
            )

        try:
            return self._call(f"EXAMINE {name!r}", examine)
        except ServerError as exc:
            raise FolderNotFoundError(
                f"cannot open the folder {name!r} on {self.host}: {exc}", host=self.host
            ) from exc

    def _reexamine(self, name: str, uidvalidity: int) -> None:
        """After a reconnect: select the folder again, and make sure its UIDs still mean the same."""
        if self._examine(name).uidvalidity != uidvalidity:
            raise ConnectError(
                f"the folder {name!r} on {self.host} was rebuilt during the scan (UIDVALIDITY changed) "
                "— run the scan again",
                host=self.host,
            )

    def _search(self, name: str, uidvalidity: int, since: datetime | None) -> list[int]:
        # SINCE compares INTERNALDATE (when the server got the message), SENTSINCE the Date
        # header: a message imported later, or with an INTERNALDATE of 1970, is found by either.
        day = since.astimezone(UTC).date() if since is not None else None
        criteria: list[Any] = ["OR", "SINCE", day, "SENTSINCE", day] if day is not None else ["ALL"]
        uids = self._with_reconnect(
            "SEARCH",
            lambda: self._call(
                "SEARCH", lambda client: [_nz_number(uid, "UID") for uid in client.search(criteria)]
            ),
            after_reconnect=lambda: self._reexamine(name, uidvalidity),
        )
        return sorted(uids)

    def _narrowing(self) -> _Narrowing | None:
        """The criteria that ask the server only for mail to the calendar's people; None: do not narrow."""
        targets = narrowing_targets(self._reader.relevant) if self.narrow is not False else None
        if targets is None:
            return None
        addresses, domains = targets
        imap, gmail = imap_criteria(addresses, domains), gmail_criteria(addresses, domains)
        if imap is None or gmail is None:
            log.info("%s: not narrowing the SEARCH: an address in the calendar is not plain ASCII", self.host)
            return None
        return _Narrowing(narrowing_key(addresses, domains), imap, gmail)

    def _narrowed(self, day: date | None, narrowing: _Narrowing, found: list[int]) -> frozenset[int] | None:
        """The UIDs in ``found`` the narrowed SEARCH finds; None when the server refuses or fails it."""
        window = f"OR SINCE {search_day(day)} SENTSINCE {search_day(day)} " if day is not None else ""
        try:
            capabilities = self._call("CAPABILITY", lambda client: client.capabilities())
            if b"X-GM-EXT-1" in capabilities:
                try:
                    return self._search_each(window, narrowing.gmail, found)
                except ThankyouScanError as exc:
                    log.info(
                        "%s: Gmail's X-GM-RAW SEARCH failed (%s); narrowing with SEARCH TO/CC/BCC",
                        self.host,
                        exc,
                    )
            if self.narrow is None:
                # Measured on Dovecot (docs/performance.md): a HEADER search over 20,000
                # messages costs more than fetching their header fields.
                log.info(
                    "%s: narrowing only where Gmail's X-GM-RAW is offered; reading the window", self.host
                )
                return None
            # RFC 3501's HEADER matches any substring of the field: a server for which no
            # message's To holds an "@" does not, and is not trusted to narrow.
            if found and len(self._search_each(window, ['NOT HEADER TO "@"'], found)) == len(found):
                log.info("%s: its SEARCH does not match parts of addresses; not narrowing", self.host)
                return None
            return self._search_each(window, narrowing.imap, found)
        except ThankyouScanError as exc:
            log.info(
                "%s: the narrowed SEARCH failed (%s); reading every message in the window instead",
                self.host,
                exc,
            )
            return None

    def _search_each(self, window: str, criteria: list[str], found: list[int]) -> frozenset[int]:
        """The union of one SEARCH per criteria string (no retry: a failure means no narrowing)."""
        uids: set[int] = set()
        for criterion in criteria:

            def search(client: IMAPClient, text: str = window + criterion) -> list[int]:
                return [_nz_number(uid, "UID") for uid in client.search(text)]

            uids.update(self._call("SEARCH", search))
        return frozenset(uids) & frozenset(found)
