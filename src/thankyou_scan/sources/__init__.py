"""Where sent mail comes from: the Source protocol and its implementations."""

from .base import Source, StaticSource
from .imap import Folder, ImapSource
from .mailbox import MaildirSource, MboxSource

__all__ = ["Folder", "ImapSource", "MaildirSource", "MboxSource", "Source", "StaticSource"]
