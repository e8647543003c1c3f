"""Nothing personal in clear in the request tables, the outgoing mail or the audit log."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from privacyops.dsr import service, workflow
from privacyops.models.policy import PolicyVersion
from privacyops.vault.service import Vault
from tests.dsr.support import LINKS, T0, last_code, submit

TABLES = [
    "dsr_requests",
    "dsr_request_identities",
    "dsr_verification_codes",
    "dsr_request_events",
    "dsr_request_tasks",
    "outgoing_mail",
    "audit_events",
]
SECRETS = [
    "quokka.xylophone@example.org",
    "quokka",
    "+14155550173",
    "4155550173",
    "ZEBRA-90210",
    "Zanzibar Street",
    "Wombat Agency",
    "wombat@agency.example",
    "Mr Marsupial",
    "Platypus exemption",
    "Koala note",
    "Echidna result",
]


def test_request_rows_hold_no_plaintext(db: Session, vault: Vault, policy: PolicyVersion) -> None:
    request = submit(
        db,
        vault,
        policy,
        type="correction",
        email="Quokka.Xylophone@example.org",
        phone="(415) 555-0173",
        loyalty_id="zebra-90210",
        details="I moved to Zanzibar Street.",
        corrections=[{"field": "name", "value": "Mr Marsupial"}],
        agent={"name": "Wombat Agency", "email": "wombat@agency.example", "proof": "signed"},
    )
    code = last_code(db, vault, request.id)
    service.verify(db, vault, request.id, code, now=T0)
    task = workflow.add_task(db, request.id, "shop", actor="staff:1", now=T0)
    workflow.task_done(db, vault, request.id, task.id, "Echidna result", actor="staff:1", now=T0)
    workflow.add_note(db, vault, request.id, "Koala note", actor="staff:1", now=T0)
    workflow.deny(
        db, vault, LINKS, request.id, "exemption", "Platypus exemption", actor="staff:1", now=T0
    )
    db.flush()

    dumped = []
    for table in TABLES:
        for row in db.execute(text(f"SELECT * FROM {table}")):
            dumped.append(" ".join(str(value) for value in row).lower())
    everything = "\n".join(dumped)

    assert request.id.lower() in everything  # the scan saw the rows
    for secret in SECRETS:
        assert secret.lower() not in everything, f"{secret!r} stored in clear"
