"""What both providers share: the token record, and access tokens refreshed when they expire."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from ..errors import OAuth2Error
from ..token_endpoint import post_form
from .store import TokenStore

__all__ = [
    "DEFAULT_HINT",
    "EXPIRY_MARGIN",
    "RefreshingTokens",
    "ask_on_stderr",
    "to_stderr",
    "token_record",
]

EXPIRY_MARGIN = 60.0
"""Refresh an access token this many seconds before it expires."""

DEFAULT_HINT = "sign in again with `thankyou-scan auth ACCOUNT` (docs/daily-use.md)"
"""How to get a new refresh token, when the caller knows no account name."""


def to_stderr(text: str) -> None:
    """Show a sign-in step to the user: on stderr, so standard output stays the program's."""
    print(text, file=sys.stderr, flush=True)


MAX_ANSWER_LINE = 8192
"""The longest line read back from the user (a pasted redirect address is a few hundred characters)."""


def ask_on_stderr(prompt: str) -> str:
    """Ask on stderr and read one line of standard input (bounded); OAuth2Error at end of input."""
    print(prompt, end="", file=sys.stderr, flush=True)
    line = sys.stdin.readline(MAX_ANSWER_LINE) if sys.stdin is not None else ""
    if not line:
        raise OAuth2Error("nothing was pasted (end of input) — sign in again")
    return line


def token_record(
    answer: dict[str, Any], now: float, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The record to store from a token endpoint's answer (checked by ``post_form``).

    A refresh token in the answer replaces the stored one: Microsoft sends a new one with
    every refresh (and may stop honouring the old one); Google sends one only on consent.
    """
    record = dict(previous or {})
    record["access_token"] = answer["access_token"]
    record["expires_at"] = now + float(answer.get("expires_in", 3600))
    if isinstance(answer.get("refresh_token"), str) and answer["refresh_token"]:
        record["refresh_token"] = answer["refresh_token"]
    return record


class OAuth2Client(Protocol):
    """What a provider's client registration gives the refresh: its token endpoint."""

    @property
    def token_uri(self) -> str:
        """The token endpoint."""


ClientT = TypeVar("ClientT", bound=OAuth2Client)


class RefreshingTokens(Generic[ClientT]):
    """Access tokens for XOAUTH2: the stored one while it lasts, else one refreshed (then stored).

    A provider's class names itself (``provider``) and writes its refresh form; the
    client registration (``client``) gives the token endpoint.
    """

    provider = "OAuth2"

    def __init__(
        self,
        client: ClientT,
        store: TokenStore,
        *,
        clock: Callable[[], float] = time.time,
        hint: str = DEFAULT_HINT,
    ) -> None:
        self.client = client
        self.store = store
        self.clock = clock
        self.hint = hint

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.client!r}, {self.store!r})"

    def access_token(self) -> str:
        """A valid access token: the stored one while it lasts, else a refreshed one (then stored)."""
        record = self.store.load()
        if not record or not isinstance(record.get("refresh_token"), str):
            raise OAuth2Error(f"no {self.provider} OAuth2 token is stored yet — {self.hint}")
        now = self.clock()
        expires_at = record.get("expires_at", 0)
        if (
            isinstance(record.get("access_token"), str)
            and isinstance(expires_at, int | float)
            and expires_at - EXPIRY_MARGIN > now
        ):
            return str(record["access_token"])
        try:
            answer = post_form(self.token_uri, self.refresh_form(record["refresh_token"]), timeout=30)
        except OAuth2Error as exc:
            if exc.reason == "invalid_grant":
                raise OAuth2Error(
                    f"{self.provider} no longer accepts the stored refresh token "
                    f"({exc.description or 'expired or revoked'}) — {self.hint}",
                    reason=exc.reason,
                    description=exc.description,
                ) from None
            raise
        record = token_record(answer, now, record)
        self.store.save(record)
        return str(record["access_token"])

    @property
    def token_uri(self) -> str:
        """The provider's token endpoint, from the client registration."""
        return self.client.token_uri

    def refresh_form(self, refresh_token: str) -> dict[str, str]:
        """The form of a refresh-token grant (each provider's class says)."""
        raise NotImplementedError
