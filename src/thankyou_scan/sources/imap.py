"""ImapSource: the Sent folder of an IMAP server, read-only, headers only.

EXAMINE (never SELECT), ``UID SEARCH OR SINCE d SENTSINCE d``, then ``BODY.PEEK[HEADER.FIELDS (...)]``
and INTERNALDATE in batches. Nothing is ever stored, moved, flagged or deleted.
A connection dropped mid-scan is re-established and the scan resumes from the
first batch not yet read; when that keeps failing, the scan fails loudly.

Every step (connecting, logging in, each command) has ``timeout`` seconds from start
to last byte and MAX_ANSWER_BYTES of answer: a server that drips, stalls or floods is
cut off, and what it sent is never trusted to be a valid number. Other libraries'
errors become ours in one table, FOREIGN_ERRORS, where the most specific entry wins.
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import io
import logging
import socket
import ssl
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, TypeVar, cast

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError, ProtocolError

from ..credentials import Secret, check_credential, scrub
from ..errors import (
    AuthenticationError,
    ConnectError,
    FolderNotFoundError,
    ImapError,
    ImapTimeoutError,
    InvalidResponseError,
    ServerError,
    ThankyouScanError,
    TlsError,
    UsageError,
)
from ..message import HeaderFacts, SentMessage, decode_message, encode_message
from ..network import AddressInfo, is_loopback, resolve_loopback
from .base import Relevant
from .cache import (
    MAX_HEADER,
    CachedMessage,
    CacheError,
    CacheFile,
    CacheKey,
    CacheWriter,
    HeaderCache,
    SearchRecord,
    storable_date,
)
from .reading import Reader

__all__ = ["SECURITY_MODES", "Folder", "ImapSource", "choose_sent_folder", "is_loopback"]

log = logging.getLogger("thankyou_scan")

UTC = timezone.utc
SECURITY_MODES = ("ssl", "starttls", "plain")
DEFAULT_PORTS = {"ssl": 993, "starttls": 143, "plain": 143}

HEADER_FIELDS = "DATE FROM TO CC BCC SUBJECT MESSAGE-ID IN-REPLY-TO REFERENCES"
FETCH_ITEMS = [f"BODY.PEEK[HEADER.FIELDS ({HEADER_FIELDS})]".encode(), b"INTERNALDATE"]

# Gmail's Sent folder in the account's language: `[Gmail]/<leaf>` or `[Google Mail]/<leaf>`.
GMAIL_PARENTS = ("[gmail]", "[google mail]")
GMAIL_SENT_LEAVES = (
    "sent mail",  # English
    "gesendet",  # German
    "messages envoyés",  # French
    "enviados",  # Spanish, Portuguese
    "posta inviata",  # Italian
    "e-mails enviados",  # Portuguese (Brazil)
    "correio enviado",  # Portuguese (Portugal)
    "verzonden berichten",  # Dutch
    "wysłane",  # Polish
    "skickat",  # Swedish
    "sendt post",  # Danish
    "sendt e-post",  # Norwegian
    "lähetetyt viestit",  # Finnish
    "odeslaná pošta",  # Czech
    "отправленные",  # Russian
    "gönderilmiş postalar",  # Turkish
    "送信済みメール",  # Japanese
)
GENERIC_SENT = ("sent", "sent items", "sent messages", "sent mail")
# Folders that hold mail the user did not send: never scanned as Sent, even when asked.
NOT_SENT_FLAGS = {"\\all": "All Mail", "\\drafts": "Drafts", "\\junk": "Spam", "\\trash": "Trash"}
NOT_SENT_LEAVES = {
    "all mail": "All Mail",
    "alle nachrichten": "All Mail",
    "drafts": "Drafts",
    "entwürfe": "Drafts",
    "spam": "Spam",
    "junk": "Spam",
    "trash": "Trash",
    "bin": "Trash",
    "papierkorb": "Trash",
}

MAX_ANSWER_BYTES = 128 * 2**20
"""The most one step may read (a line costs LINE_COST more): bounds the memory a server can fill."""
LINE_COST = 100
MAX_LINE = 16 * 2**20
UID_LIMIT = 2**32  # UIDs, UIDVALIDITY and UIDNEXT are nz-number: 1 .. 2**32 - 1 (RFC 3501)
NO_HEADER = "the server sent no headers for it"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Folder:
    """A folder as LIST shows it: its name, flags (lower-cased) and hierarchy delimiter."""

    name: str
    flags: tuple[str, ...] = ()
    delimiter: str | None = "/"

    @property
    def path(self) -> tuple[str, ...]:
        """The name split at the delimiter (and at "/", which Gmail-shaped names use everywhere)."""
        parts = [self.name]
        for separator in {self.delimiter or "", "/"} - {""}:
            parts = [piece for part in parts for piece in part.split(separator)]
        return tuple(parts)

    @property
    def not_sent_reason(self) -> str | None:
        """Why this folder must never be read as sent mail (All Mail, Drafts...), or None."""
        for flag in self.flags:
            if flag in NOT_SENT_FLAGS:
                return NOT_SENT_FLAGS[flag]
        return NOT_SENT_LEAVES.get(self.path[-1].casefold())

    @property
    def selectable(self) -> bool:
        return "\\noselect" not in self.flags and "\\nonexistent" not in self.flags


def choose_sent_folder(folders: Sequence[Folder]) -> Folder | None:
    """The Sent folder: flagged ``\\Sent`` first, then Gmail's names, then the common ones."""
    candidates = [folder for folder in folders if folder.selectable and folder.not_sent_reason is None]
    for folder in candidates:
        if "\\sent" in folder.flags:
            return folder
    for folder in candidates:
        path = [part.casefold() for part in folder.path]
        if len(path) == 2 and path[0] in GMAIL_PARENTS and path[1] in GMAIL_SENT_LEAVES:
            return folder
    for wanted in GENERIC_SENT:
        for folder in candidates:
            path = [part.casefold() for part in folder.path]
            if path == [wanted] or path == ["inbox", wanted]:
                return folder
    return None


