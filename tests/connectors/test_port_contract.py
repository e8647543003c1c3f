"""What every kind of connector promises the engine, SQL, HTTP, manual and email alike.

The data-level conformance suite (test_conformance.py) runs on the connectors that read and
write rows themselves (SQL on three databases, HTTP); manual and email connectors ask a person
or a processor instead. This contract holds for all four: they are connectors, they can be
reached, an erasure either changes rows or raises the one signal that someone else must act,
a repeat changes nothing more and sends nothing more, and closing twice is harmless.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from privacyops.connectors import Connector
from privacyops.connectors.email import AckLinks, AwaitingProcessor, EmailProcessorConnector
from privacyops.connectors.manual import ManualConnector, ManualTaskRequired
from privacyops.connectors.port import CollectionSpec
from privacyops.connectors.sql import SqlConnector
from privacyops.models.dsr import OutgoingMail
from privacyops.settings import Settings
from privacyops.vault.service import Vault
from tests.connectors.conftest import http_connector, shop_api_config
from tests.connectors.http_service import ShopService
from tests.dsr.support import publish_example, submit

CUSTOMERS = CollectionSpec("customers", ("id", "email", "name"), ("id",))
# The shop API refuses to delete a customer who still has orders: its orders are the rows here.
ORDERS = CollectionSpec("orders", ("id", "customer_id", "total", "ship_to"), ("id",))
KINDS = ["sql", "http", "manual", "email"]
# What a connector that cannot act itself raises instead of changing rows.
SOMEONE_MUST_ACT = (ManualTaskRequired, AwaitingProcessor)
Sent = Callable[[], int]


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def made(
    kind: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> Iterator[tuple[Connector, Sent]]:
    """The connector, and how many messages it has sent to people or partners so far (a
    repeated DELETE to a datastore is the operation itself; a repeated mail is not)."""
    if kind == "sql":
        url = f"sqlite:///{(tmp_path / 'store.db').as_posix()}"
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(
                text("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, name TEXT)")
            )
            conn.execute(text("INSERT INTO customers VALUES (1, 'a@example.com', 'A')"))
        engine.dispose()
        connector: Connector = SqlConnector(url)
        yield connector, lambda: 0
    elif kind == "http":
        service: ShopService = request.getfixturevalue("shop_api")
        yield http_connector(shop_api_config(service.url)), lambda: len(service.opt_outs)
    elif kind == "manual":
        yield ManualConnector("cctv", "Search the tape index."), lambda: 0
    else:
        yield _email(request), _mails(request)


def _email(request: pytest.FixtureRequest) -> EmailProcessorConnector:
    db: Session = request.getfixturevalue("db")
    vault: Vault = request.getfixturevalue("vault")
    factory: sessionmaker[Session] = request.getfixturevalue("session_factory")
    settings: Settings = request.getfixturevalue("settings")
    policy = publish_example(db)
    found = submit(db, vault, policy, type="deletion")
    db.commit()
    return EmailProcessorConnector(
        "mailtool",
        "lists@mailtool.example",
        request_id=found.id,
        identities={"email": "ann.requester@example.com"},
        session_factory=factory,
        vault=vault,
        links=AckLinks.from_settings(settings),
    )


def _mails(request: pytest.FixtureRequest) -> Sent:
    db: Session = request.getfixturevalue("db")

    def count() -> int:
        db.expire_all()
        query = select(OutgoingMail).where(OutgoingMail.template == "processor_instruction")
        return len(db.scalars(query).all())

    return count


def test_every_kind_is_a_connector_and_can_be_reached(made: tuple[Connector, Sent]) -> None:
    connector, _sent = made

    assert isinstance(connector, Connector)
    connector.test_connection()


def test_an_erasure_changes_rows_or_says_who_must_act_and_a_repeat_adds_nothing(
    made: tuple[Connector, Sent], kind: str
) -> None:
    connector, sent = made

    outcomes = []
    spec, key = (ORDERS, 11) if kind == "http" else (CUSTOMERS, 1)
    for _ in range(2):
        try:
            outcomes.append(connector.delete(spec, "id", [key]))
        except SOMEONE_MUST_ACT as signal:
            outcomes.append(type(signal).__name__)
    after_first = sent()
    with contextlib.suppress(SOMEONE_MUST_ACT):
        connector.delete(spec, "id", [key])

    first, second = outcomes
    if isinstance(first, int):
        assert (first, second) == (1, 0)  # the row went once; the repeat changed nothing
    else:
        assert first == second  # the same signal, until the person or processor acts
    assert sent() == after_first  # nothing more sent by a repeat


def test_closing_twice_is_harmless(made: tuple[Connector, Sent]) -> None:
    connector, _sent = made

    connector.close()
    connector.close()
