"""Staff accounts, logins, sessions and API tokens: the rules. Plain Python; never commits.

Every change and every login, logout, failed login and lockout is an audit event in the same
transaction. No password or token ever reaches the database, a log or an audit event in clear.
Functions that depend on time take `now`, so that tests move the clock instead of sleeping.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from privacyops.audit.actions import AuditAction
from privacyops.audit.service import record
from privacyops.errors import Conflict, FieldProblem, InvalidInput, NotFound, PrivacyOpsError
from privacyops.models.staff import ApiToken, StaffMember, StaffSession
from privacyops.models.types import utcnow
from privacyops.settings import Settings
from privacyops.staff import passwords, repository
from privacyops.staff.permissions import Role, within

CLI = "cli"
ANONYMOUS = "anonymous"
MAX_PAGE = 100
MAX_LOCKOUT = timedelta(hours=1)
# Writing last_seen on every request would turn each read into a write; once a minute is enough
# for an idle timeout counted in minutes.
TOUCH_EVERY = timedelta(minutes=1)
TOKEN_PREFIX = "pops_"  # noqa: S105 (a marker that makes leaked tokens easy to spot, not a secret)
WRONG_CREDENTIALS = "Wrong email or password."
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_SECRET = 256  # cookies and tokens longer than this are not ours


class LoginRefused(PrivacyOpsError):
    """A refused login. The message never says whether the account exists or the password was
    right; `retry_after` is set while the account is locked."""

    status_code = 401
    title = "Login refused"

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class StaffPage:
    items: list[StaffMember]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class IssuedSession:
    token: str  # goes into the cookie only; the database keeps its sha256
    session: StaffSession


@dataclass(frozen=True)
class IssuedToken:
    plaintext: str  # shown once to the owner; the database keeps its sha256
    token: ApiToken


def staff_ref(staff: StaffMember) -> str:
    return f"staff:{staff.id}"


def token_ref(token: ApiToken) -> str:
    return f"token:{token.id}"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# --- accounts ---------------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    return email.strip().lower()


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise InvalidInput(
            f"unknown role {value!r}", [FieldProblem("role", f"must be one of: {choices}")]
        ) from None


def create_staff(
    db: Session,
    *,
    email: str,
    role: str,
    password: str,
    actor: str,
    display_name: str | None = None,
    client: str | None = None,
    now: datetime | None = None,
) -> StaffMember:
    now = now or utcnow()
    address = _valid_email(email)
    chosen = parse_role(role)
    passwords.check(password, address)
    name = (display_name or "").strip() or None
    if name is not None and len(name) > 200:
        raise InvalidInput("display name too long", [FieldProblem("display_name", "too long")])
    if repository.staff_by_email(db, address) is not None:
        raise Conflict("a staff member with this email already exists")
    staff = StaffMember(
        email=address,
        display_name=name,
        role=chosen.value,
        password_hash=passwords.hash_password(password),
        active=True,
        created_at=now,
        failed_logins=0,
        password_changed_at=now,
    )
    repository.add(db, staff)
    record(
        db,
        AuditAction.staff_created,
        actor=actor,
        target=staff_ref(staff),
        client=client,
        details={"role": chosen.value},
    )
    return staff


def new_staff_problems(
    *, email: str, role: str, password: str, display_name: str | None = None
) -> list[FieldProblem]:
    """Every problem with a new account's fields at once, without touching the database: a form
    shows them side by side, where `create_staff` stops at the first. Same rules as the CLI."""
    found: list[FieldProblem] = []
    try:
        _valid_email(email)
    except InvalidInput as error:
        found.extend(error.problems)
    try:
        parse_role(role)
    except InvalidInput as error:
        found.extend(error.problems)
    found.extend(passwords.problems(password, normalise_email(email)))
    if display_name is not None and len(display_name.strip()) > 200:
        found.append(FieldProblem("display_name", "must be at most 200 characters"))
    return found


def _valid_email(email: str) -> str:
    address = normalise_email(email)
    if len(address) > 254 or not _EMAIL.fullmatch(address):
        raise InvalidInput("invalid email", [FieldProblem("email", "not an email address")])
    return address


def get_staff(db: Session, staff_id: int) -> StaffMember:
    staff = repository.get_staff(db, staff_id)
    if staff is None:
        raise NotFound(f"no staff member {staff_id}")
    return staff


def staff_by_email(db: Session, email: str) -> StaffMember:
    staff = repository.staff_by_email(db, normalise_email(email))
    if staff is None:
        raise NotFound("no staff member with this email")
    return staff


def list_staff(
    db: Session, *, offset: int, limit: int, actor: str, client: str | None = None
) -> StaffPage:
    """A page of staff accounts, by email. Reading staff data is itself an audit event."""
    problems = []
    if offset < 0:
        problems.append(FieldProblem("offset", "must be 0 or more"))
    if not 1 <= limit <= MAX_PAGE:
        problems.append(FieldProblem("limit", f"must be between 1 and {MAX_PAGE}"))
    if problems:
        raise InvalidInput(f"invalid fields: {', '.join(p.field for p in problems)}", problems)
    items = list(repository.list_staff(db, offset, limit))
    record(
        db,
        AuditAction.staff_listed,
        actor=actor,
        client=client,
        details={"offset": offset, "limit": limit, "count": len(items)},
    )
    return StaffPage(items, repository.count_staff(db), offset, limit)


def disable(
    db: Session,
    staff: StaffMember,
    *,
    actor: str,
    client: str | None = None,
    now: datetime | None = None,
) -> None:
    """Disabling ends every session at once; tokens stop working because their owner is off."""
    if not staff.active:
        return
    _keep_an_admin(db, staff)
    staff.active = False
    end_sessions(db, staff, now or utcnow())
    record(db, AuditAction.staff_disabled, actor=actor, target=staff_ref(staff), client=client)


def enable(db: Session, staff: StaffMember, *, actor: str, client: str | None = None) -> None:
    if staff.active:
        return
    staff.active = True
    staff.failed_logins = 0
    staff.locked_until = None
    db.flush()
    record(db, AuditAction.staff_enabled, actor=actor, target=staff_ref(staff), client=client)


def set_role(
    db: Session,
    staff: StaffMember,
    role: str,
    *,
    actor: str,
    client: str | None = None,
    now: datetime | None = None,
) -> None:
    """A new role ends the member's sessions, so nobody keeps acting under the old one."""
    chosen = parse_role(role)
    if staff.role == chosen.value:
        return
    if chosen is not Role.admin:
        _keep_an_admin(db, staff)
    previous = staff.role
    staff.role = chosen.value
    end_sessions(db, staff, now or utcnow())
    record(
        db,
        AuditAction.staff_role_changed,
        actor=actor,
        target=staff_ref(staff),
        client=client,
        details={"from": previous, "to": chosen.value},
    )


