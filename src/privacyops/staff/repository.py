"""Queries for staff accounts, sessions and API tokens."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from privacyops.models.staff import ApiToken, StaffMember, StaffSession


def get_staff(db: Session, staff_id: int) -> StaffMember | None:
    return db.get(StaffMember, staff_id)


def staff_by_email(db: Session, email: str) -> StaffMember | None:
    return db.scalars(select(StaffMember).where(StaffMember.email == email)).first()


def list_staff(db: Session, offset: int, limit: int) -> Sequence[StaffMember]:
    query = select(StaffMember).order_by(StaffMember.email).offset(offset).limit(limit)
    return db.scalars(query).all()


def count_staff(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(StaffMember)) or 0)


def count_active_with_role(db: Session, role: str) -> int:
    query = (
        select(func.count())
        .select_from(StaffMember)
        .where(StaffMember.role == role, StaffMember.active.is_(True))
    )
    return int(db.scalar(query) or 0)


def add(db: Session, row: StaffMember | StaffSession | ApiToken) -> None:
    db.add(row)
    db.flush()


def get_session(db: Session, session_id: str) -> StaffSession | None:
    return db.get(StaffSession, session_id)


def live_sessions_of(db: Session, staff_id: int) -> Sequence[StaffSession]:
    query = select(StaffSession).where(
        StaffSession.staff_id == staff_id, StaffSession.ended_at.is_(None)
    )
    return db.scalars(query).all()


# Built once: every API call looks its token up, and composing the statement costs more than
# running it.
_TOKEN_BY_HASH = select(ApiToken).where(ApiToken.token_hash == bindparam("token_hash"))


def token_by_hash(db: Session, token_hash: str) -> ApiToken | None:
    return db.scalars(_TOKEN_BY_HASH, {"token_hash": token_hash}).first()


def get_token(db: Session, token_id: int) -> ApiToken | None:
    return db.get(ApiToken, token_id)


def tokens_of(db: Session, staff_id: int) -> Sequence[ApiToken]:
    query = select(ApiToken).where(ApiToken.staff_id == staff_id).order_by(ApiToken.id)
    return db.scalars(query).all()
