"""The one place thankyou-scan writes to a mailbox: drafts APPENDed to the Drafts folder.

Only APPEND writes (with the ``\\Draft`` flag and the INTERNALDATE of now); everything
else is read-only: LIST, EXAMINE, SEARCH and ``BODY.PEEK`` of a few header fields.
Never STORE, EXPUNGE, MOVE, COPY or DELETE. Before each APPEND the draft's key is
searched for in Drafts (``SEARCH HEADER X-Thankyou-Scan-Key <key>``), again after a
reconnect, so a key is never appended twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from imapclient import IMAPClient

from ..errors import FolderNotFoundError, UsageError
from .imap import ImapSource
from .imap_folders import Folder, choose_folder

__all__ = ["DraftsMailbox", "choose_drafts_folder"]

T = TypeVar("T")

# Gmail's Drafts folder in the account's language: `[Gmail]/<leaf>` or `[Google Mail]/<leaf>`.
GMAIL_DRAFTS_LEAVES = (
    "drafts",  # English
    "entwürfe",  # German
    "brouillons",  # French
    "borradores",  # Spanish
    "bozze",  # Italian
    "rascunhos",  # Portuguese
    "concepten",  # Dutch
    "wersje robocze",  # Polish
    "utkast",  # Swedish
    "kladder",  # Danish
    "luonnokset",  # Finnish
    "koncepty",  # Czech
    "черновики",  # Russian
    "taslaklar",  # Turkish
    "下書き",  # Japanese
)
GENERIC_DRAFTS = ("drafts", "draft")
MAX_THREAD_CANDIDATES = 50
"""At most this many messages from one person are looked at (the newest) when looking for the thread."""
THREAD_FIELDS = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID REFERENCES IN-REPLY-TO SUBJECT)]"


def choose_drafts_folder(folders: Sequence[Folder]) -> Folder | None:
    """The Drafts folder: flagged ``\\Drafts`` first, then Gmail's names, then Drafts, Draft, INBOX.Drafts."""
    return choose_folder(folders, "\\drafts", GMAIL_DRAFTS_LEAVES, GENERIC_DRAFTS)


class DraftsMailbox:
    """The Drafts folder of an open :class:`ImapSource`, and the INBOX read for threading."""

    def __init__(self, source: ImapSource, folder: str | None = None) -> None:
        self.source = source
        self.requested = folder
        self._folder: str | None = None

    @property
    def folder(self) -> str:
        """The Drafts folder's name: the one requested (it must exist), else the one found."""
        if self._folder is None:
            self._folder = self._find()
        return self._folder

    def _find(self) -> str:
        folders = self.source._with_reconnect("LIST", self.source.list_folders)  # noqa: SLF001 - our own connection
        names = ", ".join(repr(folder.name) for folder in folders[:200]) or "none"
        if self.requested is not None:
            for folder in folders:
                if folder.name == self.requested or folder.name.casefold() == self.requested.casefold():
                    if not folder.selectable:
                        raise UsageError(f"the folder {folder.name!r} on {self.source.host} cannot hold mail")
                    return folder.name
            raise FolderNotFoundError(
                f"the drafts folder {self.requested!r} does not exist on {self.source.host} — folders there: {names}",
                host=self.source.host,
                folders=tuple(folder.name for folder in folders),
            )
        chosen = choose_drafts_folder(folders)
        if chosen is None:
            raise FolderNotFoundError(
                f"no Drafts folder found on {self.source.host} — folders there: {names}; name the one to use "
                "(drafts_folder)",
                host=self.source.host,
                folders=tuple(folder.name for folder in folders),
            ).about("drafts_folder")
        return chosen.name

    def has(self, key: str, *, deleted_too: bool = True) -> bool:
        """Whether a message with this key is in Drafts (EXAMINE, then SEARCH HEADER); ``deleted_too``
        False leaves out messages flagged ``\\Deleted`` (deleted, not yet expunged).
        """
        folder = self.folder
        return self.source._with_reconnect("SEARCH", lambda: self._search_key(folder, key, deleted_too))  # noqa: SLF001

    def add(self, key: str, raw: bytes, now: datetime, *, deleted_too: bool = True) -> bool:
        """APPEND ``raw`` to Drafts with ``\\Draft`` unless its key is there; True when appended.

        After a lost connection the key is searched for again before the APPEND is retried,
        so an APPEND that reached the server before the connection broke is not repeated.
        """
        folder = self.folder

        def attempt() -> bool:
            if self._search_key(folder, key, deleted_too):
                return False
            self._call("APPEND", lambda client: client.append(folder, raw, flags=(b"\\Draft",), msg_time=now))
            return True

        return self.source._with_reconnect("APPEND", attempt)  # noqa: SLF001

    def mail_from(self, address: str, folder: str = "INBOX") -> list[bytes]:
        """The header blocks (Message-ID, References, In-Reply-To, Subject) of the newest mail from
        ``address`` in ``folder``, oldest first: EXAMINE, SEARCH HEADER FROM, FETCH BODY.PEEK.
        """
        if not address.isascii() or not address.isprintable() or '"' in address or "\\" in address:
            return []  # SEARCH criteria are ASCII here (GreenMail drops the connection on odd ones)

        def read(client: IMAPClient) -> list[bytes]:
            client.select_folder(folder, readonly=True)
            uids = sorted(client.search(["HEADER", "FROM", address]))[-MAX_THREAD_CANDIDATES:]
            if not uids:
                return []
            fetched: dict[int, dict[bytes, Any]] = client.fetch(uids, [THREAD_FIELDS])
            blocks = []
            for uid in sorted(fetched):
                for name, value in fetched[uid].items():
                    if name.startswith(b"BODY[HEADER.FIELDS") and isinstance(value, bytes):
                        blocks.append(value)
            return blocks

        return self.source._with_reconnect("FETCH", lambda: self._call("FETCH", read))  # noqa: SLF001

    def _search_key(self, folder: str, key: str, deleted_too: bool) -> bool:
        criteria: list[str] = ["HEADER", "X-Thankyou-Scan-Key", key]
        if not deleted_too:
            criteria.append("UNDELETED")

        def search(client: IMAPClient) -> bool:
            client.select_folder(folder, readonly=True)
            return bool(client.search(criteria))

        return self._call("SEARCH", search)

    def _call(self, what: str, action: Callable[[IMAPClient], T]) -> T:
        return self.source._call(what, action)  # noqa: SLF001 - the budgets and error translation of the scan
