"""Connectors: how the engine reaches each datastore (SQL, HTTP, email to a processor, manual)."""

from privacyops.connectors.manual import ManualConnector, ManualTaskRequired
from privacyops.connectors.port import CollectionSpec, Connector, ConnectorError, Row
from privacyops.connectors.sql import SqlConnector

__all__ = [
    "CollectionSpec",
    "Connector",
    "ConnectorError",
    "ManualConnector",
    "ManualTaskRequired",
    "Row",
    "SqlConnector",
]
