"""The IMAP connection on the wire: imaplib's socket reads and writes, each on a time and size budget.

A step (connecting, logging in, one command) has ``timeout`` seconds from start to
last byte and MAX_ANSWER_BYTES of answer: a server that drips, stalls or floods is
cut off. The connection goes to the addresses resolved beforehand, never to the name.
"""

from __future__ import annotations

import imaplib
import io
import re
import socket
import ssl
import time
from collections.abc import Sequence
from typing import Any, cast

from imapclient import IMAPClient

from ..errors import _Overrun
from ..network import AddressInfo

__all__ = ["LINE_COST", "MAX_ANSWER_BYTES", "MAX_LINE", "_Budget", "_Client", "_Overrun"]

MAX_ANSWER_BYTES = 128 * 2**20
"""The most one step may read (a line costs LINE_COST more): bounds the memory a server can fill."""
LINE_COST = 100
MAX_LINE = 16 * 2**20


class _Budget:
    """The time and the bytes the current step (connecting, login, one command) may still use."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.what = "connecting"
        self._deadline = time.monotonic() + seconds
        self.left = MAX_ANSWER_BYTES

    def start(self, what: str) -> None:
        self.what = what
        self._deadline = time.monotonic() + self.seconds
        self.left = MAX_ANSWER_BYTES

    def wait(self) -> float:
        """How long the next read or write may block; TimeoutError when the step is out of time."""
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"{self.what} took more than {self.seconds:g} s")
        return remaining

    def charge(self, size: int) -> None:
        self.left -= size
        if self.left < 0:
            raise _Overrun(f"more than {MAX_ANSWER_BYTES // 2**20} MB in answer to {self.what}")


def _open_socket(addresses: Sequence[AddressInfo], budget: _Budget) -> socket.socket:
    """A TCP connection to the first of ``addresses`` that answers, within the step's time."""
    failure: OSError | None = None
    for family, kind, proto, _name, address in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(budget.wait())
            sock.connect(address)
        except OSError as exc:
            sock.close()
            failure = exc
            if isinstance(exc, TimeoutError):
                break
            continue
        return sock
    raise failure or OSError("no address to connect to")


_GREETING_CAPABILITIES = re.compile(rb"\* OK \[CAPABILITY ([^\]\r\n]*)\]", re.IGNORECASE)


class _Connection(imaplib.IMAP4):
    """imaplib's IMAP4 on the addresses resolved beforehand, with every read and write on the budget.

    ``read``, ``readline`` and ``send`` are imaplib's documented points to override.
    A read takes what one ``recv`` gives (``peek``/``read1``), so the deadline is
    checked between any two packets, however slowly they come.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        addresses: Sequence[AddressInfo],
        budget: _Budget,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self._addresses = addresses
        self._budget = budget
        self._tls = ssl_context
        self._greeted = False
        super().__init__(host, port)

    def _get_capabilities(self) -> None:
        # The greeting may carry the capabilities (RFC 3501 7.1, Dovecot's does): the first
        # time, that saves imaplib's CAPABILITY round trip. Never after STARTTLS, which
        # calls this again: capabilities seen before TLS must not be trusted after it.
        greeting = _GREETING_CAPABILITIES.match(self.welcome or b"")
        if self._greeted or greeting is None:
            self._greeted = True
            super()._get_capabilities()  # type: ignore[misc]  # private in imaplib's stubs
            return
        self._greeted = True
        self.capabilities = tuple(greeting[1].decode("ascii", "replace").upper().split())

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        sock = _open_socket(self._addresses, self._budget)
        if self._tls is None:
            return sock
        try:
            sock.settimeout(self._budget.wait())
            return self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise

    def _reader(self) -> io.BufferedReader:
        self.sock.settimeout(self._budget.wait())
        return cast("io.BufferedReader", self.file)

    def readline(self) -> bytes:
        line = bytearray()
        self._budget.charge(LINE_COST)
        while True:
            reader = self._reader()
            buffered = reader.peek(1)  # at most one recv
            if not buffered:
                break  # EOF: imaplib reports it
            end = buffered.find(b"\n")
            chunk = reader.read(len(buffered) if end < 0 else end + 1)  # from the buffer, no recv
            self._budget.charge(len(chunk))
            line += chunk
            if len(line) > MAX_LINE:
                raise _Overrun(f"a line longer than {MAX_LINE // 2**20} MB in answer to {self._budget.what}")
            if end >= 0:
                break
        return bytes(line)

    def read(self, size: int) -> bytes:
        if size > self._budget.left:
            raise _Overrun(f"a literal of {size:,} bytes in answer to {self._budget.what}")
        data = bytearray()
        while len(data) < size:
            chunk = self._reader().read1(min(size - len(data), 2**20))
            if not chunk:
                break
            self._budget.charge(len(chunk))
            data += chunk
        return bytes(data)

    def send(self, data: Any) -> None:
        self.sock.settimeout(self._budget.wait())
        self.sock.sendall(data)


class _Client(IMAPClient):  # type: ignore[misc]  # imapclient is untyped
    """IMAPClient over a :class:`_Connection` (imapclient connects in its constructor)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: ssl.SSLContext | None,
        addresses: Sequence[AddressInfo],
        budget: _Budget,
    ) -> None:
        self._guard = (addresses, budget)
        super().__init__(host, port=port, ssl=tls is not None, ssl_context=tls, timeout=budget.seconds)

    def _create_IMAP4(self) -> imaplib.IMAP4:  # imapclient calls it from its constructor
        addresses, budget = self._guard
        context = self.ssl_context if self.ssl else None
        return _Connection(self.host, self.port, addresses=addresses, budget=budget, ssl_context=context)
