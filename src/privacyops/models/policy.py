"""Published policy versions: immutable once written."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Integer, String, Text, event
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from privacyops.db import Base
from privacyops.models.types import UTCDateTime, utcnow


class PolicyVersion(Base):
    __tablename__ = "policy_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True, nullable=False)
    effective_on: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    published_by: Mapped[str] = mapped_column(String(200), nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    material_change: Mapped[bool] = mapped_column(nullable=False, default=False)
    change_summary: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False, default=list)
    source_yaml: Mapped[str] = mapped_column(Text, nullable=False)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


@event.listens_for(PolicyVersion, "before_update")
def _refuse_update(_mapper: Mapper[Any], _connection: Any, target: PolicyVersion) -> None:
    # Section 13: a published version is a public record; a change is a new version.
    raise PermissionError(f"policy version {target.number} is published and cannot be changed")


@event.listens_for(PolicyVersion, "before_delete")
def _refuse_delete(_mapper: Mapper[Any], _connection: Any, target: PolicyVersion) -> None:
    raise PermissionError(f"policy version {target.number} is published and cannot be deleted")
