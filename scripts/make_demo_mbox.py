"""Write src/thankyou_scan/data/demo-sent.mbox, the demo's Google Takeout-shaped mailbox.

Run it after changing the demo's story; the output is deterministic.
"""

from __future__ import annotations

from email.header import Header
from pathlib import Path

ME = "Jordan Rivera <jordan.rivera@gmail.com>"
OUT = Path(__file__).resolve().parent.parent / "src" / "thankyou_scan" / "data" / "demo-sent.mbox"

# (From_ line date, Date header or None, labels, from, to, cc, subject)
MESSAGES = [
    (
        "Tue Oct 27 18:02:11 +0000 2026",
        "Tue, 27 Oct 2026 14:02:11 -0400",
        "Sent",
        ME,
        "Priya Raman <priya.raman@northwind.example>",
        "",
        "Re: Phone screen tomorrow",
    ),
    (
        "Thu Oct 29 13:15:40 +0000 2026",
        "Thu, 29 Oct 2026 09:15:40 -0400",
        "Sent",
        ME,
        "Priya Raman <priya.raman@northwind.example>",
        "",
        "Thank you for the call",
    ),
    (
        "Sun Nov 01 22:00:00 +0000 2026",
        "Sun, 1 Nov 2026 17:00:00 -0500",
        "Inbox,Important",
        "Ada Lovelace <ada@acme.example>",
        ME,
        "",
        "Agenda for Monday",
    ),
    (
        "Mon Nov 02 23:41:05 +0000 2026",
        "Mon, 2 Nov 2026 18:41:05 -0500",
        "Sent",
        ME,
        "Ada Lovelace <ada@acme.example>, Grace Hopper <grace@acme.example>",
        "recruiting@acme.example",
        "Thank you — onsite interview",
    ),
    (
        "Tue Nov 03 14:20:00 +0000 2026",
        "Tue, 3 Nov 2026 14:20:00 +0000",
        "Sent",
        ME,
        "Tom Okafor <tomokafor@gmail.com>",
        "",
        "Lovely to meet you, Tom",
    ),
    (
        "Wed Nov 04 16:30:00 +0000 2026",
        "Wed, 4 Nov 2026 11:30:00 -0500",
        "Sent",
        ME,
        "Michael Bolton <michael@initech.example>",
        "",
        "Looking forward to our call",
    ),
    # The Date header has no zone: the From_ line's time is used instead.
    (
        "Sat Nov 07 02:05:00 +0000 2026",
        "Fri, 6 Nov 2026 21:05:00",
        "Sent",
        ME,
        "Michael Bolton <michael@initech.example>",
        "",
        "Thank you for your time",
    ),
    (
        "Fri Nov 06 09:00:00 +0000 2026",
        "Fri, 6 Nov 2026 04:00:00 -0500",
        "Inbox",
        "Gavin Belson <gavin@hooli.example>",
        ME,
        "",
        "Re: Project sync",
    ),
    (
        "Sun Nov 08 15:12:00 +0000 2026",
        "Sun, 8 Nov 2026 10:12:00 -0500",
        "Sent",
        ME,
        "Dana Scully <dana@fbi.example>",
        "",
        "Great to meet you at the career fair",
    ),
    (
        "Mon Nov 09 23:55:00 +0000 2026",
        "Mon, 9 Nov 2026 23:55:00 +0000",
        "Sent",
        ME,
        "=?utf-8?q?Lee_Park_=E2=80=94_Park_Ventures?= <lee@parkventures.example>",
        "",
        "Nice to meet you last night",
    ),
    (
        "Tue Nov 10 08:00:00 +0000 2026",
        "Tue, 10 Nov 2026 08:00:00 +0000",
        "Inbox,Unread",
        "Maya Chen <maya@pied-piper.example>",
        ME,
        "",
        "Slides from the meetup",
    ),
]


def main() -> None:
    chunks = []
    for from_date, date, labels, sender, to, cc, subject in MESSAGES:
        headers = [
            f"From 1700000000000000000@xxx {from_date}",
            f"X-Gmail-Labels: {labels}",
            f"From: {sender}",
            f"To: {to}",
        ]
        if cc:
            headers.append(f"Cc: {cc}")
        headers.append(f"Subject: {Header(subject, 'utf-8').encode() if not subject.isascii() else subject}")
        if date:
            headers.append(f"Date: {date}")
        headers.append(f"Message-ID: <demo-{len(chunks) + 1}@mail.gmail.com>")
        headers += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", ""]
        chunks.append("\n".join(headers) + "\nHello,\n\nThank you!\n\nJordan\n\n")
    OUT.write_text("".join(chunks), encoding="utf-8")


if __name__ == "__main__":
    main()
