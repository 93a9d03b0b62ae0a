"""OAuth2 for Gmail IMAP (XOAUTH2): the installed-app consent flow and token refresh.

Standard library only (urllib, http.server, secrets, hashlib): the protocol is three
small HTTP exchanges, which does not justify google-auth and its dependencies.

    client = load_client_secret("client_secret.json")       # from Google Cloud Console
    store = FileTokenStore.for_user("you@gmail.com")         # ~/.config/thankyou-scan/..., mode 0600
    store.save(authorize(client, user="you@gmail.com"))      # once: opens the consent page
    token = GmailOAuth2(client, store).access_token()        # every scan: refreshed when needed
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, Protocol

from .errors import OAuth2Error
from .paths import NotPrivateError, config_dir, create_temporary, open_private_file, open_private_folder
from .token_endpoint import CONSENT_HINT, check_endpoint, post_form

__all__ = [
    "GMAIL_SCOPE",
    "ClientSecret",
    "FileTokenStore",
    "GmailOAuth2",
    "KeyringTokenStore",
    "OAuth2Error",
    "TokenStore",
    "authorize",
    "default_token_store",
    "load_client_secret",
]

GMAIL_SCOPE = "https://mail.google.com/"
EXPIRY_MARGIN = 60.0
"""Refresh an access token this many seconds before it expires."""


@dataclass(frozen=True, slots=True)
class ClientSecret:
    """The "Desktop app" OAuth client downloaded from Google Cloud Console."""

    client_id: str
    client_secret: str = ""
    auth_uri: str = "https://accounts.google.com/o/oauth2/v2/auth"
    token_uri: str = "https://oauth2.googleapis.com/token"

    def __repr__(self) -> str:
        return f"ClientSecret(client_id={self.client_id!r}, token_uri={self.token_uri!r})"


def load_client_secret(path: str | Path) -> ClientSecret:
    """Read a client-secret JSON file (``{"installed": {...}}``) as Google Cloud Console gives it."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OAuth2Error(f"{path}: no such file — download the OAuth client JSON (docs/gmail.md)") from None
    except (OSError, ValueError) as exc:
        raise OAuth2Error(f"{path} is not a readable client-secret JSON file ({exc})") from None
    section = data.get("installed") if isinstance(data, dict) else None
    if not isinstance(section, dict) or not section.get("client_id"):
        kind = ", ".join(data) if isinstance(data, dict) else type(data).__name__
        raise OAuth2Error(
            f"{path} is not a Desktop-app OAuth client (found: {kind}) — create an OAuth client of type "
            "'Desktop app' in Google Cloud Console and download its JSON"
        )
    defaults = ClientSecret(client_id="")
    return ClientSecret(
        client_id=str(section["client_id"]),
        client_secret=str(section.get("client_secret", "")),
        auth_uri=str(section.get("auth_uri", defaults.auth_uri)),
        token_uri=str(section.get("token_uri", defaults.token_uri)),
    )


class TokenStore(Protocol):
    """Where the refresh token (and the current access token) are kept."""

    def load(self) -> dict[str, Any] | None: ...

    def save(self, record: dict[str, Any]) -> None: ...


class FileTokenStore:
    """A JSON file readable by its owner only (mode 0600, in a 0700 folder), written atomically.

    A file or folder another user could have written is refused (OAuth2Error).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @classmethod
    def for_user(cls, user: str) -> FileTokenStore:
        """The default file for ``user`` in the user's configuration folder."""
        safe = "".join(c if c.isalnum() or c in "@.-_" else "_" for c in user.lower())
        return cls(config_dir() / f"gmail-oauth2-{safe}.json")

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"

    def load(self) -> dict[str, Any] | None:
        try:
            folder = open_private_folder(self.path.parent, create=False)
            try:
                descriptor = open_private_file(folder, self.path.name, self.path)
            finally:
                os.close(folder)
            with os.fdopen(descriptor, "rb") as handle:
                data = json.loads(handle.read())
        except FileNotFoundError:
            return None
        except NotPrivateError as exc:
            raise OAuth2Error(f"not using the token file: {exc.strerror} — {CONSENT_HINT}") from None
        except (OSError, ValueError) as exc:
            raise OAuth2Error(f"cannot read the token file {self.path} ({exc}) — {CONSENT_HINT}") from None
        return data if isinstance(data, dict) else None

    def save(self, record: dict[str, Any]) -> None:
        """Write a new file in the (checked) folder and rename it into place."""
        try:
            folder = open_private_folder(self.path.parent, create=True)
        except OSError as exc:
            raise OAuth2Error(f"cannot save the token file {self.path}: {exc.strerror or exc}") from None
        try:
            descriptor, temporary = create_temporary(folder, self.path.name)
            try:
                with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                    json.dump(record, handle)
                os.replace(temporary, self.path.name, src_dir_fd=folder, dst_dir_fd=folder)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary, dir_fd=folder)
                raise
        except OSError as exc:
            raise OAuth2Error(f"cannot save the token file {self.path}: {exc.strerror or exc}") from None
        finally:
            os.close(folder)