def update_staff(
    db: Session,
    staff_id: int,
    *,
    role: str | None,
    active: bool | None,
    actor: str,
    client: str | None = None,
) -> StaffMember:
    staff = get_staff(db, staff_id)
    if role is not None:
        set_role(db, staff, role, actor=actor, client=client)
    if active is False:
        disable(db, staff, actor=actor, client=client)
    elif active is True:
        enable(db, staff, actor=actor, client=client)
    return staff


def _keep_an_admin(db: Session, staff: StaffMember) -> None:
    # Without an active admin nobody could manage staff again except through the CLI.
    if staff.role != Role.admin or not staff.active:
        return
    if repository.count_active_with_role(db, Role.admin.value) <= 1:
        raise Conflict("this is the last active admin; make another admin first")


def change_password(
    db: Session,
    staff: StaffMember,
    new_password: str,
    *,
    actor: str,
    client: str | None = None,
    now: datetime | None = None,
) -> None:
    """A new password ends every session: whoever knew the old one is logged out."""
    now = now or utcnow()
    passwords.check(new_password, staff.email)
    staff.password_hash = passwords.hash_password(new_password)
    staff.password_changed_at = now
    staff.failed_logins = 0
    staff.locked_until = None
    end_sessions(db, staff, now)
    record(
        db, AuditAction.staff_password_changed, actor=actor, target=staff_ref(staff), client=client
    )


def change_own_password(
    db: Session,
    staff: StaffMember,
    current_password: str,
    new_password: str,
    *,
    actor: str,
    client: str | None = None,
    now: datetime | None = None,
) -> None:
    """A member's own change needs their current password, so that a session left open on an
    unattended desk cannot be turned into the account. Every session ends, this one included;
    the caller starts a new one for the browser that made the change."""
    found = [
        FieldProblem("new_password", p.message)
        for p in passwords.problems(new_password, staff.email)
    ]
    if not passwords.verify(staff.password_hash, current_password):
        found.insert(0, FieldProblem("current_password", "is not your current password"))
    if found:
        raise InvalidInput(f"invalid fields: {', '.join(p.field for p in found)}", found)
    change_password(db, staff, new_password, actor=actor, client=client, now=now)


# --- login ------------------------------------------------------------------------------------


