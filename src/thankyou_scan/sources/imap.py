"""ImapSource: the Sent folder of an IMAP server, read-only, headers only.

EXAMINE (never SELECT), ``UID SEARCH OR SINCE d SENTSINCE d``, then ``BODY.PEEK[HEADER.FIELDS (...)]``
and INTERNALDATE in batches. Nothing is ever stored, moved, flagged or deleted.
A connection dropped mid-scan is re-established and the scan resumes from the
first batch not yet read; when that keeps failing, the scan fails loudly.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError
from imapclient.imapclient import SocketTimeout

from ..errors import (
    AuthenticationError,
    ConnectError,
    FolderNotFoundError,
    ImapTimeoutError,
    MessageError,
    ServerError,
    TlsError,
    UsageError,
)
from ..message import HeaderFacts, SentMessage, decode_message, encode_message
from .base import Relevant
from .cache import (
    MAX_HEADER,
    SKIPPED,
    CachedMessage,
    CacheError,
    CacheFile,
    CacheKey,
    CacheWriter,
    HeaderCache,
    SearchRecord,
    storable_date,
)

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

RETRYABLE = (IMAPClientAbortError, ConnectionError, ssl.SSLEOFError, EOFError)

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


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses, decided without any DNS lookup."""
    name = host.strip().rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


