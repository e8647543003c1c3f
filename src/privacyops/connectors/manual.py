"""The manual connector: a datastore only a person can search or change (paper files, a
vendor portal without an API, the CCTV archive).

Every operation raises `ManualTaskRequired`; the engine catches it and opens a staff task for
that datastore and collection instead of treating it as a failure. Nothing is done here, and
the exception carries no identities: the task shows them to staff from the vault.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from privacyops.connectors.port import CollectionSpec, Row


class ManualTaskRequired(Exception):
    """A person must do `operation` on `collection` in `datastore`, following `instructions`."""

    def __init__(
        self, datastore: str, operation: str, collection: str | None, instructions: str
    ) -> None:
        where = f"{datastore}/{collection}" if collection else datastore
        super().__init__(f"{where}: {operation} must be done by a person")
        self.datastore = datastore
        self.operation = operation
        self.collection = collection
        self.instructions = instructions


class ManualConnector:
    """The staff task kind of connector: it asks, a person does."""

    def __init__(self, name: str, instructions: str = "") -> None:
        self.name = name
        self.instructions = instructions

    def test_connection(self) -> None:
        """A person is always reachable through the task list."""

    def retrieve(self, collection: CollectionSpec, field: str, values: Sequence[Any]) -> list[Row]:
        self._ask("retrieve", collection)

    def mask(
        self,
        collection: CollectionSpec,
        key_field: str,
        updates: Mapping[Any, Mapping[str, Any]],
    ) -> int:
        self._ask("mask", collection)

    def delete(self, collection: CollectionSpec, key_field: str, keys: Sequence[Any]) -> int:
        self._ask("delete", collection)

    def correct(
        self, collection: CollectionSpec, key_field: str, key: Any, changes: Mapping[str, Any]
    ) -> int:
        self._ask("correct", collection)

    def apply_opt_out(self, kind: str, identities: Mapping[str, str]) -> None:
        self._ask(f"opt-out of {kind}", None)

    def close(self) -> None:
        """Nothing to release."""

    def _ask(self, operation: str, collection: CollectionSpec | None) -> NoReturn:
        raise ManualTaskRequired(
            self.name, operation, collection.name if collection else None, self.instructions
        )
