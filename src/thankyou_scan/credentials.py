"""Passwords and tokens: a wrapper that never shows them, what may be sent, and scrubbing.

A server's error text can repeat what the client sent, in any quoting it likes: the
IMAP quoted string (``\\\\`` and ``\\"`` escaped), a Python bytes repr (imaplib's
messages), base64 (the XOAUTH2 initial response), percent-encoding (a token
endpoint), upper case. :func:`scrub` removes every such form before a text reaches
an error, a log or a terminal.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable

from .errors import UsageError

__all__ = ["REDACTED", "Secret", "check_credential", "scrub"]

REDACTED = "<secret>"
PARTIAL_RUN = 10
"""A server text holding this many characters of a secret in a row is not shown at all."""

_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")


class Secret:
    """A password or token that never shows itself in a repr, a log or a traceback."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one place that sends it (the login)."""
        return self._value

    def __repr__(self) -> str:
        return REDACTED

    __str__ = __repr__


def check_credential(value: str, what: str, *, secret: bool) -> None:
    """Refuse what cannot be sent safely: control characters (CR/LF would start a new IMAP
    command) and text that is not Unicode (undecodable bytes from the environment).

    The error never shows a secret, nor where in it the fault is.
    """
    shown = "" if secret else f" {value!r}"
    for char in value:
        if "\ud800" <= char <= "\udfff":
            raise UsageError(
                f"{what}{shown} is not valid UTF-8 text — passwords and tokens are read as UTF-8; "
                "check the variable or the command's output"
            )
        if unicodedata.category(char) == "Cc":
            raise UsageError(
                f"{what}{shown} contains a control character (a line break, tab, NUL or similar), which "
                "IMAP cannot carry — remove it (a command's output is cut at its first line break)"
            )


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every form of every secret replaced by ``<secret>``.

    When a long run of a secret survives (a server echoing it truncated, or in a
    quoting not known here), the whole text is replaced: better no server words
    than part of a password.
    """
    values = [secret for secret in secrets if secret]
    for secret in values:
        for form in sorted(_forms(secret), key=len, reverse=True):
            text = re.sub(re.escape(form), REDACTED, text, flags=re.IGNORECASE)
    text = _BASE64_RUN.sub(lambda found: _scrub_base64(found.group(), values), text)
    folded = text.casefold()
    for secret in values:
        for form in (secret, _imap_quoted(secret)):
            runs = {form[i : i + PARTIAL_RUN].casefold() for i in range(len(form) - PARTIAL_RUN + 1)}
            if any(run in folded for run in runs):
                return "(the server's answer is not shown: it repeated part of a password or token)"
    return text


def _imap_quoted(secret: str) -> str:
    return secret.replace("\\", "\\\\").replace('"', '\\"')


def _forms(secret: str) -> set[str]:
    """The ways a server or a library may write ``secret`` back."""
    texts = {secret, _imap_quoted(secret), json.dumps(secret)[1:-1], repr(secret)[1:-1], ascii(secret)[1:-1]}
    forms = set(texts)
    for text in texts:
        raw = text.encode("utf-8", "surrogateescape")
        forms |= {repr(raw)[2:-1], raw.decode("latin-1"), raw.decode("utf-8", "replace")}
        forms |= {urllib.parse.quote(text, safe=""), urllib.parse.quote_plus(text, safe="")}
        for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
            forms |= {encoded.decode("ascii"), encoded.decode("ascii").rstrip("=")}
    return {form for form in forms if form}


def _scrub_base64(run: str, secrets: list[str]) -> str:
    """The run itself, or ``<secret>`` when it is base64 of something holding a secret."""
    wanted = [secret.encode("utf-8", "surrogateescape") for secret in secrets]
    body = run.rstrip("=")
    for start in range(4):  # the run may begin mid-quantum when glued to other text
        piece = body[start:]
        piece = piece[: len(piece) - len(piece) % 4 if len(piece) % 4 == 1 else len(piece)]
        padded = piece + "=" * (-len(piece) % 4)
        for altchars in (b"+/", b"-_"):
            try:
                decoded = base64.b64decode(padded, altchars=altchars)
            except (binascii.Error, ValueError):
                continue
            if any(secret in decoded for secret in wanted):
                return run[:start] + REDACTED
    return run
