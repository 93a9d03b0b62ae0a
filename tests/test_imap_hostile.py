"""ImapSource against a hostile server: secrets it echoes, answers it drips, floods or garbles.

Each test runs the real CLI against tests/hostileimap.py (or GreenMail behind the
fault proxy) and checks what a user sees: the exit code, one line on stderr, no
secret in it, and how long it took.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hostileimap import CALENDAR, EXAMINE_LINES, NOW, HostileImap, Peer, untagged
from thankyou_scan.cli import main

PASSWORD_ENV = "TEST_IMAP_PASSWORD"


@pytest.fixture
def calendar(tmp_path: Path) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text(CALENDAR)
    return path


def scan_args(calendar: Path, port: int, *extra: str, host: str = "127.0.0.1") -> list[str]:
    return [
        "scan", "--calendar", str(calendar), "--imap-host", host, "--imap-port", str(port),
        "--security", "plain", "--user", "me@example.com", "--password-env", PASSWORD_ENV,
        "--no-cache", "--now", NOW, *extra,
    ]  # fmt: skip


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str, float]:
    started = time.monotonic()
    code = main(argv)
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    return code, out, err, elapsed


def base64_decodings(text: str) -> bytes:
    """Everything the base64-looking runs of ``text`` decode to, at every alignment."""
    found = b""
    for run in re.findall(r"[A-Za-z0-9+/_-]{8,}", text):
        for start in range(4):
            piece = run[start:]
            piece = piece[: len(piece) - len(piece) % 4]
            for altchars in (b"+/", b"-_"):
                with contextlib.suppress(binascii.Error, ValueError):
                    found += base64.b64decode(piece, altchars=altchars) + b"\n"
    return found


def assert_no_secret(text: str, secret: str) -> None:
    assert secret not in text
    visible = text.replace("<secret>", "").casefold()
    for word in re.findall(r"\w{5,}", secret):  # however the rest was quoted or escaped
        assert word.casefold() not in visible, word
    assert secret.encode("utf-8") not in base64_decodings(text)
    for start in range(max(1, len(secret) - 9)):
        assert secret[start : start + 10].casefold() not in text.casefold(), secret[start : start + 10]


# -- secrets a server echoes --------------------------------------------------------


def echo_login(peer: Peer, tag: bytes, line: bytes) -> None:
    """A server that quotes the whole command back in its NO, as some do."""
    said = line.split(b" ", 2)[2]
    peer.send(
        tag + b" NO [AUTHENTICATIONFAILED] Invalid credentials: " + said.replace(b"\r\n", b" ") + b"\r\n"
    )


@pytest.mark.parametrize(
    "password",
    [
        'Sup3r\\Secret"Pass\\\\word',  # escaped as \\ and \" in the quoted string the server echoes
        "pässwörd-Ünïcode-Secret",  # sent as a literal; echoed as UTF-8 bytes
        "ABCDEFGHIJKL-MNOPQRSTU",  # echoed as the server pleases: here, lower case
    ],
)
def test_a_password_echoed_in_any_quoting_never_reaches_stderr(
    calendar: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, password: str
) -> None:
    def echo_lower(peer: Peer, tag: bytes, line: bytes) -> None:
        echo_login(peer, tag, line.lower())

    monkeypatch.setenv(PASSWORD_ENV, password)
    with HostileImap({"LOGIN": echo_lower if password.isupper() else echo_login}) as server:
        code, out, err, _ = run(capsys, scan_args(calendar, server.port, "-v"))
    assert (code, out) == (3, "")
    assert "refused the login for 'me@example.com'" in err
    assert_no_secret(err, password)
    quoted = password.replace("\\", "\\\\").replace('"', '\\"')
    assert quoted.encode("utf-8") in server.received  # it was sent, and is only hidden from the user


def test_an_xoauth2_initial_response_echoed_in_base64_is_scrubbed(
    calendar: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "ya29.a0AfB_byC-vErYsEcReT-Xq7-0123456789"

    def echo_authenticate(peer: Peer, tag: bytes, line: bytes) -> None:
        payload = line.split(b" ")[3]
        peer.send(tag + b" NO [AUTHENTICATIONFAILED] bad token " + payload + b" (" + payload[5:] + b")\r\n")

    monkeypatch.setenv("TEST_TOKEN", token)
    argv = scan_args(calendar, 0)
    argv[argv.index("--password-env") : argv.index("--password-env") + 2] = [
        "--oauth2-token-env",
        "TEST_TOKEN",
    ]
    with HostileImap(
        {"AUTHENTICATE": echo_authenticate}, capabilities=b"IMAP4rev1 SASL-IR AUTH=XOAUTH2"
    ) as server:
        argv[argv.index("--imap-port") + 1] = str(server.port)
        code, out, err, _ = run(capsys, argv)
    assert (code, out) == (3, "")
    assert "refused the login" in err
    assert_no_secret(err, token)
    assert (
        base64.b64encode(token.encode()[:12]).decode() not in server.received.decode()
    )  # really base64 on the wire
    assert token.encode() in base64.b64decode(server.received.split(b"XOAUTH2 ")[1].split(b"\r\n")[0])


def test_a_non_ascii_password_is_sent_as_a_utf8_literal(
    calendar: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    password = "pässwörd-€-Secret"
    encoded = password.encode("utf-8")
    seen: list[bytes] = []

    def check_login(peer: Peer, tag: bytes, line: bytes) -> None:
        seen.append(line)
        good = line.endswith(b"{%d}\r\n" % len(encoded) + encoded)
        peer.send(tag + (b" OK welcome\r\n" if good else b" NO wrong\r\n"))

    monkeypatch.setenv(PASSWORD_ENV, password)
    with HostileImap({"LOGIN": check_login}) as server:
        code, out, err, _ = run(capsys, scan_args(calendar, server.port))
    assert code == 0, err
    assert "sent" in out
    assert seen and seen[0].split(b" ")[2] == b'"me@example.com"'


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--user", "me@example.com\r\nA2 DELETE INBOX", "the user name 'me@example.com\\r\\nA2 DELETE INBOX' contains a control character"),
        ("password", "secret-one\r\nA2 DELETE INBOX", "the password contains a control character"),
        ("password", "secret-one\x1btwo", "the password contains a control character"),
        ("password", "secret-caf\udce9-two", "the password is not valid UTF-8 text"),
    ],
)  # fmt: skip
def test_control_characters_and_undecodable_bytes_in_credentials_are_refused(
    calendar: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    option: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, value if option == "password" else "fine-password")
    with HostileImap() as server:
        argv = scan_args(calendar, server.port)
        if option == "--user":
            argv[argv.index("--user") + 1] = value
        code, out, err, _ = run(capsys, argv)
    assert (code, out) == (2, "")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert server.connections == 0 and server.received == b""  # refused before connecting
    if option == "password":
        assert "secret" not in err and "two" not in err and "position" not in err


def test_password_command_output_that_is_not_utf8_is_a_clear_error(
    calendar: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    printer = f"{sys.executable} -c \"import sys; sys.stdout.buffer.write(b'caf\\xe9-Secret\\n')\""
    with HostileImap() as server:
        argv = scan_args(calendar, server.port)
        argv[argv.index("--password-env") : argv.index("--password-env") + 2] = [
            "--password-command",
            printer,
        ]
        code, out, err, _ = run(capsys, argv)
    assert (code, out) == (2, "")
    assert "printed a first line that is not UTF-8 text" in err
    assert "Secret" not in err and "xe9" not in err and "position" not in err
    assert server.connections == 0


# -- plain IMAP only to an address that is this machine ----------------------------------


def other_address() -> str | None:
    """An address of this machine that is not loopback (no packet is sent to find it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@pytest.mark.parametrize("host", ["localhost.", "LOCALHOST.", "imap.localhost"])
@pytest.mark.parametrize("answer", ["loopback-and-other", "other-only"])
def test_plain_is_refused_when_a_local_name_resolves_elsewhere(
    calendar: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    host: str,
    answer: str,
) -> None:
    other = other_address() or "192.0.2.10"
    if answer == "other-only" and other == "192.0.2.10":
        pytest.skip("this machine has no non-loopback address to listen on")
    listener = socket.create_server(("0.0.0.0", 0))  # the "DNS answer": this machine, reached from outside
    listener.settimeout(0.5)
    port = int(listener.getsockname()[1])
    addresses = ["127.0.0.1", other] if answer == "loopback-and-other" else [other]
    lookups: list[str] = []

    def resolver(name: str, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        lookups.append(name)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in addresses]

    monkeypatch.setenv(PASSWORD_ENV, "Never-Sent-Secret")
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    try:
        code, out, err, _ = run(capsys, scan_args(calendar, port, "--timeout", "3", host=host))
        with pytest.raises(TimeoutError):
            listener.accept()  # nobody connected, so no LOGIN was sent
    finally:
        listener.close()
    assert (code, out) == (2, "")
    assert f"refusing an unencrypted connection: {host} resolves to {other}, not to this machine" in err
    assert lookups == [host]  # one lookup, whose answer was checked


def test_plain_connects_to_the_address_it_checked(
    calendar: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter([["127.0.0.1"], ["192.0.2.10"]])  # a resolver that changes its mind
    with HostileImap() as server:

        def resolver(name: str, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, server.port)) for a in next(answers)]

        monkeypatch.setenv(PASSWORD_ENV, "pw")
        monkeypatch.setattr(socket, "getaddrinfo", resolver)
        code, _out, err, _ = run(capsys, scan_args(calendar, server.port, host="localhost."))
    assert code == 0, err
    assert server.connections == 1


