"""Collect tests/data/corpus*/messages from unpacked public test fixtures (a one-off, kept for the record).

The messages were written by others and ship as test data in PyPI sdists, Debian
packages and public repositories (see each corpus's PROVENANCE.md for how to get each
one). Unpack them under one folder, then:

    python scripts/corpus_collect.py /tmp/corp            # tests/data/corpus
    python scripts/corpus_collect.py /tmp/corp2 corpus2   # tests/data/corpus2

Every file whose header block holds a To, Cc or Bcc field becomes one message file;
mbox files are split. Leading mbox ``From `` lines are removed from the message (their
time is kept as the message's delivery time). Duplicates (same bytes, also of a message
of an earlier corpus), files over 100 kB and messages carrying Gmail labels are left out. Writes messages/*.eml and
PROVENANCE.tsv (file, delivery time, package, version, path, licence).

The delivery time is what a mailbox gives a message besides its Date header (mbox
``From `` line, Maildir mtime, IMAP INTERNALDATE): the message's own ``From `` line when
it had one; else its Date when that has a zone; else, for a zone-less Date, that wall
time read as UTC-05:00 (as if a US East Coast client wrote it: it then differs from the
zone-less time read as UTC); else a fixed 2020-06-01 00:00 UTC plus the file's index in
minutes.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

MAX_SIZE = 100_000
UTC = timezone.utc
DATA = Path(__file__).resolve().parent.parent / "tests" / "data"

# (short name, folder under the root, globs separated by "|", package, version, origin, licence)
SOURCES = {
    "corpus": [
        ("cpython", "dl/x_libpython3.11-testsuite/usr/lib/python3.11/test/test_email/data", "msg_*.txt",
         "libpython3.11-testsuite (Debian bookworm)", "3.11.2-6+deb12u9", "/usr/lib/python3.11/test/test_email/data/", "PSF-2.0"),
        ("flufl-bounce", "dl/flufl_bounce-6.0.0/tests/data", "*", "flufl.bounce (PyPI sdist)", "6.0.0",
         "flufl_bounce-6.0.0/tests/data/", "Apache-2.0"),
        ("hyperkitty", "dl/hyperkitty-1.3.12/hyperkitty/tests/testdata", "*", "HyperKitty (PyPI sdist)", "1.3.12",
         "hyperkitty-1.3.12/hyperkitty/tests/testdata/", "GPL-3.0-or-later"),
        ("mail-parser", "dl/mail_parser-4.8.0/tests/mails", "*", "mail-parser (PyPI sdist)", "4.8.0",
         "mail_parser-4.8.0/tests/mails/", "Apache-2.0"),
        ("mailman", "dl/mailman-3.3.10/src", "**/*", "mailman (PyPI sdist)", "3.3.10", "mailman-3.3.10/src/",
         "GPL-3.0-or-later"),
        ("django-mailbox", "dl/django-mailbox-4.10.1", "**/*", "django-mailbox (PyPI sdist)", "4.10.1",
         "django-mailbox-4.10.1/", "MIT"),
        ("talon", "dl/talon-1.4.4/tests", "**/*", "talon (PyPI sdist)", "1.4.4", "talon-1.4.4/tests/", "Apache-2.0"),
        ("salmon", "dl/salmon_mail-3.3.0/tests/data", "**/*", "salmon-mail (PyPI sdist)", "3.3.0",
         "salmon_mail-3.3.0/tests/data/", "GPL-3.0-only"),
        ("spamassassin", "dl/x_spamassassin/usr/share/doc/spamassassin/examples", "sample-*.txt",
         "spamassassin (Debian bookworm)", "4.0.1-1~deb12u1", "/usr/share/doc/spamassassin/examples/", "Apache-2.0"),
        ("imap-tools", "gh/imap_tools/tests", "**/*.eml", "imap_tools (github.com/ikvk/imap_tools)",
         "f2290be32cbf5f01e96a5f17e614116e7840bc91", "tests/", "Apache-2.0"),
        ("flanker", "gh/flanker/tests/fixtures/messages", "**/*", "flanker (github.com/mailgun/flanker; the sdist ships 4)",
         "c7f70738dbb39eda2861b03917b63ec9fa828f5d", "tests/fixtures/messages/", "Apache-2.0"),
        ("spamassassin-t", "gh/spamassassin/t/data", "spam/*|nice/*|welcomelists/*|txrep/*",
         "SpamAssassin test data (github.com/apache/spamassassin; also Debian source package spamassassin)",
         "f7fe7b82a2db63ee1406d74d88ce564b69881954", "t/data/", "Apache-2.0"),  # dkim/ left out: one message, re-signed 46 times
        ("notmuch", "gh/test/corpora", "**/*", "notmuch (github.com/notmuch/notmuch; also Debian source package notmuch)",
         "fdc9c75388b1ed12662e1cdb73b48b6d809ef5d8", "test/corpora/", "GPL-3.0-or-later"),
    ],
    "corpus2": [
        ("rubymail", "gh/mail/spec/fixtures/emails", "**/*.eml", "mail Ruby gem (github.com/mikel/mail)",
         "d645d7b5b7d03218b0bc8971ef041c991a63f5f7", "spec/fixtures/emails/", "MIT"),
        ("mu", "gh/mu/testdata", "**/*", "mu / maildir-utils (github.com/djcb/mu)",
         "1a99e705a3cc6303b84b47e30cd312d64d8639f6", "testdata/", "GPL-3.0-or-later"),
        ("enmime", "gh/enmime/testdata", "**/*.raw", "enmime Go module (github.com/jhillyerd/enmime)",
         "0d919cc223e9cb6c2d45d6c653e7a64156006351", "testdata/", "MIT"),
        ("mailparser-js", "gh/mailparser/test/fixtures", "*.eml", "mailparser npm (github.com/nodemailer/mailparser)",
         "bb1881eb35c0d406c68c8613443827ccbad00065", "test/fixtures/", "MIT"),
        ("mime4j", "gh/mime4j", "core/src/test/resources/**/*.msg|mbox/src/test/resources/test-1/mbox.rlug",
         "Apache James mime4j (github.com/apache/james-mime4j)", "2602a9a9703db9df4088b7e88bf8a307ecdfe968", "",
         "Apache-2.0 (mimetools-testmsgs: Artistic-1.0-Perl)"),
        ("mailbox-perl", "gh/mailbox/t/folders", "mbox.src", "Mail::Box Perl (github.com/markov2/perl5-Mail-Box)",
         "81668f69a5e941908c5cfce21a7388ec6a3c5619", "t/folders/", "Artistic-1.0-Perl OR GPL-1.0-or-later"),
        ("rspamd", "gh/rspamd/test/functional/messages", "**/*", "rspamd (github.com/rspamd/rspamd)",
         "eaac8e914ef09f837fe53cc4973e0b2312ab1118", "test/functional/messages/", "Apache-2.0"),
        ("php-mime-mail-parser", "gh/phpmmp/tests/mails", "*", "php-mime-mail-parser (github.com/php-mime-mail-parser/php-mime-mail-parser)",
         "059dcc38fbfb559b0644e9c26c65a759b21801bc", "tests/mails/", "MIT"),
        ("zbateson", "gh/zbateson/tests/_data/emails", "**/*", "zbateson/mail-mime-parser PHP (github.com/zbateson/mail-mime-parser)",
         "3db681988a48fdffdba551dcc6b2f4c2da574540", "tests/_data/emails/", "BSD-2-Clause"),
        ("email-simple", "gh/emailsimple/t/test-mails", "*", "Email::Simple Perl (github.com/rjbs/Email-Simple)",
         "8960d146b7c05d412415705ac5a5c931ce671c96", "t/test-mails/", "Artistic-1.0-Perl OR GPL-1.0-or-later"),
        ("mailutils", "gh/mailutils", "testsuite/spool/*|sieve/tests/moderator.mbox", "GNU mailutils testsuite (github.com/gnu-mirror-unofficial/mailutils)",
         "4d8bc05cf0ebc539746a4af12e0f9a4f85885146", "", "GPL-3.0-or-later"),
        ("stalwart", "gh/stalwart/resources", "eml/**/*.eml|maildir/**/*", "stalwartlabs mail-parser Rust crate (github.com/stalwartlabs/mail-parser)",
         "339a4306d3bd60bbfeae8f5de0e8f29c17d665a1", "resources/", "Apache-2.0 OR MIT"),
        ("mailcore2", "gh/mailcore/unittest/data", "parser/input/**/*|summary/input/**/*", "MailCore 2 (github.com/MailCore/mailcore2)",
         "8f0923db493ad8fc3e0f33fd0c70f3633e8787a7", "unittest/data/", "BSD-3-Clause"),
        ("mime-tools", "gh/mimetools", "testmsgs/*.msg|testin/*", "MIME-tools Perl (github.com/dfskoll/MIME-tools)",
         "cb4987a4f72abc4694e5d83071ecfcbfd71b4661", "", "Artistic-1.0-Perl OR GPL-1.0-or-later"),
    ],
}  # fmt: skip

FROM_LINE = re.compile(rb"^From \S+ +(.+?)\r?$")
SKIP_SUFFIXES = (".py", ".pyc", ".html", ".js", ".css", ".png", ".gif", ".jpg", ".po", ".mo", ".json", ".cfg",
                 ".rst", ".toml", ".in", ".ini", ".gz", ".md", ".sh", ".pem", ".asc", ".sig")  # fmt: skip


def header_block(raw: bytes) -> bytes:
    match = re.search(rb"\r?\n\r?\n", raw)
    return raw[: match.start()] if match else raw


def looks_like_mail(raw: bytes) -> bool:
    head = header_block(raw)
    if not re.match(rb"[A-Za-z0-9-]+:", head):
        return False
    return bool(re.search(rb"(?mi)^(to|cc|bcc)[ \t]*:", head)) and not re.search(
        rb"(?mi)^x-gmail-labels:", head
    )


def split_mbox(raw: bytes) -> list[tuple[bytes | None, bytes]]:
    """[(From_ line or None, message)] — one entry unless the file is an mbox of several."""
    if not raw.startswith(b"From "):
        return [(None, raw)]
    parts = re.split(rb"(?m)^(?=From \S+ +\w{3} \w{3} +\d)", raw)
    result = []
    for part in parts:
        if not part.strip():
            continue
        line, _, message = part.partition(b"\n")
        result.append((line, message.rstrip(b"\n") + b"\n"))
    return result


def from_line_time(line: bytes | None) -> datetime | None:
    if line is None:
        return None
    match = FROM_LINE.match(line)
    if not match:
        return None
    text = match.group(1).decode("ascii", "replace").strip()
    for form in ("%a %b %d %H:%M:%S %Y", "%a %b %d %H:%M:%S %z %Y"):
        try:
            moment = datetime.strptime(" ".join(text.split()), form)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def delivery_time(from_line: bytes | None, raw: bytes, index: int) -> datetime:
    found = from_line_time(from_line)
    if found is not None:
        return found.astimezone(UTC)
    head = header_block(raw).decode("ascii", "surrogateescape")
    date = re.search(r"(?mi)^date[ \t]*:(.*(?:\r?\n[ \t].*)*)", head)
    if date:
        try:
            moment = email.utils.parsedate_to_datetime(date.group(1).strip())
        except (TypeError, ValueError, IndexError, OverflowError):
            moment = None
        if moment is not None and 1971 <= moment.year <= 2037:
            if moment.tzinfo is not None:
                return moment.astimezone(UTC)
            return moment.replace(tzinfo=timezone(timedelta(hours=-5))).astimezone(UTC)
    return datetime(2020, 6, 1, tzinfo=UTC) + timedelta(minutes=index)


def main(root: Path, name: str) -> None:
    out = DATA / name / "messages"
    out.mkdir(parents=True, exist_ok=True)
    earlier = [DATA / n / "messages" for n in list(SOURCES)[: list(SOURCES).index(name)]]
    seen = {
        hashlib.sha256(p.read_bytes().replace(b"\r\n", b"\n")).digest() for d in earlier for p in d.iterdir()
    }
    rows = []
    for short, folder, pattern, package, version, origin, licence in SOURCES[name]:
        base = root / folder
        paths = sorted({p for one in pattern.split("|") for p in base.glob(one)})
        lkml = [p for p in paths if "lkml" in p.parts]
        paths = [p for p in paths if p not in lkml[1::2]]  # every other LKML post is plenty
        for path in paths:
            if not path.is_file() or path.name.endswith(SKIP_SUFFIXES) or path.stat().st_size > 3_000_000:
                continue
            for part, (from_line, raw) in enumerate(split_mbox(path.read_bytes())):
                if len(raw) > MAX_SIZE or not looks_like_mail(raw):
                    continue
                digest = hashlib.sha256(raw.replace(b"\r\n", b"\n")).digest()
                if digest in seen:
                    continue
                seen.add(digest)
                index = len(rows)
                stem = re.sub(r"[^A-Za-z0-9._-]+", "_", str(path.relative_to(base)))[-60:].strip("_.")
                suffix = f"-{part + 1}" if from_line is not None and part else ""
                file = f"{index:04d}-{short}-{stem}{suffix}.eml"
                (out / file).write_bytes(raw)
                inside = origin + str(path.relative_to(base)) + (f" (message {part + 1})" if suffix else "")
                when = delivery_time(from_line, raw, index).strftime("%Y-%m-%dT%H:%M:%SZ")
                rows.append("\t".join([file, when, package, version, inside, licence]))
    header = "file\tdelivered\tpackage\tversion\tpath\tlicence"
    (DATA / name / "PROVENANCE.tsv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    print(f"{len(rows)} messages, {sum(f.stat().st_size for f in out.iterdir())} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "corpus")
