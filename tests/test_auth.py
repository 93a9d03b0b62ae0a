"""Sign-in from the CLI (`thankyou-scan auth`), end to end against fake Google and Microsoft endpoints.

Gmail: the loopback redirect, the pasted redirect (headless), revocation. Microsoft: the
device-code flow with every answer RFC 8628 allows, and refresh-token rotation. Tokens go
to a private file (the keyring is made unavailable here, except where a fake one is
installed), and no token, code or device code appears in any output, log or error.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import re
import stat
import sys
import types
import webbrowser
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import fakemicrosoft
from fakegoogle import FakeGoogle
from fakemicrosoft import FakeMicrosoft
from thankyou_scan import OAuth2Error, UsageError
from thankyou_scan.cli_auth import account_secret, add_auth_parser, run_auth
from thankyou_scan.config import Account
from thankyou_scan.oauth2 import (
    FileTokenStore,
    KeyringTokenStore,
    default_token_store,
    oauth2_access_token,
    sign_in,
    sign_out,
    token_store,
)
from thankyou_scan.paths import config_dir

SECRETS = (
    "access-1",
    "refresh-1",
    "ms-access-1",
    "M.C5-refresh",
    fakemicrosoft.DEVICE_CODE,
    "code-1",
    "GOCSPX",
)


@pytest.fixture(autouse=True)
def _no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's keyring stays out of the tests: `import keyring` fails unless a test installs a fake."""
    monkeypatch.setitem(sys.modules, "keyring", None)


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle()
    yield fake
    fake.close()


@pytest.fixture
def microsoft() -> Iterator[FakeMicrosoft]:
    fake = FakeMicrosoft()
    yield fake
    fake.close()


@pytest.fixture
def gmail(google: FakeGoogle, tmp_path: Path) -> Account:
    return Account(
        name="gmail",
        imap_host="imap.gmail.com",
        user="You@Gmail.com",
        oauth2="gmail",
        oauth2_client_file=str(google.client_secret_file(tmp_path)),
    )


@pytest.fixture
def work(microsoft: FakeMicrosoft) -> Account:
    return Account(
        name="work",
        imap_host="outlook.office365.com",
        user="you@contoso.example",
        oauth2="microsoft",
        oauth2_client_id=fakemicrosoft.CLIENT_ID,
        oauth2_authority=microsoft.authority,
    )


def auth_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="thankyou-scan")
    add_auth_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["auth", *argv])


