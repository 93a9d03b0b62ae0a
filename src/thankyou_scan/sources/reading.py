"""The one path from a raw header block to a SentMessage, shared by every source that reads mail.

A source yields raw header blocks, each with its fallback time (the mbox ``From ``
line, a Maildir file's mtime, IMAP's INTERNALDATE) and a key for the log; a
:class:`Reader` turns each into facts, asks ``relevant`` whether it can matter,
parses it, counts the ones that cannot be parsed and tells ``relevant`` what it
learnt. A source that keeps what it learnt (the IMAP cache) hands it back in, and
nothing is parsed twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..errors import MessageError
from ..message import HeaderFacts, SentMessage
from .base import Relevant

__all__ = ["Reader", "Reading"]

log = logging.getLogger("thankyou_scan")


@dataclass(frozen=True, slots=True)
class Reading:
    """What reading one header block gave: the message, or why it could not be parsed.

    Both are None when ``relevant`` said it cannot matter.
    """

    message: SentMessage | None = None
    skipped: str | None = None


class Reader:
    """Reads the header blocks of one scan of one source, and counts the messages skipped.

    ``where`` names a message for the log from its key ("message 3 in Sent.mbox").
    """

    def __init__(self, relevant: Relevant | None, where: Callable[[str], str]) -> None:
        self.relevant = relevant
        self.skipped = 0
        self._where = where

    def skip(self, key: str, reason: str, *, again: bool = False) -> None:
        """Count a message that could not be read, and say why in the log."""
        self.skipped += 1
        log.warning("skipped %s: %s%s", self._where(key), reason, " (as on the last scan)" if again else "")

    def read(
        self,
        key: str,
        header: bytes,
        fallback_date: datetime | None,
        *,
        facts: HeaderFacts | None = None,
        parsed: Callable[[], SentMessage] | None = None,
        skipped: str | None = None,
        unreadable: str | None = None,
    ) -> Reading:
        """Facts → ``relevant`` → parse (or what an earlier scan learnt) → ``learn``.

        Args:
            key: names the message in warnings (an mbox offset, a Maildir file, an IMAP UID).
            header: the raw header block.
            fallback_date: the source's own time, used when the Date header is missing or bad.
            facts: the facts an earlier scan learnt from this header block.
            parsed: gives the message an earlier scan parsed from it.
            skipped: why an earlier scan could not parse it (it is skipped again).
            unreadable: why there is no header block to read: skipped, whatever it shows.
        """
        if unreadable is None and self.relevant is not None:
            if facts is None:
                facts = HeaderFacts.from_headers(header, fallback_date=fallback_date)
            if not self.relevant(facts):
                return Reading()
        if skipped is not None or unreadable is not None:
            reason = skipped or unreadable or ""
            self.skip(key, reason, again=skipped is not None)
            return Reading(skipped=reason)
        if parsed is not None:
            message = parsed()
        else:
            try:
                message = SentMessage.from_headers(header, fallback_date=fallback_date, uid=key)
            except MessageError as exc:
                self.skip(key, str(exc))
                return Reading(skipped=str(exc))
        if self.relevant is not None:
            self.relevant.learn(message)
        return Reading(message)
