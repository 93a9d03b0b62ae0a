"""``thankyou-scan auth ACCOUNT``: OAuth2 sign-in and sign-out; and an account's password or token for a scan.

The account comes from the config file (cli.py resolves ``ACCOUNT``). Gmail signs in in
a browser: on this machine (a loopback redirect), through an SSH forward (``--port``),
or anywhere with the redirect's address pasted back (``--headless``). Microsoft signs
in with a device code, which needs no browser here. Tokens go to the keyring or a
0600 file (thankyou_scan.oauth2); nothing secret is printed.

thankyou_scan.oauth2 (and with it urllib, http.server, hashlib) and the browser are
imported only when an account signs in, out, or uses OAuth2: a scan with a password
starts without them.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TYPE_CHECKING, Any

from .cli_secrets import run_password_command
from .config import Account
from .errors import UsageError
from .render import visible

if TYPE_CHECKING:
    from .oauth2 import TokenStore

__all__ = ["KEYRING_SERVICE", "account_secret", "add_auth_parser", "run_auth"]

KEYRING_SERVICE = "thankyou-scan"
"""The keyring service of an account's password (``keyring: true``); the username is the account's ``user``."""


def add_auth_parser(commands: Any) -> argparse.ArgumentParser:
    """Add ``auth`` to the CLI's subparsers (``commands``); returns its parser (cli.py adds -v/-q)."""
    auth: argparse.ArgumentParser = commands.add_parser(
        "auth",
        help="sign in to an account with OAuth2 (Gmail, Microsoft 365 / Outlook.com), or sign out",
        description=(
            "Sign in to ACCOUNT (an account of the config file with oauth2: gmail or oauth2: microsoft) "
            "and store its tokens; scans then refresh them by themselves. See docs/daily-use.md."
        ),
    )
    auth.add_argument("account", metavar="ACCOUNT", help="the account's name in the config file")
    auth.add_argument(
        "--headless",
        action="store_true",
        help="Gmail without a browser here: open the address on any machine, paste back where it lands",
    )
    auth.add_argument(
        "--port",
        type=int,
        metavar="N",
        help="Gmail: wait for Google's redirect on 127.0.0.1:N (for ssh -L N:127.0.0.1:N)",
    )
    auth.add_argument(
        "--no-browser", action="store_true", help="Gmail: print the consent address, open no browser"
    )
    auth.add_argument(
        "--revoke", action="store_true", help="sign out: forget the stored tokens (Gmail: revoke them too)"
    )
    return auth


def _say(text: str) -> None:
    print("\n".join(visible(line) for line in text.split("\n")), file=sys.stderr, flush=True)


def _where(store: TokenStore) -> str:
    from .oauth2 import FileTokenStore, KeyringTokenStore

    if isinstance(store, FileTokenStore):
        return f"the file {store.path} (mode 0600)"
    if isinstance(store, KeyringTokenStore):
        return f"the system keyring (service {store.service})"
    return repr(store)


def _open_browser(url: str) -> bool:
    import webbrowser

    opened = webbrowser.open(url)
    if not opened:
        _say(
            "No browser could be opened here: open the address above yourself, or run again with --headless."
        )
    return opened


def _check(args: argparse.Namespace, account: Account) -> None:
    if account.oauth2 is None:
        raise UsageError(
            f"account {account.name!r} does not sign in with OAuth2 — `auth` is for accounts with "
            "`oauth2: gmail` or `oauth2: microsoft` in the config file"
        )
    if args.port is not None and not 1 <= args.port <= 65535:
        raise UsageError(f"--port {args.port} is not a port — give a number from 1 to 65535")
    if args.revoke and (args.headless or args.port is not None or args.no_browser):
        raise UsageError("--revoke signs out: --headless, --port and --no-browser are for signing in")
    if account.oauth2 == "microsoft" and args.port is not None:
        raise UsageError(
            "--port is for Gmail's browser sign-in; Microsoft signs in with a device code, which needs none"
        )


