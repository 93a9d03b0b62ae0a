"""credentials: scrubbing every form of a secret, and what a credential may hold."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest

from thankyou_scan import UsageError
from thankyou_scan.credentials import REDACTED, Secret, check_credential, scrub
from thankyou_scan.sources.imap import is_loopback

PASSWORD = 'Pa\\ss"wörd-0123'


@pytest.mark.parametrize(
    "echo",
    [
        PASSWORD,
        PASSWORD.replace("\\", "\\\\").replace('"', '\\"'),  # IMAP quoted string
        repr(PASSWORD.encode("utf-8"))[2:-1],  # imaplib's messages show bytes reprs
        repr(PASSWORD)[1:-1],
        ascii(PASSWORD)[1:-1],
        json.dumps(PASSWORD)[1:-1],
        urllib.parse.quote(PASSWORD, safe=""),
        urllib.parse.quote_plus(PASSWORD),
        PASSWORD.upper(),
        PASSWORD.encode("utf-8").decode("latin-1"),  # UTF-8 read as Latin-1
        base64.b64encode(PASSWORD.encode()).decode(),
        base64.urlsafe_b64encode(PASSWORD.encode()).decode().rstrip("="),
        base64.b64encode(b"user=me@example.com\1auth=Bearer " + PASSWORD.encode() + b"\1\1").decode(),
        "x" + base64.b64encode(b"ab" + PASSWORD.encode()).decode(),  # glued to other text
        PASSWORD[:12],  # a truncated echo
    ],
)
def test_scrub_removes_every_form_a_server_may_echo(echo: str) -> None:
    text = scrub(f"NO [AUTHENTICATIONFAILED] bad password {echo} for you", [PASSWORD])
    assert echo not in text
    assert "wörd" not in text and "Pa\\" not in text
    assert "NO [AUTHENTICATIONFAILED]" in text or text.startswith("(the server's answer is not shown")


def test_scrub_leaves_other_text_alone() -> None:
    said = "NO [AUTHENTICATIONFAILED] Application-specific password required: https://support.google.com/x"
    assert scrub(said, [PASSWORD, "ya29.token-value-123456"]) == said
    assert scrub(f"was {PASSWORD}", [PASSWORD]) == f"was {REDACTED}"
    assert scrub("nothing", []) == "nothing"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("a\rb", "control character"),
        ("a\nb", "control character"),
        ("a\x00b", "control character"),
        ("a\tb", "control character"),
        ("a\x1b[2Jb", "control character"),
        ("a\x85b", "control character"),
        ("caf\udce9", "not valid UTF-8 text"),
    ],
)
def test_check_credential_refuses_without_showing_the_secret(value: str, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment) as caught:
        check_credential(value, "the password", secret=True)
    assert value not in str(caught.value) and "caf" not in str(caught.value)
    check_credential("pässwörd €", "the password", secret=True)  # any printable Unicode is fine


def test_secret_never_shows_itself() -> None:
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret) + str(secret) + f"{secret}"
    assert secret.reveal() == "hunter2"


@pytest.mark.parametrize(
    ("host", "loopback"), [("::ffff:127.0.0.1", True), ("::ffff:10.0.0.1", False), ("127.0.0.1%lo", True)]
)
def test_is_loopback_sees_through_mapped_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
