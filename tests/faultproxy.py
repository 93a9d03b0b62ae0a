"""A loopback TCP proxy that breaks connections on purpose, to test reconnects, and counts traffic.

Each accepted connection gets the next rule from ``rules`` (the last one repeats):
the rule names an IMAP command and which occurrence of it, counted on that
connection, makes the proxy close both sides before the command reaches the server.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class CutOn:
    """When the client sends ``command`` for the ``nth`` time on a connection, do ``action``.

    "cut" closes both sides; "stall" holds the connection open and answers nothing;
    "drip" answers an endless untagged line, one byte every 0.2 s; "bad" and "no" answer
    the command with a tagged BAD or NO instead of the server.
    """

    command: bytes
    nth: int = 1
    action: str = "cut"


@dataclass(frozen=True)
class CloseOnConnect:
    """Close the connection before the server's greeting."""


class FaultProxy:
    def __init__(self, target_port: int, rules: list[CutOn | CloseOnConnect | None]) -> None:
        self.target_port = target_port
        self.rules = rules
        self.connections = 0
        self.commands: list[bytes] = []  # every command name that reached the server, in order
        self.bytes_from_server = 0
        self.bytes_to_server = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            rule = self.rules[min(self.connections, len(self.rules) - 1)]
            self.connections += 1
            if isinstance(rule, CloseOnConnect):
                client.close()
                continue
            server = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pump, args=(server, client, None, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(client, server, rule, True), daemon=True).start()

    def _misbehave(self, rule: CutOn, line: bytes, client: socket.socket) -> None:
        if rule.action == "cut":
            raise ConnectionAbortedError
        if rule.action == "stall":
            while not self._closed:  # keep the connection open, answer nothing
                time.sleep(0.05)
            raise ConnectionAbortedError
        if rule.action == "drip":
            client.sendall(b"* OK ")
            while not self._closed:  # every byte arrives well within a read timeout
                client.sendall(b".")
                time.sleep(0.2)
            raise ConnectionAbortedError
        tag = line.split()[0]
        client.sendall(tag + b" " + rule.action.upper().encode() + b" simulated failure\r\n")

    def _pump(self, source: socket.socket, sink: socket.socket, rule: CutOn | None, watch: bool) -> None:
        seen = 0
        buffered = b""
        try:
            while chunk := source.recv(65536):
                if watch:
                    buffered += chunk
                    *lines, buffered = buffered.split(b"\r\n")
                    for line in lines:
                        name = _command_name(line)
                        if rule is not None and name == rule.command:
                            seen += 1
                            if seen == rule.nth:
                                self._misbehave(rule, line, source)
                                chunk = b""
                                break
                        if name:
                            self.commands.append(name)
                if chunk:
                    sink.sendall(chunk)
                if watch:
                    self.bytes_to_server += len(chunk)
                else:
                    self.bytes_from_server += len(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


def _command_name(line: bytes) -> bytes:
    """``A001 UID FETCH 1:3 (...)`` -> ``FETCH``; b"" for literals and continuation data."""
    words = line.split(maxsplit=3)
    if len(words) < 2 or not words[0][:1].isalpha():
        return b""
    if words[1].upper() == b"UID" and len(words) > 2:
        return words[2].upper()
    return words[1].upper()
