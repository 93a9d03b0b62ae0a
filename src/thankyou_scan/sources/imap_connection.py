"""The connection half of ImapSource: TLS, login, one command at a time on its budget, and retry.

Connecting resolves the host once (for security 'plain', every address must be this
machine's) and connects to those addresses; login is LOGIN (quoted, or a UTF-8
literal) or XOAUTH2 (SASL-IR when offered). Each command runs within its step's
budget, other libraries' errors become ours through FOREIGN_ERRORS, and a connection
lost mid-scan is re-established with backoff, up to ``retries`` times in a row.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import socket
import ssl
import time
import weakref
from collections.abc import Callable, Iterator
from typing import TypeVar, cast

from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from ..credentials import Secret, scrub
from ..errors import (
    ConnectError,
    ImapError,
    ImapTimeoutError,
    ServerError,
    ThankyouScanError,
    TlsError,
    UsageError,
    _ConnectionLost,
)
from ..network import AddressInfo, resolve_loopback
from ..paths import read_regular_file
from .imap_errors import COMMAND, CONNECTING, LOGGING_IN, _raise_translated
from .imap_wire import _Budget, _Client

__all__ = ["ImapConnection"]

log = logging.getLogger("thankyou_scan")

T = TypeVar("T")


class _ScrubLogs(logging.Filter):
    """Scrubs imapclient's protocol log (debug) of the secrets of every live connection.

    imapclient hides the LOGIN and AUTHENTICATE commands, not a server's answer that
    repeats them.
    """

    def __init__(self) -> None:
        super().__init__()
        self.sources: weakref.WeakSet[ImapConnection] = weakref.WeakSet()

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = [secret for source in list(self.sources) for secret in source._secrets()]  # noqa: SLF001
        if secrets:
            record.msg, record.args = scrub(record.getMessage(), secrets), None
        return True


_LOG_SCRUBBER = _ScrubLogs()


def _scrub_logs_of(source: ImapConnection) -> None:
    if not _LOG_SCRUBBER.sources:
        for name in ("imapclient.imapclient", "imapclient.imaplib", "imapclient"):
            logger = logging.getLogger(name)
            if _LOG_SCRUBBER not in logger.filters:
                logger.addFilter(_LOG_SCRUBBER)
    _LOG_SCRUBBER.sources.add(source)


class ImapConnection:
    """One IMAP login, held open between ``open()`` and ``close()``; ImapSource builds on it.

    The arguments are checked by ImapSource; nothing touches the network until ``open()``.
    """

    def __init__(
        self,
        host: str,
        *,
        port: int,
        user: str,
        password: str | None,
        oauth2_token: str | None,
        security: str,
        tls_ca: str | None,
        verify: bool,
        timeout: float,
        retries: int,
        backoff: float,
    ) -> None:
        self.host = host
        self.port = port
        self.user = user
        self.security = security
        self.tls_ca = tls_ca
        self.verify = verify
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._password = Secret(password) if password is not None else None
        self._token = Secret(oauth2_token) if oauth2_token is not None else None
        self._client: IMAPClient | None = None
        self._budget = _Budget(timeout)
        self._opened = False
        self._logged_in_once = False
        self.reconnects = 0
        _scrub_logs_of(self)

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
                # Read here, not by OpenSSL: a FIFO must be refused, not waited on.
                pem = read_regular_file(self.tls_ca, MAX_CA_FILE)
                if pem is None or len(pem) > MAX_CA_FILE:
                    raise UsageError(
                        f"cannot load the CA certificate {self.tls_ca}: not a regular file of at most "
                        f"{MAX_CA_FILE // 1024 // 1024} MB"
                    ).about("tls_ca")
                context.load_verify_locations(cadata=pem.decode("ascii") if pem.isascii() else pem)
            except (OSError, ssl.SSLError, ValueError) as exc:
                if isinstance(exc, UsageError):
                    raise
                raise UsageError(f"cannot load the CA certificate {self.tls_ca}: {exc}").about(
                    "tls_ca"
                ) from exc
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


MAX_CA_FILE = 10 * 1024 * 1024
"""A CA certificate file (PEM or DER) larger than this is refused."""


class _EmptyReplies:
    """Answers every SASL continuation with an empty line (imaplib calls a bound method's result)."""

    def reply(self, challenge: bytes | None) -> bytes:
        return b""


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
    # A server refusing the token may first send "+ <base64 error>" and wait for an empty
    # reply before its NO (Gmail does): imaplib answers continuations through `literal`.
    imap.literal = _EmptyReplies().reply
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
