"""Querysets compiled once and run again with new parameter values, for the few lookups every API request makes;
and single-row INSERTs written once (``CompiledInsert``), for the rows every witnessed read adds.

Django builds a query object, resolves its filters and writes its SQL on every call: about 0.3 ms for a
one-row lookup by key on the site's machine, against 0.05 ms for running the same SQL and making the model
instance. ``CompiledQuery`` compiles a queryset once per connection (a web process keeps its request threads
and their connections) and afterwards only substitutes the parameters, runs the SQL through Django's cursor
(so query logging, debugging and the connection's life are Django's) and makes the instances with
``Model.from_db`` and the compiler's converters, as ``QuerySet`` iteration does.

The parameters are found by compiling the queryset once with *probe* values: distinct ints or strings the
caller supplies, one per argument. Each must appear exactly once among the compiled parameters; anything
else (a probe transformed on its way into SQL, a query the helper does not handle: related models,
annotations, values) is refused when first compiled, loudly, so a test catches it. Arguments must have the
type of their probe (and integers fit in 64 bits); others go through the ORM as usual.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, int], ...]  # (position in params, index of the argument)
    model: type[Model]
    field_names: tuple[str, ...]
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]


_UNSET: Any = object()


class _PerConnection:
    """What was compiled for each connection of this thread: Django's connections belong to their thread, and
    what is compiled holds its connection (converters, the compiler), so it goes with the thread."""

    def __init__(self) -> None:
        self._local = threading.local()

    def get(self, connection: BaseDatabaseWrapper, default: Any = None) -> Any:
        entry = getattr(self._local, "entry", None)
        return entry[1] if entry is not None and entry[0] is connection else default

    def put(self, connection: BaseDatabaseWrapper, compiled: Any) -> Any:
        self._local.entry = (connection, compiled)
        return compiled


def _fits(value: Any, probe: int | str) -> bool:
    """``value`` may take ``probe``'s place: the same type, and an int within 64 bits (the ORM answers "none"
    for an integer no column can hold, where the database would raise)."""
    return type(value) is type(probe) and (type(value) is not int or -(2**63) <= value < 2**63)


class CompiledQuery(Generic[M]):
    def __init__(self, build: Callable[..., QuerySet[M]], *, probes: Sequence[int | str]) -> None:
        if len(set(probes)) != len(probes):
            raise ValueError("probe values must be distinct")
        self._build = build
        self._probes = tuple(probes)
        self._compiled = _PerConnection()

    def all(self, *args: Any, using: str = "default") -> list[M]:
        if len(args) != len(self._probes) or not all(map(_fits, args, self._probes)):
            return list(self._build(*args).using(using))
        connection = connections[using]
        compiled: _Compiled | None = self._compiled.get(connection)
        if compiled is None:
            compiled = self._compile(connection, using)
            self._compiled.put(connection, compiled)
        params = list(compiled.params)
        for position, index in compiled.slots:
            params[position] = args[index]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        model, names = compiled.model, compiled.field_names
        if not compiled.converters:
            return [model.from_db(using, names, row) for row in rows]  # type: ignore[misc]
        instances = []
        for values in rows:
            row = list(values)
            for position, functions, expression in compiled.converters:
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
            instances.append(model.from_db(using, names, row))
        return instances  # type: ignore[return-value]

    def first(self, *args: Any, using: str = "default") -> M | None:
        found = self.all(*args, using=using)
        return found[0] if found else None

    def _compile(self, connection: BaseDatabaseWrapper, using: str) -> _Compiled:
        queryset = self._build(*self._probes)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        klass_info = compiler.klass_info
        if (queryset._iterable_class.__name__ != "ModelIterable" or not klass_info
                or klass_info.get("related_klass_infos") or compiler.annotation_col_map):
            raise ValueError(f"CompiledQuery handles plain model querysets only: {queryset.query}")
        slots = []
        for index, probe in enumerate(self._probes):
            positions = [i for i, p in enumerate(params) if type(p) is type(probe) and p == probe]
            if len(positions) != 1:
                raise ValueError(f"probe {probe!r} appears {len(positions)} times among the parameters {params!r}")
            slots.append((positions[0], index))
        select = compiler.select
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        if (start, end) != (0, len(select)):
            raise ValueError("CompiledQuery handles querysets selecting one model's columns only")
        converters = compiler.get_converters([column for column, _, _ in select])
        return _Compiled(
            sql=sql, params=tuple(params), slots=tuple(slots), model=klass_info["model"],
            field_names=tuple(column.target.attname for column, _, _ in select),
            converters=tuple((position, tuple(functions), expression)
                             for position, (functions, expression) in converters.items()),
        )


@dataclass(frozen=True)
class _CompiledInsert:
    sql: str
    fields: tuple[Any, ...]  # the model fields given values, in the order of the SQL's placeholders
    returning: tuple[Any, ...]  # the fields the database fills (the id), read back in this order
    compiler: Any  # SQLInsertCompiler of this connection: pre_save_val and prepare_value, as bulk_create's


class CompiledInsert(Generic[M]):
    """``Model.objects.bulk_create([obj])`` for one new row at a time, the INSERT written once per connection:
    each call prepares the values as Django does (``pre_save``, ``get_db_prep_save``) and reads the id back.
    No signals are sent (bulk_create sends none either). A row whose values hold expressions, or a model whose
    placeholders are not plain parameters, goes through bulk_create."""

    def __init__(self, model: type[M]) -> None:
        self._model = model
        self._compiled = _PerConnection()

    def insert(self, obj: M, *, using: str = "default") -> M:
        connection = connections[using]
        compiled: _CompiledInsert | None = self._compiled.get(connection, _UNSET)
        if compiled is _UNSET:
            compiled = self._compiled.put(connection, self._compile(obj, connection, using))
        if compiled is None or obj.pk is not None:
            self._model._default_manager.using(using).bulk_create([obj])
            return obj
        values = [compiled.compiler.pre_save_val(field, obj) for field in compiled.fields]
        if any(hasattr(value, "resolve_expression") for value in values):
            self._model._default_manager.using(using).bulk_create([obj])
            return obj
        params = [field.get_db_prep_save(value, connection=connection)
                  for field, value in zip(compiled.fields, values, strict=True)]
        # In a transaction of its own outside one, as bulk_create's: SQLite's writers then queue in turn
        # (vifsite/db/sqlite3) instead of meeting the busy handler.
        with transaction.atomic(using=using, savepoint=False), connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            returned = cursor.fetchone() if compiled.returning else ()  # INSERT ... RETURNING the id
        for field, value in zip(compiled.returning, returned, strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = using
        return obj

    def _compile(self, obj: M, connection: BaseDatabaseWrapper, using: str) -> _CompiledInsert | None:
        from django.db.models import AutoField
        from django.db.models.sql import InsertQuery

        opts = self._model._meta
        fields = [f for f in opts.concrete_fields if not f.generated and not isinstance(f, AutoField)]
        returning = list(opts.db_returning_fields)
        if not connection.features.can_return_columns_from_insert or any(
                not isinstance(f, AutoField) for f in returning):
            return None  # reading the id another way (or other returned columns): bulk_create's business
        query = InsertQuery(self._model)
        query.insert_values(fields, [obj])
        compiler = query.get_compiler(using=using)
        compiler.returning_fields = returning
        statements = compiler.as_sql()
        if len(statements) != 1 or compiler.returning_params:
            return None
        query.objs = []  # the probe row is not kept
        sql = statements[0][0]
        placeholders = ", ".join(["%s"] * len(fields))
        if f"VALUES ({placeholders})" not in sql:  # a field with its own placeholder SQL
            return None
        return _CompiledInsert(sql=sql, fields=tuple(fields), returning=tuple(returning), compiler=compiler)
