"""Inserting the rows a crawl writes per record, on the driver's cursor.

A Core ``connection.execute(insert(table), row)`` costs ~50 µs on SQLite before the database
does anything (cache key, parameter processing, result wrapping), against ~20 µs for the
whole statement on the driver's own cursor; storing a new record runs five or six of them
(bench/RESULTS.md, crawl). ``FastInsert`` pays for the SQL and the columns' bind processors
once per dialect and then runs each statement on the cursor of the session's own connection,
in its transaction. Values still go through each column type's bind processor, so what is
stored is exactly what Core would store (tests/test_fastinsert.py compares the two), and a
driver error is raised as SQLAlchemy's exception for it, as Core would raise it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError


@dataclass(frozen=True)
class _Plan:
    sql: str
    #: The same without RETURNING, for ``many``.
    sql_many: str
    #: (column key, bind processor or None), in the order the statement binds them.
    columns: tuple[tuple[str, Callable[[Any], Any] | None], ...]
    positional: bool
    #: Columns the caller leaves out whose Python default (``default=``) must be filled in.
    defaults: tuple[tuple[str, Callable[[], Any]], ...]
    returning: bool
    error: type[Exception]


class FastInsert:
    """An INSERT of ``columns`` into ``table`` (the other columns get their Python default, or
    the database's); ``returning_id``: ``one`` returns the new row's primary key."""

    def __init__(self, table: Table, columns: Sequence[str], *, returning_id: bool = False):
        unknown = [name for name in columns if name not in table.c]
        if unknown:
            raise ValueError(f"{table.name} has no column {', '.join(unknown)}")
        self.table = table
        self.columns = tuple(columns)
        self.returning_id = returning_id
        #: By (dialect, driver): two drivers of one database may bind parameters differently.
        self._plans: dict[tuple[str, str], _Plan] = {}

    def one(self, connection: Connection, row: Mapping[str, Any]) -> int | None:
        """Insert one row; its primary key if ``returning_id``."""
        plan = self._plan(connection.dialect)
        params = self._params(plan, row)
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(plan.sql, params)
            if not self.returning_id:
                return None
            if plan.returning:
                found = cursor.fetchone()
                return int(found[0])
            return int(cursor.lastrowid)
        except plan.error as exc:
            raise DBAPIError.instance(plan.sql, params, exc, plan.error) from exc
        finally:
            cursor.close()

    def many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert several rows in one driver call (no keys returned)."""
        if not rows:
            return
        plan = self._plan(connection.dialect)
        params = [self._params(plan, row) for row in rows]
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(plan.sql_many, params)
        except plan.error as exc:
            raise DBAPIError.instance(plan.sql_many, params, exc, plan.error) from exc
        finally:
            cursor.close()

    @staticmethod
    def _params(plan: _Plan, row: Mapping[str, Any]) -> Any:
        if plan.defaults:
            row = {**{name: make() for name, make in plan.defaults if name not in row}, **row}
        # Processors see None too, as in Core (a JSON column stores None as JSON null).
        values = [process(row[name]) if process is not None else row[name]
                  for name, process in plan.columns]
        if plan.positional:
            return values
        return {name: value for (name, _), value in zip(plan.columns, values)}

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get((dialect.name, dialect.driver))
        if plan is None:
            plan = self._plans[(dialect.name, dialect.driver)] = self._make_plan(dialect)
        return plan

    def _make_plan(self, dialect: Dialect) -> _Plan:
        table = self.table
        defaults = []
        for column in table.c:
            if column.key in self.columns or column.default is None or column.primary_key:
                continue
            default = column.default
            if getattr(default, "is_scalar", False):
                value = default.arg  # type: ignore[attr-defined]
                defaults.append((column.key, lambda value=value: value))
            elif getattr(default, "is_callable", False):
                make = default.arg  # type: ignore[attr-defined]
                defaults.append((column.key, lambda make=make: make(None)))
            else:
                raise ValueError(f"{table.name}.{column.key}: a default FastInsert cannot fill in")
        keys = list(self.columns) + [name for name, _ in defaults]
        statement = insert(table).values({name: bindparam(name) for name in keys})
        compiled = statement.compile(dialect=dialect)
        sql_many = sql = compiled.string
        # SQLite hands the new key over as the cursor's lastrowid; PostgreSQL returns it.
        returning = self.returning_id and dialect.name != "sqlite"
        if returning:
            sql = statement.returning(*table.primary_key.columns).compile(dialect=dialect).string
        positional = bool(dialect.positional)
        order = list(compiled.positiontup or []) if positional else keys
        if sorted(order) != sorted(keys):
            raise ValueError(f"{table.name}: unexpected parameters {order} for {keys}")
        processors = {name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                      for name in keys}
        return _Plan(sql=sql, sql_many=sql_many,
                     columns=tuple((name, processors[name]) for name in order),
                     positional=positional, defaults=tuple(defaults), returning=returning,
                     error=dialect.loaded_dbapi.Error)
