"""Calendar invitations as a source of events: from mail (IMAP, mbox, Maildir) and .ics files.

Beside the calendar loader, not inside the Sent-mail scanner: invitations become
calendar-format YAML (docs/invitations.md) that the user keeps and ``load_calendar`` reads.

- ``rules.py``   who is owed a note (people rules, the robot list) and the kind from the title;
- ``ics.py``     iCalendar text → ``InvitationSet`` → ``ImportedEvent`` (the only user of
  icalendar and recurring-ical-events);
- ``mail.py``    calendar parts of raw messages, mbox files and Maildirs;
- ``imap.py``    ``ImapInvitations``: BODYSTRUCTURE, then BODY.PEEK of the calendar parts only;
- ``output.py``  events → calendar YAML; appending to a calendar file without rewriting it;
- ``load.py``    ``read_ics_file`` and ``load_ics_calendar`` (an .ics file as a Calendar).

Nothing is imported here: ``icalendar`` loads only when invitations are read. Only
``is_ics_path`` lives here, so a scan of a YAML calendar asks it without loading the rest.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ICS_SUFFIXES", "is_ics_path"]

ICS_SUFFIXES = (".ics", ".ical", ".icalendar", ".vcs")


def is_ics_path(path: str | Path) -> bool:
    """Whether ``path`` names an iCalendar file (``.ics``, ``.ical``, ``.icalendar``, ``.vcs``)."""
    return str(path).lower().endswith(ICS_SUFFIXES)
