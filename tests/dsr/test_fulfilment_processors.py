"""A processor told by mail holds a deletion open (waiting, not failing) until its link is
pressed; the press starts the engine again and the request completes."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from privacyops.connectors import registry
from privacyops.dsr import fulfilment, service
from privacyops.dsr.status import Status
from privacyops.dsr.tokens import StatusLinks
from privacyops.models.connectors import CollectionTask
from privacyops.models.policy import PolicyVersion
from privacyops.settings import Settings
from privacyops.vault.service import Vault
from tests.dsr.support import T0, connect_shop, messages
from tests.dsr.test_fulfilment import ANN, ready

MAILTOOL = """
dataset:
  - fides_key: mailtool
    fides_meta: {location: united_states}
    collections:
      - name: subscribers
        fields:
          - name: id
            fides_meta: {primary_key: true, data_type: integer}
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email, data_type: string}
"""


def test_deletion_waits_for_the_processor_then_completes(
    db: Session,
    vault: Vault,
    policy: PolicyVersion,
    session_factory: sessionmaker[Session],
    tmp_path: Path,
    app: FastAPI,
    settings: Settings,
) -> None:
    connect_shop(db, vault, policy, tmp_path)
    manifest = service.manifest_of(policy)
    registry.register(
        db,
        vault,
        manifest,
        key="mailtool",
        kind="email",
        name="Mailing tool",
        declarations=MAILTOOL,
        config={"to": "privacy@mailtool.example"},
        actor="test",
    )
    db.commit()
    request = ready(db, vault, policy, type="deletion")
    links = StatusLinks.from_settings(settings)

    assert (
        fulfilment.run(session_factory, vault, links, request.id, now=lambda: T0)
        == Status.in_progress
    )
    assert (
        fulfilment.run(session_factory, vault, links, request.id, now=lambda: T0)
        == Status.in_progress
    )

    mails = [m for m in messages(db, vault, request.id) if m.template == "processor_instruction"]
    assert len(mails) == 1
    assert ANN in mails[0].text
    db.expire_all()
    task = db.scalar(
        select(CollectionTask).where(
            CollectionTask.dataset == "mailtool", CollectionTask.phase == "erasure"
        )
    )
    assert task is not None
    assert task.status == "waiting"
    assert request.id in fulfilment.due_for_a_run(
        db, T0 + fulfilment.WAITING_POLL + fulfilment.WAITING_POLL
    )
    db.refresh(request)
    assert request.status == Status.in_progress  # not needs_attention

    path = re.search(r"https?://[^/\s]+(/processors/ack/\S+)", mails[0].text).group(1)
    with TestClient(app) as client:
        assert client.post(path).status_code == 200  # the click also starts a run
    db.expire_all()
    db.refresh(request)
    assert request.status == Status.completed