class KeyringTokenStore:
    """The system keyring (``pip install 'thankyou-scan[keyring]'``)."""

    SERVICE = "thankyou-scan-gmail-oauth2"

    def __init__(self, user: str) -> None:
        import keyring  # an optional extra: imported only when asked for

        self._keyring = keyring
        self.user = user

    def __repr__(self) -> str:
        return f"KeyringTokenStore({self.user!r})"

    def load(self) -> dict[str, Any] | None:
        text = self._keyring.get_password(self.SERVICE, self.user)
        try:
            data = json.loads(text) if text else None
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def save(self, record: dict[str, Any]) -> None:
        self._keyring.set_password(self.SERVICE, self.user, json.dumps(record))


def default_token_store(user: str) -> TokenStore:
    """The keyring when the optional ``keyring`` package is installed, else a 0600 file."""
    try:
        return KeyringTokenStore(user)
    except ImportError:
        return FileTokenStore.for_user(user)


def _record(answer: dict[str, Any], now: float, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    record = dict(previous or {})
    record["access_token"] = answer["access_token"]
    record["expires_at"] = now + float(answer.get("expires_in", 3600))
    if answer.get("refresh_token"):  # Google sends it on consent, not on refresh
        record["refresh_token"] = answer["refresh_token"]
    return record


class _CallbackHandler(BaseHTTPRequestHandler):
    server: _CallbackServer

    def do_GET(self) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        self.server.result = {key: values[0] for key, values in query.items()}
        ok = "code" in self.server.result
        body = (
            "thankyou-scan: access granted. You can close this tab."
            if ok
            else "thankyou-scan: access was not granted. You can close this tab."
        )
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.end_headers()
        self.wfile.write(body.encode())
        self.server.done.set()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the query string holds the authorization code."""


class _CallbackServer(HTTPServer):
    result: dict[str, str]
    done: threading.Event


def authorize(
    client: ClientSecret,
    *,
    user: str | None = None,
    scope: str = GMAIL_SCOPE,
    open_browser: Callable[[str], object] = webbrowser.open,
    timeout: float = 300.0,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Run the installed-app consent flow on a loopback redirect; returns the token record to store.

    Uses PKCE and a random ``state``; the browser is sent to Google's consent page and
    comes back to ``http://127.0.0.1:PORT/`` with a one-time code.
    """
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(24)
    server = _CallbackServer(("127.0.0.1", 0), _CallbackHandler)
    server.result, server.done = {}, threading.Event()
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/"
    params = {
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "access_type": "offline",
        "prompt": "consent",
    }
    if user:
        params["login_hint"] = user
    check_endpoint(client.auth_uri)
    url = f"{client.auth_uri}?{urllib.parse.urlencode(params)}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        print(f"Opening the Google consent page. If no browser opens, visit:\n{url}", file=sys.stderr)
        open_browser(url)
        if not server.done.wait(timeout):
            raise OAuth2Error(f"no answer from the consent page within {timeout:g} s — run the helper again")
    finally:
        server.shutdown()
        server.server_close()
    result = server.result
    if result.get("state") != state:
        raise OAuth2Error("the consent page answered with the wrong state — run the helper again")
    if "code" not in result:
        raise OAuth2Error(f"access was not granted ({result.get('error', 'no code')}) — run the helper again")
    answer = post_form(
        client.token_uri,
        {
            "grant_type": "authorization_code",
            "code": result["code"],
            "redirect_uri": redirect_uri,
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "code_verifier": verifier,
        },
        timeout=30,
    )
    if not answer.get("refresh_token"):
        raise OAuth2Error(
            "Google sent no refresh token — remove the app's access at myaccount.google.com and retry"
        )
    return _record(answer, clock())


class GmailOAuth2:
    """Access tokens for XOAUTH2, refreshed with the stored refresh token when they expire."""

    def __init__(
        self, client: ClientSecret, store: TokenStore, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.client = client
        self.store = store
        self.clock = clock

    def __repr__(self) -> str:
        return f"GmailOAuth2({self.client!r}, {self.store!r})"

    def access_token(self) -> str:
        """A valid access token: the stored one while it lasts, else a refreshed one (then stored)."""
        record = self.store.load()
        if not record or not record.get("refresh_token"):
            raise OAuth2Error(f"no Gmail OAuth2 refresh token is stored yet — {CONSENT_HINT}")
        now = self.clock()
        if record.get("access_token") and float(record.get("expires_at", 0)) - EXPIRY_MARGIN > now:
            return str(record["access_token"])
        answer = post_form(
            self.client.token_uri,
            {
                "grant_type": "refresh_token",
                "refresh_token": str(record["refresh_token"]),
                "client_id": self.client.client_id,
                "client_secret": self.client.client_secret,
            },
            timeout=30,
        )
        record = _record(answer, now, record)
        self.store.save(record)
        return str(record["access_token"])