class _ScrubLogs(logging.Filter):
    """Scrubs imapclient's protocol log (debug) of the secrets of every live ImapSource.

    imapclient hides the LOGIN and AUTHENTICATE commands, not a server's answer that
    repeats them.
    """

    def __init__(self) -> None:
        super().__init__()
        self.sources: weakref.WeakSet[ImapSource] = weakref.WeakSet()

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = [secret for source in list(self.sources) for secret in source._secrets()]  # noqa: SLF001
        if secrets:
            record.msg, record.args = scrub(record.getMessage(), secrets), None
        return True


_LOG_SCRUBBER = _ScrubLogs()


def _scrub_logs_of(source: ImapSource) -> None:
    if not _LOG_SCRUBBER.sources:
        for name in ("imapclient.imapclient", "imapclient.imaplib", "imapclient"):
            logger = logging.getLogger(name)
            if _LOG_SCRUBBER not in logger.filters:
                logger.addFilter(_LOG_SCRUBBER)
    _LOG_SCRUBBER.sources.add(source)


class _Overrun(Exception):
    """The server sent more than a step may read."""


class _Budget:
    """The time and the bytes the current step (connecting, login, one command) may still use."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.what = "connecting"
        self._deadline = time.monotonic() + seconds
        self.left = MAX_ANSWER_BYTES

    def start(self, what: str) -> None:
        self.what = what
        self._deadline = time.monotonic() + self.seconds
        self.left = MAX_ANSWER_BYTES

    def wait(self) -> float:
        """How long the next read or write may block; TimeoutError when the step is out of time."""
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"{self.what} took more than {self.seconds:g} s")
        return remaining

    def charge(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise _Overrun(f"more than {MAX_ANSWER_BYTES // 2**20} MB in answer to {self.what}")


def _open_socket(addresses: Sequence[AddressInfo], budget: _Budget) -> socket.socket:
    """A TCP connection to the first of ``addresses`` that answers, within the step's time."""
    failure: OSError | None = None
    for family, kind, proto, _name, address in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(budget.wait())
            sock.connect(address)
        except OSError as exc:
            sock.close()
            failure = exc
            if isinstance(exc, TimeoutError):
                break
            continue
        return sock
    raise failure or OSError("no address to connect to")


