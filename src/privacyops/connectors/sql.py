"""The SQL connector: any database SQLAlchemy can reach (PostgreSQL, MariaDB/MySQL, SQLite...).

Every value travels as a bound parameter. Table and column names come from the declarations,
so they are checked against the reflected schema before use: an unknown name is refused, never
written into a statement.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    Table,
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
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    InterfaceError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)

from privacyops.connectors.port import CollectionSpec, ConnectorError, Row

DEFAULT_CHUNK_SIZE = 500
CONNECT_TIMEOUT_SECONDS = 10


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
        self._tables: dict[str, Table] = {}
        self._table_names: set[str] | None = None

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

    def retrieve(self, collection: CollectionSpec, field: str, values: Sequence[Any]) -> list[Row]:
        """Rows whose `field` is in `values`, with only the declared fields.

        Undeclared columns are never read, so a package cannot carry data the declaration
        (and so the policy) does not name.
        """
        table = self._table(collection.name)
        key = self._column(table, field)
        wanted = [self._column(table, name) for name in collection.fields] or list(table.c)
        found: list[Row] = []
        with self._guard("read"), self.engine.connect() as conn:
            for chunk in self._chunks(values):
                result = conn.execute(select(*wanted).where(key.in_(chunk)))
                found.extend(dict(row._mapping) for row in result)
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
        with self._guard("mask"), self._transaction() as conn:
            for columns, per_key in groups.items():
                for chunk in self._chunks(list(per_key)):
                    values = {
                        name: _per_key(key, {k: per_key[k][name] for k in chunk})
                        for name in columns
                    }
                    statement = (
                        update(table)
                        .where(key.in_(chunk), _differs(table, values))
                        .values(values)
                        .execution_options(synchronize_session=False)
                    )
                    changed += conn.execute(statement).rowcount
        return changed

    def delete(self, collection: CollectionSpec, key_field: str, keys: Sequence[Any]) -> int:
        table = self._table(collection.name)
        key = self._column(table, key_field)
        removed = 0
        with self._guard("delete"), self._transaction() as conn:
            for chunk in self._chunks(keys):
                removed += conn.execute(delete(table).where(key.in_(chunk))).rowcount
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
        with self._guard("correct"), self._transaction() as conn:
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
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        self._tables.clear()
        self._table_names = None

    # -- names ------------------------------------------------------------------------------

    def _table(self, name: str) -> Table:
        if name in self._tables:
            return self._tables[name]
        with self._guard("reflect"):
            if self._table_names is None:
                self._check_sqlite_file()
                self._table_names = set(inspect(self.engine).get_table_names())
            if name not in self._table_names:
                raise ConnectorError(f"no table named {name!r}", datastore=self.name)
            table = Table(name, MetaData(), autoload_with=self.engine)
        self._tables[name] = table
        return table

    def _column(self, table: Table, name: str) -> Column[Any]:
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
    def _transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

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


def _per_key(key: Column[Any], values: Mapping[Any, Any]) -> Any:
    """One value for every key as a literal; otherwise a CASE on the key column."""
    distinct = set(map(repr, values.values()))
    if len(distinct) == 1:
        return next(iter(values.values()))
    return case({k: literal(v) for k, v in values.items()}, value=key)


def _differs(table: Table, values: Mapping[str, Any]) -> Any:
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
