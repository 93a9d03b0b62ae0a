"""FOREIGN_ERRORS: the one table turning imapclient, ssl, socket and OSError errors into ours.

The entry for the most specific class of the error wins, in the phase it happened
(connecting, logging in, a command), as httpx's ``map_httpcore_exceptions``.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError, ProtocolError

from ..errors import (
    AuthenticationError,
    ConnectError,
    ImapError,
    ImapTimeoutError,
    InvalidResponseError,
    ServerError,
    TlsError,
    _ConnectionLost,
    _Overrun,
)
from .imap_wire import _Budget

if TYPE_CHECKING:
    from .imap_connection import ImapConnection

__all__ = ["AFTER_CONNECT", "ANY_PHASE", "COMMAND", "CONNECTING", "FOREIGN_ERRORS", "LOGGING_IN"]


CONNECTING, LOGGING_IN, COMMAND = "connecting", "login", "command"
ANY_PHASE = frozenset({CONNECTING, LOGGING_IN, COMMAND})
AFTER_CONNECT = frozenset({LOGGING_IN, COMMAND})


def _where(source: ImapConnection) -> str:
    return f"{source.host}:{source.port}"


def _not_found(source: ImapConnection, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    reason = exc.strerror if isinstance(exc, OSError) else exc
    return ConnectError(f"cannot find the server {source.host!r} ({reason})", host=source.host)


def _timed_out(source: ImapConnection, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    return ImapTimeoutError(
        f"{_where(source)} timed out after {budget.seconds:g} s ({what}): the server stopped answering or "
        "answered too slowly — check the host and port and the network, or raise the timeout",
        host=source.host,
    ).about("timeout")


def _too_much(source: ImapConnection, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    return InvalidResponseError(
        f"the server sent {exc} — more than any IMAP answer needs; {source.host} is broken or hostile",
        host=source.host,
    )


def _invalid(source: ImapConnection, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    said = source._scrub(_server_text(exc))  # noqa: SLF001
    return InvalidResponseError(
        f"the server sent an invalid answer to {what}: {said[:300]} — {source.host} is broken or hostile",
        host=source.host,
    )


def _nested(source: ImapConnection, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    return InvalidResponseError(
        f"the server sent an answer to {what} nested too deeply to read — {source.host} is broken or hostile",
        host=source.host,
    )


def _untrusted(source: ImapConnection, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    reason = exc.verify_message if isinstance(exc, ssl.SSLCertVerificationError) else exc
    return TlsError(
        f"the TLS certificate of {_where(source)} is not trusted ({reason}) — if this is your own "
        "server, trust its CA certificate (tls_ca); turning verification off (verify=False) is unsafe",
        host=source.host,
    ).about("tls_ca", "verify")


def _tls_failed(source: ImapConnection, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    reason = (exc.reason if isinstance(exc, ssl.SSLError) else None) or exc
    return TlsError(
        f"TLS with {_where(source)} failed ({reason}) — check the port and the security mode "
        "(ssl is usually port 993, starttls port 143)",
        host=source.host,
    ).about("port", "security")


def _cannot_connect(source: ImapConnection, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else source._scrub(_server_text(exc))  # noqa: SLF001
    return ConnectError(f"cannot connect to {_where(source)}: {reason}", host=source.host)


def _lost(source: ImapConnection, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else source._scrub(_server_text(exc))  # noqa: SLF001
    return _ConnectionLost(
        f"the connection to {_where(source)} was lost during {what} ({reason})",
        host=source.host,
        reason=f"{what}: {reason}",
    )


def _login_refused(source: ImapConnection, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    said = source._scrub(_server_text(exc))  # noqa: SLF001
    return AuthenticationError(
        f"{source.host} refused the login for {source.user!r}: {said} — check the user name and the "
        "password (Gmail needs an app password or OAuth2; see docs/imap.md)",
        host=source.host,
    )


def _refused(source: ImapConnection, exc: BaseException, what: str, budget: _Budget) -> ImapError:
    said = source._scrub(_server_text(exc))  # noqa: SLF001
    return ServerError(f"{source.host} refused {what}: {said}", host=source.host)


Translate = Callable[["ImapConnection", BaseException, str, _Budget], ImapError]

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
    (RecursionError, ANY_PHASE, _nested),
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
    timeout in their own errors (imapclient's login turns *every* error into LoginError).
    """
    while isinstance(exc, IMAPClientError) and isinstance(
        exc.__context__, (OSError, EOFError, _Overrun, IMAPClientAbortError, ProtocolError)
    ):
        exc = exc.__context__
    return exc


def _raise_translated(
    source: ImapConnection, exc: Exception, what: str, phase: str, budget: _Budget
) -> NoReturn:
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


def _server_text(exc: BaseException) -> str:
    text = str(exc).strip()
    for prefix in ("b'", 'b"'):
        if text.startswith(prefix) and text.endswith(text[1]):
            text = text[2:-1]
    return text or type(exc).__name__
