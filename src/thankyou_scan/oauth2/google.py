"""Gmail: the installed-app consent flow (PKCE), on a loopback redirect or with the redirect pasted back.

Google's "Desktop app" clients redirect to ``http://127.0.0.1:PORT/`` (any port). With a
browser on this machine, a one-off listener there receives the code. Without one
(``authorize_pasted``), the user opens the consent page anywhere; the browser's redirect
to 127.0.0.1 then fails to load, and the user pastes that address back. Either way the
code is worth nothing without the PKCE verifier, which never leaves this process.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from ..errors import OAuth2Error
from ..paths import read_regular_file
from ..token_endpoint import call_endpoint, check_endpoint, post_form
from .tokens import RefreshingTokens, ask_on_stderr, to_stderr, token_record

__all__ = [
    "GMAIL_SCOPE",
    "ClientSecret",
    "GmailOAuth2",
    "authorize",
    "authorize_pasted",
    "load_client_secret",
    "revoke_at_google",
]

GMAIL_SCOPE = "https://mail.google.com/"
MAX_CLIENT_FILE = 64 * 1024


@dataclass(frozen=True, slots=True)
class ClientSecret:
    """The "Desktop app" OAuth client downloaded from Google Cloud Console."""

    client_id: str
    client_secret: str = ""
    auth_uri: str = "https://accounts.google.com/o/oauth2/v2/auth"
    token_uri: str = "https://oauth2.googleapis.com/token"
    revoke_uri: str = "https://oauth2.googleapis.com/revoke"

    def __repr__(self) -> str:
        return f"ClientSecret(client_id={self.client_id!r}, token_uri={self.token_uri!r})"


def load_client_secret(path: str | Path) -> ClientSecret:
    """Read a client-secret JSON file (``{"installed": {...}}``) as Google Cloud Console gives it."""
    try:
        content = read_regular_file(path, MAX_CLIENT_FILE)
        if content is None or len(content) > MAX_CLIENT_FILE:
            raise ValueError("not a regular file of a few KiB")
        data = json.loads(content.decode("utf-8"))
    except FileNotFoundError:
        raise OAuth2Error(
            f"{path}: no such file — download the Desktop-app OAuth client JSON from Google Cloud Console "
            "(docs/daily-use.md)"
        ) from None
    except (OSError, ValueError, RecursionError) as exc:
        raise OAuth2Error(f"{path} is not a readable client-secret JSON file ({exc})") from None
    section = data.get("installed") if isinstance(data, dict) else None
    if not isinstance(section, dict) or not section.get("client_id"):
        kind = ", ".join(map(str, data)) if isinstance(data, dict) else type(data).__name__
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
        revoke_uri=str(section.get("revoke_uri", defaults.revoke_uri)),
    )


@dataclass(frozen=True, slots=True)
class _Consent:
    """One consent request: the page to open, and what its answer must match."""

    url: str
    redirect_uri: str
    state: str
    verifier: str


def _consent(client: ClientSecret, redirect_uri: str, user: str | None, scope: str) -> _Consent:
    check_endpoint(client.auth_uri)
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(24)
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
    return _Consent(f"{client.auth_uri}?{urllib.parse.urlencode(params)}", redirect_uri, state, verifier)


def _code_from(answer: dict[str, str], consent: _Consent) -> str:
    """The authorization code of the redirect's query, once its state is the one we sent."""
    if answer.get("state") != consent.state:
        raise OAuth2Error("the consent page answered with the wrong state — sign in again")
    if "error" in answer or not answer.get("code"):
        reason = answer.get("error", "no code")[:100]
        raise OAuth2Error(f"access was not granted ({reason}) — sign in again")
    return answer["code"]


def _exchange(client: ClientSecret, code: str, consent: _Consent, now: float) -> dict[str, Any]:
    answer = post_form(
        client.token_uri,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": consent.redirect_uri,
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "code_verifier": consent.verifier,
        },
        timeout=30,
    )
    if not answer.get("refresh_token"):
        raise OAuth2Error(
            "Google sent no refresh token — remove the app's access at myaccount.google.com and sign in again"
        )
    return token_record(answer, now)


class _CallbackHandler(BaseHTTPRequestHandler):
    server: _CallbackServer

    def do_GET(self) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        if "state" not in query and "code" not in query and "error" not in query:
            self.send_response(404)  # a favicon, a probe: not the redirect
            self.end_headers()
            return
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


