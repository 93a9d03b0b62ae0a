"""OAuth2 for Gmail: consent, refresh, token storage, and every way it fails, against a fake Google."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from fakegoogle import FakeGoogle
from thankyou_scan.oauth2 import (
    ClientSecret,
    FileTokenStore,
    GmailOAuth2,
    OAuth2Error,
    authorize,
    load_client_secret,
)


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle()
    yield fake
    fake.close()


@pytest.fixture
def client(google: FakeGoogle, tmp_path: Path) -> ClientSecret:
    return load_client_secret(google.client_secret_file(tmp_path))


def test_consent_flow_stores_a_refresh_token_in_a_private_file(
    google: FakeGoogle, client: ClientSecret, tmp_path: Path
) -> None:
    record = authorize(
        client, user="you@gmail.com", open_browser=google.browser(), timeout=10, clock=lambda: 1000.0
    )
    assert record == {"access_token": "access-1", "expires_at": 4599.0, "refresh_token": "refresh-1"}
    store = FileTokenStore(tmp_path / "tokens" / "gmail.json")
    store.save(record)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert store.load() == record
    assert google.requests[0]["grant_type"] == "authorization_code"


def test_refused_consent_and_forged_state_are_clear_errors(google: FakeGoogle, client: ClientSecret) -> None:
    with pytest.raises(OAuth2Error, match="access was not granted \\(access_denied\\)"):
        authorize(client, open_browser=google.browser(approve=False), timeout=10)
    with pytest.raises(OAuth2Error, match="wrong state"):
        authorize(client, open_browser=google.browser(tamper_state=True), timeout=10)
    with pytest.raises(OAuth2Error, match="no answer from the consent page"):
        authorize(client, open_browser=lambda url: None, timeout=0.3)
    assert google.requests == []  # nothing was exchanged


def test_access_token_is_reused_until_it_expires_then_refreshed(
    google: FakeGoogle, client: ClientSecret, tmp_path: Path
) -> None:
    store = FileTokenStore(tmp_path / "t.json")
    store.save({"refresh_token": "refresh-1", "access_token": "old", "expires_at": 5000.0})
    now = [1000.0]
    oauth = GmailOAuth2(client, store, clock=lambda: now[0])
    assert oauth.access_token() == "old"
    assert google.requests == []
    now[0] = 4950.0  # within a minute of expiry
    assert oauth.access_token() == "access-1"
    assert [r["grant_type"] for r in google.requests] == ["refresh_token"]
    saved = json.loads(store.path.read_text())
    assert saved == {"refresh_token": "refresh-1", "access_token": "access-1", "expires_at": 4950.0 + 3599}
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_revoked_refresh_token_says_to_sign_in_again(
    google: FakeGoogle, client: ClientSecret, tmp_path: Path
) -> None:
    store = FileTokenStore(tmp_path / "t.json")
    store.save({"refresh_token": "revoked-long-ago"})
    with pytest.raises(OAuth2Error) as caught:
        GmailOAuth2(client, store).access_token()
    message = str(caught.value)
    assert "expired or revoked" in message and "sign in again with `thankyou-scan auth" in message
    assert "revoked-long-ago" not in message


def test_missing_or_corrupt_token_files(client: ClientSecret, tmp_path: Path) -> None:
    with pytest.raises(OAuth2Error, match="no Google OAuth2 token is stored yet"):
        GmailOAuth2(client, FileTokenStore(tmp_path / "none.json")).access_token()
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(OAuth2Error, match="cannot read the token file"):
        GmailOAuth2(client, FileTokenStore(tmp_path / "bad.json")).access_token()


def test_unreachable_token_endpoint(tmp_path: Path) -> None:
    from greenmail import free_port

    client = ClientSecret(
        "client-123.apps.googleusercontent.com", token_uri=f"http://127.0.0.1:{free_port()}/token"
    )
    store = FileTokenStore(tmp_path / "t.json")
    store.save({"refresh_token": "refresh-1"})
    with pytest.raises(OAuth2Error, match="cannot reach the OAuth2 endpoint"):
        GmailOAuth2(client, store).access_token()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{}", "is not a Desktop-app OAuth client"),
        ('{"web": {"client_id": "x"}}', "found: web"),
        ("not json", "is not a readable client-secret JSON file"),
    ],
)
def test_bad_client_secret_files(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "client_secret.json"
    path.write_text(content)
    with pytest.raises(OAuth2Error, match=fragment):
        load_client_secret(path)
    with pytest.raises(OAuth2Error, match="no such file"):
        load_client_secret(tmp_path / "missing.json")


def test_endpoints_must_be_https_or_loopback(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "t.json")
    store.save({"refresh_token": "refresh-1"})
    for url in ("file:///etc/passwd", "http://oauth2.example.com/token"):
        with pytest.raises(OAuth2Error, match="must be an https:// address"):
            GmailOAuth2(ClientSecret("c", token_uri=url), store).access_token()


def test_secrets_stay_out_of_reprs(client: ClientSecret, tmp_path: Path) -> None:
    assert "GOCSPX" not in repr(client)
    store = FileTokenStore(tmp_path / "t.json")
    store.save({"refresh_token": "refresh-1", "access_token": "access-secret", "expires_at": 9e12})
    assert "refresh-1" not in repr(GmailOAuth2(client, store)) and "access-secret" not in repr(
        GmailOAuth2(client, store)
    )


RECORD = {"access_token": "access-1", "expires_at": 4599.0, "refresh_token": "refresh-1"}


def test_the_token_file_never_follows_a_planted_link(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "tokens" / "gmail.json")
    store.path.parent.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    # The temporary name the store used to take: .NAME.PID.tmp
    store.path.with_name(f".gmail.json.{os.getpid()}.tmp").symlink_to(victim)
    store.save(RECORD)
    assert victim.read_text() == "precious"
    assert store.load() == RECORD
    planted = [path.name for path in store.path.parent.glob(".*.tmp")]
    assert planted == [f".gmail.json.{os.getpid()}.tmp"]  # nothing left but the planted link


def test_a_token_folder_others_could_write_is_made_private(tmp_path: Path) -> None:
    folder = tmp_path / "tokens"
    folder.mkdir()
    folder.chmod(0o777)
    store = FileTokenStore(folder / "gmail.json")
    store.save(RECORD)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
@pytest.mark.parametrize("owned_by_another", ["folder", "file"])
def test_token_files_and_folders_of_another_user_are_refused(tmp_path: Path, owned_by_another: str) -> None:
    store = FileTokenStore(tmp_path / "tokens" / "gmail.json")
    store.save(RECORD)
    victim = store.path.parent if owned_by_another == "folder" else store.path
    os.chown(victim, 65534, 65534)
    with pytest.raises(OAuth2Error, match="belongs to another user"):
        store.load()
    if owned_by_another == "folder":
        with pytest.raises(OAuth2Error, match="belongs to another user"):
            store.save(RECORD)


def test_a_token_file_others_could_write_is_refused(tmp_path: Path) -> None:
    store = FileTokenStore(tmp_path / "gmail.json")
    store.save(RECORD)
    store.path.chmod(0o666)
    with pytest.raises(OAuth2Error, match="could be written by other users"):
        store.load()


def resolving_to(monkeypatch: pytest.MonkeyPatch, *addresses: str) -> list[str]:
    """Make every name resolve to ``addresses`` (a DNS answer the test controls); returns the names looked up."""
    import socket

    looked_up: list[str] = []

    def resolver(name: str, port: object, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        looked_up.append(name)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(str(port)))) for address in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return looked_up


@pytest.mark.parametrize("name", ["localhost.", "LOCALHOST.", "oauth.localhost"])
def test_http_token_endpoint_must_resolve_to_this_machine_only(
    google: FakeGoogle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    port = google.base.rsplit(":", 1)[1]
    store = FileTokenStore(tmp_path / "t.json")
    store.save({"refresh_token": "refresh-1"})
    client = ClientSecret("client-123.apps.googleusercontent.com", token_uri=f"http://{name}:{port}/token")
    looked_up = resolving_to(monkeypatch, "127.0.0.1", "192.0.2.10")  # the fake Google, and elsewhere
    with pytest.raises(OAuth2Error, match=r"resolves to 192\.0\.2\.10, not to this machine") as caught:
        GmailOAuth2(client, store).access_token()
    assert "refresh-1" not in str(caught.value)
    assert google.requests == []  # the refresh token went nowhere
    assert looked_up == [name.lower()]


def test_http_token_endpoint_is_reached_at_the_address_checked_and_never_through_a_proxy(
    google: FakeGoogle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = google.base.rsplit(":", 1)[1]
    store = FileTokenStore(tmp_path / "t.json")
    store.save({"refresh_token": "refresh-1"})
    client = ClientSecret(
        "client-123.apps.googleusercontent.com", token_uri=f"http://localhost.:{port}/token"
    )
    import urllib.request

    monkeypatch.setenv("http_proxy", "http://127.0.0.1:1")  # a proxy would see the refresh token in clear
    monkeypatch.setattr(urllib.request, "_opener", None)  # urlopen's opener reads the proxies once
    resolving_to(monkeypatch, "127.0.0.1")
    assert GmailOAuth2(client, store, clock=lambda: 1000.0).access_token() == "access-1"
    assert [request["refresh_token"] for request in google.requests] == ["refresh-1"]


def test_a_token_endpoint_echoing_the_refresh_token_does_not_show_it(
    google: FakeGoogle, client: ClientSecret, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refresh = "1//0gVery-Secret_Refresh+Token/xyz"

    def echo(form: dict[str, str]) -> tuple[int, dict[str, str]]:
        import urllib.parse

        said = f"{form['refresh_token']} ({urllib.parse.quote(form['refresh_token'], safe='')})"
        return 400, {"error": "invalid_request", "error_description": f"malformed refresh_token {said}"}

    monkeypatch.setattr(google, "answer", echo)
    store = FileTokenStore(tmp_path / "t.json")
    store.save({"refresh_token": refresh})
    with pytest.raises(OAuth2Error, match="HTTP 400 invalid_request") as caught:
        GmailOAuth2(client, store).access_token()
    assert "Very-Secret" not in str(caught.value)


class RawEndpoint:
    """A loopback token endpoint that answers with the bytes it is given, a byte a second when dripping."""

    def __init__(self, status: int, body: bytes, *, drip: bool = False) -> None:
        import http.server
        import threading

        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                for number in range(len(body) if drip else 1):
                    try:
                        self.wfile.write(body[number : number + 1] if drip else body)
                        self.wfile.flush()
                    except OSError:
                        return
                    if drip and number < 20:  # a bounded drip: the test's server stops by itself
                        time.sleep(1)
                    elif drip:
                        return

            def log_message(self, *args: object) -> None:
                pass

        import time

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        outer.url = f"http://127.0.0.1:{self.server.server_address[1]}/token"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (200, b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (200, b'{"access_token": "a", "expires_in": "soon"}', "not a number of seconds"),
        (200, b'{"access_token": "a", "expires_in": [1]}', "not a number of seconds"),
        (200, b'{"access_token": ["a"]}', "without an access token"),
        (200, b" " * (2 * 1024 * 1024), "more than 1024 KiB"),
        (400, b'{"error": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "HTTP 400"),
    ],
)
def test_a_hostile_token_endpoint_is_an_oauth2_error(status: int, body: bytes, message: str) -> None:
    from thankyou_scan.token_endpoint import post_form as _post

    endpoint = RawEndpoint(status, body)
    try:
        with pytest.raises(OAuth2Error, match=message):
            _post(endpoint.url, {"refresh_token": "refresh-1"}, timeout=10)
    finally:
        endpoint.close()


def test_a_token_endpoint_dripping_its_answer_is_cut_off_at_the_timeout() -> None:
    import time

    from thankyou_scan.token_endpoint import post_form as _post

    endpoint = RawEndpoint(200, b'{"access_token": "a", "expires_in": 3600}' + b" " * 100, drip=True)
    started = time.monotonic()
    try:
        with pytest.raises(OAuth2Error, match="did not answer within 2 s"):
            _post(endpoint.url, {"refresh_token": "refresh-1"}, timeout=2)
    finally:
        endpoint.close()
    assert (
        time.monotonic() - started < 5
    )  # each byte came within the socket timeout: only the total bounds it