def assert_no_secrets(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, (secret, text)


class Clock:
    """A clock that only the fake ``sleep`` moves."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


# -- Gmail -------------------------------------------------------------------------------


def test_gmail_sign_in_in_a_browser_stores_tokens_in_a_private_file(
    google: FakeGoogle,
    gmail: Account,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    browser = google.browser()
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url: bool(opened.append(url) or browser(url) or True))
    with caplog.at_level(logging.DEBUG):
        assert run_auth(auth_args("gmail"), gmail) == 0
    out, err = capsys.readouterr()
    path = config_dir() / "gmail-oauth2-you@gmail.com.json"
    assert f"Signed in: the tokens of You@Gmail.com (account 'gmail') are in the file {path}" in err
    assert out == ""
    assert (
        opened and opened[0].startswith(f"{google.base}/auth?") and "login_hint=You%40Gmail.com" in opened[0]
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["refresh_token"] == "refresh-1"
    assert [request["grant_type"] for request in google.requests] == ["authorization_code"]
    assert_no_secrets(out, err, caplog.text)


def test_gmail_sign_in_on_a_fixed_port_for_an_ssh_forward(
    google: FakeGoogle, gmail: Account, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from greenmail import free_port

    port = free_port()
    browser = google.browser()
    monkeypatch.setattr(webbrowser, "open", lambda url: pytest.fail("--no-browser opened a browser"))
    shown: list[str] = []
    store = sign_in(gmail, port=port, open_browser=browser, show=shown.append, timeout=10)
    assert f"redirect_uri=http%3A%2F%2F127.0.0.1%3A{port}%2F" in shown[0]
    assert store.load() is not None
    assert google.requests[0]["redirect_uri"] == f"http://127.0.0.1:{port}/"


def test_gmail_port_in_use_is_a_clear_error(gmail: Account) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(OAuth2Error, match=f"cannot listen on 127.0.0.1:{port}"):
            sign_in(gmail, port=port, open_browser=lambda url: None, show=lambda text: None, timeout=1)


def consent_url(shown: str) -> str:
    found = re.search(r"^(http://127\.0\.0\.1:\d+/auth\?\S+)$", shown, re.MULTILINE)
    assert found, shown
    return found.group(1)


class PastingStdin(io.StringIO):
    """Standard input where the user pastes what the browser showed after consent (read from stderr so far)."""

    def __init__(self, capsys: pytest.CaptureFixture[str], answer: Callable[[str], str]) -> None:
        super().__init__()
        self.capsys = capsys
        self.answer = answer
        self.seen: list[str] = []

    def readline(self, size: int | None = -1) -> str:
        _, err = self.capsys.readouterr()
        self.seen.append(err)
        return self.answer(consent_url(err)) + "\n"


def test_gmail_headless_sign_in_with_the_redirect_pasted_back(
    google: FakeGoogle,
    gmail: Account,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(webbrowser, "open", lambda url: pytest.fail("--headless opened a browser"))
    stdin = PastingStdin(capsys, lambda url: f"  '{google.consent(url)}'  ")
    monkeypatch.setattr(sys, "stdin", stdin)
    with caplog.at_level(logging.DEBUG):
        assert run_auth(auth_args("gmail", "--headless", "--port", "8765"), gmail) == 0
    out, err = capsys.readouterr()
    (before,) = stdin.seen
    assert "Open this address in a browser on any machine" in before
    assert "Paste the address (http://127.0.0.1:8765/?…) here:" in before
    assert "Signed in" in err
    assert FileTokenStore.for_user(gmail.user).load() is not None
    assert google.requests[0]["redirect_uri"] == "http://127.0.0.1:8765/"
    assert_no_secrets(out, err, before, caplog.text)


@pytest.mark.parametrize(
    ("paste", "message"),
    [
        (lambda g, url: g.consent(url, tamper_state=True), "wrong state"),
        (lambda g, url: g.consent(url, approve=False), r"access was not granted \(access_denied\)"),
        (lambda g, url: g.consent(url).replace("127.0.0.1:", "127.0.0.1:1"), "not the address Google sent"),
        (lambda g, url: g.consent(url).split("?")[0], "not the address Google sent"),
        (lambda g, url: "4/0AX4XfWh-just-the-code", "not the address Google sent"),
        (lambda g, url: url, "not the address Google sent"),  # the consent address, pasted by mistake
    ],
)
def test_gmail_headless_refuses_what_is_not_the_redirect(
    google: FakeGoogle, gmail: Account, paste: Callable[[FakeGoogle, str], str], message: str
) -> None:
    shown: list[str] = []
    with pytest.raises(OAuth2Error, match=message) as caught:
        sign_in(
            gmail,
            paste=True,
            show=shown.append,
            ask=lambda prompt: paste(google, consent_url(shown[0])),
        )
    assert google.requests == []  # no code was exchanged
    assert "code-" not in str(caught.value) and "4/0AX4" not in str(caught.value)
    assert FileTokenStore.for_user(gmail.user).load() is None


def test_gmail_headless_at_end_of_input(gmail: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(OAuth2Error, match="nothing was pasted"):
        run_auth(auth_args("gmail", "--headless"), gmail)


def test_gmail_access_token_is_refreshed_from_the_store_with_the_accounts_hint(
    google: FakeGoogle, gmail: Account
) -> None:
    store = token_store(gmail)
    store.save({"refresh_token": "refresh-1", "access_token": "stale", "expires_at": 1030.0})
    assert oauth2_access_token(gmail, clock=lambda: 1000.0) == "access-1"  # within the margin: refreshed
    assert store.load() == {"refresh_token": "refresh-1", "access_token": "access-1", "expires_at": 4599.0}
    assert oauth2_access_token(gmail, clock=lambda: 1000.0) == "access-1"
    assert len(google.requests) == 1
    google.refresh_tokens.clear()
    with pytest.raises(OAuth2Error, match="sign in again with `thankyou-scan auth gmail`") as caught:
        oauth2_access_token(gmail, clock=lambda: 9000.0)
    assert "Google no longer accepts the stored refresh token (Token has been expired" in str(caught.value)
    assert_no_secrets(str(caught.value))


def test_nothing_stored_yet_says_which_command_signs_in(gmail: Account, work: Account) -> None:
    for account in (gmail, work):
        with pytest.raises(
            OAuth2Error, match=f"stored yet — sign in again with `thankyou-scan auth {account.name}`"
        ):
            oauth2_access_token(account)


def test_missing_client_file_and_client_id(gmail: Account, work: Account) -> None:
    from dataclasses import replace

    with pytest.raises(OAuth2Error, match=r"gmail-client\.json: no such file — download the Desktop-app"):
        oauth2_access_token(replace(gmail, oauth2_client_file=None))
    with pytest.raises(OAuth2Error, match="account 'work' has no oauth2_client_id"):
        oauth2_access_token(replace(work, oauth2_client_id=None))
    with pytest.raises(OAuth2Error, match="must be an https:// address"):
        oauth2_access_token(replace(work, oauth2_authority="http://login.example.com/common"))


def test_gmail_revoke_revokes_at_google_and_forgets(
    google: FakeGoogle, gmail: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    token_store(gmail).save({"refresh_token": "refresh-1", "access_token": "access-1", "expires_at": 9e9})
    assert run_auth(auth_args("gmail", "--revoke"), gmail) == 0
    err = capsys.readouterr().err
    assert "Signed out of account 'gmail': Google revoked the access" in err
    assert google.revoked == ["refresh-1"]
    assert not (config_dir() / "gmail-oauth2-you@gmail.com.json").exists()
    assert run_auth(auth_args("gmail", "--revoke"), gmail) == 0
    assert "nothing to forget" in capsys.readouterr().err
    assert google.revoked == ["refresh-1"]
    assert_no_secrets(err)


def test_gmail_revoke_forgets_even_when_google_refuses(
    google: FakeGoogle, gmail: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    google.revoke_status = 400
    token_store(gmail).save({"refresh_token": "refresh-1"})
    assert run_auth(auth_args("gmail", "--revoke"), gmail) == 0
    err = capsys.readouterr().err
    assert "the tokens are removed from the file" in err and "could not be asked to revoke them" in err
    assert "myaccount.google.com/permissions" in err
    assert token_store(gmail).load() is None
    assert_no_secrets(err)


# -- Microsoft ---------------------------------------------------------------------------


def test_microsoft_device_code_sign_in_polls_through_pending_and_slow_down(
    microsoft: FakeMicrosoft, work: Account, caplog: pytest.LogCaptureFixture
) -> None:
    microsoft.polls = ["authorization_pending", "slow_down", "authorization_pending", "ok"]
    clock, shown = Clock(), []
    with caplog.at_level(logging.DEBUG):
        store = sign_in(work, show=shown.append, sleep=clock.sleep, clock=clock)
    assert clock.slept == [5, 5, 10, 10]  # the interval, then five seconds more after slow_down
    assert "open https://microsoft.com/devicelogin" in shown[0] and fakemicrosoft.USER_CODE in shown[0]
    record = store.load()
    assert record == {
        "access_token": "ms-access-1",
        "expires_at": 1030.0 + 4277,
        "refresh_token": "M.C5-refresh-1",
    }
    assert microsoft.paths[0] == "/contoso/oauth2/v2.0/devicecode"
    assert microsoft.requests[0] == {"client_id": fakemicrosoft.CLIENT_ID, "scope": fakemicrosoft.SCOPE}
    assert "client_secret" not in microsoft.requests[-1]  # a public client
    assert (config_dir() / "microsoft-oauth2-you@contoso.example.json").exists()
    assert_no_secrets(*shown, caplog.text)


@pytest.mark.parametrize(
    ("polls", "message"),
    [
        (["authorization_pending", "expired_token"], "the sign-in code expired"),
        (["authorization_declined"], "sign-in was declined"),
        (["access_denied"], "sign-in was declined"),
        (["authorization_pending"] * 400, "the sign-in code expired"),  # our own deadline: 900 s
        (["bad_verification_code"], "HTTP 400 bad_verification_code"),
    ],
)
def test_microsoft_device_code_sign_in_that_does_not_finish(
    microsoft: FakeMicrosoft, work: Account, polls: list[str], message: str
) -> None:
    microsoft.polls = polls
    clock = Clock()
    with pytest.raises(OAuth2Error, match=message) as caught:
        sign_in(work, show=lambda text: None, sleep=clock.sleep, clock=clock)
    assert clock.now - 1000.0 <= 900
    assert token_store(work).load() is None
    assert_no_secrets(str(caught.value))


def test_microsoft_cli_shows_the_code_on_stderr_only(
    microsoft: FakeMicrosoft,
    work: Account,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import time

    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    assert run_auth(auth_args("work"), work) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert f"enter the code {fakemicrosoft.USER_CODE}" in err and "Signed in" in err
    assert_no_secrets(out, err)
    with pytest.raises(UsageError, match="--port is for Gmail"):
        run_auth(auth_args("work", "--port", "8080"), work)


def test_microsoft_refresh_stores_the_rotated_refresh_token(microsoft: FakeMicrosoft, work: Account) -> None:
    clock = Clock()
    sign_in(work, show=lambda text: None, sleep=clock.sleep, clock=clock)
    store = token_store(work)
    assert oauth2_access_token(work, clock=clock) == "ms-access-1"
    assert len(microsoft.requests) == 2  # no refresh while the access token lasts
    clock.now += 4277
    microsoft.access_token = "ms-access-2"
    assert oauth2_access_token(work, clock=clock) == "ms-access-2"
    assert microsoft.requests[-1]["refresh_token"] == "M.C5-refresh-1"
    assert microsoft.requests[-1]["scope"] == fakemicrosoft.SCOPE
    record = store.load()
    assert record is not None and record["refresh_token"] == "M.C5-refresh-2"
    clock.now += 4277
    assert oauth2_access_token(work, clock=clock) == "ms-access-2"  # the old one would be refused now
    assert microsoft.requests[-1]["refresh_token"] == "M.C5-refresh-2"
    store.save({"refresh_token": "M.C5-refresh-1", "expires_at": 0})
    with pytest.raises(OAuth2Error, match="Microsoft no longer accepts the stored refresh token") as caught:
        oauth2_access_token(work, clock=clock)
    assert "AADSTS70008" in str(caught.value) and "Trace ID" not in str(caught.value)
    assert "`thankyou-scan auth work`" in str(caught.value)


def test_microsoft_revoke_forgets_and_says_microsoft_cannot_revoke(
    microsoft: FakeMicrosoft, work: Account, capsys: pytest.CaptureFixture[str]
) -> None:
    token_store(work).save({"refresh_token": "M.C5-refresh-1"})
    result = sign_out(work)
    assert result.removed and not result.revoked
    assert microsoft.requests == []  # there is nothing to call
    token_store(work).save({"refresh_token": "M.C5-refresh-1"})
    assert run_auth(auth_args("work", "--revoke"), work) == 0
    assert "Microsoft has no way for an app like this to revoke" in capsys.readouterr().err
    assert token_store(work).load() is None


# -- the token store ---------------------------------------------------------------------


def test_a_token_file_others_could_write_or_a_link_is_refused(gmail: Account, tmp_path: Path) -> None:
    store = token_store(gmail)
    assert isinstance(store, FileTokenStore)
    store.save({"refresh_token": "refresh-1"})
    store.path.chmod(0o644)
    assert (
        oauth2_access_token(gmail, clock=lambda: 0) == "access-1"
    )  # readable by others: only a warning-free read
    store.path.chmod(0o666)
    with pytest.raises(OAuth2Error, match=r"could be written by other users.*`thankyou-scan auth gmail`"):
        oauth2_access_token(gmail)
    store.path.unlink()
    planted = tmp_path / "planted.json"
    planted.write_text(json.dumps({"refresh_token": "refresh-1"}))
    planted.chmod(0o600)
    store.path.symlink_to(planted)
    with pytest.raises(OAuth2Error, match="is a symbolic link"):
        oauth2_access_token(gmail)
    assert sign_out(gmail).removed  # the link goes, never what it points to
    assert planted.exists() and not store.path.is_symlink()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_token_file_of_another_user_is_refused(gmail: Account) -> None:
    store = token_store(gmail)
    assert isinstance(store, FileTokenStore)
    store.save({"refresh_token": "refresh-1"})
    os.chown(store.path, 65534, 65534)
    with pytest.raises(OAuth2Error, match="belongs to another user"):
        oauth2_access_token(gmail)


class FakeKeyring(types.ModuleType):
    """The keyring package's module functions over a dict; ``priority`` 0 is its "fail" backend."""

    def __init__(self, priority: float = 1) -> None:
        super().__init__("keyring")
        self.items: dict[tuple[str, str], str] = {}
        self.priority = priority

    def get_keyring(self) -> Any:
        return types.SimpleNamespace(priority=self.priority)

    def get_password(self, service: str, user: str) -> str | None:
        return self.items.get((service, user))

    def set_password(self, service: str, user: str, value: str) -> None:
        self.items[(service, user)] = value

    def delete_password(self, service: str, user: str) -> None:
        if (service, user) not in self.items:
            raise type("PasswordDeleteError", (Exception,), {})("not found")
        del self.items[(service, user)]


def test_tokens_go_to_the_keyring_when_it_is_usable(
    google: FakeGoogle, gmail: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeKeyring()
    monkeypatch.setitem(sys.modules, "keyring", fake)
    store = sign_in(gmail, open_browser=google.browser(), show=lambda text: None, timeout=10)
    assert isinstance(store, KeyringTokenStore)
    assert "refresh-1" not in repr(store)
    assert (
        json.loads(fake.items[("thankyou-scan-gmail-oauth2", "you@gmail.com")])["refresh_token"]
        == "refresh-1"
    )
    assert not config_dir().exists() or not list(config_dir().iterdir())
    assert oauth2_access_token(gmail) == "access-1"
    assert sign_out(gmail).removed and fake.items == {}
    assert not sign_out(gmail).removed
    monkeypatch.setitem(sys.modules, "keyring", FakeKeyring(priority=0))  # no backend on this machine
    assert isinstance(default_token_store("you@gmail.com", "microsoft"), FileTokenStore)


# -- the secret a scan logs in with ------------------------------------------------------


def test_account_secret_from_a_command_the_environment_or_the_keyring(
    monkeypatch: pytest.MonkeyPatch, google: FakeGoogle, gmail: Account
) -> None:
    base = Account(name="home", imap_host="imap.example.com", user="me@example.com")
    from dataclasses import replace

    command = replace(base, password_command=(sys.executable, "-c", "print('pass word'); print('second')"))
    assert account_secret(command) == ("pass word", None)
    with pytest.raises(UsageError, match=r"account 'home': password_command .* failed with exit code 3"):
        account_secret(replace(base, password_command=(sys.executable, "-c", "import sys; sys.exit(3)")))
    monkeypatch.setenv("HOME_IMAP", "from-env")
    assert account_secret(replace(base, password_env="HOME_IMAP")) == ("from-env", None)
    with pytest.raises(UsageError, match=r"HOME_IMAP_UNSET \(password_env\) is not set"):
        account_secret(replace(base, password_env="HOME_IMAP_UNSET"))
    with pytest.raises(
        UsageError, match=r"keyring package is not installed.*keyring set thankyou-scan me@example.com"
    ):
        account_secret(replace(base, keyring=True))
    fake = FakeKeyring()
    monkeypatch.setitem(sys.modules, "keyring", fake)
    with pytest.raises(
        UsageError, match=r"holds no password for me@example.com .* keyring set thankyou-scan me@example"
    ):
        account_secret(replace(base, keyring=True))
    fake.items[("thankyou-scan", "me@example.com")] = "from-keyring"
    assert account_secret(replace(base, keyring=True)) == ("from-keyring", None)
    monkeypatch.setitem(sys.modules, "keyring", None)
    token_store(gmail).save({"refresh_token": "refresh-1"})
    assert account_secret(gmail) == (None, "access-1")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(UsageError, match="names no way to its password"):
        account_secret(base)


def test_auth_refuses_accounts_and_options_that_do_not_fit(gmail: Account) -> None:
    from dataclasses import replace

    with pytest.raises(UsageError, match="does not sign in with OAuth2"):
        run_auth(auth_args("home"), replace(gmail, oauth2=None, password_env="X"))
    with pytest.raises(UsageError, match="--revoke signs out"):
        run_auth(auth_args("gmail", "--revoke", "--headless"), gmail)
    with pytest.raises(UsageError, match="--port 70000 is not a port"):
        run_auth(auth_args("gmail", "--port", "70000"), gmail)


# -- the scan then logs in with XOAUTH2 --------------------------------------------------


def config_for(tmp_path: Path, *accounts: Account, calendar: str = "calendar.yaml") -> Path:
    """A config file holding ``accounts`` (as `thankyou-scan init` would write them), mode 0600."""
    lines = ["version: 1", f"calendar: {json.dumps(calendar)}", "accounts:"]
    for account in accounts:
        keys = {
            "name": account.name, "imap_host": account.imap_host, "imap_port": account.imap_port,
            "security": account.security, "user": account.user, "oauth2": account.oauth2,
            "oauth2_client_file": account.oauth2_client_file, "oauth2_client_id": account.oauth2_client_id,
            "oauth2_authority": account.oauth2_authority,
        }  # fmt: skip
        written = [f"{key}: {json.dumps(value)}" for key, value in keys.items() if value is not None]
        lines += ["  - " + written[0], *("    " + line for line in written[1:])]
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


@pytest.mark.imap
@pytest.mark.parametrize("provider", ["gmail", "microsoft"])
def test_auth_then_the_scan_logs_in_with_xoauth2_using_the_stored_token(
    provider: str,
    google: FakeGoogle,
    microsoft: FakeMicrosoft,
    gmail: Account,
    work: Account,
    greenmail: Any,
    gm_account: Any,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from dataclasses import replace
    from importlib import resources

    from greenmail import seed_gmail_shaped

    seed_gmail_shaped(greenmail, gm_account)
    google.access_token = microsoft.access_token = gm_account.password  # GreenMail's XOAUTH2 token
    base = gmail if provider == "gmail" else work
    account = replace(
        base, imap_host="127.0.0.1", imap_port=greenmail.imap_port, security="plain", user=gm_account.user
    )
    with resources.as_file(resources.files("thankyou_scan") / "data" / "demo-calendar.yaml") as calendar:
        monkeypatch.setenv("THANKYOU_SCAN_CONFIG", str(config_for(tmp_path, account, calendar=str(calendar))))
        browser = google.browser()
        monkeypatch.setattr(webbrowser, "open", lambda url: browser(url) or True)
        monkeypatch.setattr("time.sleep", lambda seconds: None)
        code, out, err = run_cli("auth", account.name)
        assert code == 0, err
        with caplog.at_level(logging.DEBUG):
            code, out, err = run_cli("--now", "2026-11-10T17:00:00Z", "--format", "json")  # the morning scan
    assert code == 1, err
    report = json.loads(out)
    assert report["source"]["folder"] == "[Gmail]/Sent Mail" and report["source"]["messages_scanned"] > 0
    assert report["sources"][0]["account"] == account.name
    token = gm_account.password
    assert token not in " ".join(sys.argv) and token not in " ".join(os.environ.values())
    assert token not in out + err + caplog.text


def test_thankyou_scan_auth_on_the_command_line(
    google: FakeGoogle, gmail: Account, monkeypatch: pytest.MonkeyPatch, run_cli: Any, tmp_path: Path
) -> None:
    monkeypatch.setenv("THANKYOU_SCAN_CONFIG", str(config_for(tmp_path, gmail)))
    browser = google.browser()
    monkeypatch.setattr(webbrowser, "open", lambda url: browser(url) or True)
    code, out, err = run_cli("auth", "gmail")
    assert (code, out) == (0, ""), err
    assert "Signed in" in err
    google.refresh_tokens.clear()
    google.revoke_status = 400
    token_store(gmail).save({"refresh_token": "refresh-1", "expires_at": 0})
    code, out, err = run_cli("auth", "gmail", "--revoke")
    assert code == 0 and "could not be asked to revoke" in err
    code, out, err = run_cli("auth", "gmail", "--headless", "--revoke")
    assert code == 2 and err.startswith("thankyou-scan: error: --revoke signs out")
    monkeypatch.setattr(sys, "stdin", io.StringIO("http://127.0.0.1:1/?state=x&code=code-9\n"))
    code, out, err = run_cli("auth", "gmail", "--headless")
    assert code == 3 and "error: that is not the address Google sent the browser to" in err
    code, out, err = run_cli("auth", "gmial")
    assert code == 2 and "did you mean 'gmail'" in err
    assert_no_secrets(out, err)


def test_microsoft_auth_on_the_command_line(
    microsoft: FakeMicrosoft, work: Account, monkeypatch: pytest.MonkeyPatch, run_cli: Any, tmp_path: Path
) -> None:
    monkeypatch.setenv("THANKYOU_SCAN_CONFIG", str(config_for(tmp_path, work)))
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    code, out, err = run_cli("auth", "work")
    assert (code, out) == (0, ""), err
    assert "Signed in" in err and "https://microsoft.com/devicelogin" in err
    assert token_store(work).load() is not None
    assert_no_secrets(out, err)
