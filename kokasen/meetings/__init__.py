"""Exchange meetings (issue 5). For now only the pure grouping engine, :mod:`kokasen.meetings.grouping`."""
