"""Password rules and argon2id hashing.

argon2-cffi's defaults are argon2id with the RFC 9106 low-memory profile (64 MiB, 3 passes,
4 lanes); a hash records its own parameters, so hashes made under older parameters still verify
and are upgraded at the next successful login.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from privacyops.errors import FieldProblem, InvalidInput

MIN_LENGTH = 12
# Long enough for any passphrase, short enough that nobody makes the server hash megabytes.
MAX_LENGTH = 1024

_hasher = PasswordHasher()


def hasher() -> PasswordHasher:
    return _hasher


def problems(password: str, email: str) -> list[FieldProblem]:
    """What is wrong with `password` for the account `email` (empty when it is acceptable)."""
    found = []
    if len(password) < MIN_LENGTH:
        found.append(FieldProblem("password", f"must be at least {MIN_LENGTH} characters"))
    elif len(password) > MAX_LENGTH:
        found.append(FieldProblem("password", f"must be at most {MAX_LENGTH} characters"))
    if password.strip().casefold() == email.strip().casefold():
        found.append(FieldProblem("password", "must not be the email address"))
    return found


def check(password: str, email: str) -> None:
    found = problems(password, email)
    if found:
        # The message names the rule, never the password.
        raise InvalidInput(f"invalid password: {found[0].message}", problems=found)


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hasher().hash("privacyops dummy password for unknown accounts")


def burn_time(password: str) -> None:
    """Spend the time a real verification takes, so that timing never tells an account exists."""
    verify(_dummy_hash(), password)
