"""The last SEARCH, kept in the cache, and UIDs written as [first, last] runs.

A rescan whose folder shows the same UIDNEXT and EXISTS as last time, for the same
window, uses the SEARCH answer kept here instead of asking again. What is read back
is checked before use: a record naming more UIDs than a folder could hold is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard

__all__ = ["MAX_FOUND", "SearchRecord", "expand_runs", "uid_runs"]


@dataclass(frozen=True, slots=True)
class SearchRecord:
    """The last scan's SEARCH: its window, the folder's UIDNEXT and EXISTS then, and the UIDs found.

    When a folder still has the same UIDNEXT (nothing added) and EXISTS (nothing
    expunged), and the window is the same, the same SEARCH would find the same UIDs.
    """

    window: str
    uidnext: int | None
    exists: int | None
    found: frozenset[int] = frozenset()
    fetch: frozenset[int] | None = None
    """The UIDs the server's narrowed SEARCH found (a subset of ``found``); None: all of them."""

    def unchanged_since(self, earlier: SearchRecord) -> bool:
        """Whether the folder is as ``earlier`` saw it: same UIDNEXT and EXISTS, same window."""
        return (
            self.uidnext is not None
            and self.exists is not None
            and (self.window, self.uidnext, self.exists) == (earlier.window, earlier.uidnext, earlier.exists)
        )

    def as_json(self) -> dict[str, object]:
        """The record as JSON-able data for the cache."""
        return {
            "window": self.window,
            "uidnext": self.uidnext,
            "exists": self.exists,
            "found": uid_runs(list(self.found)),
            "fetch": None if self.fetch is None else uid_runs(list(self.fetch)),
        }

    @classmethod
    def from_json(cls, data: object) -> SearchRecord | None:
        """The record in a trailer; None when absent or not understood (the scan then searches)."""
        if not isinstance(data, dict):
            return None
        window, uidnext, exists, found, fetch = (
            data.get(k) for k in ("window", "uidnext", "exists", "found", "fetch")
        )
        if not (
            isinstance(window, str)
            and isinstance(uidnext, int)
            and isinstance(exists, int)
            and _runs(found)
            and (fetch is None or _runs(fetch))
            and 0 <= exists <= MAX_FOUND
            and sum(last - first + 1 for first, last in found) <= exists
            and (fetch is None or sum(last - first + 1 for first, last in fetch) <= exists)
        ):
            return None
        assert _runs(found) and (fetch is None or _runs(fetch))  # checked above; mypy narrows here
        found_uids = expand_runs(found)
        fetch_uids = None if fetch is None else expand_runs(fetch)
        if fetch_uids is not None and not fetch_uids <= found_uids:
            return None
        return cls(window, uidnext, exists, found_uids, fetch_uids)


def _runs(data: object) -> TypeGuard[list[list[int]]]:
    return isinstance(data, list) and all(
        isinstance(run, list)
        and len(run) == 2
        and all(isinstance(n, int) for n in run)
        and 0 < run[0] <= run[1] < 2**32
        for run in data
    )


MAX_FOUND = 2_000_000
"""A SEARCH record naming more UIDs than this is not used (the scan searches): a Sent folder is far smaller."""


def uid_runs(uids: list[int]) -> list[list[int]]:
    """Sorted UIDs as [first, last] runs: a Sent folder's UIDs are mostly consecutive."""
    runs: list[list[int]] = []
    for uid in sorted(uids):
        if runs and uid == runs[-1][1] + 1:
            runs[-1][1] = uid
        else:
            runs.append([uid, uid])
    return runs


def expand_runs(runs: list[list[int]]) -> frozenset[int]:
    """The UIDs of [first, last] runs (the inverse of uid_runs)."""
    return frozenset(uid for first, last in runs for uid in range(int(first), int(last) + 1))
