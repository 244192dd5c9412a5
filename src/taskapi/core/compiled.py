"""A `values()` read compiled to SQL once per database connection and run again with new values.

Building a QuerySet and compiling it costs more CPU than PostgreSQL takes to answer a read by
primary key (bench/README.md, "Measured levers"). For a read that only ever changes a few
integers (an owner, an id), the SQL is the same each time: `CompiledRead` compiles it once with
stand-in values, remembers where they went among the parameters, and afterwards only executes the
statement with the real ones. Rows still go through the compiler's converters (SQLite's text
timestamps become aware datetimes, as `values()` gives them), and through the connection's
cursor, so query counting, metrics and timeouts see the statement as before.

What it cannot hold: a QuerySet whose SQL depends on the values themselves (`__in` with lists,
`None` becoming `IS NULL`), which is why only integers are accepted.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler

# Stand-ins no id or owner can have (ids are positive), one per parameter, far apart.
_STAND_IN_BASE = -(2**62)


@dataclass(frozen=True)
class _Statement:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, str], ...]  # (position among params, name of the value)
    compiler: SQLCompiler
    names: tuple[str, ...]


class CompiledRead:
    """`build(**values)` returns a `values()` QuerySet; `rows(**values)` runs its SQL."""

    def __init__(self, build: Callable[..., QuerySet[Any, dict[str, Any]]], *names: str) -> None:
        self._build = build
        self._names = names
        # One per connection wrapper: Django keeps one per thread, and the compiler it holds
        # converts values for that connection.
        self._statements: WeakKeyDictionary[BaseDatabaseWrapper, _Statement] = WeakKeyDictionary()
        self._lock = threading.Lock()

    def rows(self, **values: int) -> list[dict[str, Any]]:
        connection = connections[DEFAULT_DB_ALIAS]
        statement = self._statements.get(connection)
        if statement is None:
            statement = self._compile(connection)
            with self._lock:
                self._statements[connection] = statement
        params = list(statement.params)
        for position, name in statement.slots:
            value = values[name]
            if type(value) is not int:  # bool or anything else would change the SQL's meaning
                raise TypeError(f"{name} must be an int, not {type(value).__name__}")
            params[position] = value
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, params)
            fetched = cursor.fetchall()
        converted = statement.compiler.results_iter(results=[fetched])
        return [dict(zip(statement.names, row, strict=True)) for row in converted]

    def _compile(self, connection: BaseDatabaseWrapper) -> _Statement:
        stand_ins = {name: _STAND_IN_BASE + 1000 * i for i, name in enumerate(self._names)}
        queryset = self._build(**stand_ins)
        query = queryset.query
        compiler = query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        by_value = {value: name for name, value in stand_ins.items()}
        slots = tuple(
            (position, by_value[param])
            for position, param in enumerate(params)
            if type(param) is int and param in by_value
        )
        if {name for _, name in slots} != set(self._names):
            raise ValueError(f"every value must be a parameter of the SQL: {self._names}")
        # As ValuesIterable names a row's values.
        if query.selected:
            names = tuple(query.selected)
        else:
            names = (*query.extra_select, *query.values_select, *query.annotation_select)
        return _Statement(sql, tuple(params), slots, compiler, tuple(names))
