"""Server-side narrowing: SEARCH criteria that find every message to the calendar's people (a superset).

Pure functions over the targets a :class:`~thankyou_scan.sources.base.Targeted` pre-check
gives (normalized addresses and domains). The server's match must never miss a message
the local reading would match, so the criteria are looser than the local comparison:

- the raw header text is searched (``HEADER TO``, RFC 3501's substring match), not
  the server's reading of the addresses (``TO``): Dovecot's ``TO`` misses an address
  with a lost ``>`` or a bare one after a name, and GreenMail's matches whole addresses
  only, where the local reading finds them (tests/helpers.py's HEADER_CASES);
- an address ``local@domain`` is searched as two substrings, ``local`` and ``domain``
  (``HEADER TO "ada" HEADER TO "acme.example"``), so a header that writes it with
  spaces, a fold or a comment around the ``@`` is still found;
- a Gmail address is compared without dots and ``+tags`` locally, so the server is
  asked for the domain alone (``gmail.com``, ``googlemail.com``);
- a domain (people known by their event's domain only) is searched as a substring.

Each target becomes ``OR (HEADER TO …) (OR (HEADER CC …) (HEADER BCC …))``; targets are joined in balanced
``OR`` trees (nesting grows with the logarithm), cut into commands of at most
:data:`COMMAND_BUDGET` bytes: Dovecot refuses command lines over 64 KB, and RFC 7162
asks clients to stay near 8 KB. A target that is not plain ASCII (an IDN, a quoted local
part) cannot be searched for safely in every server's syntax: then nothing is narrowed.
On Gmail (``X-GM-EXT-1``) the same targets go in ``X-GM-RAW`` queries instead.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import date

__all__ = ["COMMAND_BUDGET", "gmail_criteria", "imap_criteria", "narrowing_key", "search_day"]

COMMAND_BUDGET = 16_000
"""Bytes of criteria per SEARCH command (Dovecot's limit is 64 KB a line; GreenMail took 190 KB)."""
GMAIL_BUDGET = 1_500
"""Characters of one X-GM-RAW query (Gmail's web search stops near 2,000)."""
_GMAIL = ("gmail.com", "googlemail.com")
_LOCAL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_DOMAIN = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _tokens(addresses: Iterable[str], domains: Iterable[str]) -> list[tuple[str, ...]] | None:
    """Per target, the substrings a header holding it must contain; None when one cannot be searched for."""
    targets: set[tuple[str, ...]] = set()
    for address in addresses:
        local, at, domain = address.rpartition("@")
        if not at or _DOMAIN.fullmatch(domain) is None:
            return None
        if domain in _GMAIL:
            targets.update((gmail,) for gmail in _GMAIL)
        elif _LOCAL.fullmatch(local) is None:
            return None
        else:
            targets.add((local, domain))
    for domain in domains:
        if _DOMAIN.fullmatch(domain) is None:
            return None
        if domain in _GMAIL:
            targets.update((gmail,) for gmail in _GMAIL)
        else:
            targets.add((domain,))
    return sorted(targets)


def _field(field: str, target: tuple[str, ...]) -> str:
    return " ".join(f'{field} "{token}"' for token in target)


def _group(target: tuple[str, ...]) -> str:
    to, cc, bcc = (_field(f"HEADER {name}", target) for name in ("TO", "CC", "BCC"))
    return f"OR ({to}) (OR ({cc}) ({bcc}))"


def _balanced(groups: Sequence[str]) -> str:
    if len(groups) == 1:
        return groups[0]
    middle = len(groups) // 2
    return f"OR ({_balanced(groups[:middle])}) ({_balanced(groups[middle:])})"


def _chunks(parts: list[str], budget: int, overhead: int) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    size = 0
    for part in parts:
        cost = len(part) + overhead
        if chunks[-1] and size + cost > budget:
            chunks.append([])
            size = 0
        chunks[-1].append(part)
        size += cost
    return [chunk for chunk in chunks if chunk]


def imap_criteria(
    addresses: Iterable[str], domains: Iterable[str], budget: int = COMMAND_BUDGET
) -> list[str] | None:
    """The recipient criteria, one string per SEARCH command; None when they cannot be built safely."""
    targets = _tokens(addresses, domains)
    if targets is None:
        return None
    if not targets:
        return []
    # Each OR level adds "OR (" and ") (" and ")": 8 bytes a target is a safe bound.
    return [_balanced(chunk) for chunk in _chunks([_group(t) for t in targets], budget, 8)]


def gmail_criteria(
    addresses: Iterable[str], domains: Iterable[str], budget: int = GMAIL_BUDGET
) -> list[str] | None:
    """The same as ``X-GM-RAW`` search keys: ``X-GM-RAW "{to:a cc:a bcc:a …}"``, one per command."""
    targets = _tokens(addresses, domains)
    if targets is None:
        return None
    words = [
        " ".join(
            f"{field}:{'@'.join(target) if len(target) == 2 else target[0]}" for field in ("to", "cc", "bcc")
        )
        for target in targets
    ]
    return [f'X-GM-RAW "{{{" ".join(chunk)}}}"' for chunk in _chunks(words, budget, 1)]


def narrowing_key(addresses: Iterable[str], domains: Iterable[str]) -> str:
    """A short digest of the targets: the cached SEARCH stands only for the same ones."""
    text = "\n".join(sorted(addresses)) + "\n\n" + "\n".join(sorted(domains))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def search_day(day: date) -> str:
    """A date in SEARCH's form: ``1-Feb-2026``."""
    return f"{day.day}-{_MONTHS[day.month - 1]}-{day.year}"