def run_auth(args: argparse.Namespace, account: Account) -> int:
    """Sign in to ``account`` (or out, with ``--revoke``); returns the exit code."""
    _check(args, account)
    if args.revoke:
        return _revoke(account)
    from .oauth2 import sign_in

    store = sign_in(
        account,
        paste=args.headless,
        port=args.port or 0,
        open_browser=(lambda url: False) if args.no_browser or args.headless else _open_browser,
        show=_say,
    )
    _say(
        f"Signed in: the tokens of {account.user} (account {account.name!r}) are in {_where(store)}. "
        "Scans refresh them by themselves."
    )
    return 0


def _revoke(account: Account) -> int:
    from .oauth2 import sign_out

    result = sign_out(account)
    where = _where(result.store)
    if not result.removed and not result.revoked:
        _say(f"No tokens were stored for account {account.name!r} in {where}: nothing to forget.")
        if result.problem:
            _say(f"warning: {result.problem}")
        return 0
    if account.oauth2 == "gmail":
        if result.revoked:
            _say(
                f"Signed out of account {account.name!r}: Google revoked the access, and {where} holds no tokens."
            )
        else:
            _say(
                f"Signed out of account {account.name!r}: the tokens are removed from {where}, but Google "
                f"could not be asked to revoke them ({result.problem}) — remove thankyou-scan's access at "
                "https://myaccount.google.com/permissions"
            )
        return 0
    _say(
        f"Signed out of account {account.name!r}: the tokens are removed from {where}. Microsoft has no "
        "way for an app like this to revoke a refresh token; to end the session at Microsoft as well, "
        "sign out everywhere at https://myaccount.microsoft.com (work or school) or "
        "https://account.microsoft.com/security (personal)."
    )
    return 0


def account_secret(account: Account) -> tuple[str | None, str | None]:
    """(password, OAuth2 access token) for ``account``'s login, one of them set.

    From ``oauth2`` (the stored tokens, refreshed when needed), ``password_command`` (run
    without a shell), ``password_env``, ``keyring`` (service ``thankyou-scan``, username
    ``user``), or, with none of them, a prompt when standard input is a terminal.
    """
    label = f"account {account.name!r}"
    if account.oauth2:
        from .oauth2 import oauth2_access_token

        return None, oauth2_access_token(account)
    if account.password_command:
        return run_password_command(account.password_command, f"{label}: password_command"), None
    if account.password_env:
        value = os.environ.get(account.password_env)
        if not value:
            raise UsageError(
                f"{label}: the environment variable {account.password_env} (password_env) is not set or is empty"
            )
        return value, None
    if account.keyring:
        return _from_keyring(account, label), None
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(f"IMAP password for {account.user} at {account.imap_host}: "), None
    raise UsageError(
        f"{label} names no way to its password — give it one of password_command, password_env, "
        "keyring: true or oauth2 in the config file"
    )


def _from_keyring(account: Account, label: str) -> str:
    store_it = f"store it with: keyring set {KEYRING_SERVICE} {account.user}"
    try:
        import keyring  # the optional extra
    except ImportError:
        raise UsageError(
            f"{label} reads its password from the system keyring, but the keyring package is not installed — "
            "pip install 'thankyou-scan[keyring]' (with pipx: pipx inject thankyou-scan keyring), "
            f"then {store_it}"
        ) from None
    try:
        value = keyring.get_password(KEYRING_SERVICE, account.user)
    except Exception as exc:  # each backend raises its own errors (D-Bus, macOS Security...)
        raise UsageError(
            f"{label}: the system keyring could not be read ({type(exc).__name__}) — is a keyring "
            "service running? (`keyring diagnose` shows which backend is used)"
        ) from None
    if not value:
        raise UsageError(
            f"{label}: the system keyring holds no password for {account.user} (service "
            f"{KEYRING_SERVICE!r}) — {store_it}"
        )
    return str(value)
