"""The floor for reading a Takeout mbox: what no mbox reader can do without, and nothing else.

    .venv/bin/python benchmarks/mbox_floor.py FILE.mbox

Memory-maps the file, finds every ``\\nFrom `` separator, finds each message's blank
line, keeps the ones whose raw ``X-Gmail-Labels`` say Sent, and parses those header
blocks with the standard library's header parser. Prints the seconds, the messages
and the Sent ones. bench_mbox.py runs it as the floor row; it is not the product's code.
"""

from __future__ import annotations

import mmap
import re
import sys
import time
from email.parser import BytesHeaderParser
from email.policy import compat32

LABELS = re.compile(rb"^x-gmail-labels:([^\n]*)", re.IGNORECASE | re.MULTILINE)
BLANK = re.compile(rb"\n\r?\n")


def floor(path: str) -> tuple[int, int]:
    """The messages and the Sent ones, found the cheapest way."""
    parser = BytesHeaderParser(policy=compat32)
    messages = sent = 0
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
        size = len(view)
        start = 0
        while start >= 0:
            following = view.find(b"\nFrom ", start)
            end = size if following < 0 else following + 1
            blank = BLANK.search(view, start, min(end, start + 262_144))
            header = view[start : blank.start() + 1 if blank else end]
            labels = LABELS.search(header)
            if labels is not None and b"Sent" in labels.group(1):
                parser.parsebytes(header)
                sent += 1
            messages += 1
            start = following if following < 0 else following + 1
    return messages, sent


if __name__ == "__main__":
    started = time.perf_counter()
    found, sent_found = floor(sys.argv[1])
    print(f"{time.perf_counter() - started:.2f} s, {found} messages, {sent_found} sent")
