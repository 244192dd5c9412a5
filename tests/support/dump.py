"""A row as a copy of the database gives it: every column, read with plain SQL, for the tests
that show what a dump alone can and cannot do (secrets at rest)."""

from django.db import connection
from django.db.models import Model


def dumped_row(model: type[Model], pk: int) -> dict[str, object]:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])  # noqa: S608
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))