def _listen(port: int) -> _CallbackServer:
    try:
        server = _CallbackServer(("127.0.0.1", port), _CallbackHandler)
    except OSError as exc:
        raise OAuth2Error(
            f"cannot listen on 127.0.0.1:{port} for Google's redirect ({exc.strerror or exc}) — "
            "choose another port, or none"
        ) from None
    server.result, server.done = {}, threading.Event()
    return server


def authorize(
    client: ClientSecret,
    *,
    user: str | None = None,
    scope: str = GMAIL_SCOPE,
    open_browser: Callable[[str], object] = webbrowser.open,
    timeout: float = 300.0,
    clock: Callable[[], float] = time.time,
    port: int = 0,
    show: Callable[[str], None] = to_stderr,
) -> dict[str, Any]:
    """Run the installed-app consent flow on a loopback redirect; returns the token record to store.

    Uses PKCE and a random ``state``; the browser is sent to Google's consent page and
    comes back to ``http://127.0.0.1:PORT/`` with a one-time code. ``port`` 0 takes a
    free one; a fixed port is for an SSH forward (``ssh -L PORT:127.0.0.1:PORT host``).
    """
    server = _listen(port)
    consent = _consent(client, f"http://127.0.0.1:{server.server_address[1]}/", user, scope)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        show(f"Opening Google's consent page. If no browser opens, visit:\n{consent.url}")
        open_browser(consent.url)
        if not server.done.wait(timeout):
            raise OAuth2Error(f"no answer from the consent page within {timeout:g} s — sign in again")
    finally:
        server.shutdown()
        server.server_close()
    return _exchange(client, _code_from(server.result, consent), consent, clock())


def authorize_pasted(
    client: ClientSecret,
    *,
    user: str | None = None,
    scope: str = GMAIL_SCOPE,
    port: int = 0,
    clock: Callable[[], float] = time.time,
    show: Callable[[str], None] = to_stderr,
    ask: Callable[[str], str] = ask_on_stderr,
) -> dict[str, Any]:
    """The consent flow without a browser here: the redirect's address is pasted back.

    The user opens the consent page on any machine; after consent the browser goes to
    ``http://127.0.0.1:PORT/?state=…&code=…``, which does not load there. ``ask``
    returns what the user pasted: that address, checked against the state we sent
    before its code is exchanged (with PKCE). ``port`` 0 picks one at random.
    """
    chosen = port or 49152 + secrets.randbelow(16384)
    consent = _consent(client, f"http://127.0.0.1:{chosen}/", user, scope)
    show(
        "Open this address in a browser on any machine and allow access:\n"
        f"{consent.url}\n\n"
        f"The browser then goes to http://127.0.0.1:{chosen}/?… and shows an error page "
        "(nothing listens there): that is expected. Copy that whole address from its address bar."
    )
    pasted = ask(f"Paste the address (http://127.0.0.1:{chosen}/?…) here: ")
    return _exchange(client, _code_from(_redirect_query(pasted, consent), consent), consent, clock())


def _redirect_query(pasted: str, consent: _Consent) -> dict[str, str]:
    """The query of the pasted redirect address, if it is the one the consent page was told to use.

    Never shown back: it holds the code.
    """
    text = pasted.strip().strip("'\"<>").strip()
    parts = urllib.parse.urlsplit(text)
    expected = urllib.parse.urlsplit(consent.redirect_uri)
    try:
        same_place = (parts.scheme, parts.hostname, parts.port) == (
            expected.scheme,
            expected.hostname,
            expected.port,
        )
    except ValueError:  # a port that is not a number
        same_place = False
    if not same_place or not parts.query:
        raise OAuth2Error(
            f"that is not the address Google sent the browser to — copy the whole address, starting "
            f"{consent.redirect_uri}?, from the browser's address bar after allowing access, and sign in again"
        )
    return {key: values[0] for key, values in urllib.parse.parse_qs(parts.query).items()}


class GmailOAuth2(RefreshingTokens[ClientSecret]):
    """Access tokens for XOAUTH2, refreshed with the stored refresh token when they expire."""

    provider = "Google"

    def refresh_form(self, refresh_token: str) -> dict[str, str]:
        """The form of a refresh-token grant for this client."""
        return {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": self.client.client_id,
            "client_secret": self.client.client_secret,
        }


def revoke_at_google(client: ClientSecret, token: str) -> None:
    """Ask Google to revoke ``token`` (a refresh token revokes the whole grant); OAuth2Error if it says no."""
    call_endpoint(client.revoke_uri, {"token": token}, timeout=30)