# -- servers that drip, stall, flood, or send what IMAP does not allow ------------------------


def drip_after(command: str) -> dict[str, object]:
    def answer(peer: Peer, tag: bytes, line: bytes) -> None:
        peer.drip(b"* OK still thinking about " + command.encode(), 0.2)

    return {command: answer}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("where", "what"),
    [("greeting", "connecting"), ("LOGIN", "LOGIN"), ("EXAMINE", "EXAMINE 'Sent'"), ("FETCH", "FETCH")],
)
def test_a_server_dripping_bytes_times_out_within_the_bound(
    calendar: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, where: str, what: str
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "pw")
    if where == "greeting":
        server = HostileImap(greeting=lambda peer: peer.drip(b"* OK hello", 0.2) or False)
    else:
        server = HostileImap(drip_after(where))  # type: ignore[arg-type]
    with server:
        code, out, err, elapsed = run(capsys, scan_args(calendar, server.port, "--timeout", "2"))
    assert (code, out) == (3, "")
    assert f"127.0.0.1:{server.port} timed out after 2 s ({what})" in err
    assert len(err.strip().splitlines()) == 1
    assert elapsed < 2 + 3  # one step's bound (plus the steps before it), not retried
    assert server.connections == 1


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="measures memory with /proc")
def test_endless_untagged_lines_are_cut_off_with_bounded_memory(calendar: Path, tmp_path: Path) -> None:
    def flood(peer: Peer, tag: bytes, line: bytes) -> None:
        peer.send(b"".join(b"* " + item + b"\r\n" for item in EXAMINE_LINES))
        peer.flood(b"* OK flood\r\n", 60 * 2**20)
        peer.send(tag + b" OK done\r\n")

    # VmHWM, the peak of this process's own memory (ru_maxrss can start at the forking parent's)
    measure = (
        "import sys\nfrom thankyou_scan.cli import main\ncode = main(sys.argv[1:])\n"
        "peak = [line for line in open('/proc/self/status') if line.startswith('VmHWM:')][0].split()[1]\n"
        "print('maxrss', peak, file=sys.stderr)\nsys.exit(code)\n"
    )
    # A generous step timeout: the size cap, not the clock, must end this even on a loaded machine.
    with HostileImap({"EXAMINE": flood}, lifetime=200) as server:
        done = subprocess.run(
            [sys.executable, "-c", measure, *scan_args(calendar, server.port, "--timeout", "150")],
            capture_output=True,
            text=True,
            timeout=240,
            env={"TEST_IMAP_PASSWORD": "pw", "PATH": "/usr/bin:/bin"},
        )
    assert done.returncode == 3, done.stderr
    assert "the server sent more than 128 MB in answer to EXAMINE 'Sent'" in done.stderr
    peak_kb = int(done.stderr.split("maxrss ")[1])
    assert peak_kb < 300 * 1024


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"SEARCH": untagged(b"SEARCH 1 4294967296")}, "invalid answer to SEARCH: UID '4294967296' is not a number from 1 to 4294967295"),
        ({"SEARCH": untagged(b"SEARCH 1 " + b"9" * 5000)}, "invalid answer to SEARCH"),
        ({"SEARCH": untagged(b"SEARCH 0")}, "invalid answer to SEARCH: UID '0'"),
        ({"EXAMINE": untagged(b"1 EXISTS", b"OK [UIDVALIDITY abc] ok")}, "invalid answer to EXAMINE 'Sent'"),
        ({"EXAMINE": untagged(b"1 EXISTS", b"OK [UIDVALIDITY 7] ok", b"OK [UIDNEXT x] ok")}, "invalid answer to EXAMINE 'Sent'"),
        ({"EXAMINE": untagged(b"1 EXISTS", b"OK [UIDVALIDITY 4294967296] ok")}, "UIDVALIDITY '4294967296' is not a number"),
        ({"FETCH": lambda peer, tag, line: peer.send(b"* 1 FETCH (UID 1 BODY[HEADER] {99999999999}\r\nabc")}, "the server sent a literal of 99,999,999,999 bytes in answer to FETCH"),
        ({"FETCH": lambda peer, tag, line: peer.send(b"* 1 FETCH (UID 1 BODY[HEADER] {" + b"9" * 5000 + b"}\r\nabc")}, "invalid answer to FETCH"),
    ],
)  # fmt: skip
def test_invalid_server_data_is_exit_3_never_an_internal_error(
    calendar: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answers: dict[str, object],
    message: str,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "pw")
    with HostileImap(answers) as server:  # type: ignore[arg-type]
        code, out, err, elapsed = run(capsys, scan_args(calendar, server.port, "--timeout", "5"))
    assert (code, out) == (3, ""), err
    assert message in err
    assert "internal error" not in err and len(err.strip().splitlines()) == 1
    assert elapsed < 5
    assert server.connections == 1  # invalid data is final: asking again would get the same


