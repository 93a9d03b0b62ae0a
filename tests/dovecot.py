r"""A real Dovecot (Debian's dovecot-imapd) for tests and benchmarks: loopback, plain IMAP, Maildir.

Runs in the foreground as root with its own configuration, base and state folders
under a temporary directory. Mail lives in Maildir with the "fs" layout, so the
hierarchy delimiter is "/" and `[Gmail]/Sent Mail` is a real child of `[Gmail]`.
Folders carry special-use flags as real Gmail's do (`Sent` and `[Gmail]/Sent Mail`
\Sent, `[Gmail]/All Mail` \All, ...) once a test creates them. Messages can be written straight
into the Maildir (far faster than APPEND); the file's mtime is the INTERNALDATE.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from datetime import datetime
from pathlib import Path

from imapclient import IMAPClient

from greenmail import Account, free_port, imap_client, stop_process

MAIL_UID = 65534  # "nobody": Dovecot refuses to access mail as root


def find_dovecot() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.path.exists(p)), None
    )


CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u/Maildir:LAYOUT=fs
first_valid_uid = {uid}
mail_uid = {uid}
mail_gid = {uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
  }}
  mailbox Drafts {{
    special_use = \\Drafts
  }}
  mailbox "[Gmail]/Sent Mail" {{
    special_use = \\Sent
  }}
  mailbox "[Gmail]/All Mail" {{
    special_use = \\All
  }}
  mailbox "[Gmail]/Drafts" {{
    special_use = \\Drafts
  }}
  mailbox "[Gmail]/Spam" {{
    special_use = \\Junk
  }}
  mailbox "[Gmail]/Trash" {{
    special_use = \\Trash
  }}
}}
"""


class Dovecot:
    def __init__(self, root: Path, users: int = 40) -> None:
        binary = find_dovecot()
        if binary is None:
            raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
        self.binary = binary
        self.root = root
        self.imap_port = free_port()
        self.accounts = [Account(f"dove{n}@example.com", f"dv-{n}-Secret!") for n in range(users)]
        # Not handed out by account(): its password is not ASCII, which imaplib's LOGIN cannot send.
        self.utf8_account = Account("dove-utf8@example.com", 'pä\\ss"wörd-€-Secret')
        self._unused = iter(self.accounts)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        # Dovecot's auth and mail processes run as other users: every folder on the way must let them through.
        for folder in self.root.parents:
            if folder.stat().st_mode & 0o005 != 0o005:
                raise RuntimeError(
                    f"{folder} is not world-traversable: give Dovecot a root such as tempfile.mkdtemp()"
                )
        self.root.chmod(0o755)
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chown(self.root / "mail", MAIL_UID, MAIL_UID)
        (self.root / "passwd").write_text(
            "".join(f"{a.user}:{{PLAIN}}{a.password}\n" for a in [*self.accounts, self.utf8_account]),
            encoding="utf-8",
        )
        config = self.root / "dovecot.conf"
        config.write_text(CONFIG.format(root=self.root, port=self.imap_port, uid=MAIL_UID))
        self._process = subprocess.Popen(
            [self.binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"dovecot exited with {self._process.returncode}: {error}{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.imap_port), timeout=2) as sock:
                    if sock.recv(200).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"dovecot did not greet within {timeout} s: {self.log()}")

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text()[-3000:] if path.exists() else ""

    def stop(self) -> None:
        stop_process(self._process)

    def account(self) -> Account:
        try:
            return next(self._unused)
        except StopIteration:
            raise RuntimeError("all Dovecot test users are used") from None

    def client(self, account: Account) -> contextlib.AbstractContextManager[IMAPClient]:
        """A plain-IMAP client logged in as ``account``, for seeding and inspecting."""
        return imap_client(self.imap_port, account)

    def maildir(self, account: Account, folder: str) -> Path:
        """The Maildir of ``folder`` ("INBOX" or a "/"-separated name), created with cur/new/tmp."""
        user_dir = self.root / "mail" / account.user
        path = user_dir / "Maildir" if folder == "INBOX" else user_dir / "Maildir" / folder
        if not (path / "tmp").is_dir():
            for sub in ("cur", "new", "tmp"):
                (path / sub).mkdir(parents=True, exist_ok=True)
            for directory in [user_dir, *user_dir.rglob("*")]:
                if directory.is_dir():
                    os.chown(directory, MAIL_UID, MAIL_UID)
        return path

    def deliver(
        self,
        account: Account,
        folder: str,
        raw: bytes,
        internaldate: datetime,
        *,
        seen: bool = True,
        n: int = 0,
    ) -> Path:
        """Write one message straight into the Maildir; its mtime becomes the INTERNALDATE."""
        path = self.maildir(account, folder)
        stamp = int(internaldate.timestamp())
        data = raw.replace(b"\r\n", b"\n")  # Maildir files use LF; S= is their size on disk
        name = f"{stamp}.M{n}P{os.getpid()}.thankyou-scan-test,S={len(data)}:2,{'S' if seen else ''}"
        target = path / "cur" / name
        target.write_bytes(data)
        os.utime(target, (stamp, stamp))
        os.chown(target, MAIL_UID, MAIL_UID)
        return target
