"""Who am I still owed a note to? A short script on top of thankyou_scan.

    python examples/personal_script.py calendar.yaml "All mail Including Spam and Trash.mbox" me@gmail.com

Prints one line per note still to write: the missing ones first (the longest
overdue first), then those still due (the nearest deadline first). Exits 1 if any
note is missing.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import thankyou_scan
from thankyou_scan import Status


def main(calendar_file: str, mbox_file: str, *me: str) -> int:
    try:
        calendar = thankyou_scan.load_calendar(calendar_file)
        source = thankyou_scan.MboxSource(mbox_file, me=[*calendar.me, *me])
        report = thankyou_scan.scan(calendar, source, now=datetime.now(timezone.utc))
    except thankyou_scan.ThankyouScanError as error:
        print(error, file=sys.stderr)
        return error.exit_code

    owed = [f for f in report.followups if f.status in (Status.MISSING, Status.DUE)]
    owed.sort(key=lambda f: (f.status is not Status.MISSING, f.deadline))
    for followup in owed:
        when = "overdue" if followup.status is Status.MISSING else f"{followup.hours_left:.0f} h left"
        print(f"{when:>12}  {followup.person}  ({followup.event.title})")
    if not owed:
        print("Nobody is waiting for a note from you.")
    return 1 if report.summary["missing"] else 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
