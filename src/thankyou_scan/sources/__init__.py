"""Where sent mail comes from: the Source protocol and its implementations."""

from .base import Source, StaticSource
from .mailbox import MaildirSource, MboxSource

__all__ = ["MaildirSource", "MboxSource", "Source", "StaticSource"]
