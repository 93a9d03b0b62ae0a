"""POSTs to an OAuth2 endpoint (token, device code, revoke): https, or plain http only to a
checked loopback address.

The endpoint's address comes from a file the user downloaded or wrote, and its answer is
untrusted: the whole exchange is bounded in time (a socket timeout alone bounds only
each read) and in size, and every odd answer is an OAuth2Error. Its words are
scrubbed of the form's secrets before they are shown.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .credentials import scrub
from .errors import OAuth2Error, UsageError
from .network import is_loopback, resolve_loopback

__all__ = ["MAX_ANSWER", "SECRET_FIELDS", "call_endpoint", "check_endpoint", "post_form"]

SECRET_FIELDS = ("refresh_token", "client_secret", "code", "code_verifier", "device_code", "token")
"""The form fields whose values never appear in what the endpoint's answer is turned into."""


def check_endpoint(url: str) -> None:
    """Refuse an endpoint that is neither https nor http to this machine."""
    # The URL comes from a file: only https, or http to this machine (a test endpoint).
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname or "")):
        return
    raise OAuth2Error(f"refusing the OAuth2 endpoint {url!r}: it must be an https:// address")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A token endpoint does not redirect; following one could carry the form elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


MAX_ANSWER = 1024 * 1024
"""A token endpoint's answer is a few hundred bytes: more than this is refused unread."""


class _Deadline:
    """Cuts every connection made through it once the whole exchange has taken ``seconds``.

    A socket timeout bounds each read, not the answer: a server sending a byte a
    second would hold the request forever. urllib lets go of the connection object
    once the headers are in, so the sockets themselves are kept here.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True
        self._timer.start()

    def adopt(self, sock: socket.socket | None) -> None:
        if sock is not None:
            self._sockets.append(sock)

    def _cut(self) -> None:
        self.expired = True
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def _watched(kind: type[http.client.HTTPConnection], deadline: _Deadline) -> Any:
    """A connection factory for urllib's do_open whose sockets the deadline can cut."""

    def connection(host: str, **kwargs: Any) -> http.client.HTTPConnection:
        made = kind(host, **kwargs)
        connect = made.connect

        def connect_and_adopt() -> None:
            connect()
            deadline.adopt(made.sock)

        made.connect = connect_and_adopt  # type: ignore[method-assign]
        return made

    return connection


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_watched(http.client.HTTPConnection, self.deadline), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__(context=ssl.create_default_context())
        self.deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        factory = _watched(http.client.HTTPSConnection, self.deadline)
        return self.do_open(factory, req, context=self._context)  # type: ignore[attr-defined]


def _opener(url: str, deadline: _Deadline) -> tuple[str, dict[str, str], urllib.request.OpenerDirector]:
    """Where to POST: https as is; http only to a loopback address, resolved once here and
    connected to by that address (the name goes in the Host header), with no proxy.
    """
    check_endpoint(url)
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https":
        return url, {}, urllib.request.build_opener(_NoRedirect, _HTTPSHandler(deadline))
    host = parts.hostname or ""
    port = parts.port or 80
    try:
        address = str(resolve_loopback(host, port)[0][4][0])
    except UsageError as exc:
        raise OAuth2Error(
            f"refusing the OAuth2 endpoint {url!r}: {exc} — plain http is only for this machine"
        ) from None
    except OSError as exc:
        raise OAuth2Error(f"cannot reach the OAuth2 endpoint {url}: {exc}") from None
    literal = f"[{address}]" if ":" in address else address
    direct = urllib.parse.urlunsplit(parts._replace(netloc=f"{literal}:{port}"))
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}), _HTTPHandler(deadline))
    return direct, {"Host": parts.netloc.rsplit("@", 1)[-1]}, opener


def post_form(url: str, fields: dict[str, str], timeout: float) -> dict[str, Any]:
    """POST a form to a token endpoint; returns its JSON answer, which holds an access token.

    Raises OAuth2Error with the endpoint's reason (``reason`` is its ``error`` code). The
    endpoint's words are scrubbed of the form's secrets: a hostile one could echo them.
    The whole exchange takes at most ``timeout`` seconds and reads at most MAX_ANSWER bytes.
    """
    data = call_endpoint(url, fields, timeout)
    if not isinstance(data.get("access_token"), str) or not data["access_token"]:
        raise OAuth2Error(f"the token endpoint {url} answered without an access token")
    expires_in = data.get("expires_in", 3600)
    if isinstance(expires_in, bool) or not isinstance(expires_in, int | float) or not 0 < expires_in <= 10**8:
        raise OAuth2Error(f"the token endpoint {url} answered an expires_in that is not a number of seconds")
    return data


def call_endpoint(url: str, fields: dict[str, str], timeout: float) -> dict[str, Any]:
    """POST a form to an OAuth2 endpoint; returns its JSON object (``{}`` for an empty answer).

    Bounded and scrubbed as :func:`post_form`, which adds the checks of a token answer.
    """
    deadline = _Deadline(timeout)
    try:
        return _exchange(url, fields, deadline)
    except OAuth2Error:
        if deadline.expired:
            raise OAuth2Error(f"the OAuth2 endpoint {url} did not answer within {timeout:g} s") from None
        raise
    finally:
        deadline.cancel()


def _exchange(url: str, fields: dict[str, str], deadline: _Deadline) -> dict[str, Any]:
    target, headers, opener = _opener(url, deadline)
    secrets = [fields[name] for name in SECRET_FIELDS if fields.get(name)]
    request = urllib.request.Request(
        target,
        data=urllib.parse.urlencode(fields).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            **headers,
        },
    )
    try:
        with opener.open(request, timeout=deadline.seconds) as response:
            data = _json_answer(response.read(MAX_ANSWER + 1))
    except urllib.error.HTTPError as exc:
        try:
            body = _json_answer(exc.read(MAX_ANSWER + 1))
        except (ValueError, OAuth2Error, http.client.HTTPException):
            body = {}
        error = str(body.get("error", "")) if isinstance(body, dict) else ""
        description = str(body.get("error_description", "")) if isinstance(body, dict) else ""
        error, description = scrub(error, secrets)[:100], _first_sentence(scrub(description, secrets))
        said = f"{error}: {description}" if error and description else error or description
        raise OAuth2Error(
            f"the OAuth2 endpoint {url} answered HTTP {exc.code} {said}".strip(),
            reason=error,
            description=description,
        ) from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        reason = scrub(str(getattr(exc, "reason", exc)), secrets)
        raise OAuth2Error(f"cannot reach the OAuth2 endpoint {url}: {reason or type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise OAuth2Error(f"the OAuth2 endpoint {url} answered something other than a JSON object")
    return data


def _first_sentence(description: str, limit: int = 200) -> str:
    """Microsoft's descriptions run on with trace and correlation IDs and timestamps: keep the start."""
    first = description.strip().splitlines()[0] if description.strip() else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _json_answer(body: bytes) -> Any:
    """An endpoint's JSON, refused when too long or nested too deeply (a hostile endpoint)."""
    if len(body) > MAX_ANSWER:
        raise OAuth2Error(f"the OAuth2 endpoint answered more than {MAX_ANSWER // 1024} KiB")
    if not body.strip():
        return {}  # Google's revoke endpoint answers 200 with nothing
    try:
        return json.loads(body.decode("utf-8"))
    except RecursionError:
        raise ValueError("its JSON is nested too deeply") from None
