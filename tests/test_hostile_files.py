"""Hostile mail files: every per-message step is linear or capped, memory stays bounded, nothing hangs.

Issue 10 (items 16, 17): one spam message must not stall a Takeout scan, and a sparse
mbox must not be read into memory. (FIFOs: tests/test_mailbox.py.)
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from helpers import raw_message, write_mbox
from thankyou_scan import MaildirSource, MboxSource, parse_calendar, scan
from thankyou_scan.message import MAX_HEADER_BLOCK

UTC = timezone.utc
FROM_DATE = "Tue Nov 03 01:02:03 +0000 2026"
CALENDAR = parse_calendar(
    "version: 1\ntimezone: UTC\nevents:\n"
    "  - {title: Onsite, kind: interview, start: 2026-11-02 10:00, people: [Ada <ada@acme.example>]}\n"
)
NOW = datetime(2026, 11, 10, tzinfo=UTC)
GOOD = raw_message(to="ada@acme.example", date="Tue, 3 Nov 2026 09:00:00 +0000")


def statuses_and_seconds(source: MboxSource | MaildirSource) -> tuple[list[str], float, int]:
    started = time.monotonic()
    report = scan(CALENDAR, source, now=NOW)
    return (
        [f.status.value for f in report.followups],
        time.monotonic() - started,
        report.source.messages_skipped,
    )


@pytest.mark.parametrize("field", ["From", "To", "Cc"])
def test_a_120_kb_address_field_without_at_takes_no_time(tmp_path: Path, field: str) -> None:
    # Once a quadratic regex: 46 s for one such field, before any relevance check.
    spam = f"{field}: {'x' * 120_000}\nSubject: spam\nDate: Tue, 3 Nov 2026 08:00:00 +0000\n\n".encode()
    path = write_mbox(tmp_path / "Sent.mbox", [(FROM_DATE, spam), (FROM_DATE, GOOD)])
    statuses, seconds, _ = statuses_and_seconds(MboxSource(path, me=["jordan@example.com"]))
    assert statuses == ["sent"]
    assert seconds < 5, f"{seconds:.1f} s for one hostile message"


@pytest.mark.parametrize(
    "line",
    [
        b"Subject: " + b" ".join([b"=?utf-8?q?a?="] * 100_000),  # 1.4 MB of encoded words: once 19 s
        b"To: " + b"(" * 200_000,  # comments nested past the recursion limit
        b"To: " + b"g: " * 60_000,  # groups nested the same way
    ],
    ids=["encoded-words", "nested-comments", "nested-groups"],
)
def test_an_unreadable_header_is_skipped_and_counted_quickly(tmp_path: Path, line: bytes) -> None:
    hostile = b"To: ada@acme.example\n" + line + b"\nDate: Tue, 3 Nov 2026 08:00:00 +0000\n\nbody\n"
    path = write_mbox(tmp_path / "Sent.mbox", [(FROM_DATE, hostile), (FROM_DATE, GOOD)])
    statuses, seconds, skipped = statuses_and_seconds(MboxSource(path))
    assert statuses == ["sent"]
    assert skipped == 1
    assert seconds < 10, f"{seconds:.1f} s for one hostile message"


def test_a_header_block_just_under_the_cap_is_read(tmp_path: Path) -> None:
    padding = b"X-Pad: " + b"p" * (MAX_HEADER_BLOCK - 2_000) + b"\n"
    raw = padding + raw_message(to="ada@acme.example", date="Tue, 3 Nov 2026 09:00:00 +0000")
    path = write_mbox(tmp_path / "Sent.mbox", [(FROM_DATE, raw)])
    statuses, _, skipped = statuses_and_seconds(MboxSource(path))
    assert (statuses, skipped) == (["sent"], 0)


@pytest.mark.slow
def test_a_sparse_mbox_is_scanned_in_bounded_memory(tmp_path: Path) -> None:
    # One message, then 1 GiB of NULs with no newline: once read whole into memory (4.2 GB for 2 GB).
    path = write_mbox(tmp_path / "Sent.mbox", [(FROM_DATE, GOOD)])
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size + (1 << 30))
    script = textwrap.dedent(
        f"""
        import re, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_hostile_files import CALENDAR, NOW
        from thankyou_scan import MboxSource, scan
        report = scan(CALENDAR, MboxSource({str(path)!r}), now=NOW)
        # VmHWM: this process's own peak (ru_maxrss would carry the parent's across exec)
        peak_kb = re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)
        print(report.followups[0].status.value, int(peak_kb) // 1024)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    status, peak_mb = result.stdout.split()
    assert status == "sent"
    assert int(peak_mb) < 200, f"peak memory {peak_mb} MB"
