"""A small scripted IMAP server on loopback, for answers no real server gives.

It speaks just enough IMAP for a scan (greeting, CAPABILITY, LOGIN or AUTHENTICATE,
LIST, EXAMINE, UID SEARCH, UID FETCH, LOGOUT) and lets a test replace the answer to
any command. Every loop is bounded: the server stops itself after ``lifetime``
seconds, and ``close()`` stops it at once.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable

HEADER = (
    b"Date: Mon, 2 Nov 2026 15:00:00 +0000\r\nFrom: me@example.com\r\nTo: ada@acme.example\r\n"
    b"Subject: Thank you\r\nMessage-ID: <t1@example.com>\r\n\r\n"
)
CALENDAR = (
    "timezone: UTC\nevents:\n"
    "  - {title: Onsite, kind: interview, start: 2026-11-02 10:00, people: [Ada <ada@acme.example>]}\n"
)
NOW = "2026-11-10T12:00:00Z"


class Peer:
    """One client connection, as the script sees it."""

    def __init__(self, sock: socket.socket, server: HostileImap) -> None:
        self.sock = sock
        self.server = server
        self._buffer = b""

    @property
    def stopped(self) -> bool:
        return self.server.stopped

    def send(self, data: bytes) -> bool:
        """Send ``data``; False once the client has gone or the server is stopping."""
        view = memoryview(data)
        while view:
            if self.stopped:
                return False
            try:
                view = view[self.sock.send(view) :]
            except TimeoutError:
                continue  # the client is slow to read: wait, up to the server's lifetime
            except OSError:
                return False
        return True

    def _fill(self) -> bool:
        while not self.stopped:
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return False
            if not chunk:
                return False
            self.server.received += chunk
            self._buffer += chunk
            return True
        return False

    def line(self) -> bytes | None:
        """The next line from the client (without CRLF), or None when it has gone."""
        while b"\r\n" not in self._buffer:
            if not self._fill():
                return None
        line, self._buffer = self._buffer.split(b"\r\n", 1)
        return line

    def read(self, size: int) -> bytes | None:
        while len(self._buffer) < size:
            if not self._fill():
                return None
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def drip(self, data: bytes, interval: float) -> None:
        """Send ``data`` one byte every ``interval`` seconds, then keep dripping spaces, until stopped."""
        position = 0
        while not self.stopped:
            byte = data[position : position + 1] or b" "
            position += 1
            if not self.send(byte):
                return
            time.sleep(interval)

    def flood(self, line: bytes, total: int) -> None:
        """Send ``line`` over and over, ``total`` bytes in all (or until the client goes)."""
        block = line * max(1, 65536 // len(line))
        sent = 0
        while sent < total and self.send(block):
            sent += len(block)


Answer = Callable[[Peer, bytes, bytes], None]
"""(peer, tag, whole command line) -> writes the answer."""


class HostileImap:
    """Serves each connection with the default answers, except those in ``answers`` (by command name)."""

    def __init__(
        self,
        answers: dict[str, Answer] | None = None,
        *,
        greeting: Callable[[Peer], bool] | None = None,
        capabilities: bytes = b"IMAP4rev1 AUTH=PLAIN",
        lifetime: float = 30.0,
    ) -> None:
        self.answers = answers or {}
        self.greeting = greeting
        self.capabilities = capabilities
        self.received = b""
        self.connections = 0
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = int(self._listener.getsockname()[1])
        self._deadline = time.monotonic() + lifetime
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set() or time.monotonic() > self._deadline

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._listener.close()

    def __enter__(self) -> HostileImap:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            sock.settimeout(0.2)
            thread = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        peer = Peer(sock, self)
        try:
            if self.greeting is not None:
                if not self.greeting(peer):
                    return
            elif not peer.send(b"* OK hostile test server ready\r\n"):
                return
            while (line := peer.line()) is not None:
                words = line.split(b" ")
                tag = words[0]
                name = words[1].upper().decode("ascii", "replace") if len(words) > 1 else ""
                if name == "UID" and len(words) > 2:
                    name = words[2].upper().decode("ascii", "replace")
                if line.endswith(b"}") and b"{" in line:  # a synchronizing literal: read it
                    size = int(line[line.rindex(b"{") + 1 : -1].rstrip(b"+"))
                    peer.send(b"+ go on\r\n")
                    literal = peer.read(size)
                    rest = peer.line()
                    if literal is None or rest is None:
                        return
                    line = line + b"\r\n" + literal + rest
                answer = self.answers.get(name, DEFAULT_ANSWERS.get(name, _bad))
                if name == "CAPABILITY":
                    peer.send(b"* CAPABILITY " + self.capabilities + b"\r\n" + tag + b" OK done\r\n")
                else:
                    answer(peer, tag, line)
                if name == "LOGOUT":
                    return
        finally:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def ok(text: bytes = b"done") -> Answer:
    def answer(peer: Peer, tag: bytes, line: bytes) -> None:
        peer.send(tag + b" OK " + text + b"\r\n")

    return answer


def untagged(*lines: bytes) -> Answer:
    """Answer with these untagged lines, then OK."""

    def answer(peer: Peer, tag: bytes, line: bytes) -> None:
        peer.send(b"".join(b"* " + item + b"\r\n" for item in lines) + tag + b" OK done\r\n")

    return answer


def _bad(peer: Peer, tag: bytes, line: bytes) -> None:
    peer.send(tag + b" BAD unknown command\r\n")


def _logout(peer: Peer, tag: bytes, line: bytes) -> None:
    peer.send(b"* BYE bye\r\n" + tag + b" OK done\r\n")


def _fetch(peer: Peer, tag: bytes, line: bytes) -> None:
    peer.send(
        b'* 1 FETCH (UID 1 INTERNALDATE "02-Nov-2026 15:00:00 +0000" '
        b"BODY[HEADER.FIELDS (DATE FROM TO CC BCC SUBJECT MESSAGE-ID IN-REPLY-TO REFERENCES)] {"
        + str(len(HEADER)).encode()
        + b"}\r\n"
        + HEADER
        + b")\r\n"
        + tag
        + b" OK done\r\n"
    )


EXAMINE_LINES = (b"1 EXISTS", b"0 RECENT", b"OK [UIDVALIDITY 7] ok", b"OK [UIDNEXT 2] ok", b"FLAGS (\\Seen)")

DEFAULT_ANSWERS: dict[str, Answer] = {
    "LOGIN": ok(b"LOGIN completed"),
    "AUTHENTICATE": ok(b"AUTHENTICATE completed"),
    "LIST": untagged(b'LIST (\\HasNoChildren \\Sent) "/" Sent', b'LIST (\\HasNoChildren) "/" INBOX'),
    "EXAMINE": untagged(*EXAMINE_LINES),
    "SEARCH": untagged(b"SEARCH 1"),
    "FETCH": _fetch,
    "NOOP": ok(),
    "LOGOUT": _logout,
}
