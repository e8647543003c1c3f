"""The manual connector asks a person instead of doing anything, and says so to the engine."""

from __future__ import annotations

import pytest

from privacyops.connectors import CollectionSpec, Connector, ManualConnector, ManualTaskRequired

TAPES = CollectionSpec("cctv_clips", ("clip_id", "store", "customer_email"), ("clip_id",))


def test_every_operation_becomes_a_staff_task_without_the_identities() -> None:
    connector = ManualConnector("CCTV archive", instructions="Search the archive by visit date.")
    connector.test_connection()
    assert isinstance(connector, Connector)

    operations = {
        "retrieve": lambda: connector.retrieve(TAPES, "customer_email", ["ann@example.com"]),
        "mask": lambda: connector.mask(TAPES, "clip_id", {1: {"customer_email": None}}),
        "delete": lambda: connector.delete(TAPES, "clip_id", [1]),
        "correct": lambda: connector.correct(TAPES, "clip_id", 1, {"store": "12"}),
        "opt-out of sale": lambda: connector.apply_opt_out("sale", {"email": "ann@example.com"}),
    }
    for operation, call in operations.items():
        with pytest.raises(ManualTaskRequired) as asked:
            call()
        assert asked.value.operation == operation
        assert asked.value.datastore == "CCTV archive"
        assert asked.value.instructions == "Search the archive by visit date."
        assert "ann@example.com" not in str(asked.value)
    connector.close()
