"""examples/gmail_scan.py and examples/gmail_oauth2.py end to end, against a Gmail-shaped GreenMail.

Gmail itself cannot be reached from here; GreenMail serves the same folder layout
(without the special-use flags real Gmail adds) and accepts XOAUTH2 with the user's
password as the token. A fake token endpoint stands in for Google's.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from importlib import resources
from pathlib import Path

import pytest

from fakegoogle import FakeGoogle
from greenmail import Account, GreenMail, seed_gmail_shaped
from helpers import plain_imap
from thankyou_scan import AuthenticationError, ImapSource, load_calendar, render, scan
from thankyou_scan.oauth2 import FileTokenStore

ROOT = Path(__file__).resolve().parent.parent
CALENDAR = Path(str(resources.files("thankyou_scan") / "data" / "demo-calendar.yaml"))
pytestmark = pytest.mark.imap


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle()
    yield fake
    fake.close()


def run_example(greenmail: GreenMail, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GMAIL_")}
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / "gmail_scan.py"), str(CALENDAR), "--host", "127.0.0.1",
         "--port", str(greenmail.imap_port), "--security", "plain", *args],
        env={**clean, **env}, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def library_json(greenmail: GreenMail, gm_account: Account, now: str) -> dict[str, object]:
    with plain_imap(greenmail.imap_port, gm_account) as source:
        report = scan(load_calendar(CALENDAR), source, now=datetime.fromisoformat(now))
    data: dict[str, object] = json.loads(render(report, "json"))
    return data


def test_app_password_example_gives_the_librarys_report(greenmail: GreenMail, gm_account: Account) -> None:
    seed_gmail_shaped(greenmail, gm_account)
    app_password = " ".join(gm_account.password[i : i + 4] for i in range(0, len(gm_account.password), 4))
    result = run_example(
        greenmail, {"GMAIL_ADDRESS": gm_account.user, "GMAIL_APP_PASSWORD": app_password}, "--json"
    )
    assert result.returncode == 1, result.stderr  # the demo has missing notes
    report = json.loads(result.stdout)
    assert report["source"]["folder"] == "[Gmail]/Sent Mail"
    assert report == library_json(greenmail, gm_account, report["now"])
    text = run_example(
        greenmail, {"GMAIL_ADDRESS": gm_account.user, "GMAIL_APP_PASSWORD": gm_account.password}
    )
    assert "MISSING (" in text.stdout and text.returncode == 1


def test_oauth2_example_refreshes_and_logs_in_with_xoauth2(
    greenmail: GreenMail, gm_account: Account, google: FakeGoogle, tmp_path: Path
) -> None:
    seed_gmail_shaped(greenmail, gm_account, sent_folder="[Gmail]/Messages envoyés")
    google.access_token = gm_account.password  # GreenMail takes the password as the XOAUTH2 token
    token_file = tmp_path / "token.json"
    FileTokenStore(token_file).save({"refresh_token": "refresh-1"})
    env = {
        "GMAIL_ADDRESS": gm_account.user,
        "GMAIL_CLIENT_SECRET": str(google.client_secret_file(tmp_path)),
        "GMAIL_TOKEN_FILE": str(token_file),
    }
    result = run_example(greenmail, env, "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["source"]["folder"] == "[Gmail]/Messages envoyés"
    assert report == library_json(greenmail, gm_account, report["now"])
    assert [r["grant_type"] for r in google.requests] == ["refresh_token"]
    assert json.loads(token_file.read_text())["access_token"] == gm_account.password
    assert gm_account.password not in result.stderr


def test_oauth2_example_with_a_revoked_token_says_what_to_do(
    greenmail: GreenMail, gm_account: Account, google: FakeGoogle, tmp_path: Path
) -> None:
    token_file = tmp_path / "token.json"
    FileTokenStore(token_file).save({"refresh_token": "revoked"})
    env = {
        "GMAIL_ADDRESS": gm_account.user,
        "GMAIL_CLIENT_SECRET": str(google.client_secret_file(tmp_path)),
        "GMAIL_TOKEN_FILE": str(token_file),
    }
    result = run_example(greenmail, env)
    assert (result.returncode, result.stdout) == (3, "")
    assert "sign in again" in result.stderr
    assert "Traceback" not in result.stderr


def test_example_without_credentials_exits_2(greenmail: GreenMail, gm_account: Account) -> None:
    result = run_example(greenmail, {"GMAIL_ADDRESS": gm_account.user})
    assert (result.returncode, result.stdout) == (2, "")
    assert "GMAIL_APP_PASSWORD" in result.stderr
    result = run_example(greenmail, {})
    assert "GMAIL_ADDRESS" in result.stderr and result.returncode == 2


def test_xoauth2_login(greenmail: GreenMail, gm_account: Account, caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.DEBUG),
        ImapSource(
            "127.0.0.1",
            port=greenmail.imap_port,
            security="plain",
            user=gm_account.user,
            oauth2_token=gm_account.password,
        ) as source,
    ):
        assert source.list_folders()
    payload = base64.b64encode(
        f"user={gm_account.user}\1auth=Bearer {gm_account.password}\1\1".encode()
    ).decode()
    assert "AUTHENTICATE" in caplog.text  # imapclient logged the exchange at DEBUG...
    assert gm_account.password not in caplog.text
    assert payload not in caplog.text  # ...without the token
    with pytest.raises(AuthenticationError) as caught:
        ImapSource(
            "127.0.0.1",
            port=greenmail.imap_port,
            security="plain",
            user=gm_account.user,
            oauth2_token="ya29.wrong-token",
        ).open()
    assert "ya29.wrong-token" not in str(caught.value)


def test_oauth2_helper_prints_a_fresh_token(google: FakeGoogle, tmp_path: Path) -> None:
    token_file = tmp_path / "token.json"
    FileTokenStore(token_file).save({"refresh_token": "refresh-1"})
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "gmail_oauth2.py"), "--client-secret", str(google.client_secret_file(tmp_path)),
         "--user", "you@gmail.com", "--token-file", str(token_file), "--print-token"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (0, "access-1\n"), result.stderr
