"""A stand-in for Google's OAuth2 endpoints on loopback, and a "browser" that approves consent."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Answer = tuple[int, dict[str, Any]]


class FormServer:
    """A loopback HTTP server answering form POSTs with JSON: ``route(path, form)`` decides."""

    def __init__(self, route: Callable[[str, dict[str, str]], Answer]) -> None:
        self.requests: list[dict[str, str]] = []
        self.paths: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(length).decode()).items()}
                fake.requests.append(form)
                fake.paths.append(self.path)
                status, body = route(self.path, form)
                payload = json.dumps(body).encode() if body else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class FakeGoogle(FormServer):
    """Token endpoint: authorization_code (with PKCE) and refresh_token grants; and the revoke endpoint."""

    def __init__(self, access_token: str = "access-1") -> None:
        self.access_token = access_token
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (PKCE challenge, redirect_uri)
        self.refresh_tokens = {"refresh-1"}
        self.revoked: list[str] = []
        self.revoke_status = 200
        super().__init__(lambda path, form: self.revoke(form) if path == "/revoke" else self.answer(form))

    def answer(self, form: dict[str, str]) -> Answer:
        grant = form.get("grant_type")
        if form.get("client_id") != "client-123.apps.googleusercontent.com":
            return 401, {"error": "invalid_client"}
        if grant == "authorization_code":
            challenge, redirect_uri = self.codes.pop(form.get("code", ""), ("", ""))
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            if not challenge or base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != challenge:
                return 400, {"error": "invalid_grant", "error_description": "Bad code or verifier."}
            if form.get("redirect_uri") != redirect_uri:
                return 400, {"error": "redirect_uri_mismatch"}
            return 200, {"access_token": self.access_token, "expires_in": 3599, "refresh_token": "refresh-1"}
        if grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return 400, {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                }
            return 200, {"access_token": self.access_token, "expires_in": 3599, "token_type": "Bearer"}
        return 400, {"error": "unsupported_grant_type"}

    def revoke(self, form: dict[str, str]) -> Answer:
        """Google answers 200 with an empty body, or 400 invalid_token."""
        if self.revoke_status != 200:
            return self.revoke_status, {
                "error": "invalid_token",
                "error_description": "Token expired or revoked",
            }
        self.revoked.append(form.get("token", ""))
        self.refresh_tokens.discard(form.get("token", ""))
        return 200, {}

    def client_secret_file(self, directory: Path) -> Path:
        path = directory / "client_secret.json"
        path.write_text(
            json.dumps(
                {
                    "installed": {
                        "client_id": "client-123.apps.googleusercontent.com",
                        "client_secret": "GOCSPX-not-a-real-secret",
                        "auth_uri": f"{self.base}/auth",
                        "token_uri": f"{self.base}/token",
                        "revoke_uri": f"{self.base}/revoke",
                        "redirect_uris": ["http://localhost"],
                    }
                }
            )
        )
        return path

    def consent(self, url: str, *, approve: bool = True, tamper_state: bool = False) -> str:
        """What Google's consent page does: the address it sends the browser back to."""
        query = {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}
        assert query["scope"] == "https://mail.google.com/"
        assert query["code_challenge_method"] == "S256" and query["access_type"] == "offline"
        state = "forged" if tamper_state else query["state"]
        if approve:
            code = f"code-{len(self.codes) + 1}"
            self.codes[code] = (query["code_challenge"], query["redirect_uri"])
            back = {"state": state, "code": code, "scope": query["scope"]}
        else:
            back = {"error": "access_denied", "state": state}
        return f"{query['redirect_uri']}?{urllib.parse.urlencode(back)}"

    def browser(self, *, approve: bool = True, tamper_state: bool = False) -> Any:
        """A stand-in for the user's browser: reads the consent URL and follows Google's redirect."""

        def open_url(url: str) -> None:
            target = self.consent(url, approve=approve, tamper_state=tamper_state)
            threading.Thread(target=lambda: _get(target), daemon=True).start()

        return open_url


def _get(url: str) -> None:
    with contextlib.suppress(OSError):  # a 400 page for a refused consent is expected
        urllib.request.urlopen(url, timeout=10).read()
