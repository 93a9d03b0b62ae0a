"""Which IMAP folder holds the sent mail: Folder (as LIST shows it) and choose_sent_folder.

The ``\\Sent`` flag (RFC 6154) first, then Gmail's Sent folder in the account's
language, then the common names. Folders that hold mail the user did not send
(All Mail, Drafts, Spam, Trash) are never chosen, and refused when asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Folder", "choose_folder", "choose_sent_folder"]

# Gmail's Sent folder in the account's language: `[Gmail]/<leaf>` or `[Google Mail]/<leaf>`.
GMAIL_PARENTS = ("[gmail]", "[google mail]")
GMAIL_SENT_LEAVES = (
    "sent mail",  # English
    "gesendet",  # German
    "messages envoyés",  # French
    "enviados",  # Spanish, Portuguese
    "posta inviata",  # Italian
    "e-mails enviados",  # Portuguese (Brazil)
    "correio enviado",  # Portuguese (Portugal)
    "verzonden berichten",  # Dutch
    "wysłane",  # Polish
    "skickat",  # Swedish
    "sendt post",  # Danish
    "sendt e-post",  # Norwegian
    "lähetetyt viestit",  # Finnish
    "odeslaná pošta",  # Czech
    "отправленные",  # Russian
    "gönderilmiş postalar",  # Turkish
    "送信済みメール",  # Japanese
)
GENERIC_SENT = ("sent", "sent items", "sent messages", "sent mail")
# Folders that hold mail the user did not send: never scanned as Sent, even when asked.
NOT_SENT_FLAGS = {"\\all": "All Mail", "\\drafts": "Drafts", "\\junk": "Spam", "\\trash": "Trash"}
NOT_SENT_LEAVES = {
    "all mail": "All Mail",
    "alle nachrichten": "All Mail",
    "drafts": "Drafts",
    "entwürfe": "Drafts",
    "spam": "Spam",
    "junk": "Spam",
    "trash": "Trash",
    "bin": "Trash",
    "papierkorb": "Trash",
}


@dataclass(frozen=True, slots=True)
class Folder:
    """A folder as LIST shows it: its name, flags (lower-cased) and hierarchy delimiter."""

    name: str
    flags: tuple[str, ...] = ()
    delimiter: str | None = "/"

    @property
    def path(self) -> tuple[str, ...]:
        """The name split at the delimiter (and at "/", which Gmail-shaped names use everywhere)."""
        parts = [self.name]
        for separator in {self.delimiter or "", "/"} - {""}:
            parts = [piece for part in parts for piece in part.split(separator)]
        return tuple(parts)

    @property
    def not_sent_reason(self) -> str | None:
        """Why this folder must never be read as sent mail (All Mail, Drafts...), or None."""
        for flag in self.flags:
            if flag in NOT_SENT_FLAGS:
                return NOT_SENT_FLAGS[flag]
        return NOT_SENT_LEAVES.get(self.path[-1].casefold())

    @property
    def selectable(self) -> bool:
        """Whether the folder can be opened (not ``\\Noselect`` nor ``\\NonExistent``)."""
        return "\\noselect" not in self.flags and "\\nonexistent" not in self.flags


def choose_sent_folder(folders: Sequence[Folder]) -> Folder | None:
    """The Sent folder: flagged ``\\Sent`` first, then Gmail's names, then the common ones."""
    candidates = [folder for folder in folders if folder.not_sent_reason is None]
    return choose_folder(candidates, "\\sent", GMAIL_SENT_LEAVES, GENERIC_SENT)


def choose_folder(
    folders: Sequence[Folder], flag: str, gmail_leaves: Iterable[str], names: Sequence[str]
) -> Folder | None:
    """The first selectable folder flagged ``flag`` (RFC 6154), else ``[Gmail]/LEAF`` for a leaf
    of ``gmail_leaves`` (any of Gmail's parents), else one of ``names`` at the top or under
    INBOX, in the order given (all compared case-insensitively).
    """
    candidates = [folder for folder in folders if folder.selectable]
    for folder in candidates:
        if flag in folder.flags:
            return folder
    leaves = set(gmail_leaves)
    for folder in candidates:
        path = [part.casefold() for part in folder.path]
        if len(path) == 2 and path[0] in GMAIL_PARENTS and path[1] in leaves:
            return folder
    for wanted in names:
        for folder in candidates:
            path = [part.casefold() for part in folder.path]
            if path == [wanted] or path == ["inbox", wanted]:
                return folder
    return None