class _Connection(imaplib.IMAP4):
    """imaplib's IMAP4 on the addresses resolved beforehand, with every read and write on the budget.

    ``read``, ``readline`` and ``send`` are imaplib's documented points to override.
    A read takes what one ``recv`` gives (``peek``/``read1``), so the deadline is
    checked between any two packets, however slowly they come.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        addresses: Sequence[AddressInfo],
        budget: _Budget,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self._addresses = addresses
        self._budget = budget
        self._tls = ssl_context
        super().__init__(host, port)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        sock = _open_socket(self._addresses, self._budget)
        if self._tls is None:
            return sock
        try:
            sock.settimeout(self._budget.wait())
            return self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise

    def _reader(self) -> io.BufferedReader:
        self.sock.settimeout(self._budget.wait())
        return cast("io.BufferedReader", self.file)

    def readline(self) -> bytes:
        line = bytearray()
        self._budget.charge(LINE_COST)
        while True:
            reader = self._reader()
            buffered = reader.peek(1)  # at most one recv
            if not buffered:
                break  # EOF: imaplib reports it
            end = buffered.find(b"\n")
            chunk = reader.read(len(buffered) if end < 0 else end + 1)  # from the buffer, no recv
            self._budget.charge(len(chunk))
            line += chunk
            if len(line) > MAX_LINE:
                raise _Overrun(f"a line longer than {MAX_LINE // 2**20} MB in answer to {self._budget.what}")
            if end >= 0:
                break
        return bytes(line)

    def read(self, size: int) -> bytes:
        if size > self._budget.left:
            raise _Overrun(f"a literal of {size:,} bytes in answer to {self._budget.what}")
        data = bytearray()
        while len(data) < size:
            chunk = self._reader().read1(min(size - len(data), 2**20))
            if not chunk:
                break
            self._budget.charge(len(chunk))
            data += chunk
        return bytes(data)

    def send(self, data: Any) -> None:
        self.sock.settimeout(self._budget.wait())
        self.sock.sendall(data)


class _Client(IMAPClient):  # type: ignore[misc]  # imapclient is untyped
    """IMAPClient over a :class:`_Connection` (imapclient connects in its constructor)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: ssl.SSLContext | None,
        addresses: Sequence[AddressInfo],
        budget: _Budget,
    ) -> None:
        self._guard = (addresses, budget)
        super().__init__(host, port=port, ssl=tls is not None, ssl_context=tls, timeout=budget.seconds)

    def _create_IMAP4(self) -> imaplib.IMAP4:  # imapclient calls it from its constructor
        addresses, budget = self._guard
        context = self.ssl_context if self.ssl else None
        return _Connection(self.host, self.port, addresses=addresses, budget=budget, ssl_context=context)


