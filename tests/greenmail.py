"""A real GreenMail server for the test session: free loopback ports, real TLS, a pool of users.

GreenMail (Java) serves IMAP on one port and IMAPS on another. For IMAPS it uses a
certificate made here, signed by a throwaway test CA, for 127.0.0.1 and localhost, so
that TLS is checked for real: refused by default, accepted with that CA (--tls-ca).
Its REST API stays off (it starts only when greenmail.hostname is set).
"""

from __future__ import annotations

import contextlib
import mailbox
import os
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Protocol

from imapclient import IMAPClient, imap_utf7

from helpers import raw_message

VERSION = "2.1.8"
USERS = 80
KEYSTORE_PASSWORD = "greenmail-test-store"


def find_jar() -> Path | None:
    """The jar scripts/test fetched (GREENMAIL_JAR), or the one in the local Maven repository."""
    candidates = [os.environ.get("GREENMAIL_JAR", "")]
    m2 = Path.home() / ".m2" / "repository" / "com" / "icegreen" / "greenmail-standalone" / VERSION
    candidates.append(str(m2 / f"greenmail-standalone-{VERSION}.jar"))
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_tls_material(directory: Path) -> tuple[Path, Path]:
    """A test CA and a PKCS#12 keystore with a server certificate for 127.0.0.1; returns (ca.pem, keystore)."""
    ca_key, ca_pem = directory / "ca.key", directory / "ca.pem"
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    extensions = directory / "server.ext"
    extensions.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
    )
    keystore = directory / "greenmail.p12"
    commands = [
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_pem, "-days", "7",
         "-subj", "/CN=thankyou-scan test CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial", "-out", cert,
         "-days", "7", "-extfile", extensions],
        ["pkcs12", "-export", "-in", cert, "-inkey", key, "-certfile", ca_pem, "-name", "greenmail",
         "-out", keystore, "-passout", f"pass:{KEYSTORE_PASSWORD}"],
    ]  # fmt: skip
    for command in commands:
        subprocess.run(["openssl", *map(str, command)], check=True, capture_output=True)
    return ca_pem, keystore


@dataclass(frozen=True)
class Account:
    """One GreenMail user."""

    user: str
    password: str


