"""The rules a request came in under, stored with it as JSON.

`decide`'s `Decision` is frozen into the request at receipt; everything later (the appeal
window, the extension, the verification standard) reads this snapshot, never the rules or the
policy as they are today: a later change never alters how an open request is handled.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from enum import Enum
from typing import Any

from privacyops.rights.rules import Deadline, Decision


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def decision_json(decision: Decision) -> dict[str, Any]:
    result = _jsonable(dataclasses.asdict(decision))
    assert isinstance(result, dict)
    return result


class Rules:
    """Typed reads of a stored snapshot."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @property
    def appeal_days(self) -> int | None:
        days = self.data.get("appeal_days")
        return int(days) if days is not None else None

    @property
    def verification(self) -> str:
        return str(self.data.get("verification", "standard"))

    @property
    def law_name(self) -> str | None:
        name = self.data.get("law_name")
        return str(name) if name else None

    @property
    def extension_days(self) -> int:
        deadline = self.data.get("deadline") or {}
        return int(deadline.get("extension_days", 0))

    def deadline(self) -> Deadline:
        raw = dict(self.data["deadline"])
        names = {f.name for f in dataclasses.fields(Deadline)}
        raw = {k: v for k, v in raw.items() if k in names}
        raw["due_at"] = datetime.fromisoformat(raw["due_at"])
        for key in ("received_on", "due_on"):
            if raw.get(key):
                raw[key] = date.fromisoformat(raw[key])
        return Deadline(**raw)