class ImapSource:
    """Sent mail from an IMAP server::

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
    ) -> None:
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
        self.host = host
        self.port = port or DEFAULT_PORTS[security]
        self.user = user
        self.security = security
        self.tls_ca = str(tls_ca) if tls_ca else None
        self.verify = verify
        self.timeout = timeout
        self.requested_folders = tuple(folders)
        self.batch_size = batch_size
        self.retries = retries
        self.backoff = backoff
        self.progress = progress
        self.cache = cache
        self._password = Secret(password) if password is not None else None
        self._token = Secret(oauth2_token) if oauth2_token is not None else None
        self._client: IMAPClient | None = None
        self._budget = _Budget(timeout)
        self._opened = False
        self._logged_in_once = False
        _scrub_logs_of(self)
        self.folder: str | None = None
        self.messages_scanned = 0
        self.messages_fetched = 0
        self.reconnects = 0
        self._reader = Reader(None, self._where)

    def __repr__(self) -> str:
        return f"ImapSource(host={self.host!r}, port={self.port}, user={self.user!r}, security={self.security!r})"

    @property
    def messages_skipped(self) -> int:
        """How many messages the last ``sent_messages`` call skipped (too large, no headers, not parseable)."""
        return self._reader.skipped

    def _where(self, key: str) -> str:
        return f"message UID {key} in {self.folder} on {self.host}"

    # -- connection ------------------------------------------------------------

    def __enter__(self) -> ImapSource:
        self.open()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        """True between ``open()`` (or entering the ``with`` block) and ``close()``."""
        return self._opened

    def open(self) -> None:
        """Connect, start TLS and log in (a connection lost on the way is retried)."""
        if self._client is None:
            self._with_reconnect("connecting", lambda: None)
        self._opened = True

    def close(self) -> None:
        """Log out and drop the connection; safe to call twice."""
        self._opened = False
        if self._client is not None:
            self._budget.start("LOGOUT")
            with contextlib.suppress(Exception):  # the connection is going away either way
                self._client.logout()
        self._drop()

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.tls_ca:
            try:
                context.load_verify_locations(cafile=self.tls_ca)
            except (OSError, ssl.SSLError) as exc:
                raise UsageError(f"cannot load the CA certificate {self.tls_ca}: {exc}") from exc
        if not self.verify:
            log.warning(
                "TLS certificate checking is OFF for %s (verify=False): anyone between you and "
                "the server can read your mail and your password",
                self.host,
            )
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _addresses(self) -> list[AddressInfo]:
        """One lookup; for 'plain', every address must be loopback. The connection goes to these."""
        if self.security == "plain":
            try:
                return resolve_loopback(self.host, self.port)
            except UsageError as exc:
                raise UsageError(
                    f"refusing an unencrypted connection: {exc} — security 'plain' is only for a server on "
                    "this machine; use security 'ssl' or 'starttls'"
                ).about("security") from None
        return cast("list[AddressInfo]", socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM))

    def _connect(self) -> IMAPClient:
        where = f"{self.host}:{self.port}"
        context = self._ssl_context() if self.security != "plain" else None
        budget = _Budget(self.timeout)
        with self._translate("connecting", CONNECTING, budget):
            addresses = self._addresses()
            client = _Client(
                self.host,
                self.port,
                tls=context if self.security == "ssl" else None,
                addresses=addresses,
                budget=budget,
            )
        try:
            with self._translate("connecting", CONNECTING, budget):
                if self.security == "starttls":
                    if b"STARTTLS" not in client.capabilities():
                        raise ConnectError(
                            f"{where} does not offer STARTTLS — try security 'ssl' (usually port 993)",
                            host=self.host,
                        ).about("security", "port")
                    client.starttls(context)
            client.normalise_times = False
            budget.start("LOGIN")
            with self._translate("LOGIN", LOGGING_IN, budget):
                self._login(client)
        except BaseException:
            with contextlib.suppress(Exception):
                client.shutdown()
            raise
        self._budget = budget
        self._logged_in_once = True
        return client

    def _login(self, client: IMAPClient) -> None:
        if self._token is not None:
            _xoauth2_login(client, self.user, self._token.reveal())
        elif self._password is not None:
            _password_login(client, self.user, self._password.reveal())

    def _secrets(self) -> list[str]:
        token = self._token.reveal() if self._token is not None else ""
        sasl = f"user={self.user}\1auth=Bearer {token}\1\1" if token else ""
        password = self._password.reveal() if self._password is not None else ""
        return [value for value in (password, token, sasl) if value]

    def _scrub(self, text: str) -> str:
        return scrub(text, self._secrets())

    @contextlib.contextmanager
    def _translate(self, what: str, phase: str, budget: _Budget | None = None) -> Iterator[None]:
        """Turn other libraries' errors into ours (FOREIGN_ERRORS); ours pass through."""
        try:
            yield
        except ThankyouScanError:
            raise
        except Exception as exc:
            _raise_translated(self, exc, what, phase, budget or self._budget)

    def _require_client(self) -> IMAPClient:
        if self._client is None or not self._opened:
            raise UsageError("ImapSource is not open: use it in a `with` block, or call open() first")
        return self._client

    def _call(self, what: str, action: Callable[[IMAPClient], T]) -> T:
        """Run one IMAP command within its time and size budget, translating errors.

        After anything but a clean NO or BAD the connection is dropped, not logged out:
        its state is unknown. A lost connection raises a ConnectError that
        ``_with_reconnect`` retries.
        """
        client = self._require_client()
        self._budget.start(what)
        # imaplib keeps untagged responses nobody asked for until the next SELECT; a server
        # could pile them up command after command. Each command's own are read within it.
        client._imap.untagged_responses.clear()  # noqa: SLF001
        try:
            with self._translate(what, COMMAND):
                return action(client)
        except ImapError as exc:
            if not isinstance(exc, ServerError):
                self._drop()
            raise

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
        names = ", ".join(repr(folder.name) for folder in folders) or "none"
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
        until: datetime | None = None,
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

    def _scan_folder(self, name: str, since: datetime | None) -> Iterator[SentMessage]:
        state = self._with_reconnect("EXAMINE", lambda: self._examine(name))
        key = CacheKey(self.host, self.port, self.user, name)
        cached = self.cache.load(key, state.uidvalidity) if self.cache is not None else None
        try:
            yield from self._reconcile(name, key, state, cached, since)
        finally:
            if cached is not None:
                cached.close()

    def _reconcile(
        self,
        name: str,
        key: CacheKey,
        state: FolderState,
        cached: CacheFile | None,
        since: datetime | None,
    ) -> Iterator[SentMessage]:
        """The cached messages the SEARCH still finds, then the others fetched; the cache rewritten if stale."""
        uidvalidity = state.uidvalidity
        window = since.astimezone(UTC).date().isoformat() if since is not None else "all"
        search = SearchRecord(window, state.uidnext, state.exists)
        if cached is not None and cached.search is not None and search.unchanged_since(cached.search):
            # Nothing added (same UIDNEXT) and nothing expunged (same EXISTS) since the last
            # scan, which searched the same window: its answer stands, no SEARCH needed.
            uids = sorted(cached.search.found)
            search = cached.search
        else:
            uids = self._search(name, uidvalidity, since)
            search = replace(search, found=frozenset(uids))
        self.messages_scanned += len(uids)
        known = cached.uids if cached is not None else frozenset()
        missing = [uid for uid in uids if uid not in known]
        log.info(
            "%s: %d messages since %s in %r, %d of them to fetch",
            self.host,
            len(uids),
            since.date() if since else "ever",
            name,
            len(missing),
        )
        writer = (
            _LazyWriter(
                self.cache,
                key,
                uidvalidity,
                search,
                dirty=bool(missing) or cached is None or cached.search != search,
            )
            if self.cache is not None
            else None
        )
        replayed: set[int] = set()
        try:
            if cached is not None:
                try:
                    yield from self._replay(cached, set(uids), since, writer, replayed)
                except CacheError as exc:
                    log.warning(
                        "the cache %s could not be read to the end (%s); fetching the rest again",
                        cached.path,
                        exc,
                    )
                    if writer is not None:
                        writer.changed()
            fetch = [uid for uid in uids if uid not in replayed]
            for uid, header, internal in self._fetch(name, uidvalidity, fetch):
                record = self._record(uid, header, internal)
                # A record born skipped (too large to keep) was counted by _record already.
                message, record = (None, record) if record.skipped is not None else self._use(record)
                if writer is not None:
                    writer.add(record, changed=True)
                if message is not None:
                    yield message
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        if writer is not None:
            writer.commit()

    def _replay(
        self,
        cached: CacheFile,
        wanted: set[int],
        since: datetime | None,
        writer: _LazyWriter | None,
        replayed: set[int],
    ) -> Iterator[SentMessage]:
        """The cached messages the SEARCH still finds, noted in ``replayed``; others kept if outside the window."""
        horizon = since - timedelta(days=2) if since is not None else None
        for record in cached.messages():
            if record.uid in wanted and record.uid not in replayed:
                replayed.add(record.uid)
                try:
                    message, updated = self._use(record)
                except (ValueError, TypeError, OverflowError):
                    # What was learnt cannot be read back (a date the decoder refuses): learn it again.
                    message, updated = self._use(replace(record, facts=b"", parsed=b"", skipped=None))
                if message is not None:
                    yield message
            elif horizon is None or record.internaldate is None or record.internaldate >= horizon:
                if writer is not None:
                    writer.changed()  # in the window but gone from the server: expunged
                continue
            else:
                updated = record
            if writer is not None:
                writer.add(updated, changed=updated is not record)

    def _record(self, uid: int, header: bytes | None, internal: datetime | None) -> CachedMessage:
        """A fetched message as a record the cache can write and read back.

        An INTERNALDATE out of range is dropped (the Date header decides); a header block
        over MAX_HEADER is not kept: the message is skipped and counted, now and on every rescan.
        """
        if internal is not None and not storable_date(internal):
            log.warning(
                "ignoring the INTERNALDATE of message UID %d in %s on %s: %s is out of range",
                uid,
                self.folder,
                self.host,
                internal,
            )
            internal = None
        if header is not None and len(header) > MAX_HEADER:
            reason = f"its header block is over {MAX_HEADER // 2**20} MB ({len(header)} bytes)"
            self._reader.skip(str(uid), reason)
            facts = HeaderFacts.from_headers(b"", fallback_date=internal).encode()
            return CachedMessage(uid, b"", internal, facts, skipped=reason)
        return CachedMessage(uid, header or b"", internal)

    def _fetch(
        self, name: str, uidvalidity: int, uids: list[int]
    ) -> Iterator[tuple[int, bytes | None, datetime | None]]:
        """(UID, header block, INTERNALDATE) for each UID, fetched in batches, resuming after a drop."""
        done = 0
        for start in range(0, len(uids), self.batch_size):
            batch = uids[start : start + self.batch_size]

            def fetch_batch(batch: list[int] = batch) -> dict[int, dict[bytes, Any]]:
                return self._call("FETCH", lambda client: client.fetch(batch, FETCH_ITEMS))

            response = self._with_reconnect(
                "FETCH", fetch_batch, after_reconnect=lambda: self._reexamine(name, uidvalidity)
            )
            for uid in batch:
                data = response.get(uid)
                if data is None:
                    continue  # expunged by another client since the SEARCH
                header = next((v for k, v in data.items() if k.upper().startswith(b"BODY[HEADER")), None)
                internal = data.get(b"INTERNALDATE")
                aware = (
                    internal if isinstance(internal, datetime) and internal.utcoffset() is not None else None
                )
                yield uid, header if isinstance(header, bytes) else None, aware
            self.messages_fetched += len(batch)
            done += len(batch)
            if self.progress is not None:
                self.progress(done, len(uids))

    def _use(self, record: CachedMessage) -> tuple[SentMessage | None, CachedMessage]:
        """The message if it can matter (parsed now, or taken from the cache), and the record to keep."""
        uid = str(record.uid)
        learnt: dict[str, Any] = {}
        if record.facts:
            facts = HeaderFacts.decode(record.facts)
        else:
            facts = HeaderFacts.from_headers(record.header, fallback_date=record.internaldate)
            learnt["facts"] = facts.encode()
        parsed = record.parsed
        reading = self._reader.read(
            uid,
            record.header,
            record.internaldate,
            facts=facts,
            parsed=(lambda: decode_message(parsed, uid)) if parsed else None,
            skipped=record.skipped,
            unreadable=None if record.header else NO_HEADER,
        )
        if reading.message is not None and not parsed:
            learnt["parsed"] = encode_message(reading.message)
        if reading.skipped is not None and record.skipped is None:
            learnt["skipped"] = reading.skipped
        return reading.message, replace(record, **learnt) if learnt else record

    def _with_reconnect(
        self, what: str, action: Callable[[], T], *, after_reconnect: Callable[[], None] | None = None
    ) -> T:
        """Run ``action``; when the connection is lost, reconnect (with backoff) and run it again.

        Gives up with ConnectError after ``retries`` failures in a row. Final at once,
        because retrying would not change them: TLS and login failures, a timeout (the
        wait is already ``timeout``), invalid server data, and a server that cannot be
        reached on the first try (a wrong host or port).
        """
        failures = 0
        while True:
            try:
                if self._client is None:
                    reconnecting = self._logged_in_once
                    try:
                        self._client = self._connect()
                    except ConnectError as exc:
                        if not reconnecting or isinstance(exc, (TlsError, ImapTimeoutError)):
                            raise
                        raise _ConnectionLost(str(exc), host=self.host, reason=f"{what}: {exc}") from exc
                    if reconnecting:
                        self.reconnects += 1
                        if after_reconnect is not None:
                            after_reconnect()
                return action()
            except _ConnectionLost as exc:
                failures += 1
                if failures > self.retries:
                    raise ConnectError(
                        f"the connection to {self.host} keeps failing ({exc.reason}); "
                        f"gave up after {self.retries} retries — no report was made",
                        host=self.host,
                    ) from None
                delay = self.backoff * 2 ** (failures - 1)
                log.warning(
                    "the connection to %s failed (%s); retrying in %.1f s (%d/%d)",
                    self.host,
                    exc.reason,
                    delay,
                    failures,
                    self.retries,
                )
                self._drop()
                time.sleep(delay)

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.shutdown()


