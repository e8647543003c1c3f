"""Datastores for the connector conformance suite: one scratch database per backend and run.

SQLite is a temp file; PostgreSQL (127.0.0.1:5432) and MariaDB (127.0.0.1:3306) each get a
database of their own, dropped at the end, so parallel runs do not meet. The HTTP backend is
the shop API of `http_service`, started once per session on a free port of 127.0.0.1 and
loaded with the same rows before each test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    event,
    insert,
    text,
)
from sqlalchemy.engine import make_url

from privacyops.connectors.http import HttpConnector, HttpConnectorConfig
from privacyops.connectors.port import CollectionSpec
from privacyops.connectors.sql import SqlConnector
from tests.connectors.http_service import ShopService

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"
SQL_BACKENDS = ["sqlite", "postgresql", "mariadb"]
BACKENDS = [*SQL_BACKENDS, "http"]
API_TOKEN = "shop-api-token"

CUSTOMERS = 1200  # more than two IN chunks of 500
ORDERS_PER_CUSTOMER = 2

metadata = MetaData()
customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("email", String(120), nullable=False, unique=True),
    Column("name", String(120)),
    Column("phone", String(40)),
    Column("segment", String(40)),
)
orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False, index=True),
    Column("total", Numeric(10, 2), nullable=False),
    Column("ship_to", String(200)),
)


def email_of(number: int) -> str:
    return f"customer{number}@example.com"


def customer_rows() -> list[dict[str, Any]]:
    return [
        {
            "id": n,
            "email": email_of(n),
            "name": f"Customer {n}",
            "phone": f"555-{n:04d}",
            "segment": "retail",
        }
        for n in range(1, CUSTOMERS + 1)
    ]


def order_rows() -> list[dict[str, Any]]:
    return [
        {
            "id": n * 10 + k,
            "customer_id": n,
            "total": Decimal("10.50") * k,
            "ship_to": f"{n} Main Street",
        }
        for n in range(1, CUSTOMERS + 1)
        for k in range(1, ORDERS_PER_CUSTOMER + 1)
    ]


@dataclass
class Datastore:
    backend: str
    url: str
    engine: Engine


def _postgres_base() -> str:
    url = os.environ.get("PRIVACYOPS_TEST_DATABASE_URL", "sqlite")
    return url if url.startswith("postgresql") else POSTGRES_URL


@pytest.fixture(scope="session")
def server_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    name = f"privacyops_conn_{uuid.uuid4().hex[:10]}"
    sqlite_file = tmp_path_factory.mktemp("connectors") / "store.db"
    admins = {
        "postgresql": (
            _postgres_base(),
            f'CREATE DATABASE "{name}"',
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        ),
        "mariadb": (MARIADB_URL, f"CREATE DATABASE `{name}`", f"DROP DATABASE IF EXISTS `{name}`"),
    }
    urls = {"sqlite": f"sqlite:///{Path(sqlite_file).as_posix()}"}
    for backend, (base, create, _drop) in admins.items():
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(create))
        admin.dispose()
        urls[backend] = make_url(base).set(database=name).render_as_string(hide_password=False)
    yield urls
    for base, _create, drop in admins.values():
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(drop))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def datastore(backend: str, server_databases: dict[str, str]) -> Iterator[Datastore]:
    """The shop schema with fresh rows: customers 1..1200, two orders each (SQL backends)."""
    url = server_databases[backend]
    engine = create_engine(url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(customers), customer_rows())
        conn.execute(insert(orders), order_rows())
    yield Datastore(backend, url, engine)
    metadata.drop_all(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def shop_service() -> Iterator[ShopService]:
    with ShopService(token=API_TOKEN) as service:
        yield service


@pytest.fixture
def shop_api(shop_service: ShopService) -> ShopService:
    """The shop API with fresh rows, no faults, an empty request log and default switches."""
    shop_service.reset({"customers": customer_rows(), "orders": order_rows()})
    return shop_service


def shop_api_config(base_url: str) -> dict[str, Any]:
    """The config of the shop API as a mapping (YAML's shape), for tests to vary."""
    cursor = {"kind": "cursor", "next_at": "meta.next_cursor", "size_param": "limit", "size": 1000}

    def collection(fields: list[str], by: list[str], writes_by: list[str]) -> dict[str, Any]:
        name = "customers" if "email" in fields else "orders"
        write = {"method": "POST", "key_fields": writes_by, "batch_size": 500}
        return {
            "fields": fields,
            "read": {
                "path": f"/{name}",
                "by": {field: field for field in by},
                "batch_size": 500,
                "rows_at": "data.items",
                "pagination": cursor,
            },
            "update": {**write, "path": f"/{name}/batch-update", "changed_at": "changed"},
            "delete": {**write, "path": f"/{name}/batch-delete", "changed_at": "deleted"},
        }

    customer_fields = ["id", "email", "name", "phone", "segment"]
    return {
        "name": "shop API",
        "base_url": base_url,
        "auth": {"type": "bearer", "token_secret": "shop_api_token"},
        "timeout_seconds": 5,
        "retries": {"count": 2, "backoff_base_seconds": 0.5, "backoff_max_seconds": 4},
        "health": "/health",
        "collections": {
            # The API filters and writes by any field; `segment` lets the suite check that a
            # correction by a key matching several rows is refused.
            "customers": collection(customer_fields, ["id", "email", "segment"], customer_fields),
            "orders": collection(
                ["id", "customer_id", "total", "ship_to"],
                ["id", "customer_id"],
                ["id", "customer_id"],
            ),
        },
        "opt_out": {"path": "/opt-outs", "body": {"kind": "{kind}", "email": "{email}"}},
    }


def http_connector(
    config: dict[str, Any], sleeps: list[float] | None = None, token: str = API_TOKEN
) -> HttpConnector:
    """A connector whose back-off sleeps are recorded (in `sleeps`) rather than slept."""
    record = sleeps if sleeps is not None else []
    return HttpConnector(
        HttpConnectorConfig.parse(config), {"shop_api_token": token}, sleep=record.append
    )


@dataclass
class Harness:
    """A connector under test on the shop data, with what it sent to the datastore.

    `statements` holds SQL statements, or for HTTP one line per request starting with the
    verb it stands for (SELECT for a read, UPDATE, DELETE), so counts compare across backends.
    """

    backend: str
    connector: SqlConnector | HttpConnector
    statements: list[str]

    def sent(self, verb: str) -> list[str]:
        return [s for s in self.statements if s.lstrip().upper().startswith(verb)]


@pytest.fixture
def harness(backend: str, request: pytest.FixtureRequest) -> Iterator[Harness]:
    if backend == "http":
        yield from _http_harness(request.getfixturevalue("shop_api"))
    else:
        yield from _sql_harness(request.getfixturevalue("datastore"))


def _sql_harness(datastore: Datastore) -> Iterator[Harness]:
    connector = SqlConnector(datastore.url, chunk_size=500)
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    # Reflect the schema first so that `statements` holds only what the operations sent.
    connector.retrieve(CollectionSpec("customers", ()), "id", [])
    connector.retrieve(CollectionSpec("orders", ()), "id", [])
    event.listen(connector.engine, "before_cursor_execute", record)
    yield Harness(datastore.backend, connector, statements)
    connector.close()


def _http_harness(service: ShopService) -> Iterator[Harness]:
    connector = http_connector(shop_api_config(service.url))
    yield Harness("http", connector, service.statements)
    connector.close()
