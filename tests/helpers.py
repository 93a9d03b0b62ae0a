"""Test helpers: build raw messages, mbox files and Maildirs the way mail clients write them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from thankyou_scan import ImapSource

if TYPE_CHECKING:
    from greenmail import Account  # greenmail imports this module


def raw_message(
    *,
    to: str = "Ada <ada@acme.example>",
    cc: str | None = None,
    bcc: str | None = None,
    date: str | None = "Mon, 2 Nov 2026 18:41:05 -0500",
    subject: str = "Thank you",
    sender: str = "Jordan <jordan@example.com>",
    message_id: str = "<m1@example.com>",
    extra: str = "",
    body: str = "Thanks again!\n",
) -> bytes:
    """A plain RFC 5322 message with LF line ends."""
    lines = [f"From: {sender}", f"To: {to}"]
    if cc:
        lines.append(f"Cc: {cc}")
    if bcc:
        lines.append(f"Bcc: {bcc}")
    lines.append(f"Subject: {subject}")
    if date is not None:
        lines.append(f"Date: {date}")
    lines.append(f"Message-ID: {message_id}")
    if extra:
        lines.append(extra.rstrip("\n"))
    return ("\n".join(lines) + "\n\n" + body).encode()


def write_mbox(path: Path, messages: list[tuple[str, bytes]]) -> Path:
    """Write an mbox: each entry is (From_ line date, raw message)."""
    with open(path, "wb") as handle:
        for from_date, raw in messages:
            handle.write(f"From sender@example.com {from_date}\n".encode())
            handle.write(raw.rstrip(b"\n") + b"\n\n")
    return path


# Real-world header shapes that once gave a wrong "missing" (issue 9): each is a sent
# message whose recipient in the third column must be found, whatever the source.
HEADER_CASES: list[tuple[str, bytes, str]] = [
    (
        "repeated-to-and-cc",
        b"From: me@example.com\nTo: first@acme.example\nCc: c1@acme.example\nCc: c2@acme.example\n"
        b"To: second@acme.example\nCc: third@acme.example\nSubject: x\n"
        b"Date: Mon, 2 Nov 2026 18:00:00 +0000\nMessage-ID: <rep@x>\n\nbody\n",
        "third@acme.example",
    ),
    (
        "second-to-field",
        b"From: me@example.com\nTo: first@acme.example\nTo: Second <later@acme.example>\nSubject: x\n"
        b"Date: Mon, 2 Nov 2026 18:00:00 +0000\nMessage-ID: <to2@x>\n\nbody\n",
        "later@acme.example",
    ),
    (
        "lost-closing-bracket",
        b"From: me@example.com\nTo: <anon@acme.example\nSubject: x\n"
        b"Date: Mon, 2 Nov 2026 18:00:00 +0000\nMessage-ID: <lost@x>\n\nbody\n",
        "anon@acme.example",
    ),
    (
        "spaces-around-at",
        b"From: me@example.com\nTo: ada @ acme.example\nSubject: x\n"
        b"Date: Mon, 2 Nov 2026 18:00:00 +0000\nMessage-ID: <spaces@x>\n\nbody\n",
        "ada@acme.example",
    ),
    (
        "fold-after-at",
        b"From: me@example.com\nTo: Grace <grace@\n acme.example>\nSubject: x\n"
        b"Date: Mon, 2 Nov 2026 18:00:00 +0000\nMessage-ID: <fold@x>\n\nbody\n",
        "grace@acme.example",
    ),
    (
        "comments-everywhere",
        b"From: me@example.com\nTo: Pete(A wonderful \\) chap) <pete(his account)@silly.example(his host)>\n"
        b"Subject: x\nDate: Mon, 2 Nov 2026 18:00:00 +0000\nMessage-ID: <pete@x>\n\nbody\n",
        "pete@silly.example",
    ),
]
HEADER_CASES.append(
    (
        "quoted-name-over-a-fold",  # CRLF: the stdlib ends a quoted string at a CR unless unfolded
        b'From: me@example.com\r\nCc: Third <t@acme.example>, "Quoted Mailing\r\n List Two" <two@acme.example>\r\n'
        b"Subject: x\r\nDate: Mon, 2 Nov 2026 18:00:00 +0000\r\nMessage-ID: <qfold@x>\r\n\r\nbody\r\n",
        "two@acme.example",
    )
)
HEADER_CASES += [
    (
        "fold-that-lost-its-indent",  # everything below the stray line was lost (php-mime-mail-parser issue84)
        b"From: me@example.com\nReceived: from x\nby localhost with SMTP; 19 Nov 2014 08:46:08 -0000\n"
        b"Subject: x\nTo: Levi <levi@acme.example>\nDate: Mon, 2 Nov 2026 18:00:00 +0000\nMessage-ID: <lost-indent@x>\n\nbody\n",
        "levi@acme.example",
    ),
    (
        "name-before-a-bare-address",  # an encoded-word name, no angle brackets (a Korean client)
        b"From: me@example.com\nTo: =?ks_c_5601-1987?B?J7Czud/GwCc=?= dev@acme.example\nSubject: x\n"
        b"Date: Mon, 2 Nov 2026 18:00:00 +0000\nMessage-ID: <bare@x>\n\nbody\n",
        "dev@acme.example",
    ),
]
# A bare CR ends a header line for the email package (and for mail-parser): only file
# sources can carry it, IMAP servers rewrite line ends.
SPACE_BEFORE_COLON_CASE = (  # RFC 5322's obsolete syntax; IMAP servers may not serve it as To
    "space-before-the-colon",
    b"From: me@example.com\nTo : spacey@acme.example\nSubject: x\n"
    b"Date: Mon, 2 Nov 2026 18:00:00 +0000\nMessage-ID: <spacey@x>\n\nbody\n",
    "spacey@acme.example",
)
BARE_CR_CASE = (
    "bare-cr-before-to",
    b"From: me@example.com\nSubject: x\rTo: hedy@acme.example\n"
    b"Date: Mon, 2 Nov 2026 18:00:00 +0000\nMessage-ID: <cr@x>\n\nbody\n",
    "hedy@acme.example",
)


def header_case_calendar(cases: list[tuple[str, bytes, str]]) -> str:
    """A calendar with one event (2 Nov 2026, 15:00 UTC) per case, for its recipient."""
    lines = ["version: 1", "timezone: UTC", "events:"]
    for name, _raw, recipient in cases:
        lines += [
            f"  - id: {name}",
            f"    title: {name}",
            "    kind: interview",
            "    start: 2026-11-02 15:00",
            "    people:",
            f"      - email: {recipient}",
        ]
    return "\n".join(lines) + "\n"


RunCli = Callable[..., tuple[int, str, str]]
"""The fixture ``run_cli``: ``run_cli("scan", "--mbox", ...)`` → (exit code, stdout, stderr)."""
ImapFactory = Callable[..., ImapSource]
"""The fixture ``imap_source``: :func:`plain_imap`."""


def plain_imap(port: int, account: Account, **options: Any) -> ImapSource:
    """An ImapSource for a loopback test server in plain IMAP, logged in as ``account`` unless ``options`` say otherwise."""
    settings: dict[str, Any] = {"security": "plain", "user": account.user, "password": account.password}
    return ImapSource("127.0.0.1", port=port, **{**settings, **options})
