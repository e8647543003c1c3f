"""API models for staff accounts and tokens. A token's value appears in one answer only: its
creation's; passwords appear in none."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, SecretStr

from privacyops.models.staff import ApiToken, StaffMember
from privacyops.staff.permissions import Permission, Role, permissions_of
from privacyops.web.auth import Principal


class StaffOut(BaseModel):
    id: int
    email: str
    display_name: str | None
    role: Role
    active: bool
    created_at: datetime
    last_login_at: datetime | None
    locked_until: datetime | None = Field(description="Set while failed logins lock the account.")

    @classmethod
    def of(cls, staff: StaffMember) -> StaffOut:
        return cls(
            id=staff.id,
            email=staff.email,
            display_name=staff.display_name,
            role=Role(staff.role),
            active=staff.active,
            created_at=staff.created_at,
            last_login_at=staff.last_login_at,
            locked_until=staff.locked_until,
        )


class StaffList(BaseModel):
    items: list[StaffOut]
    total: int
    offset: int
    limit: int


class StaffCreate(BaseModel):
    email: str = Field(max_length=254)
    password: SecretStr = Field(description="At least 12 characters, not the email address.")
    role: Role
    display_name: str | None = Field(None, max_length=200)


class StaffPatch(BaseModel):
    role: Role | None = None
    active: bool | None = None


class MeOut(BaseModel):
    staff: StaffOut
    role: Role = Field(description="The role this request acts with (a token's scope).")
    via: str = Field(description="`session` or `token`.")
    permissions: list[Permission]

    @classmethod
    def of(cls, principal: Principal) -> MeOut:
        granted = permissions_of(principal.role)
        return cls(
            staff=StaffOut.of(principal.staff),
            role=principal.role,
            via=principal.via,
            permissions=[p for p in Permission if p in granted],
        )


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role: Role | None = Field(None, description="The token's scope; default: your current role.")
    expires_at: datetime | None = None


class TokenOut(BaseModel):
    id: int
    name: str
    role: Role
    prefix: str = Field(description="The token's first characters, to recognise it.")
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(
            id=token.id,
            name=token.name,
            role=Role(token.role),
            prefix=token.prefix,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
        )


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself: shown this once, never again.")


class TokenList(BaseModel):
    items: list[TokenOut]