class _LazyWriter:
    """Rewrites the cache only when the scan learnt something (new, parsed or expunged messages).

    Records wait in memory until the first change; a rescan that changes nothing writes nothing.
    """

    def __init__(
        self, cache: HeaderCache, key: CacheKey, uidvalidity: int, search: SearchRecord, *, dirty: bool
    ) -> None:
        self.cache, self.key, self.uidvalidity, self.search = cache, key, uidvalidity, search
        self._pending: list[CachedMessage] = []
        self._writer: CacheWriter | None = None
        self._dirty = False
        if dirty:
            self.changed()

    def changed(self) -> None:
        if self._dirty:
            return
        self._dirty = True
        self._writer = self.cache.writer(self.key, self.uidvalidity, self.search)
        if self._writer is not None:
            for record in self._pending:
                self._writer.add(record)
        self._pending = []

    def add(self, record: CachedMessage, *, changed: bool = False) -> None:
        if changed:
            self.changed()
        if self._writer is not None:
            self._writer.add(record)
        elif not self._dirty:
            self._pending.append(record)

    def commit(self) -> None:
        if self._writer is not None:
            self._writer.commit()

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()


def _xoauth2_login(client: IMAPClient, user: str, token: str) -> None:
    """XOAUTH2, with the initial response on the command line when the server allows it (SASL-IR).

    That is the exchange Google documents for Gmail, and the only one GreenMail accepts;
    imapclient's oauth2_login always waits for a continuation first, so it serves the
    servers without SASL-IR.
    """
    if not client.has_capability("SASL-IR"):
        client.oauth2_login(user, token)
        return
    payload = base64.b64encode(f"user={user}\1auth=Bearer {token}\1\1".encode()).decode("ascii")
    imap = client._imap  # noqa: SLF001 - imaplib has no SASL-IR; this is its own AUTHENTICATE, inline
    status, data = imap._simple_command("AUTHENTICATE", "XOAUTH2", payload)  # noqa: SLF001
    if status != "OK":
        raise LoginError(
            b" ".join(item for item in data if isinstance(item, bytes)).decode("utf-8", "replace")
        )
    imap.state = "AUTH"  # what imaplib's authenticate() does on success


