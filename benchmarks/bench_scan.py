"""Scan cost, side by side: the naive way, our cold scan, rescans, and a narrow calendar.

    .venv/bin/python benchmarks/bench_scan.py                       # N=20,000 on Dovecot and GreenMail
    .venv/bin/python benchmarks/bench_scan.py --n 100000 --servers dovecot --rows b

Starts the servers itself (GreenMail from the jar scripts/test fetched; Dovecot when
`dovecot-imapd` is installed), seeds a Sent folder with N deterministic, realistic
messages (about 10% with 50 KB-3 MB attachments, ~200 KB on average; 1-4 recipients
from ~2,000 addresses over ~300 domains; two years of dates in varied offsets;
RFC 2047 subjects; replies), and a calendar of 200 events with 400 people drawn from
those addresses. Dovecot's Maildir is written directly; GreenMail gets pipelined APPENDs.

Each row runs as its own process, through a loopback proxy that counts the bytes the
server sends and the IMAP commands the client sends; peak RSS is the process's own.

  a  naive: SEARCH ALL, FETCH RFC822 in batches of 500 (imapclient)
  b  our scan, cold (empty cache)
  c  our scan again, nothing new (the whole CLI process; the median of --repeat runs,
     all of them printed for the spread)
  d  our scan after 100 new messages
  e  our scan, cold, of a calendar covering only the last 60 days
"""

from __future__ import annotations

import argparse
import base64
import compileall
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.header import Header
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import thankyou_scan  # noqa: E402
from dovecot import Dovecot, find_dovecot  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402
from greenmail import Account, GreenMail, Mail, find_jar, seed  # noqa: E402

UTC = timezone.utc
NOW = datetime(2026, 11, 10, 17, 0, tzinfo=UTC)
ME = "jordan.rivera@example.com"
FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "Ken",
    "Radia",
    "Tim",
    "Zoë",
    "José",
    "Søren",
    "Łukasz",
]
LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "Thompson",
    "Perlman",
    "Berners-Lee",
    "Müller",
    "Ñúñez",
]
TOPICS = [
    "Thank you",
    "Following up",
    "Great to meet you",
    "Re: Interview",
    "Notes from today",
    "Résumé attached",
    "Danke für das Gespräch",
    "Merci pour l'entretien",
    "Portfolio",
    "Next steps",
]


