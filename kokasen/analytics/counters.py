"""One statement to count something as it happens: insert the row of its unique key with a
count of 1, or add 1 to the row that is there (``INSERT … ON CONFLICT … DO UPDATE``, the same
SQL on PostgreSQL and SQLite). Used by the middleware's members' page views (decision 0050) and
the zero-result searches (decision 0057)."""

from __future__ import annotations

from django.db import connection


def increment(model, counter: str = "count", **key) -> None:
    """Add one to ``model``'s ``counter`` in the row whose unique key is ``key`` (column: value),
    creating it with 1. One statement; the key's columns must be a unique constraint."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = [model._meta.get_field(name).column for name in key]
    column = quote(model._meta.get_field(counter).column)
    listed = ", ".join(quote(name) for name in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({listed}, {column}) VALUES ({', '.join(['%s'] * len(columns))}, 1) "
            f"ON CONFLICT ({listed}) DO UPDATE SET {column} = {table}.{column} + 1",
            list(key.values()),
        )