class _Secret:
    """A password or token that never shows itself in a repr, a log or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


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
                f"refusing an unencrypted connection to {host}: 'plain' is only for a server on this "
                "machine (localhost, 127.0.0.1) — use --security ssl or starttls"
            )
        if (password is None) == (oauth2_token is None):
            raise UsageError("give exactly one of a password or an OAuth2 token")
        if timeout <= 0:
            raise UsageError(f"timeout must be positive, not {timeout}")
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
        self._password = _Secret(password) if password is not None else None
        self._token = _Secret(oauth2_token) if oauth2_token is not None else None
        self._client: IMAPClient | None = None
        self._opened = False
        self.folder: str | None = None
        self.messages_scanned = 0
        self.messages_skipped = 0
        self.messages_fetched = 0
        self.reconnects = 0

    def __repr__(self) -> str:
        return f"ImapSource(host={self.host!r}, port={self.port}, user={self.user!r}, security={self.security!r})"

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
        """Connect, start TLS and log in."""
        if self._client is None:
            self._client = self._connect()
        self._opened = True

    def close(self) -> None:
        """Log out and drop the connection; safe to call twice."""
        self._opened = False
        if self._client is not None:
            with contextlib.suppress(IMAPClientError, OSError):
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
                "TLS certificate checking is OFF for %s (--insecure-skip-verify): anyone between you and "
                "the server can read your mail and your password",
                self.host,
            )
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _connect(self) -> IMAPClient:
        where = f"{self.host}:{self.port}"
        context = self._ssl_context() if self.security != "plain" else None
        try:
            client = IMAPClient(
                self.host,
                port=self.port,
                ssl=self.security == "ssl",
                ssl_context=context,
                timeout=SocketTimeout(connect=self.timeout, read=self.timeout),
            )
            if self.security == "starttls":
                if b"STARTTLS" not in client.capabilities():
                    client.shutdown()
                    raise ConnectError(
                        f"{where} does not offer STARTTLS — try --security ssl (usually port 993)",
                        host=self.host,
                    )
                client.starttls(context)
        except ssl.SSLCertVerificationError as exc:
            raise TlsError(
                f"the TLS certificate of {where} is not trusted ({exc.verify_message}) — if this is your own "
                "server, pass its CA certificate with --tls-ca FILE; --insecure-skip-verify turns checking "
                "off (unsafe)",
                host=self.host,
            ) from exc
        except ssl.SSLError as exc:
            raise TlsError(
                f"TLS with {where} failed ({exc.reason or exc}) — check --imap-port and --security "
                "(ssl is usually port 993, starttls port 143)",
                host=self.host,
            ) from exc
        except TimeoutError as exc:
            raise ImapTimeoutError(
                f"{where} did not answer within {self.timeout:g} s — check the host and port, or raise --timeout",
                host=self.host,
            ) from exc
        except socket.gaierror as exc:
            raise ConnectError(
                f"cannot find the server {self.host!r} ({exc.strerror})", host=self.host
            ) from exc
        except (OSError, IMAPClientError) as exc:
            reason = (
                exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
            )
            raise ConnectError(f"cannot connect to {where}: {reason}", host=self.host) from exc
        client.normalise_times = False
        self._login(client)
        return client

    def _login(self, client: IMAPClient) -> None:
        try:
            if self._token is not None:
                _xoauth2_login(client, self.user, self._token.reveal())
            elif self._password is not None:
                client.login(self.user, self._password.reveal())
        except (LoginError, IMAPClientError) as exc:
            client.shutdown()
            said = self._scrub(_server_text(exc))
            raise AuthenticationError(
                f"{self.host} refused the login for {self.user!r}: {said} — check the user name and the "
                "password (Gmail needs an app password or OAuth2; see docs/imap.md)",
                host=self.host,
            ) from None
        except (OSError, IMAPClientAbortError) as exc:
            raise ConnectError(
                f"the connection to {self.host} was lost during login: {exc}", host=self.host
            ) from None

    def _scrub(self, text: str) -> str:
        for secret in (self._password, self._token):
            if secret is not None and secret.reveal():
                text = text.replace(secret.reveal(), "<secret>")
        return text

    def _require_client(self) -> IMAPClient:
        if self._client is None or not self._opened:
            raise UsageError("ImapSource is not open: use it in a `with` block, or call open() first")
        return self._client

    def _call(self, what: str, action: Callable[[IMAPClient], T]) -> T:
        """Run one IMAP command, translating errors; a dropped connection propagates as RETRYABLE."""
        client = self._require_client()
        try:
            return action(client)
        except RETRYABLE:
            raise
        except TimeoutError as exc:
            raise ImapTimeoutError(
                f"{self.host} stopped answering ({what}) for {self.timeout:g} s — try again, or raise --timeout",
                host=self.host,
            ) from exc
        except IMAPClientError as exc:
            raise ServerError(
                f"{self.host} refused {what}: {self._scrub(_server_text(exc))}", host=self.host
            ) from exc
        except OSError as exc:
            raise ConnectionError(str(exc)) from exc

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
                    f"no Sent folder found on {self.host} — folders there: {names}; name one with --folder",
                    host=self.host,
                    folders=tuple(f.name for f in folders),
                )
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
        self.messages_scanned = self.messages_skipped = self.messages_fetched = 0
        folders = self._with_reconnect("LIST", lambda: self.sent_folders())
        self.folder = ", ".join(folder.name for folder in folders)
        for folder in folders:
            yield from self._scan_folder(folder.name, since, relevant)

    def _examine(self, name: str) -> FolderState:
        """EXAMINE the folder (read-only) and say where it stands."""

        def examine(client: IMAPClient) -> dict[bytes, Any]:
            result: dict[bytes, Any] = client.select_folder(name, readonly=True)
            return result

        try:
            selected = self._call(f"EXAMINE {name!r}", examine)
        except ServerError as exc:
            raise FolderNotFoundError(
                f"cannot open the folder {name!r} on {self.host}: {exc}", host=self.host
            ) from exc
        return FolderState(
            int(selected.get(b"UIDVALIDITY", 0)),
            _int_or_none(selected.get(b"UIDNEXT")),
            _int_or_none(selected.get(b"EXISTS")),
        )

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
            lambda: self._call("SEARCH", lambda client: client.search(criteria)),
            after_reconnect=lambda: self._reexamine(name, uidvalidity),
        )
        return sorted(int(uid) for uid in uids)

    def _scan_folder(
        self, name: str, since: datetime | None, relevant: Relevant | None
    ) -> Iterator[SentMessage]:
        state = self._with_reconnect("EXAMINE", lambda: self._examine(name))
        key = CacheKey(self.host, self.port, self.user, name)
        cached = self.cache.load(key, state.uidvalidity) if self.cache is not None else None
        try:
            yield from self._reconcile(name, key, state, cached, since, relevant)
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
        relevant: Relevant | None,
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
                    yield from self._replay(cached, set(uids), since, writer, relevant, replayed)
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
                message, record = (None, record) if record.parsed else self._use(record, relevant)
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
        relevant: Relevant | None,
        replayed: set[int],
    ) -> Iterator[SentMessage]:
        """The cached messages the SEARCH still finds, noted in ``replayed``; others kept if outside the window."""
        horizon = since - timedelta(days=2) if since is not None else None
        for record in cached.messages():
            if record.uid in wanted and record.uid not in replayed:
                replayed.add(record.uid)
                try:
                    message, updated = self._use(record, relevant)
                except (ValueError, TypeError, OverflowError):
                    # What was learnt cannot be read back (a date the decoder refuses): learn it again.
                    message, updated = self._use(replace(record, facts=b"", parsed=b""), relevant)
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
            self._skip(str(uid), reason)
            facts = HeaderFacts.from_headers(b"", fallback_date=internal).encode()
            return CachedMessage(uid, b"", internal, facts, SKIPPED + reason.encode())
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

    def _use(
        self, record: CachedMessage, relevant: Relevant | None
    ) -> tuple[SentMessage | None, CachedMessage]:
        """The message if it can matter (parsed now, or taken from the cache), and the record to keep."""
        no_header = not record.header
        if not record.facts:
            facts = HeaderFacts.from_headers(record.header, fallback_date=record.internaldate)
            record = replace(record, facts=facts.encode())
        else:
            facts = HeaderFacts.decode(record.facts)
        if relevant is not None and not no_header and not relevant(facts):
            return None, record
        uid = str(record.uid)
        if record.parsed.startswith(SKIPPED):
            self._skip(uid, record.parsed[len(SKIPPED) :].decode("utf-8", "replace"), counted_before=True)
            return None, record
        if record.parsed:
            message = decode_message(record.parsed, uid)
        else:
            try:
                if no_header:
                    raise MessageError("the server sent no headers for it")
                message = SentMessage.from_headers(record.header, fallback_date=record.internaldate, uid=uid)
            except MessageError as exc:
                self._skip(uid, str(exc))
                return None, replace(record, parsed=SKIPPED + str(exc).encode())
            record = replace(record, parsed=encode_message(message))
        if relevant is not None:
            relevant.learn(message)
        return message, record

    def _skip(self, uid: str, reason: str, *, counted_before: bool = False) -> None:
        self.messages_skipped += 1
        again = " (as on the last scan)" if counted_before else ""
        log.warning("skipped message UID %s in %s on %s: %s%s", uid, self.folder, self.host, reason, again)

    def _with_reconnect(
        self, what: str, action: Callable[[], T], *, after_reconnect: Callable[[], None] | None = None
    ) -> T:
        """Run ``action``; when the connection drops, reconnect (with backoff) and run it again.

        Gives up with ConnectError after ``retries`` failures in a row. A TLS or login
        failure while reconnecting is final at once: retrying would not change it.
        """
        failures = 0
        while True:
            try:
                if self._client is None:
                    self._client = self._connect()
                    self.reconnects += 1
                    if after_reconnect is not None:
                        after_reconnect()
                return action()
            except (*RETRYABLE, ConnectError) as exc:
                if isinstance(exc, TlsError):
                    raise
                failures += 1
                if failures > self.retries:
                    raise ConnectError(
                        f"the connection to {self.host} keeps failing ({what}: {exc or type(exc).__name__}); "
                        f"gave up after {self.retries} retries — no report was made",
                        host=self.host,
                    ) from None
                delay = self.backoff * 2 ** (failures - 1)
                log.warning(
                    "the connection to %s failed during %s (%s); retrying in %.1f s (%d/%d)",
                    self.host,
                    what,
                    exc or type(exc).__name__,
                    delay,
                    failures,
                    self.retries,
                )
                self._drop()
                time.sleep(delay)

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(IMAPClientError, OSError):
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


@dataclass(frozen=True, slots=True)
class FolderState:
    """What EXAMINE says of a folder (UIDNEXT and EXISTS when the server sent them)."""

    uidvalidity: int
    uidnext: int | None
    exists: int | None


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) else None  # imapclient parses the numbers it gets


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _server_text(exc: BaseException) -> str:
    text = str(exc).strip()
    for prefix in ("b'", 'b"'):
        if text.startswith(prefix) and text.endswith(text[1]):
            text = text[2:-1]
    return text or type(exc).__name__