def test_a_password_echoed_by_the_server_stays_out_of_the_debug_log(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    from thankyou_scan import AuthenticationError, ImapSource

    password = 'Quux\\Zebra"Xylophone-Password'
    for name in ("imapclient", "imapclient.imapclient", "imapclient.imaplib"):
        # whatever earlier tests left: the records must reach caplog's root handler
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    with HostileImap({"LOGIN": echo_login}) as server, caplog.at_level(logging.DEBUG):
        logging.getLogger("imapclient").setLevel(logging.DEBUG)
        source = ImapSource(
            "127.0.0.1", port=server.port, security="plain", user="me@example.com", password=password
        )
        with pytest.raises(AuthenticationError):
            source.open()
    assert "NO [AUTHENTICATIONFAILED]" in caplog.text  # the answer was logged...
    assert_no_secret(caplog.text, password)  # ...without the password, in any quoting


def test_a_refused_token_answered_with_a_challenge_is_a_refused_login_at_once(
    calendar: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Gmail refuses a token with "+ <base64 error>" and waits for an empty reply before its NO.
    def gmail_like(peer: Peer, tag: bytes, line: bytes) -> None:
        peer.send(b"+ " + base64.b64encode(b'{"status":"400","schemes":"Bearer"}') + b"\r\n")
        if peer.line() is None:
            return
        peer.send(tag + b" NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)\r\n")

    monkeypatch.setenv("TEST_TOKEN", "ya29.expired-token-0123456789")
    argv = scan_args(calendar, 0, "--timeout", "20")
    argv[argv.index("--password-env") : argv.index("--password-env") + 2] = [
        "--oauth2-token-env",
        "TEST_TOKEN",
    ]
    with HostileImap({"AUTHENTICATE": gmail_like}, capabilities=b"IMAP4rev1 SASL-IR AUTH=XOAUTH2") as server:
        argv[argv.index("--imap-port") + 1] = str(server.port)
        code, out, err, elapsed = run(capsys, argv)
    assert (code, out) == (3, "")
    assert "refused the login" in err and "Invalid credentials" in err
    assert elapsed < 10  # not the 20 s timeout: the challenge was answered


@pytest.mark.parametrize("command", ["FETCH", "SEARCH", "LIST"])
def test_an_answer_nested_too_deeply_is_invalid_server_data(
    calendar: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "pw")
    deep = b"(" * 1_100 + b")" * 1_100
    answers = {
        "FETCH": lambda peer, tag, line: peer.send(
            b"* 1 FETCH (UID 1 X " + deep + b")\r\n" + tag + b" OK done\r\n"
        ),
        "SEARCH": lambda peer, tag, line: peer.send(b"* SEARCH 1 " + deep + b"\r\n" + tag + b" OK done\r\n"),
        "LIST": lambda peer, tag, line: peer.send(
            b"* LIST (" + deep + b') "/" INBOX\r\n' + tag + b" OK done\r\n"
        ),
    }
    with HostileImap({command: answers[command]}) as server:
        code, out, err, _ = run(capsys, scan_args(calendar, server.port))
    assert (code, out) == (3, "")
    assert f"the server sent an answer to {command} nested too deeply to read" in err


@pytest.mark.parametrize("asked", [(), ("--folder", "Nope")])
def test_a_folder_named_like_the_password_is_scrubbed_from_errors(
    calendar: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    asked: tuple[str, ...],
) -> None:
    password = "pw-Secr3t-Value-9x"
    monkeypatch.setenv(PASSWORD_ENV, password)
    listing = untagged(b'LIST () "/" INBOX', b'LIST () "/" "' + password.encode() + b'"')
    with HostileImap({"LIST": listing}) as server:
        code, out, err, _ = run(capsys, scan_args(calendar, server.port, *asked))
    assert (code, out) == (3, "")
    assert "folders there" in err
    assert_no_secret(err, password)


def test_a_fifo_given_as_the_ca_certificate_is_an_error_not_a_hang(
    calendar: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    monkeypatch.setenv(PASSWORD_ENV, "pw")
    os.mkfifo(tmp_path / "ca.pem")
    with HostileImap({}) as server:
        argv = scan_args(calendar, server.port)
        argv[argv.index("--security") + 1] = "ssl"
        code, out, err, _ = run(capsys, [*argv, "--tls-ca", str(tmp_path / "ca.pem")])
    assert (code, out) == (2, "")
    assert "cannot load the CA certificate" in err and "not a regular file" in err
