"""The Source protocol (the one way mail enters) and the in-memory StaticSource."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Protocol, runtime_checkable

from ..message import HeaderFacts, SentMessage


class Relevant(Protocol):
    """A cheap test on what a message's raw headers show: False means it cannot matter, so it is not parsed.

    ``learn`` is told of every message the source did parse (or took parsed from a cache).
    """

    def __call__(self, facts: HeaderFacts) -> bool:
        """Whether a message with these facts can still change the report."""

    def learn(self, message: SentMessage) -> None:
        """Note a parsed message, so later ones it makes irrelevant can be turned away."""


class Targeted(Protocol):
    """A :class:`Relevant` that can also say whom a message must be to for it to matter.

    ``targets()`` gives the normalized recipient addresses and the domains (as
    :class:`HeaderFacts` has them) outside which it turns every message with a date
    away, or None when it cannot say. Sources use it to read less: the IMAP cache's
    index; it stays optional, and a ``Relevant`` without it is read in full.
    """

    def targets(self) -> tuple[frozenset[str], frozenset[str]] | None:
        """(addresses, domains) a message must be to in order to matter, or None when it cannot say."""


def narrowing_targets(relevant: object) -> tuple[frozenset[str], frozenset[str]] | None:
    """``relevant.targets()`` when it has it and it answers sensibly; None means: read everything."""
    found = _ask(relevant, "targets")
    if (
        isinstance(found, tuple)
        and len(found) == 2
        and all(isinstance(part, frozenset) and all(isinstance(item, str) for item in part) for part in found)
    ):
        return found[0], found[1]
    return None


def replay_key(relevant: object) -> tuple[str, datetime] | None:
    """``relevant.replay_key()`` when it has it and it answers sensibly: (digest of its rules, ``now``).

    A source that saw the same messages under a pre-check with the same digest may
    replay what it let through then, while no message it read is dated between the two
    ``now`` values (the IMAP cache's replay, sources/replay.py). None: read as usual.
    """
    found = _ask(relevant, "replay_key")
    if (
        isinstance(found, tuple)
        and len(found) == 2
        and isinstance(found[0], str)
        and isinstance(found[1], datetime)
        and found[1].utcoffset() is not None
    ):
        return found[0], found[1]
    return None


__all__ = ["Relevant", "Source", "StaticSource", "Targeted", "narrowing_targets", "replay_key"]


@runtime_checkable
class Source(Protocol):
    """Anything that yields sent messages.

    ``since`` is a hint: a source may narrow its reading to messages dated from
    then (with slack), and may also yield older ones; matching applies the exact
    rules, messages after ``now`` included (the pre-check ``relevant`` turns those away). ``relevant``, when given, lets a source skip
    parsing messages whose raw headers (:class:`HeaderFacts`) show they cannot matter. ``messages_scanned``
    counts the sent messages read, ``messages_skipped`` those that mattered but could
    not be parsed.
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
    def messages_scanned(self) -> int:
        """How many sent messages the last ``sent_messages`` call read."""
        ...

    @property
    def messages_skipped(self) -> int:
        """How many messages were skipped because they could not be parsed."""
        ...

    def sent_messages(
        self,
        since: datetime | None = None,
        *,
        relevant: Relevant | None = None,
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
        self.messages_scanned = 0

    def __repr__(self) -> str:
        return f"StaticSource(<{len(self._messages)} messages>)"

    def sent_messages(
        self,
        since: datetime | None = None,
        *,
        relevant: Relevant | None = None,
    ) -> Iterator[SentMessage]:
        """Yield every message held (the window and ``relevant`` are hints; these are parsed already)."""
        self.messages_scanned = len(self._messages)
        return iter(self._messages)


def _ask(relevant: object, name: str) -> object:
    """What ``relevant.name()`` answers, or None when the pre-check has no such (optional) method."""
    method = getattr(relevant, name, None)
    return method() if callable(method) else None
