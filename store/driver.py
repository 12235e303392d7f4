"""The write path's statements sent straight to the driver's cursor, each compiled once.

An append runs a dozen statements in the writer thread. Through SQLAlchemy's Core execution each
costs ~15 µs on this machine beyond the driver's own ~4 µs (an execution context, parameter and
result bookkeeping), and a batch's executemany more; measured against its own statements replayed
on the bare driver (bench.append's `replayed_*`), the store spent most of an append in Python.

A statement marked `constant` (store.read_path: module constants) is compiled once per dialect
and column set. Its parameters go through the bind processors SQLAlchemy would apply (UUIDs,
JSON), expanding IN lists are expanded as SQLAlchemy expands them, rows come back through the
same result processors as light named tuples, and driver errors are raised as SQLAlchemy's
(`DBAPIError.instance`), a lost connection invalidated, so callers see what they saw before.
Everything else still goes through SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import NoResultFound
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from store.database import on_cursor
from store.read_path import _decoder, _row_maker

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Plan:
    """A statement compiled for one dialect (and, for an INSERT, one set of columns)."""

    compiled: SQLCompiler
    positional: bool
    row: Callable[[Any], Any] | None  # makes a result row; None when it returns none


_PLANS: dict[tuple[int, str, tuple[str, ...]], _Plan] = {}


def _plan(statement: ClauseElement, dialect: Dialect, columns: tuple[str, ...]) -> _Plan:
    key = (id(statement), dialect.name, columns)
    plan = _PLANS.get(key)
    if plan is None:
        options: dict[str, Any] = {"column_keys": list(columns)} if columns else {}
        compiled = statement.compile(dialect=dialect, **options)
        assert isinstance(compiled, SQLCompiler)
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "postfetch", None):
            raise ValueError("a statement on the driver path may not rely on column defaults")
        entries = compiled._result_columns  # SQLAlchemy's own map of the result's columns
        decoders = [_decoder(e.type.dialect_impl(dialect), dialect) for e in entries]
        row = _row_maker([e.keyname for e in entries], decoders) if entries else None
        plan = _PLANS[key] = _Plan(compiled, dialect.paramstyle == "qmark", row)
    return plan


class DriverResult:
    """The parts of SQLAlchemy's Result the write path uses, over fetched rows."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def all(self) -> list[Any]:
        return list(self._rows)

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        if len(self._rows) != 1:
            raise NoResultFound(f"expected one row, found {len(self._rows)}")
        return self._rows[0][0]


def execute(
    conn: Connection,
    statement: ClauseElement,
    parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
) -> DriverResult:
    """Run a `constant` statement on the connection's driver connection (inside whatever
    transaction the Connection has begun); one parameter set, or many (executemany)."""
    dialect = conn.dialect
    many = isinstance(parameters, Sequence) and not isinstance(parameters, Mapping)
    if many:
        rows: list[Mapping[str, Any]] = list(parameters)  # type: ignore[arg-type]
        if not rows:
            return DriverResult([], 0)
        columns = tuple(rows[0]) if _is_insert(statement) else ()
        plan = _plan(statement, dialect, columns)
        sql, arguments = _many(plan, rows)
    else:
        given: Mapping[str, Any] = parameters or {}  # type: ignore[assignment]
        columns = tuple(given) if _is_insert(statement) else ()
        plan = _plan(statement, dialect, columns)
        sql, argument = _one(plan, given)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    fetched, rowcount = on_cursor(
        conn, cursor, sql, arguments if many else argument, many=many, fetch=plan.row is not None
    )
    if plan.row is None:
        return DriverResult([], rowcount)
    return DriverResult(list(map(plan.row, fetched)), rowcount)


def _is_insert(statement: ClauseElement) -> bool:
    return bool(getattr(statement, "is_insert", False))


class _Slot:
    """Stands for one given parameter value (or one element of an expanded list) while a
    statement's expansion is worked out once."""

    __slots__ = ("index", "inner", "name")

    def __init__(self, name: str, index: int | None = None, inner: int | None = None) -> None:
        self.name, self.index, self.inner = name, index, inner


# Where each driver parameter comes from: a given parameter (with the index into an expanded
# list, and into a tuple of it) or a value the statement holds itself; and its bind processor.
_Step = tuple[str | None, int | None, int | None, Any, Processor | None]


@dataclass(frozen=True, slots=True)
class _Recipe:
    sql: str
    names: tuple[str, ...] | None  # the driver's parameter names (None: positional)
    steps: tuple[_Step, ...]


_RECIPES: dict[tuple[int, tuple[Any, ...]], _Recipe] = {}


def _shape(value: Any) -> Any:
    if isinstance(value, list | tuple) and not isinstance(value, str):
        return tuple(len(v) if isinstance(v, tuple) else None for v in value)
    return None


def _recipe(plan: _Plan, parameters: Mapping[str, Any]) -> _Recipe:
    """How to turn parameters of this shape into the driver's (cached: SQLAlchemy works the
    expansion of IN lists out again on every execution)."""
    expanding = plan.compiled.binds
    shape = tuple(
        (name, _shape(value) if getattr(expanding.get(name), "expanding", False) else None)
        for name, value in parameters.items()
    )
    key = (id(plan), shape)
    found = _RECIPES.get(key)
    if found is not None:
        return found
    slots: dict[str, Any] = {}
    for name, kind in shape:
        if kind is None:
            slots[name] = _Slot(name)
        else:
            slots[name] = [
                _Slot(name, i) if inner is None else tuple(_Slot(name, i, j) for j in range(inner))
                for i, inner in enumerate(kind)
            ]
    state = plan.compiled.construct_expanded_state(slots)
    # The statement's bind processors (UUIDs, JSON), and those of the binds an IN expanded to.
    compiled_processors: Mapping[str, Processor] = plan.compiled._bind_processors  # type: ignore[assignment]
    processors = {**compiled_processors, **state.processors}
    if plan.positional:
        pairs = list(zip(state.positiontup or [], state.positional_parameters, strict=True))
        names = None
    else:
        pairs = list(state.parameters.items())
        names = tuple(n for n, _ in pairs)
    steps = tuple(
        (v.name, v.index, v.inner, None, processors.get(n))
        if isinstance(v, _Slot)
        else (None, None, None, v, processors.get(n))
        for n, v in pairs
    )
    recipe = _RECIPES[key] = _Recipe(state.statement, names, steps)
    return recipe


def _values(recipe: _Recipe, parameters: Mapping[str, Any]) -> Any:
    values = []
    for name, index, inner, constant, process in recipe.steps:
        if name is None:
            value = constant
        else:
            value = parameters[name]
            if index is not None:
                value = value[index] if inner is None else value[index][inner]
        values.append(value if process is None else process(value))
    return tuple(values) if recipe.names is None else dict(zip(recipe.names, values, strict=True))


def _one(plan: _Plan, parameters: Mapping[str, Any]) -> tuple[str, Any]:
    recipe = _recipe(plan, parameters)
    return recipe.sql, _values(recipe, parameters)


def _many(plan: _Plan, rows: list[Mapping[str, Any]]) -> tuple[str, list[Any]]:
    recipe = _recipe(plan, rows[0])
    return recipe.sql, [_values(recipe, row) for row in rows]
