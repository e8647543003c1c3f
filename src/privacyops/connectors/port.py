"""The connector port: what the engine asks of every datastore, whatever it is.

The engine maps each dataset declaration to a `CollectionSpec` and calls a connector with
batches of values (one call per collection per step), never one call per row.

A connector that can undo a whole series of calls (a database transaction) also offers
`batch()` (see `Batching`); the engine uses it through `batched`, which falls back to one call
at a time for the others (HTTP APIs, processors, manual datastores).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from privacyops.errors import PrivacyOpsError

Row = dict[str, Any]


class ConnectorError(PrivacyOpsError):
    """A datastore could not do what was asked.

    The message names the datastore and the reason, never a credential. `retryable` says
    whether trying again later may succeed (connection refused, timeout) or not (an unknown
    table, a refused permission): the engine retries the first with back-off and reports
    the second as needing attention at once.
    """

    status_code = 502
    title = "Datastore error"

    def __init__(self, message: str, *, datastore: str = "", retryable: bool = False) -> None:
        super().__init__(f"{datastore}: {message}" if datastore else message)
        self.datastore = datastore
        self.retryable = retryable


@dataclass(frozen=True)
class CollectionSpec:
    """One collection (table, endpoint) as the engine sees it, independent of the YAML shape."""

    name: str
    fields: tuple[str, ...]
    primary_key: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        missing = [key for key in self.primary_key if key not in self.fields]
        if missing:
            raise ValueError(f"{self.name}: primary key {missing} is not among its fields")


@runtime_checkable
class Connector(Protocol):
    """The operations every datastore implementation offers.

    Writes return the number of rows changed, so a second run of the same erasure
    reports 0 where nothing was left to change.
    """

    name: str

    def test_connection(self) -> None:
        """Raise `ConnectorError` with the reason when the datastore cannot be reached."""
        ...

    def retrieve(self, collection: CollectionSpec, field: str, values: Sequence[Any]) -> list[Row]:
        """Every row of `collection` whose `field` is one of `values`."""
        ...

    def mask(
        self,
        collection: CollectionSpec,
        key_field: str,
        updates: Mapping[Any, Mapping[str, Any]],
    ) -> int:
        """For each key, set its field values on the rows whose `key_field` is that key.

        Values differ per row (a keyed hash of each email), yet the datastore is asked in
        batches, never once per row. Rows already holding the values are left alone, so a
        re-run returns 0. The number of rows changed.
        """
        ...

    def delete(self, collection: CollectionSpec, key_field: str, keys: Sequence[Any]) -> int:
        """Remove the rows whose `key_field` is in `keys`; the number of rows removed."""
        ...

    def correct(
        self, collection: CollectionSpec, key_field: str, key: Any, changes: Mapping[str, Any]
    ) -> int:
        """Apply `changes` to the one row whose `key_field` is `key`; the number of rows changed."""
        ...

    def apply_opt_out(self, kind: str, identities: Mapping[str, str]) -> None:
        """Tell the datastore the subject opted out of `kind` (sale, sharing...); may do nothing."""
        ...

    def close(self) -> None:
        """Release connections; the connector is not used afterwards."""
        ...


@runtime_checkable
class Batching(Protocol):
    """Optional, beside `Connector`: the calls made inside `batch()` are one unit of work.

    They share one connection, and their writes are one transaction: kept when the block ends,
    undone whole when it raises, so that a datastore never keeps half of a batch. A call that
    fails inside the block undoes the batch at once and later writes in it are refused (reads
    go on); ending the block normally after that raises `ConnectorError` if the batch had
    written anything. `collections` are those the batch will use, so that the connector can
    prepare them together (read their schema in one go). Offered only by connectors that can
    keep this promise.
    """

    def batch(self, collections: Iterable[CollectionSpec] = ()) -> AbstractContextManager[None]:
        """The unit of work; a batch inside a batch is part of the outer one."""
        ...


@contextmanager
def batched(connector: Connector, collections: Iterable[CollectionSpec] = ()) -> Iterator[bool]:
    """`connector.batch(collections)` when it offers one. Yields True inside a batch (undone
    whole on an error), False when each call stands on its own (what it did, it did)."""
    if isinstance(connector, Batching):
        with connector.batch(collections):
            yield True
    else:
        yield False
