"""The SQL connector: any database SQLAlchemy can reach (PostgreSQL, MariaDB/MySQL, SQLite...).

Every value travels as a bound parameter. Table and column names come from the declarations,
so they are checked against the reflected schema before use: an unknown name is refused, never
written into a statement.

The schema is read once per connector (on SQLite, once per schema: `_schema_of`), columns
and types only, for the tables it is asked about: keys and references come from the
declarations, so the database's own foreign keys are never followed (reflecting them costs
hundreds of catalogue queries on PostgreSQL). Statements are built once per shape and bind
each call's values. Inside a `batch` every call shares one connection and one transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    inspect,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.default import DefaultDialect
from sqlalchemy.engine.interfaces import ReflectedColumn
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.sql.expression import ColumnClause, Executable, TableClause
from sqlalchemy.sql.expression import column as column_clause
from sqlalchemy.sql.expression import table as table_clause
from sqlalchemy.types import TypeEngine

from privacyops.connectors.port import CollectionSpec, ConnectorError, Row

DEFAULT_CHUNK_SIZE = 500
STATEMENT_CACHE_SIZE = 256
CONNECT_TIMEOUT_SECONDS = 10


@dataclass
class _Batch:
    """What one `batch` holds: its connection (taken at its first call), the tables it will
    use, and whether it wrote anything or was undone by a failed call."""

    tables: list[str]
    connection: Connection | None = None
    wrote: bool = False
    undone: bool = False


@dataclass
class _Schema:
    """The reflected tables of one datastore: names checked once, columns read on demand."""

    names: set[str] | None = None
    tables: dict[str, TableClause] = field(default_factory=dict)
    # Statements built once per shape (table, fields, key...): each call only binds values.
    statements: dict[tuple[object, ...], Executable] = field(default_factory=dict)


class SqlConnector:
    """A SQL datastore; one engine per connector, tables reflected on first use."""

    def __init__(
        self, url: str, *, name: str | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> None:
        try:
            self._url = make_url(url)
        except ArgumentError:
            raise ConnectorError("the connection URL is not a valid SQLAlchemy URL") from None
        self._password = self._url.password
        self.name = name or _describe(self._url)
        self.chunk_size = chunk_size
        self._engine: Engine | None = None
        self._schema = _Schema()
        self._batch: _Batch | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = self._make_engine()
        return self._engine

    # -- the port ---------------------------------------------------------------------------

    def test_connection(self) -> None:
        with self._guard("connect"):
            self._check_sqlite_file()
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")

    @contextmanager
    def batch(self, collections: Iterable[CollectionSpec] = ()) -> Iterator[None]:
        """Every call inside on one connection and in one transaction: committed when the block
        ends, rolled back whole when it raises.

        The connection is taken at the first call, so a batch nothing happens in costs nothing;
        the tables of `collections` are read from the catalogue together where the database
        allows it (`_reflect`). A call that fails inside the batch undoes it at once (a
        database may refuse anything more in that transaction) and later writes are refused;
        reads go on. If the batch had written anything, ending the block normally then raises
        `ConnectorError`: nothing of it was kept. A batch inside a batch is part of the outer
        one. Not for use by two threads at once.
        """
        if self._batch is not None:
            self._batch.tables.extend(c.name for c in collections)
            yield
            return
        self._batch = _Batch([c.name for c in collections])
        try:
            yield
        except BaseException:
            self._end_batch(commit=False)
            raise
        self._end_batch(commit=True)

    def retrieve(self, collection: CollectionSpec, field: str, values: Sequence[Any]) -> list[Row]:
        """Rows whose `field` is in `values`, with only the declared fields.

        Undeclared columns are never read, so a package cannot carry data the declaration
        (and so the policy) does not name.
        """
        statement = self._select(collection, field)
        found: list[Row] = []
        if not values:
            return found
        with self._connection("read") as conn:
            for chunk in self._chunks(values):
                result = conn.execute(statement, {"values": chunk})
                keys = list(result.keys())
                found.extend(dict(zip(keys, row, strict=True)) for row in result)
        return found

    def mask(
        self,
        collection: CollectionSpec,
        key_field: str,
        updates: Mapping[Any, Mapping[str, Any]],
    ) -> int:
        """One UPDATE per chunk of keys sharing the same columns; per-row values travel in a
        CASE on the key, so a thousand hashed emails are one statement, not a thousand."""
        table = self._table(collection.name)
        key = self._column(table, key_field)
        groups: dict[tuple[str, ...], dict[Any, Mapping[str, Any]]] = {}
        for row_key, values in updates.items():
            columns = tuple(sorted(self._column(table, name).name for name in values))
            if columns:
                groups.setdefault(columns, {})[row_key] = values
        changed = 0
        with self._connection("mask", write=True) as conn:
            for columns, per_key in groups.items():
                for chunk in self._chunks(list(per_key)):
                    rows = {k: per_key[k] for k in chunk}
                    statement, params = self._update(table, key, columns, rows)
                    changed += conn.execute(statement, params).rowcount
        return changed

    def delete(self, collection: CollectionSpec, key_field: str, keys: Sequence[Any]) -> int:
        table = self._table(collection.name)
        column = self._column(table, key_field)
        cache_key = ("delete", table.name, column.name)
        statement = self._schema.statements.get(cache_key)
        if statement is None:
            statement = delete(table).where(column.in_(bindparam("keys", expanding=True)))
            self._remember(cache_key, statement)
        removed = 0
        with self._connection("delete", write=True) as conn:
            for chunk in self._chunks(keys):
                removed += conn.execute(statement, {"keys": chunk}).rowcount
        return removed

    def correct(
        self, collection: CollectionSpec, key_field: str, key: Any, changes: Mapping[str, Any]
    ) -> int:
        """Change one row; a key that matches several rows changes none of them."""
        table = self._table(collection.name)
        column = self._column(table, key_field)
        values = {self._column(table, name).name: value for name, value in changes.items()}
        if not values:
            return 0
        with self._connection("correct", write=True) as conn:
            matching = conn.execute(select(column).where(column == key).limit(2)).all()
            if len(matching) > 1:
                raise ConnectorError(
                    f"{collection.name}.{key_field} matches several rows; nothing was corrected",
                    datastore=self.name,
                )
            statement = update(table).where(column == key, _differs(table, values)).values(values)
            return conn.execute(statement).rowcount

    def apply_opt_out(self, kind: str, identities: Mapping[str, str]) -> None:
        """A database has no opt-out of its own: the engine records it elsewhere."""

    def close(self) -> None:
        if self._batch is not None and self._batch.connection is not None:
            self._release(self._batch.connection)
        self._batch = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        self._schema = _Schema()

    # -- names ------------------------------------------------------------------------------

    def _select(self, collection: CollectionSpec, field: str) -> Executable:
        """The declared fields of the rows whose `field` is in the `values` parameter."""
        cache_key = ("select", collection.name, collection.fields, field)
        statement = self._schema.statements.get(cache_key)
        if statement is None:
            table = self._table(collection.name)
            key = self._column(table, field)
            wanted = [self._column(table, name) for name in collection.fields] or list(table.c)
            statement = select(*wanted).where(key.in_(bindparam("values", expanding=True)))
            self._remember(cache_key, statement)
        return statement

    def _update(
        self,
        table: TableClause,
        key: ColumnClause[Any],
        columns: tuple[str, ...],
        rows: Mapping[Any, Mapping[str, Any]],
    ) -> tuple[Executable, dict[str, Any]]:
        """The UPDATE of one chunk of `rows` (key -> new values), and its parameters.

        A value every row shares is one parameter; values that differ travel in a CASE on the
        key. The statement is built once per shape (columns, number of rows, which values
        differ and their types), so the next subject's erasure only binds new values.
        """
        keys = list(rows)
        params: dict[str, Any] = {f"k{i}": k for i, k in enumerate(keys)}
        shape: list[object] = ["update", table.name, key.name, len(keys)]
        for j, name in enumerate(columns):
            values = [rows[k][name] for k in keys]
            if len(set(map(repr, values))) == 1:
                params[f"v{j}"] = values[0]
                shape.append((name, None))
            else:
                params.update({f"v{j}_{i}": value for i, value in enumerate(values)})
                shape.append((name, tuple(type(value) for value in values)))
        cache_key = tuple(shape)
        statement = self._schema.statements.get(cache_key)
        if statement is None:
            statement = _update_of(table, key, columns, len(keys), params)
            self._remember(cache_key, statement)
        return statement, params

    def _remember(self, cache_key: tuple[object, ...], statement: Executable) -> None:
        # Bounded: a long-lived connector may meet many shapes of UPDATE (one per row count).
        if len(self._schema.statements) >= STATEMENT_CACHE_SIZE:
            self._schema.statements.clear()
        self._schema.statements[cache_key] = statement

    def _table(self, name: str) -> TableClause:
        table = self._schema.tables.get(name)
        if table is None:
            self._reflect(name)
            table = self._schema.tables.get(name)
        if table is None:
            raise ConnectorError(f"no table named {name!r}", datastore=self.name)
        return table

    def _reflect(self, name: str) -> None:
        """Columns and types of table `name`, if the list of tables (read once) has it: an
        unknown name never reaches a catalogue statement.

        Where the dialect reads many tables in one catalogue query (PostgreSQL), the batch's
        other tables come along; elsewhere (SQLite, MySQL read them one by one anyway) only
        the tables actually used are read.
        """
        if self._schema.names is not None and name not in self._schema.names:
            return
        wanted = [name]
        if self._batch is not None and self._reads_tables_together():
            wanted += self._batch.tables
        with self._connection("reflect") as conn:
            if self._schema.names is None:
                self._schema = self._schema_of(conn)
            known = (self._schema.names or set()) - set(self._schema.tables)
            wanted = [n for n in dict.fromkeys(wanted) if n in known]
            inspector = inspect(conn)
            if len(wanted) > 1:
                described = inspector.get_multi_columns(filter_names=wanted)
                found = {table: columns for (_schema, table), columns in described.items()}
            else:
                found = {n: inspector.get_columns(n) for n in wanted}
        self._schema.tables.update({n: _table_of(n, columns) for n, columns in found.items()})

    def _schema_of(self, conn: Connection) -> _Schema:
        """A schema with the list of tables; on SQLite, the one shared by every connector of a
        database whose CREATE statements read the same.

        SQLite derives every column from the CREATE statements it keeps, so equal statements
        mean equal tables: a job after the first one reads the statements (one query, which
        also lists the tables) and no other catalogue. A schema changed since reads
        differently, and is read afresh.
        """
        if self._url.get_backend_name() != "sqlite":
            return _Schema(names=set(inspect(conn).get_table_names()))
        tables = conn.exec_driver_sql(
            "SELECT name, sql FROM main.sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite~_%' ESCAPE '~' ORDER BY name"
        ).all()
        text = "\x00".join(f"{name}\x00{sql}" for name, sql in tables)
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        if digest not in _SQLITE_SCHEMAS and len(_SQLITE_SCHEMAS) >= _SQLITE_SCHEMAS_KEPT:
            _SQLITE_SCHEMAS.clear()
        return _SQLITE_SCHEMAS.setdefault(digest, _Schema(names={name for name, _ in tables}))

    def _reads_tables_together(self) -> bool:
        """Whether the dialect reads the columns of many tables in one catalogue query
        (PostgreSQL). The others (SQLite, MySQL) read them table by table anyway: for them,
        only the tables actually used are read."""
        dialect = type(self.engine.dialect)
        return dialect.get_multi_columns is not DefaultDialect.get_multi_columns

    def _column(self, table: TableClause, name: str) -> ColumnClause[Any]:
        if name not in table.c:
            message = f"table {table.name!r} has no column {name!r}"
            raise ConnectorError(message, datastore=self.name)
        return table.c[name]

    # -- plumbing ---------------------------------------------------------------------------

    def _chunks(self, values: Sequence[Any]) -> Iterator[list[Any]]:
        # Duplicates would only lengthen the IN list; order is kept for readable statements.
        distinct = list(dict.fromkeys(values))
        for start in range(0, len(distinct), self.chunk_size):
            yield distinct[start : start + self.chunk_size]

    @contextmanager
    def _connection(self, operation: str, *, write: bool = False) -> Iterator[Connection]:
        """The connection for one call: the batch's, or one of its own (in a transaction of its
        own for a write, so that a call is never half done)."""
        with self._guard(operation):
            batch = self._batch
            if batch is None:
                self._check_sqlite_file()
                with self.engine.begin() if write else self.engine.connect() as conn:
                    yield conn
                return
            if write and batch.undone:
                raise ConnectorError(
                    f"{operation} refused: an earlier call of this batch failed and its "
                    "changes were undone",
                    datastore=self.name,
                )
            if batch.connection is None:
                self._check_sqlite_file()
                batch.connection = self.engine.connect()
            try:
                yield batch.connection
            except BaseException:
                self._undo(batch)
                raise
            batch.wrote = batch.wrote or write

    def _undo(self, batch: _Batch) -> None:
        """A call failed inside the batch: its transaction is rolled back now (a database may
        refuse anything more in it), and the batch is marked undone: later writes are refused,
        so that it never commits half of its work. Reads go on, on a new connection."""
        connection, batch.connection = batch.connection, None
        if connection is not None:
            self._release(connection)
        batch.undone = True

    def _end_batch(self, *, commit: bool) -> None:
        """Commit what the batch wrote if its block ended without an error (`commit`) and no
        call of it failed; otherwise nothing of it is kept."""
        batch, self._batch = self._batch, None
        if batch is None:  # closed inside its block
            return
        connection = batch.connection
        try:
            if connection is not None and commit and batch.wrote and not batch.undone:
                with self._guard("commit"):
                    connection.commit()
        finally:
            if connection is not None:
                self._release(connection)
        if commit and batch.wrote and batch.undone:
            raise ConnectorError(
                "an earlier call of the batch failed: none of its changes were kept",
                datastore=self.name,
            )

    @staticmethod
    def _release(connection: Connection) -> None:
        """Back to the pool, rolling back what was not committed. A connection that broke
        cannot be rolled back, and need not be: its transaction ended with it."""
        with suppress(SQLAlchemyError):
            connection.close()

    @contextmanager
    def _guard(self, operation: str) -> Iterator[None]:
        """Turn driver errors into `ConnectorError`s that name the datastore, never a secret.

        The driver's exception is not chained: its text may carry the statement's parameters
        (personal data) and, for some drivers, the connection string.
        """
        try:
            yield
        except ConnectorError:
            raise
        except DBAPIError as error:
            retryable = error.connection_invalidated or _is_transient(error)
            reason = self._reason(error)
            raise ConnectorError(
                f"{operation} failed: {reason or type(error.orig).__name__}",
                datastore=self.name,
                retryable=retryable,
            ) from None
        except NoSuchModuleError:
            raise ConnectorError(
                f"no SQLAlchemy driver for {self._url.drivername!r}", datastore=self.name
            ) from None
        except SQLAlchemyError as error:
            raise ConnectorError(
                f"{operation} failed: {type(error).__name__}", datastore=self.name
            ) from None

    def _reason(self, error: DBAPIError) -> str:
        """The driver's first line, which names the constraint or the connection problem.

        Later lines (PostgreSQL's DETAIL) and value errors quote the values themselves, which
        may be personal data, so they are left out.
        """
        if isinstance(error, DataError):
            return "a value does not fit its column"
        lines = str(error.orig).strip().splitlines() if error.orig else []
        return self._scrub(lines[0]) if lines else ""

    def _scrub(self, text: str) -> str:
        if self._password:
            text = text.replace(self._password, "***")
        return text

    def _make_engine(self) -> Engine:
        backend = self._url.get_backend_name()
        options: dict[str, Any] = {"hide_parameters": True, "pool_pre_ping": True}
        if backend == "sqlite":
            options["connect_args"] = {"timeout": CONNECT_TIMEOUT_SECONDS}
        elif backend in ("postgresql", "mysql", "mariadb"):
            options["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        with self._guard("connect"):
            engine = create_engine(self._url, **options)
        if backend == "sqlite":
            event.listen(engine, "connect", _sqlite_foreign_keys)
        return engine

    def _check_sqlite_file(self) -> None:
        """SQLite would create a missing file: a datastore that is not there is an error."""
        if self._url.get_backend_name() != "sqlite":
            return
        database = self._url.database or ""
        if database and database != ":memory:" and not Path(database).is_file():
            raise ConnectorError(
                "the database file does not exist", datastore=self.name, retryable=True
            )


# SQLite schemas by digest of their CREATE statements (see `SqlConnector._schema_of`).
_SQLITE_SCHEMAS: dict[str, _Schema] = {}
_SQLITE_SCHEMAS_KEPT = 64


def _table_of(name: str, columns: Iterable[ReflectedColumn]) -> TableClause:
    """The table as the connector uses it: names and types, nothing the database declares
    about keys (the declarations say which fields are keys and references). A lightweight
    `table()`, not a `Table` of a `MetaData`: statements need nothing more."""
    return table_clause(name, *(column_clause(c["name"], _shared(c["type"])) for c in columns))


# Reflected types, one instance per distinct type in the process. SQLAlchemy works out a
# type's part of a statement's cache key from its class's constructor signature, once per
# instance, and that is a good part of a new connector's first statements: each connector
# reflects new instances of the same few types. Types are values, safe to share.
_TYPES: dict[tuple[type, str], TypeEngine[Any]] = {}
_TYPES_KEPT = 512


def _shared(kind: TypeEngine[Any]) -> TypeEngine[Any]:
    key = (type(kind), repr(kind))
    if key not in _TYPES and len(_TYPES) >= _TYPES_KEPT:
        _TYPES.clear()
    return _TYPES.setdefault(key, kind)


def _update_of(
    table: TableClause,
    key: ColumnClause[Any],
    columns: tuple[str, ...],
    count: int,
    params: Mapping[str, Any],
) -> Executable:
    """The UPDATE of `count` rows, its parameters named as `SqlConnector._update` names them:
    `k<i>` the key of row i; `v<j>` the value of column j every row shares, or `v<j>_<i>` that
    of row i.

    A shared value is bound as its column's type; values in a CASE as their own (the CASE
    has no column to take it from). Only rows holding another value are written, so a re-run
    changes nothing."""
    keys = [bindparam(f"k{i}", type_=key.type) for i in range(count)]
    values: dict[str, Any] = {}
    for j, name in enumerate(columns):
        if f"v{j}" in params:
            values[name] = bindparam(f"v{j}", type_=table.c[name].type)
            continue
        whens = [
            (keys[i], bindparam(f"v{j}_{i}", type_=literal(params[f"v{j}_{i}"]).type))
            for i in range(count)
        ]
        values[name] = case(*whens, value=key)
    return update(table).where(key.in_(keys), _differs(table, values)).values(values)


def _differs(table: TableClause, values: Mapping[str, Any]) -> Any:
    """Rows where at least one of `values` is not already set, so a re-run changes nothing."""
    return or_(*(table.c[name].is_distinct_from(value) for name, value in values.items()))


def _is_transient(error: DBAPIError) -> bool:
    # Connection refused, timeouts, deadlocks, locked files: another try may succeed.
    return isinstance(error, OperationalError | InterfaceError)


def _describe(url: URL) -> str:
    """A name for messages: backend, host and database; never the user or the password."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        return f"sqlite:{Path(url.database).name if url.database else ':memory:'}"
    host = url.host or "localhost"
    port = f":{url.port}" if url.port else ""
    return f"{backend}://{host}{port}/{url.database or ''}"


def _sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


__all__ = ["DEFAULT_CHUNK_SIZE", "SqlConnector"]
