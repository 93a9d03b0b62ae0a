"""ImapSource: the Sent folder of an IMAP server, read-only, headers only.

Nothing is ever stored, moved, flagged or deleted. The source is built in layers,
one module each: imap_wire.py (the socket, each step on a time and size budget),
imap_errors.py (FOREIGN_ERRORS, other libraries' errors turned into ours),
imap_connection.py (TLS, login, commands, retry), imap_folders.py (which folder is
Sent), imap_sync.py (EXAMINE, SEARCH, the cache reconciled, header FETCH); this
module checks the arguments, lists the folders and runs the scan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from ..credentials import check_credential
from ..errors import FolderNotFoundError, UsageError
from ..message import SentMessage
from ..network import is_loopback, resolve_loopback
from .base import Relevant
from .cache import HeaderCache
from .imap_errors import FOREIGN_ERRORS
from .imap_folders import Folder, choose_sent_folder
from .imap_sync import FolderSync
from .reading import Reader

__all__ = [
    "FOREIGN_ERRORS",
    "SECURITY_MODES",
    "Folder",
    "ImapSource",
    "choose_sent_folder",
    "connection_settings",
    "is_loopback",
    "resolve_loopback",
]

SECURITY_MODES = ("ssl", "starttls", "plain")
DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "plain": 143}


def connection_settings(
    host: str,
    *,
    user: str,
    password: str | None,
    oauth2_token: str | None,
    port: int | None,
    security: str,
    tls_ca: str | Path | None,
    verify: bool,
    timeout: float,
    retries: int,
    backoff: float,
) -> dict[str, Any]:
    """The arguments of an IMAP connection checked, and its defaults filled in (the port by ``security``).

    Shared by every class that logs in (``ImapSource``, the invitations' reader), so they
    refuse the same things with the same words.

    Raises:
        UsageError: an unknown ``security``, ``plain`` to a host that is not this machine,
            both or neither of a password and a token, a timeout that is not positive, or
            credentials IMAP cannot carry.
    """
    if security not in SECURITY_MODES:
        raise UsageError(f"security {security!r} is not one of {', '.join(SECURITY_MODES)}")
    if security == "plain" and not is_loopback(host):
        raise UsageError(
            f"refusing an unencrypted connection to {host}: security 'plain' is only for a server on "
            "this machine (localhost, 127.0.0.1) — use security 'ssl' or 'starttls'"
        ).about("security")
    if (password is None) == (oauth2_token is None):
        raise UsageError("give exactly one of a password or an OAuth2 token")
    if not timeout > 0:
        raise UsageError(f"timeout must be positive, not {timeout}")
    check_credential(user, "the user name", secret=False)
    if password is not None:
        check_credential(password, "the password", secret=True)
        if not user.isascii():
            raise UsageError(
                f"the user name {user!r} is not ASCII, which IMAP LOGIN cannot send — use the ASCII "
                "login name your provider gives, or OAuth2"
            )
    if oauth2_token is not None:
        check_credential(oauth2_token, "the OAuth2 token", secret=True)
    return {
        "port": port or DEFAULT_PORTS[security],
        "user": user,
        "password": password,
        "oauth2_token": oauth2_token,
        "security": security,
        "tls_ca": str(tls_ca) if tls_ca else None,
        "verify": verify,
        "timeout": timeout,
        "retries": retries,
        "backoff": backoff,
    }


class ImapSource(FolderSync):
    """Sent mail from an IMAP server.

    For example::

        source = ImapSource("imap.gmail.com", user="me@gmail.com", password=app_password)
        report = scan(calendar, source)

    ``scan()`` opens the connection and closes it again; to run several commands on one
    connection (``list_folders()``, then a scan), use it as a context manager. Nothing
    touches the network until then.
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
        batch_size: int = 250,
        retries: int = 3,
        backoff: float = 0.5,
        progress: Callable[[int, int], None] | None = None,
        cache: HeaderCache | None = None,
        narrow: bool | None = None,
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
        self.requested_folders = tuple(folders)
        self.batch_size = batch_size
        self.progress = progress
        self.cache = cache
        self.narrow = narrow
        self.folder = None
        self.messages_scanned = 0
        self.messages_fetched = 0
        self._reader = Reader(None, self._where)

    def __repr__(self) -> str:
        return f"ImapSource(host={self.host!r}, port={self.port}, user={self.user!r}, security={self.security!r})"

    def __enter__(self) -> ImapSource:
        self.open()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    @property
    def messages_skipped(self) -> int:
        """How many messages the last ``sent_messages`` call skipped (too large, no headers, not parseable)."""
        return self._reader.skipped

    def _where(self, key: str) -> str:
        return f"message UID {key} in {self.folder} on {self.host}"

    # -- folders ----------------------------------------------------------------

    @property
    def capabilities(self) -> tuple[str, ...]:
        """The server's capabilities, as text."""
        caps = self._call("CAPABILITY", lambda client: client.capabilities())
        return tuple(cap.decode("ascii", "replace") for cap in caps)

    def list_folders(self) -> list[Folder]:
        """Every folder, with its flags."""
        listed = self._call("LIST", lambda client: client.list_folders())
        return [
            Folder(
                name=str(name),
                flags=tuple(_text(flag).lower() for flag in flags),
                delimiter=_text(delimiter) if delimiter else None,
            )
            for flags, delimiter, name in listed
        ]

    def sent_folders(self) -> list[Folder]:
        """The folders a scan reads: ``folders`` if given, else the Sent folder found."""
        folders = self.list_folders()
        # Folder names come from the server, which may have named one after the password.
        names = self._scrub(", ".join(repr(folder.name) for folder in folders[:200]) or "none")
        if not self.requested_folders:
            chosen = choose_sent_folder(folders)
            if chosen is None:
                raise FolderNotFoundError(
                    f"no Sent folder found on {self.host} — folders there: {names}; name the one to read",
                    host=self.host,
                    folders=tuple(f.name for f in folders),
                ).about("folders")
            return [chosen]
        by_name = {folder.name: folder for folder in folders}
        by_casefold = {folder.name.casefold(): folder for folder in folders}
        result = []
        for wanted in self.requested_folders:
            folder = by_name.get(wanted) or by_casefold.get(wanted.casefold())
            if folder is None:
                raise FolderNotFoundError(
                    f"folder {wanted!r} does not exist on {self.host} — folders there: {names}",
                    host=self.host,
                    folders=tuple(f.name for f in folders),
                )
            if (reason := folder.not_sent_reason) is not None:
                raise UsageError(
                    f"refusing to read {folder.name!r} as sent mail: it is the {reason} folder, which holds "
                    "mail you did not send — name your Sent folder instead"
                )
            result.append(folder)
        return result

    # -- scanning ---------------------------------------------------------------

    def sent_messages(
        self,
        since: datetime | None = None,
        *,
        relevant: Relevant | None = None,
    ) -> Iterator[SentMessage]:
        """Yield the messages of the Sent folder(s) from ``since`` (a day early; SINCE ignores the time)."""
        self._require_client()
        self.messages_scanned = self.messages_fetched = 0
        self._reader = Reader(relevant, self._where)
        folders = self._with_reconnect("LIST", lambda: self.sent_folders())
        self.folder = ", ".join(folder.name for folder in folders)
        for folder in folders:
            yield from self._scan_folder(folder.name, since)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