class GreenMail:
    """A GreenMail process: ``start()``, hand out accounts, ``stop()``."""

    def __init__(self, jar: Path, workdir: Path, *, heap: str = "512m") -> None:
        self.jar = jar
        self.heap = heap
        self.workdir = workdir
        self.imap_port = free_port()
        self.imaps_port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        self.ca_pem, self.keystore = make_tls_material(workdir)
        self.accounts = [Account(f"user{n}@example.com", f"pw-{n}-Secret!") for n in range(USERS)]
        self._unused = iter(self.accounts)
        self._process: subprocess.Popen[bytes] | None = None
        self.log = workdir / "greenmail.log"

    def start(self, timeout: float = 90.0) -> None:
        users = ",".join(f"{a.user.split('@')[0]}:{a.password}@example.com" for a in self.accounts)
        command = [
            "java",
            f"-Xmx{self.heap}",
            "-Duser.timezone=UTC",  # SEARCH SINCE compares at JVM-local midnight
            f"-Dgreenmail.imap.port={self.imap_port}",
            "-Dgreenmail.imap.hostname=127.0.0.1",
            f"-Dgreenmail.imaps.port={self.imaps_port}",
            "-Dgreenmail.imaps.hostname=127.0.0.1",
            f"-Dgreenmail.tls.keystore.file={self.keystore}",
            f"-Dgreenmail.tls.keystore.password={KEYSTORE_PASSWORD}",
            f"-Dgreenmail.users={users}",
            "-Dgreenmail.users.login=email",
            "-jar",
            str(self.jar),
        ]
        with open(self.log, "wb") as log:
            self._process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"GreenMail exited with {self._process.returncode}:\n{self.log.read_text()[-3000:]}"
                )
            if self._greets(self.imap_port) and self._greets(self.imaps_port, tls=True):
                return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"GreenMail did not greet within {timeout} s:\n{self.log.read_text()[-3000:]}")

    def _greets(self, port: int, *, tls: bool = False) -> bool:
        import ssl

        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
                if tls:
                    context = ssl.create_default_context(cafile=str(self.ca_pem))
                    with context.wrap_socket(raw, server_hostname="127.0.0.1") as wrapped:
                        return wrapped.recv(200).startswith(b"* OK")
                return raw.recv(200).startswith(b"* OK")
        except OSError:
            return False

    def stop(self) -> None:
        stop_process(self._process)

    def account(self) -> Account:
        """A user nobody else in this session has used."""
        try:
            return next(self._unused)
        except StopIteration:
            raise RuntimeError(f"all {USERS} GreenMail test users are used; raise USERS") from None

    def client(self, account: Account) -> contextlib.AbstractContextManager[IMAPClient]:
        """A plain-IMAP client logged in as ``account``, for seeding and inspecting (never the code under test)."""
        return imap_client(self.imap_port, account)


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    """Terminate a server process, killing it if it does not stop within 15 s."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Server(Protocol):
    """What the tests need of an IMAP server: GreenMail or Dovecot."""

    imap_port: int

    def account(self) -> Account: ...

    def client(self, account: Account) -> contextlib.AbstractContextManager[IMAPClient]: ...


@contextlib.contextmanager
def imap_client(port: int, account: Account) -> Iterator[IMAPClient]:
    client = IMAPClient("127.0.0.1", port=port, ssl=False, timeout=30)
    client.login(account.user, account.password)
    try:
        yield client
    finally:
        client.logout()


@dataclass(frozen=True)
class Mail:
    """A message to seed: raw bytes, its INTERNALDATE and flags."""

    raw: bytes
    internaldate: datetime
    flags: tuple[bytes, ...] = (b"\\Seen",)


def seed(
    server: GreenMail, account: Account, folders: dict[str, Iterable[Mail]], *, create: bool = True
) -> None:
    """Create the folders (INBOX exists) and APPEND the mail, with INTERNALDATE and flags.

    The APPENDs are pipelined with LITERAL+ on one raw connection: imaplib waits for a
    continuation before every literal, which costs a delayed-ACK round trip (~40 ms)
    a message.
    """
    if create:
        with server.client(account) as client:
            existing = {name for _flags, _delimiter, name in client.list_folders()}
            for name in folders:
                if name not in existing:
                    client.create_folder(name)
    with socket.create_connection(("127.0.0.1", server.imap_port), timeout=60) as raw:
        reader = raw.makefile("rb")
        reader.readline()  # greeting
        commands = [f'a0 LOGIN "{account.user}" "{account.password}"\r\n'.encode()]
        for name, mails in folders.items():
            quoted = imap_utf7.encode(name).decode("ascii").replace("\\", "\\\\").replace('"', '\\"')
            for mail in mails:
                body = _crlf(mail.raw)
                when = _greenmail_safe(mail.internaldate).strftime("%d-%b-%Y %H:%M:%S %z")
                flags = " ".join(flag.decode() for flag in mail.flags)
                commands.append(
                    f'a{len(commands)} APPEND "{quoted}" ({flags}) "{when}" {{{len(body)}+}}\r\n'.encode()
                    + body
                    + b"\r\n"
                )
        raw.sendall(b"".join(commands))
        for tag in range(len(commands)):
            while not (line := reader.readline()).startswith(f"a{tag} ".encode()):
                if not line:
                    raise RuntimeError("GreenMail closed the connection while seeding")
            if not line.startswith(f"a{tag} OK".encode()):
                raise RuntimeError(f"seeding failed: {line!r}")
        raw.sendall(b"z LOGOUT\r\n")


def _crlf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _greenmail_safe(moment: datetime) -> datetime:
    # GreenMail 2.1 reads the APPEND date's hour on a 12-hour clock: 12:xx is stored as
    # 00:xx. The same instant written in another offset avoids hour 12.
    if moment.astimezone(timezone.utc).hour == 12:
        return moment.astimezone(timezone(timedelta(hours=1)))
    return moment.astimezone(timezone.utc)


def snapshot(server: Server, account: Account) -> dict[str, list[tuple[int, tuple[bytes, ...], int]]]:
    """Every folder's (UID, flags, size): what "nothing changed" compares.

    \\Recent is left out: it is per-session state, not part of the mailbox.
    """
    state: dict[str, list[tuple[int, tuple[bytes, ...], int]]] = {}
    with server.client(account) as client:
        for flags, _delimiter, name in client.list_folders():
            if b"\\Noselect" in flags:
                continue
            client.select_folder(name, readonly=True)
            uids = client.search(["ALL"])
            fetched = client.fetch(uids, ["FLAGS", "RFC822.SIZE"]) if uids else {}
            state[name] = sorted(
                (uid, tuple(sorted(f for f in data[b"FLAGS"] if f != b"\\Recent")), data[b"RFC822.SIZE"])
                for uid, data in fetched.items()
            )
    return state


# -- the demo's mail, as a mailbox would hold it ---------------------------------------


def demo_mail() -> list[Mail]:
    """The demo mailbox's sent messages, with the From_ line time as INTERNALDATE."""
    with resources.as_file(resources.files("thankyou_scan") / "data" / "demo-sent.mbox") as path:
        box = mailbox.mbox(str(path), create=False)
        result = []
        for message in box:
            if "Sent" not in (message["X-Gmail-Labels"] or ""):
                continue
            from_date = message.get_from().split(" ", 1)[1]
            when = datetime.strptime(from_date, "%a %b %d %H:%M:%S %z %Y")
            del message["X-Gmail-Labels"]
            result.append(Mail(message.as_bytes(), when))
        box.close()
    return result


def demo_inbox_mail() -> list[Mail]:
    """Mail the demo user received: must never count as sent."""
    return [
        Mail(raw_message(sender="Ada <ada@acme.example>", to="jordan.rivera@gmail.com", subject="Re: thanks",
                         date="Tue, 3 Nov 2026 09:00:00 -0500", message_id="<in1@acme.example>"),
             datetime(2026, 11, 3, 14, 0, tzinfo=timezone.utc), flags=()),
    ]  # fmt: skip


def draft_to_everyone() -> Mail:
    """A draft addressed to every demo person, never sent: must never count."""
    everyone = "samir@initech.example, gavin@hooli.example, maya@pied-piper.example"
    return Mail(
        raw_message(to=everyone, date="Sat, 7 Nov 2026 10:00:00 +0000", subject="Draft", message_id="<d@x>"),
        datetime(2026, 11, 7, 10, 0, tzinfo=timezone.utc),
        flags=(b"\\Draft",),
    )


def seed_gmail_shaped(server: Server, account: Account, sent_folder: str = "[Gmail]/Sent Mail") -> None:
    """A Gmail-shaped account as GreenMail serves it (flat names, no special-use flags).

    All Mail holds received mail too, and Drafts, Spam and Trash hold mail to the
    demo's people: none of it may count as sent.
    """
    sent, received = demo_mail(), demo_inbox_mail()
    seed(
        server,
        account,
        {
            "INBOX": received,
            "[Gmail]/All Mail": [*sent, *received, draft_to_everyone()],
            "[Gmail]/Drafts": [draft_to_everyone()],
            sent_folder: sent,
            "[Gmail]/Spam": [draft_to_everyone()],
            "[Gmail]/Trash": [draft_to_everyone()],
        },
    )
