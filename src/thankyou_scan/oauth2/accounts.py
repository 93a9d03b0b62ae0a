"""OAuth2 for an account of the config file: sign in, an access token for a scan, sign out.

The provider is the account's ``oauth2`` (``"gmail"`` or ``"microsoft"``); its tokens are
kept by provider and address (:func:`token_store`). Messages name the command that signs
in again, ``thankyou-scan auth NAME``.
"""

from __future__ import annotations

import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..config import OAUTH2_PROVIDERS, Account
from ..errors import OAuth2Error
from ..paths import config_dir, expand_user
from .google import GmailOAuth2, authorize, authorize_pasted, load_client_secret, revoke_at_google
from .microsoft import DEFAULT_AUTHORITY, MicrosoftClient, MicrosoftOAuth2, authorize_device
from .store import TokenStore, default_token_store
from .tokens import ask_on_stderr, to_stderr

__all__ = [
    "GMAIL_CLIENT_FILE",
    "SignOut",
    "gmail_client_file",
    "oauth2_access_token",
    "sign_in",
    "sign_out",
    "token_store",
]

GMAIL_CLIENT_FILE = "gmail-client.json"
"""The Desktop-app client JSON's name in the config folder, when the account names none."""


def _hint(account: Account) -> str:
    return f"sign in again with `thankyou-scan auth {account.name}`"


def _provider(account: Account) -> str:
    if account.oauth2 not in OAUTH2_PROVIDERS:
        raise OAuth2Error(
            f"account {account.name!r} does not sign in with OAuth2 (oauth2 is {account.oauth2!r}; "
            f"give one of: {', '.join(OAUTH2_PROVIDERS)})"
        )
    return account.oauth2


def gmail_client_file(account: Account) -> Path:
    """The account's Google client JSON: ``oauth2_client_file``, else gmail-client.json in the config folder."""
    if account.oauth2_client_file:
        return expand_user(account.oauth2_client_file, "oauth2_client_file")
    return config_dir() / GMAIL_CLIENT_FILE


def _microsoft_client(account: Account) -> MicrosoftClient:
    if not account.oauth2_client_id:
        raise OAuth2Error(
            f"account {account.name!r} has no oauth2_client_id — register an app in Microsoft Entra and put "
            "its application (client) ID there (docs/daily-use.md)"
        )
    return MicrosoftClient(account.oauth2_client_id, account.oauth2_authority or DEFAULT_AUTHORITY)


def token_store(account: Account) -> TokenStore:
    """Where the account's tokens are: the keyring when usable, else a 0600 file in the config folder."""
    return default_token_store(account.user, _provider(account), hint=_hint(account))


def _tokens(account: Account, store: TokenStore, clock: Callable[[], float]) -> GmailOAuth2 | MicrosoftOAuth2:
    if _provider(account) == "gmail":
        client = load_client_secret(gmail_client_file(account))
        return GmailOAuth2(client, store, clock=clock, hint=_hint(account))
    return MicrosoftOAuth2(_microsoft_client(account), store, clock=clock, hint=_hint(account))


def oauth2_access_token(
    account: Account, *, store: TokenStore | None = None, clock: Callable[[], float] = time.time
) -> str:
    """A fresh access token for the account's XOAUTH2 login: the stored one, or refreshed and stored.

    Raises:
        OAuth2Error: nothing stored yet, the provider refused the refresh token, the store
            or the client file cannot be read. The message says to sign in again.
    """
    return _tokens(account, store or token_store(account), clock).access_token()


def sign_in(
    account: Account,
    *,
    store: TokenStore | None = None,
    paste: bool = False,
    port: int = 0,
    open_browser: Callable[[str], object] = webbrowser.open,
    show: Callable[[str], None] = to_stderr,
    ask: Callable[[str], str] = ask_on_stderr,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.time,
    timeout: float = 300.0,
) -> TokenStore:
    """Run the account's sign-in and store its tokens; returns the store used.

    Gmail: the consent page in a browser with a loopback redirect on ``port`` (0: any
    free one), or with ``paste`` the redirect's address pasted back (``ask`` reads it).
    Microsoft: the device code, shown with ``show``; ``paste``, ``port`` and
    ``open_browser`` do not apply.
    """
    target = store or token_store(account)
    if _provider(account) == "gmail":
        client = load_client_secret(gmail_client_file(account))
        if paste:
            record = authorize_pasted(client, user=account.user, port=port, clock=clock, show=show, ask=ask)
        else:
            record = authorize(
                client,
                user=account.user,
                port=port,
                open_browser=open_browser,
                show=show,
                timeout=timeout,
                clock=clock,
            )
    else:
        record = authorize_device(_microsoft_client(account), show=show, sleep=sleep, clock=clock)
    target.save(record)
    return target


@dataclass(frozen=True, slots=True)
class SignOut:
    """What :func:`sign_out` did.

    ``removed``: tokens were stored and are now forgotten. ``revoked``: the provider
    confirmed the revocation (Google only; Microsoft has no revocation endpoint for a
    public client's refresh token: forgetting it is all a client can do). ``problem``:
    why the revocation failed, when it did (the tokens are forgotten all the same).
    """

    store: TokenStore
    removed: bool
    revoked: bool = False
    problem: str = ""


def sign_out(account: Account, *, store: TokenStore | None = None) -> SignOut:
    """Forget the account's tokens; for Google, revoke the grant first (best effort)."""
    target = store or token_store(account)
    revoked, problem = False, ""
    try:
        record = target.load()
    except OAuth2Error as exc:
        record, problem = None, str(exc)
    refresh = record.get("refresh_token") if record else None
    if _provider(account) == "gmail" and isinstance(refresh, str) and refresh:
        try:
            revoke_at_google(load_client_secret(gmail_client_file(account)), refresh)
            revoked = True
        except OAuth2Error as exc:
            problem = str(exc)
    return SignOut(store=target, removed=target.delete(), revoked=revoked, problem=problem)