class Corpus:
    """A deterministic mailbox: the same messages for the same seed and N."""

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.rng = random.Random(seed)
        rng = self.rng
        self.domains = [
            f"{rng.choice(['acme', 'globex', 'initech', 'hooli', 'umbrella', 'stark', 'wayne', 'wonka', 'tyrell', 'cyberdyne'])}{i}.example"
            for i in range(300)
        ]
        self.addresses = [
            (f"{rng.choice(FIRST)} {rng.choice(LAST)}", f"person{i}@{rng.choice(self.domains)}")
            for i in range(2000)
        ]
        self.blob = rng.randbytes(4 * 1024 * 1024)
        self.start = NOW - timedelta(days=730)

    def messages(self, count: int, *, first: int = 0, newest: bool = False) -> Iterator[Mail]:
        rng = random.Random(f"{first}-{count}-{self.n}")
        for index in range(first, first + count):
            when = (
                (NOW - timedelta(days=rng.uniform(0, 5)))
                if newest
                else self.start + timedelta(seconds=rng.uniform(0, 730 * 86400))
            )
            when = when.replace(microsecond=0)
            offset = timezone(timedelta(minutes=rng.choice([-480, -300, -240, 0, 60, 120, 330, 540])))
            recipients = rng.sample(self.addresses, rng.randint(1, 4))
            to, cc = recipients[:1], recipients[1:]
            subject = rng.choice(TOPICS)
            encoded = Header(subject, "utf-8").encode() if not subject.isascii() else subject
            headers = [
                f"From: Jordan Rivera <{ME}>",
                "To: "
                + ", ".join(
                    f"{Header(name, 'utf-8').encode() if not name.isascii() else name} <{addr}>"
                    for name, addr in to
                ),
                f"Subject: {encoded}",
                f"Date: {when.astimezone(offset).strftime('%a, %d %b %Y %H:%M:%S %z')}",
                f"Message-ID: <bench-{index}@mail.example.com>",
                "MIME-Version: 1.0",
                "User-Agent: Benchmark/1.0",
                "X-Mailer: thankyou-scan benchmark",
            ]
            if cc:
                headers.append(
                    "Cc: " + ", ".join(f"{name} <{addr}>" if name.isascii() else addr for name, addr in cc)
                )
            if rng.random() < 0.4 and index > 0:
                parent = rng.randrange(max(index, 1))
                refs = " ".join(
                    f"<bench-{rng.randrange(max(index, 1))}@mail.example.com>"
                    for _ in range(rng.randint(0, 6))
                )
                headers += [
                    f"In-Reply-To: <bench-{parent}@mail.example.com>",
                    f"References: {refs} <bench-{parent}@mail.example.com>",
                ]
            body = self._body(rng)
            yield Mail(("\r\n".join(headers) + "\r\n" + body).encode(), when)

    def _body(self, rng: random.Random) -> str:
        text_size = int(rng.uniform(2, 80) * 1024)
        start = rng.randrange(len(self.blob) - text_size)
        text = base64.b64encode(self.blob[start : start + text_size * 3 // 4]).decode()
        lines = "\r\n".join(text[i : i + 76] for i in range(0, len(text), 76))
        if rng.random() >= 0.10:
            return f"Content-Type: text/plain; charset=utf-8\r\n\r\n{lines}\r\n"
        size = int(rng.uniform(50, 3000) * 1024 * 3 // 4)  # 50 KB-3 MB once base64-encoded
        start = rng.randrange(max(1, len(self.blob) - size)) if size < len(self.blob) else 0
        chunk = (self.blob * (size // len(self.blob) + 1))[start : start + size]
        attachment = base64.b64encode(chunk).decode()
        attached = "\r\n".join(attachment[i : i + 76] for i in range(0, len(attachment), 76))
        return (
            'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n'
            f"{lines[:2000]}\r\n--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
            f'filename="resume.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n{attached}\r\n--b1--\r\n'
        )

    def calendar(self, path: Path, *, recent_days: int | None = None) -> None:
        rng = random.Random(7)
        people = rng.sample(self.addresses, 400)
        lines = ["version: 1", "timezone: America/New_York", "events:"]
        for event in range(200):
            days_back = rng.uniform(1, recent_days or 720)
            start = (NOW - timedelta(days=days_back)).astimezone(timezone(timedelta(hours=-5)))
            kind = rng.choice(["interview", "networking", "meeting"])
            lines += [
                f"  - title: Event {event}",
                f"    kind: {kind}",
                f"    start: {start:%Y-%m-%d %H:%M}{start:%z}",
                "    people:",
                *(f"      - {name} <{addr}>" for name, addr in people[event * 2 : event * 2 + 2]),
            ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


NAIVE = """
import sys
from imapclient import IMAPClient
c = IMAPClient("127.0.0.1", port=int(sys.argv[1]), ssl=False, timeout=600)
c.login(sys.argv[2], sys.argv[3])
c.select_folder(sys.argv[4], readonly=True)
uids = c.search(["ALL"])
total = 0
for i in range(0, len(uids), 500):
    for data in c.fetch(uids[i:i + 500], ["RFC822"]).values():
        total += len(data[b"RFC822"])
c.logout()
print(total)
"""


def measure(label: str, command: list[str], proxy: FaultProxy, env: dict[str, str]) -> dict[str, float | str]:
    proxy.commands.clear()
    proxy.bytes_from_server = 0
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        peak_kb = 0
        while process.poll() is None:
            peak_kb = max(peak_kb, _high_water_kb(process.pid))
            time.sleep(0.002)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        output, errors = out.read(), err.read()
    code = process.returncode
    if code not in (0, 1):
        raise RuntimeError(f"{label} failed with {code}: {errors.decode()[-2000:]}")
    time.sleep(0.05)  # let the proxy threads count the last bytes
    return {
        "row": label,
        "seconds": wall,
        "bytes": proxy.bytes_from_server,
        "commands": len(proxy.commands),
        "rss_mb": peak_kb / 1024,
        "output": output.decode("utf-8", "replace"),
    }


def _high_water_kb(pid: int) -> int:
    # VmHWM is the peak RSS of the process's own memory since exec. (getrusage's
    # ru_maxrss would also count the memory the child inherited from this big parent
    # before exec.) Polled, so a peak in the last 2 ms before exit can be missed.
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def scan_command(calendar: Path, port: int, account: Account, cache: Path | None) -> list[str]:
    command = [
        sys.executable, "-m", "thankyou_scan", "scan", "--calendar", str(calendar), "--imap-host", "127.0.0.1",
        "--imap-port", str(port), "--security", "plain", "--user", account.user, "--password-env", "BENCH_PASSWORD",
        "--now", NOW.isoformat(), "--format", "json", "-q",
    ]  # fmt: skip
    return [*command, "--cache", str(cache)] if cache else [*command, "--no-cache"]


def run_server(
    name: str, args: argparse.Namespace, corpus: Corpus, work: Path
) -> list[dict[str, float | str]]:
    print(f"\n== {name}: seeding {args.n} messages", flush=True)
    started = time.perf_counter()
    if name == "dovecot":
        server: Dovecot | GreenMail = Dovecot(Path(tempfile.mkdtemp(prefix="bench-dovecot-")))
        server.start()
        account = server.account()
        for n, mail in enumerate(corpus.messages(args.n)):
            server.deliver(account, "Sent", mail.raw, mail.internaldate, n=n)

        def add_new(mails: list[Mail]) -> None:
            for n, mail in enumerate(mails):
                server.deliver(account, "Sent", mail.raw, mail.internaldate, n=10_000_000 + n)  # type: ignore[union-attr]
    else:
        jar = find_jar()
        if jar is None:
            raise SystemExit("GreenMail jar not found: run scripts/test once (it fetches it with Maven)")
        server = GreenMail(jar, work / "greenmail", heap=args.greenmail_heap)
        server.start()
        account = server.account()
        batch: list[Mail] = []
        seed(server, account, {"Sent": []})
        for mail in corpus.messages(args.n):
            batch.append(mail)
            if len(batch) == 500:
                seed(server, account, {"Sent": batch}, create=False)
                batch = []
        seed(server, account, {"Sent": batch}, create=False)

        def add_new(mails: list[Mail]) -> None:
            seed(server, account, {"Sent": mails}, create=False)  # type: ignore[arg-type]

    print(f"   seeded in {time.perf_counter() - started:.0f} s", flush=True)
    env = {**os.environ, "BENCH_PASSWORD": account.password}
    calendar, recent = work / "calendar.yaml", work / "calendar-60-days.yaml"
    corpus.calendar(calendar)
    corpus.calendar(recent, recent_days=60)
    cache = work / f"cache-{name}"
    shutil.rmtree(cache, ignore_errors=True)
    rows = []
    try:
        with FaultProxy(server.imap_port, [None]) as proxy:
            if "a" in args.rows:
                naive = [sys.executable, "-c", NAIVE, str(proxy.port), account.user, account.password, "Sent"]
                rows.append(measure("a naive", naive, proxy, env))
            if "b" in args.rows:
                rows.append(measure("b cold", scan_command(calendar, proxy.port, account, cache), proxy, env))
            if "c" in args.rows:
                # A rescan is short, so its run-to-run spread is measured: the median run is the row.
                runs = sorted(
                    (
                        measure("c again", scan_command(calendar, proxy.port, account, cache), proxy, env)
                        for _ in range(args.repeat)
                    ),
                    key=lambda row: float(row["seconds"]),
                )
                median = runs[len(runs) // 2]
                median["spread"] = " / ".join(f"{float(row['seconds']):.2f}" for row in runs)
                rows.append(median)
            if "d" in args.rows:
                add_new(list(corpus.messages(100, first=args.n, newest=True)))
                rows.append(
                    measure("d +100 new", scan_command(calendar, proxy.port, account, cache), proxy, env)
                )
            if "e" in args.rows:
                rows.append(measure("e 60 days", scan_command(recent, proxy.port, account, None), proxy, env))
    finally:
        server.stop()
        if name == "dovecot" and not args.keep:
            shutil.rmtree(server.root, ignore_errors=True)  # type: ignore[union-attr]
    return rows


def goal(row: dict[str, float | str], base: dict[str, float | str] | None, n: int) -> str:
    """The issue's goal for this row (issue 15's table), and whether this run met it."""
    label, seconds = str(row["row"])[0], float(row["seconds"])
    speedup = float(base["seconds"]) / seconds if base else None
    share = float(row["bytes"]) / float(base["bytes"]) if base else None
    if label == "b" and n >= 100_000:
        return f"<= 5 s: {'met' if seconds <= 5 else 'NOT met'}"
    if label == "b" and speedup is not None and share is not None:
        met = speedup >= 50 and share <= 0.0005
        return f">= 50x, <= 0.05% bytes: {'met' if met else 'NOT met'}"
    if label == "e" and speedup is not None:
        return f">= 150x: {'met' if speedup >= 150 else 'NOT met'}"
    if label == "c":
        met = seconds <= 0.25 and int(row["commands"]) <= 4
        return f"<= 0.25 s, <= 4 commands: {'met' if met else 'NOT met'}"
    return ""


def show(name: str, n: int, rows: list[dict[str, float | str]]) -> None:
    base = next((row for row in rows if str(row["row"]).startswith("a")), None)
    print(f"\n{name}, N={n}", flush=True)
    print(
        f"{'row':<12}{'seconds':>10}{'MB recv':>12}{'commands':>10}{'peak RSS MB':>13}{'time a/x':>10}{'bytes x/a':>11}"
        "  goal"
    )
    for row in rows:
        ratio_time = f"{float(base['seconds']) / float(row['seconds']):.0f}x" if base else "-"
        ratio_bytes = f"{float(row['bytes']) / float(base['bytes']):.3%}" if base else "-"
        print(
            f"{row['row']:<12}{float(row['seconds']):>10.2f}{float(row['bytes']) / 1e6:>12.2f}"
            f"{int(row['commands']):>10}{float(row['rss_mb']):>13.0f}{ratio_time:>10}{ratio_bytes:>11}"
            f"  {goal(row, base, n)}",
            flush=True,
        )
    for row in rows:
        if "spread" in row:
            print(
                f"   {row['row']}: seconds over {len(str(row['spread']).split(' / '))} runs: {row['spread']}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=20_000, help="messages in the Sent folder (default 20,000)")
    parser.add_argument("--servers", default="dovecot,greenmail", help="comma-separated: dovecot, greenmail")
    parser.add_argument("--rows", default="abcde", help="which rows to run (default abcde)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--greenmail-heap", default="12g", help="GreenMail keeps mail in memory (default 12g)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the Dovecot Maildir afterwards")
    parser.add_argument("--repeat", type=int, default=5, help="runs of row c, for its spread (default 5)")
    args = parser.parse_args()
    # Bytecode as a pip install writes it: an editable checkout (or PYTHONDONTWRITEBYTECODE)
    # would otherwise make every row compile the package from source.
    compileall.compile_dir(Path(thankyou_scan.__file__).parent, quiet=1)
    corpus = Corpus(args.n, args.seed)
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as work:
        for name in args.servers.split(","):
            if name == "dovecot" and find_dovecot() is None:
                print("dovecot is not installed (apt-get install dovecot-imapd): skipped")
                continue
            results[name] = run_server(name, args, corpus, Path(work))
            show(name, args.n, results[name])


if __name__ == "__main__":
    main()