def authenticate(
    db: Session,
    settings: Settings,
    email: str,
    password: str,
    *,
    client: str | None = None,
    now: datetime | None = None,
) -> StaffMember:
    """The staff member whose email and password these are, or LoginRefused.

    Unknown accounts cost the same argon2 work as known ones. After `login_max_failures`
    failures in a row the account is locked; each further failure doubles the lock, up to an
    hour. A locked account is refused whatever the password, without checking it.
    """
    now = now or utcnow()
    staff = repository.staff_by_email(db, normalise_email(email)[:254])
    if staff is None:
        passwords.burn_time(password)
        _failed(db, None, "unknown account", client)
        raise LoginRefused(WRONG_CREDENTIALS)
    if staff.locked_until is not None and now < staff.locked_until:
        passwords.burn_time(password)
        _failed(db, staff, "locked", client)
        raise _locked(staff.locked_until, now)
    if not passwords.verify(staff.password_hash, password):
        _wrong_password(db, settings, staff, client, now)
    if not staff.active:
        _failed(db, staff, "disabled", client)
        raise LoginRefused(WRONG_CREDENTIALS)
    staff.failed_logins = 0
    staff.locked_until = None
    staff.last_login_at = now
    if passwords.needs_rehash(staff.password_hash):
        staff.password_hash = passwords.hash_password(password)
    db.flush()
    return staff


def _wrong_password(
    db: Session, settings: Settings, staff: StaffMember, client: str | None, now: datetime
) -> None:
    staff.failed_logins += 1
    _failed(db, staff, "wrong password", client)
    if staff.failed_logins < settings.login_max_failures:
        raise LoginRefused(WRONG_CREDENTIALS)
    lock = lockout_for(staff.failed_logins, settings)
    staff.locked_until = now + lock
    db.flush()
    record(
        db,
        AuditAction.staff_locked_out,
        actor=ANONYMOUS,
        target=staff_ref(staff),
        client=client,
        details={"failures": staff.failed_logins, "seconds": int(lock.total_seconds())},
    )
    raise _locked(staff.locked_until, now)


def lockout_for(failures: int, settings: Settings) -> timedelta:
    """The first lock lasts `login_lockout_seconds`; each further failure doubles it (max 1 h)."""
    doublings = min(max(failures - settings.login_max_failures, 0), 20)
    return min(timedelta(seconds=settings.login_lockout_seconds * 2**doublings), MAX_LOCKOUT)


def _locked(until: datetime, now: datetime) -> LoginRefused:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    return LoginRefused(
        f"Too many failed logins: this account is locked. Try again after {until:%H:%M:%S} UTC "
        f"(in {seconds} seconds).",
        retry_after=seconds,
    )


def _failed(db: Session, staff: StaffMember | None, reason: str, client: str | None) -> None:
    # The email typed is not recorded: it may be someone's password typed in the wrong field.
    record(
        db,
        AuditAction.staff_login_failed,
        actor=ANONYMOUS,
        target=staff_ref(staff) if staff is not None else None,
        client=client,
        details={"reason": reason},
    )


def login(
    db: Session,
    settings: Settings,
    email: str,
    password: str,
    *,
    client: str | None = None,
    user_agent: str | None = None,
    previous_token: str | None = None,
    now: datetime | None = None,
) -> IssuedSession:
    """Authenticate and open a new session; a session the browser already had is ended, so
    that an id planted before login (session fixation) is worth nothing after it."""
    now = now or utcnow()
    staff = authenticate(db, settings, email, password, client=client, now=now)
    if previous_token:
        old = repository.get_session(db, digest(previous_token[:_MAX_SECRET]))
        if old is not None and old.ended_at is None:
            old.ended_at = now
    issued = start_session(db, staff, client=client, user_agent=user_agent, now=now)
    record(
        db, AuditAction.staff_login, actor=staff_ref(staff), target=staff_ref(staff), client=client
    )
    return issued


