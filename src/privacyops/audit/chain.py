"""How an event's hash is computed: shared by `record` and `verify`, so they cannot disagree."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any


def event_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str | None,
    target: str | None,
    client: str | None,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    payload = {
        "seq": seq,
        # Microseconds are kept by both databases; the ISO form is the same on each.
        "at": at.isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "subject": subject,
        "target": target,
        "client": client,
        "details": details,
        "prev": prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