def _password_login(client: IMAPClient, user: str, password: str) -> None:
    """LOGIN with the user as a quoted string and the password as a quoted string, or, when it
    is not ASCII, as a literal of its UTF-8 bytes (imaplib would fail encoding it as ASCII).

    The caller has refused control characters, which neither form may carry.
    """
    imap = client._imap  # noqa: SLF001 - imaplib's LOGIN neither quotes the user nor sends literals
    if password.isascii():
        status, data = imap._simple_command("LOGIN", _quoted(user), _quoted(password))  # noqa: SLF001
    else:
        imap.literal = password.encode("utf-8")
        status, data = imap._simple_command("LOGIN", _quoted(user))  # noqa: SLF001
    if status != "OK":
        raise LoginError(
            b" ".join(item for item in data if isinstance(item, bytes)).decode("utf-8", "replace")
        )
    imap.state = "AUTH"  # what imaplib's login() does on success


def _quoted(text: str) -> str:
    """An IMAP quoted string (RFC 3501): backslash and double quote escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _ConnectionLost(ConnectError):
    """The connection broke after it was made; ``_with_reconnect`` retries it."""

    def __init__(self, message: str, *, host: str, reason: str) -> None:
        self.reason = reason
        super().__init__(message, host=host)


CONNECTING, LOGGING_IN, COMMAND = "connecting", "login", "command"
ANY_PHASE = frozenset({CONNECTING, LOGGING_IN, COMMAND})
AFTER_CONNECT = frozenset({LOGGING_IN, COMMAND})


def _where(source: ImapSource) -> str:
    return f"{source.host}:{source.port}"


def _not_found(source: ImapSource, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    reason = exc.strerror if isinstance(exc, OSError) else exc
    return ConnectError(f"cannot find the server {source.host!r} ({reason})", host=source.host)


def _timed_out(source: ImapSource, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    return ImapTimeoutError(
        f"{_where(source)} timed out after {budget.seconds:g} s ({what}): the server stopped answering or "
        "answered too slowly — check the host and port and the network, or raise the timeout",
        host=source.host,
    ).about("timeout")


def _too_much(source: ImapSource, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    return InvalidResponseError(
        f"the server sent {exc} — more than any IMAP answer needs; {source.host} is broken or hostile",
        host=source.host,
    )


def _invalid(source: ImapSource, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    said = source._scrub(_server_text(exc))  # noqa: SLF001
    return InvalidResponseError(
        f"the server sent an invalid answer to {what}: {said[:300]} — {source.host} is broken or hostile",
        host=source.host,
    )


def _untrusted(source: ImapSource, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    reason = exc.verify_message if isinstance(exc, ssl.SSLCertVerificationError) else exc
    return TlsError(
        f"the TLS certificate of {_where(source)} is not trusted ({reason}) — if this is your own "
        "server, trust its CA certificate (tls_ca); turning verification off (verify=False) is unsafe",
        host=source.host,
    ).about("tls_ca", "verify")


def _tls_failed(source: ImapSource, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    reason = (exc.reason if isinstance(exc, ssl.SSLError) else None) or exc
    return TlsError(
        f"TLS with {_where(source)} failed ({reason}) — check the port and the security mode "
        "(ssl is usually port 993, starttls port 143)",
        host=source.host,
    ).about("port", "security")


def _cannot_connect(source: ImapSource, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else source._scrub(_server_text(exc))  # noqa: SLF001
    return ConnectError(f"cannot connect to {_where(source)}: {reason}", host=source.host)


def _lost(source: ImapSource, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else source._scrub(_server_text(exc))  # noqa: SLF001
    return _ConnectionLost(
        f"the connection to {_where(source)} was lost during {what} ({reason})",
        host=source.host,
        reason=f"{what}: {reason}",
    )


def _login_refused(source: ImapSource, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    said = source._scrub(_server_text(exc))  # noqa: SLF001
    return AuthenticationError(
        f"{source.host} refused the login for {source.user!r}: {said} — check the user name and the "
        "password (Gmail needs an app password or OAuth2; see docs/imap.md)",
        host=source.host,
    )


def _refused(source: ImapSource, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    said = source._scrub(_server_text(exc))  # noqa: SLF001
    return ServerError(f"{source.host} refused {what}: {said}", host=source.host)


Translate = Callable[["ImapSource", BaseException, str, _Budget], ImapError]

FOREIGN_ERRORS: tuple[tuple[type[BaseException], frozenset[str], Translate], ...] = (
    (socket.gaierror, ANY_PHASE, _not_found),
    (TimeoutError, ANY_PHASE, _timed_out),
    (_Overrun, ANY_PHASE, _too_much),
    (ssl.SSLCertVerificationError, ANY_PHASE, _untrusted),
    (ssl.SSLError, frozenset({CONNECTING}), _tls_failed),
    (ssl.SSLError, AFTER_CONNECT, _lost),
    (OSError, frozenset({CONNECTING}), _cannot_connect),
    (OSError, AFTER_CONNECT, _lost),
    (EOFError, ANY_PHASE, _lost),
    (IMAPClientAbortError, ANY_PHASE, _lost),
    (ProtocolError, ANY_PHASE, _invalid),
    (ValueError, frozenset({COMMAND}), _invalid),
    (OverflowError, frozenset({COMMAND}), _invalid),
    (LoginError, frozenset({LOGGING_IN}), _login_refused),
    (IMAPClientError, frozenset({CONNECTING}), _cannot_connect),
    (IMAPClientError, frozenset({LOGGING_IN}), _login_refused),
    (IMAPClientError, frozenset({COMMAND}), _refused),
)
"""(foreign error, phases, what it becomes). The entry for the most specific class of the
error wins (modelled on httpx's ``map_httpcore_exceptions``): a LoginError is a wrong
password, its base IMAPClientError in a command a refusal, an abort a lost connection."""


def _cause(exc: BaseException) -> BaseException:
    """The error that tells what happened: imaplib and imapclient wrap a lost connection or a
    timeout in their own errors (imapclient's login turns *every* error into LoginError)."""
    while isinstance(exc, IMAPClientError) and isinstance(
        exc.__context__, (OSError, EOFError, _Overrun, IMAPClientAbortError, ProtocolError)
    ):
        exc = exc.__context__
    return exc


def _raise_translated(source: ImapSource, exc: Exception, what: str, phase: str, budget: _Budget) -> NoReturn:
    cause = _cause(exc)
    lineage = type(cause).__mro__
    matches = [
        (lineage.index(foreign), translate)
        for foreign, phases, translate in FOREIGN_ERRORS
        if phase in phases and isinstance(cause, foreign)
    ]
    if not matches:
        raise exc
    _rank, translate = min(matches, key=lambda match: match[0])
    error = translate(source, cause, what, budget)
    if phase == LOGGING_IN:
        raise error from None  # imaplib's frames and messages around LOGIN could hold the secret
    raise error from exc


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


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _server_text(exc: BaseException) -> str:
    text = str(exc).strip()
    for prefix in ("b'", 'b"'):
        if text.startswith(prefix) and text.endswith(text[1]):
            text = text[2:-1]
    return text or type(exc).__name__
