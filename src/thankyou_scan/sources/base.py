"""The Source protocol (the one way mail enters) and the in-memory StaticSource."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Protocol, runtime_checkable

from ..message import SentMessage

__all__ = ["Source", "StaticSource"]


@runtime_checkable
class Source(Protocol):
    """Anything that yields sent messages.

    ``since`` and ``until`` are hints: a source may narrow its reading to messages
    dated in that window (with slack), and may also yield messages outside it;
    matching applies the exact rules. ``messages_skipped`` counts the messages
    that could not be parsed so far.
    """

    @property
    def kind(self) -> str:
        """A short word for the report: "imap", "mbox", "maildir", "static"."""
        ...

    @property
    def folder(self) -> str | None:
        """The folder or file read, for the report; None when there is none."""
        ...

    @property
    def messages_skipped(self) -> int:
        """How many messages were skipped because they could not be parsed."""
        ...

    def sent_messages(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[SentMessage]:
        """Yield the sent messages, in no particular order."""
        ...


class StaticSource:
    """Sent messages held in memory: for tests, docs and scripts that build their own."""

    kind = "static"

    def __init__(
        self, messages: Iterable[SentMessage], *, folder: str | None = None, skipped: int = 0
    ) -> None:
        self._messages = tuple(messages)
        self.folder = folder
        self.messages_skipped = skipped

    def __repr__(self) -> str:
        return f"StaticSource(<{len(self._messages)} messages>)"

    def sent_messages(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[SentMessage]:
        """Yield every message held (the window is only a hint)."""
        return iter(self._messages)
