"""Takeout-style mbox scan cost: the stdlib's mailbox.mbox (what 0.1 used) against MboxSource.

    .venv/bin/python benchmarks/bench_mbox.py                  # 20,000 messages, ~50 KB each (~1 GB)
    .venv/bin/python benchmarks/bench_mbox.py --n 20000 --body-kb 200 --rows bc   # the issue's 4.2 GB row

Writes a deterministic mbox in a temporary folder: every message labelled as Takeout
labels them (a third Sent, the rest Inbox/Spam/Drafts), 1-3 recipients from ~2,000
addresses, bodies of base64 text so no line starts with "From ". A calendar of 200
events with 400 of those recipients. Each row runs as its own process; peak RSS is
that process's own (VmHWM: ru_maxrss would carry the parent's across exec).

  a  naive: mailbox.mbox, every message's header block read through the stdlib's
     message index (what MboxSource did before the chunked scan)
  b  MboxSource: chunked scan for "From " lines, capped header blocks, the full scan()
  c  the floor (benchmarks/mbox_floor.py): mmap, "\nFrom " separators, each header
     block's end, the raw X-Gmail-Labels, the standard library's header parser for the
     Sent ones — what no reader can do without; the goal is b <= 2.5x c
"""

from __future__ import annotations

import argparse
import base64
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ROWS = {
    "a": """
import mailbox
box = mailbox.mbox(PATH, create=False)
count = 0
for key in box.iterkeys():
    with box.get_file(key, from_=True) as handle:
        handle.readline()
        for line in handle:
            if line in (b"\\n", b"\\r\\n"):
                break
        count += 1
result = f"{count} messages"
""",
    "b": """
from datetime import datetime, timezone
from thankyou_scan import MboxSource, load_calendar, scan
report = scan(load_calendar(CALENDAR), MboxSource(PATH), now=datetime(2026, 11, 30, tzinfo=timezone.utc))
result = f"{report.source.messages_scanned} sent read, {sum(1 for f in report.followups if f.message)} matched"
""",
    "c": """
sys.path.insert(0, BENCHMARKS)
from mbox_floor import floor
messages, sent = floor(PATH)
result = f"{messages} messages, {sent} sent"
""",
}

RUNNER = """
import re, sys, time
sys.path.insert(0, {src!r})
PATH, CALENDAR, BENCHMARKS = {path!r}, {calendar!r}, {benchmarks!r}
started = time.perf_counter()
{body}
elapsed = time.perf_counter() - started
peak = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)) // 1024
print(f"{{elapsed:.2f}} {{peak}} {{result}}")
"""


def build(folder: Path, n: int, body_kb: int, seed: int) -> tuple[Path, Path]:
    rnd = random.Random(seed)
    domains = [f"company{d}.example" for d in range(300)]
    people = [f"person{p}@{rnd.choice(domains)}" for p in range(2000)]
    body = base64.encodebytes(rnd.randbytes(body_kb * 768)).decode()
    path = folder / "All mail Including Spam and Trash.mbox"
    with open(path, "w", encoding="ascii") as mbox:
        for number in range(n):
            day = 1 + number * 700 // n
            year, month, mday = 2025 + day // 360, 1 + day % 360 // 30, 1 + day % 30
            labels = "Sent" if number % 3 == 0 else rnd.choice(["Inbox", "Spam", "Drafts", "Inbox,Important"])
            to = ", ".join(rnd.sample(people, rnd.randint(1, 3)))
            mbox.write(
                f"From 1{number}@xxx Mon Jan 01 00:00:00 +0000 2024\n"
                f"X-GM-THRID: {number}\nX-Gmail-Labels: {labels}\nFrom: Me <me@gmail.com>\nTo: {to}\n"
                f"Subject: Message {number}\nDate: {mday:02d} {'JanFebMarAprMayJunJulAugSepOctNovDec'[3 * (month - 1) : 3 * month]} {year} 10:00:00 +0000\n"
                f"Message-ID: <m{number}@example.com>\nContent-Type: text/plain\n\n{body}\n"
            )
    calendar = folder / "calendar.yaml"
    lines = ["version: 1", "timezone: UTC", "events:"]
    for event in range(200):
        day = 1 + event * 700 // 200
        year, month, mday = 2025 + day // 360, 1 + day % 360 // 30, 1 + day % 30
        chosen = rnd.sample(people, 2)
        lines += [f"  - {{title: Event {event}, kind: interview, start: {year}-{month:02d}-{mday:02d} 09:00, "
                  f"people: [{chosen[0]}, {chosen[1]}]}}"]  # fmt: skip
    calendar.write_text("\n".join(lines) + "\n")
    return path, calendar


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=20_000, help="messages in the mbox (default 20,000)")
    parser.add_argument("--body-kb", type=int, default=50, help="body size in KB (default 50)")
    parser.add_argument("--rows", default="abc", help="which rows to run (default abc)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-mbox-") as folder:
        started = time.perf_counter()
        path, calendar = build(Path(folder), args.n, args.body_kb, args.seed)
        size = path.stat().st_size
        print(
            f"mbox: {args.n:,} messages, {size / 1e9:.2f} GB, written in {time.perf_counter() - started:.1f} s"
        )
        subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
        times = {}
        for row in args.rows:
            code = RUNNER.format(
                src=str(ROOT / "src"),
                path=str(path),
                calendar=str(calendar),
                benchmarks=str(ROOT / "benchmarks"),
                body=ROWS[row],
            )
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
            seconds, peak, result = out.split(" ", 2)
            times[row] = float(seconds)
            print(f"  {row}  {float(seconds):7.2f} s  peak {int(peak):5d} MB  {result.strip()}")
        if "a" in times and "b" in times:
            print(f"  MboxSource vs naive: {times['a'] / times['b']:.1f}x faster")
        if "b" in times and "c" in times:
            ratio = times["b"] / times["c"]
        print(
            f"  MboxSource vs the floor: {ratio:.2f}x the floor (goal <= 2.5x: {'met' if ratio <= 2.5 else 'NOT met'})"
        )


if __name__ == "__main__":
    main()
