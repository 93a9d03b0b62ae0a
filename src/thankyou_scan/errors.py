"""Errors raised by thankyou-scan.

Every error the library raises on purpose is a :class:`ThankyouScanError`, so a
script can catch that one class. The CLI turns each into one line on stderr and
an exit code (``exit_code``)::

    ThankyouScanError                  base; exit_code 2
    ├── UsageError                     a bad option or argument; exit 2
    ├── CalendarError                  the calendar file is wrong; exit 2
    ├── ConfigError                    the config file is wrong; exit 2
    ├── TemplateError                  a drafts template cannot be used (``path``, ``line``); exit 2
    ├── MessageError                   one message cannot be parsed (sources skip it and count it)
    ├── OAuth2Error                    signing in, or getting or refreshing an OAuth2 token, failed; exit 3
    └── SourceError                    mail could not be read; exit 3
        ├── MailboxError               an mbox or Maildir cannot be opened or read
        └── ImapError                  IMAP; ``host`` says which server
            ├── ConnectError           the server cannot be reached, or the connection was lost for good
            │   ├── TlsError           the TLS handshake failed (usually: an untrusted certificate)
            │   └── ImapTimeoutError   a step (connect, login, one command) took over ``--timeout`` seconds
            ├── AuthenticationError    the server refused the login
            ├── FolderNotFoundError    no Sent folder, or a ``--folder`` that does not exist
            ├── ServerError            the server answered NO or BAD
            └── InvalidResponseError   the server sent what IMAP does not allow, or far too much

Internal signals, caught inside the library and never raised to a caller, are at the
end of this module: NotPrivateError, CacheError, and the private _TooManyProblems,
_Overrun and _ConnectionLost.

Other libraries' errors (yaml, email-validator, mailbox, urllib, ``OSError``) are
translated where they enter and chained with ``raise ... from``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self


class ThankyouScanError(Exception):
    """Base class of every error thankyou-scan raises on purpose.

    ``options`` names the parameters the message asks to change (``"tls_ca"``,
    ``"security"``...): messages speak of parameters, and the CLI adds its flags.
    """

    exit_code = 2
    options: tuple[str, ...] = ()

    def about(self, *options: str) -> Self:
        """This error, noting the parameters its message refers to; returns ``self`` to raise."""
        self.options = options
        return self


class UsageError(ThankyouScanError, ValueError):
    """An option or argument is wrong (a naive ``now``, a bad ``--now``, a missing ``--calendar``...).

    Also a ``ValueError``, so code written for the standard library's habits catches it.
    """

    exit_code = 2


@dataclass(frozen=True, slots=True)
class CalendarProblem:
    """One thing wrong in a calendar file, with where it is and how to fix it."""

    path: str
    line: int | None
    event: str | None
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        what = f"event {self.event!r}: {self.message}" if self.event else self.message
        return f"{where}: {what}"


class CalendarError(ThankyouScanError):
    """The calendar cannot be used; ``problems`` lists every problem found."""

    exit_code = 2

    def __init__(self, problems: list[CalendarProblem] | tuple[CalendarProblem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class ConfigError(ThankyouScanError):
    """The config file cannot be used; ``problems`` lists every problem found, as for a calendar."""

    exit_code = 2

    def __init__(self, problems: list[CalendarProblem] | tuple[CalendarProblem, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class TemplateError(ThankyouScanError):
    """A drafts template cannot be read, compiled or rendered; ``path`` and ``line`` say where."""

    exit_code = 2

    def __init__(self, message: str, *, path: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {message}")


class MessageError(ThankyouScanError):
    """One message cannot be used at all; sources skip it and count it in ``messages_skipped``."""


class OAuth2Error(ThankyouScanError):
    """Getting or refreshing an OAuth2 token failed (consent, refresh, the token store).

    ``reason`` is the endpoint's ``error`` code (``invalid_grant``,
    ``authorization_pending``...) and ``description`` its ``error_description`` (scrubbed
    of secrets), when the endpoint gave them, else ``""``.
    """

    exit_code = 3

    def __init__(self, message: str, *, reason: str = "", description: str = "") -> None:
        self.reason = reason
        self.description = description
        super().__init__(message)


class SourceError(ThankyouScanError):
    """Mail could not be read from a source (a connection, login or mailbox error)."""

    exit_code = 3


class MailboxError(SourceError):
    """An mbox file or a Maildir folder cannot be opened or read."""

    def __init__(self, message: str, *, path: str) -> None:
        self.path = path
        super().__init__(message)


class ImapError(SourceError):
    """Something went wrong talking to an IMAP server."""

    def __init__(self, message: str, *, host: str) -> None:
        self.host = host
        super().__init__(message)


class ConnectError(ImapError):
    """The server cannot be reached, or the connection was lost and could not be restored."""


class TlsError(ConnectError):
    """The TLS handshake failed; usually the server's certificate is not trusted."""


class ImapTimeoutError(ConnectError):
    """A step (connecting, logging in, one command) did not finish within the timeout."""


class AuthenticationError(ImapError):
    """The server refused the login (wrong password, app password needed, IMAP disabled...)."""


class FolderNotFoundError(ImapError):
    """No Sent folder was found, or a folder given with ``--folder`` does not exist."""

    def __init__(self, message: str, *, host: str, folders: tuple[str, ...] = ()) -> None:
        self.folders = folders
        super().__init__(message, host=host)


class ServerError(ImapError):
    """The server answered a command with NO or BAD."""


class InvalidResponseError(ImapError):
    """The server sent something IMAP does not allow (a UID of 2**32, ``UIDVALIDITY abc``),
    or more than any answer needs (a literal of 100 GB, endless lines): broken or hostile.
    """


# -- internal signals: caught inside the library, never raised to a caller -----------------


class NotPrivateError(OSError):
    """A file or folder of ours that another user could have written: it is not used."""


class CacheError(Exception):
    """The cache file cannot be used (the caller discards it)."""


class _TooManyProblems(Exception):
    """Raised by a calendar reader at MAX_PROBLEMS: the rest of the file is not worth reading."""


class _Overrun(Exception):
    """The server sent more than a step may read (becomes InvalidResponseError)."""


class _ConnectionLost(ConnectError):
    """The connection broke after it was made; ``_with_reconnect`` retries it."""

    def __init__(self, message: str, *, host: str, reason: str) -> None:
        self.reason = reason
        super().__init__(message, host=host)
