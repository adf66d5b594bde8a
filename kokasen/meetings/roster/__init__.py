"""Temporary alias of :mod:`kokasen.meetings.roster_file` (the roster file reader, issue 11).

``exports.py``, ``demo.py`` and ``tests/test_exports.py`` belong to other issue-11 branches and
still import these names from ``kokasen.meetings.roster``. Once those branches are merged, point
their imports at ``roster_file`` and delete this package. (It is a package, not a ``roster.py``,
so that git pairs the old ``roster.py`` with ``roster_file.py`` and carries their edits over.)
"""

from ..roster_file import CENTER_NO, CENTER_YES, ROSTER_HEADER, parse_roster

__all__ = ["CENTER_NO", "CENTER_YES", "ROSTER_HEADER", "parse_roster"]