def start_session(
    db: Session,
    staff: StaffMember,
    *,
    client: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> IssuedSession:
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session = StaffSession(
        id=digest(token),
        staff_id=staff.id,
        created_at=now,
        last_seen_at=now,
        csrf_token=secrets.token_urlsafe(32),
        client=client[:64] if client else None,
        user_agent=user_agent[:200] if user_agent else None,
    )
    repository.add(db, session)
    return IssuedSession(token, session)


def session_for(
    db: Session, settings: Settings, token: str | None, *, now: datetime | None = None
) -> StaffSession | None:
    """The live session behind a cookie's token, or None (unknown, ended, expired, disabled)."""
    if not token or len(token) > _MAX_SECRET:
        return None
    now = now or utcnow()
    session = repository.get_session(db, digest(token))
    if session is None or session.ended_at is not None or not session.staff.active:
        return None
    idle = timedelta(minutes=settings.session_idle_minutes)
    absolute = timedelta(hours=settings.session_absolute_hours)
    if now - session.last_seen_at >= idle or now - session.created_at >= absolute:
        session.ended_at = now
        db.flush()
        return None
    if now - session.last_seen_at >= TOUCH_EVERY:
        session.last_seen_at = now
        db.flush()
    return session


def end_sessions(db: Session, staff: StaffMember, at: datetime) -> None:
    for session in repository.live_sessions_of(db, staff.id):
        session.ended_at = at
    db.flush()


def logout(
    db: Session, session: StaffSession, *, client: str | None = None, now: datetime | None = None
) -> None:
    if session.ended_at is not None:
        return
    session.ended_at = now or utcnow()
    db.flush()
    record(
        db,
        AuditAction.staff_logout,
        actor=f"staff:{session.staff_id}",
        target=f"staff:{session.staff_id}",
        client=client,
    )


# --- API tokens -------------------------------------------------------------------------------


def issue_token(
    db: Session,
    owner: StaffMember,
    *,
    name: str,
    role: str,
    actor: str,
    acting_role: Role | None = None,
    expires_at: datetime | None = None,
    client: str | None = None,
    now: datetime | None = None,
) -> IssuedToken:
    """A new API token for `owner`, returned in clear once; only its sha256 is kept.

    Its role may not exceed the owner's, nor the role of whoever asks (a token minting tokens
    stays within its own scope).
    """
    now = now or utcnow()
    label = name.strip()
    if not 1 <= len(label) <= 100:
        raise InvalidInput("invalid token name", [FieldProblem("name", "1 to 100 characters")])
    scope = parse_role(role)
    owner_role = parse_role(owner.role)
    if not within(scope, owner_role) or (
        acting_role is not None and not within(scope, acting_role)
    ):
        raise InvalidInput(
            "a token cannot have more permissions than its owner",
            [FieldProblem("role", f"{scope.value} exceeds the permissions of {owner_role.value}")],
        )
    if not owner.active:
        raise Conflict("the owner's account is disabled")
    if expires_at is not None and expires_at.tzinfo is None:
        raise InvalidInput("expiry without time zone", [FieldProblem("expires_at", "needs a zone")])
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("expiry in the past", [FieldProblem("expires_at", "must be later")])
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        staff_id=owner.id,
        name=label,
        role=scope.value,
        token_hash=digest(plaintext),
        prefix=plaintext[:12],
        created_at=now,
        expires_at=expires_at,
    )
    repository.add(db, token)
    record(
        db,
        AuditAction.token_created,
        actor=actor,
        target=token_ref(token),
        client=client,
        details={"owner": staff_ref(owner), "role": scope.value, "prefix": token.prefix},
    )
    return IssuedToken(plaintext, token)


def verify_token(db: Session, plaintext: str, *, now: datetime | None = None) -> ApiToken | None:
    """The live token with this value, or None (unknown, revoked, expired, owner disabled, or
    owner's role since reduced below the token's scope); its last use noted once a minute."""
    now = now or utcnow()
    token = live_token(db, plaintext, now=now)
    if token is not None and touch_due(token, now):
        token.last_used_at = now
        db.flush()
    return token


def live_token(db: Session, plaintext: str, *, now: datetime) -> ApiToken | None:
    """`verify_token` without writing anything (its caller notes the use: `touch_due`)."""
    if not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > _MAX_SECRET:
        return None
    token = repository.token_by_hash(db, digest(plaintext))
    if token is None or token.revoked_at is not None or not token.staff.active:
        return None
    if token.expires_at is not None and now >= token.expires_at:
        return None
    if not within(Role(token.role), Role(token.staff.role)):
        return None
    return token


def touch_due(token: ApiToken, now: datetime) -> bool:
    return token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY


def touch_token(db: Session, token_id: int, now: datetime) -> None:
    db.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


def tokens_of(db: Session, staff: StaffMember) -> list[ApiToken]:
    return list(repository.tokens_of(db, staff.id))


def get_token(db: Session, token_id: int, *, owner: StaffMember | None = None) -> ApiToken:
    """A token by id; with `owner`, only one of theirs (others' tokens look like missing ones)."""
    token = repository.get_token(db, token_id)
    if token is None or (owner is not None and token.staff_id != owner.id):
        raise NotFound(f"no API token {token_id}")
    return token


def revoke_token(
    db: Session,
    token: ApiToken,
    *,
    actor: str,
    client: str | None = None,
    now: datetime | None = None,
) -> None:
    if token.revoked_at is not None:
        return
    token.revoked_at = now or utcnow()
    db.flush()
    record(
        db,
        AuditAction.token_revoked,
        actor=actor,
        target=token_ref(token),
        client=client,
        details={"owner": f"staff:{token.staff_id}"},
    )
