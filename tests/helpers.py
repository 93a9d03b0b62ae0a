"""Test helpers: build raw messages, mbox files and Maildirs the way mail clients write them."""

from __future__ import annotations

from pathlib import Path


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
